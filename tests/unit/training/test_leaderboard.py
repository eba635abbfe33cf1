"""The class leaderboard's order and table, from run folders written without training."""

import json
import math

import pandas as pd
import pytest

from cifar_core.training import leaderboard, runs, train_config

HOSTILE_NAME = "<img src=x onerror=alert(1)>**bold**"


def make_run(directory, *, accuracies=(), started, student="", sweep="", state="finished",
             owner=None, preset="demo", seconds=10.0, **status):
    """A run folder with one history row per validation accuracy in ``accuracies``."""
    config = train_config.preset(preset, student=student, sweep=sweep, epochs=3)
    run = runs.start_run(config, directory, owner=owner)
    for epoch, accuracy in enumerate(accuracies, start=1):
        run.record_epoch(epoch, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.0,
                                 "val_accuracy": accuracy}, seconds)
    if state != "running":
        run.finish(state)
    run.update(started=started, **status)
    return runs.read_run(run.path)


def ids(places):
    return [place.record.id for place in places]


def test_runs_are_ranked_by_their_best_validation_accuracy(tmp_path):
    peaked = make_run(tmp_path, accuracies=(0.4, 0.7, 0.6), started=1.0)  # best 0.7, last 0.6
    steady = make_run(tmp_path, accuracies=(0.5, 0.65), started=2.0)
    low = make_run(tmp_path, accuracies=(0.3,), started=3.0)
    places = leaderboard.standings(runs.list_runs(tmp_path))
    assert ids(places) == [peaked.id, steady.id, low.id]
    assert [place.rank for place in places] == [1, 2, 3]
    assert places[0].best_validation_accuracy == pytest.approx(0.7)


def test_ties_go_to_the_earlier_start(tmp_path):
    later = make_run(tmp_path, accuracies=(0.6,), started=20.0)
    earlier = make_run(tmp_path, accuracies=(0.6,), started=10.0)
    assert ids(leaderboard.standings([later, earlier])) == [earlier.id, later.id]


def test_runs_without_a_validation_accuracy_come_last_unranked(tmp_path):
    waiting = make_run(tmp_path, started=1.0, state="running")
    failed = make_run(tmp_path, started=2.0, state="failed", error="out of memory")
    ranked = make_run(tmp_path, accuracies=(0.1,), started=3.0)
    places = leaderboard.standings(runs.list_runs(tmp_path))
    assert ids(places) == [ranked.id, waiting.id, failed.id]
    assert [place.rank for place in places] == [1, None, None]


def test_a_run_without_history_falls_back_on_its_status(tmp_path):
    record = make_run(tmp_path, started=1.0, val_accuracy=0.42)
    assert leaderboard.best_validation_accuracy(record) == pytest.approx(0.42)


def test_training_time_sums_the_epochs_not_the_pauses(tmp_path):
    resumed = make_run(tmp_path, accuracies=(0.2, 0.3), started=0.0, seconds=30.0,
                       finished=10_000.0)  # stopped, then resumed hours later
    assert leaderboard.training_seconds(resumed) == pytest.approx(60.0)
    no_history = make_run(tmp_path, started=100.0, finished=190.0)
    assert leaderboard.training_seconds(no_history) == pytest.approx(90.0)


def test_the_table_has_every_column_with_names_verbatim(tmp_path):
    mine = make_run(tmp_path, accuracies=(0.5, 0.8), started=1_700_000_000.0,
                    student=HOSTILE_NAME, sweep="sweep-1", owner="me", test_accuracy=0.79)
    theirs = make_run(tmp_path, accuracies=(0.6,), started=1_700_000_100.0, owner="them",
                      preset="fast-small")
    places = leaderboard.standings(runs.list_runs(tmp_path))
    table = leaderboard.table(places, pinned_id=theirs.id, tab_token="me")
    assert tuple(table.columns) == leaderboard.COLUMNS
    first = table.iloc[0]
    assert first["student"] == HOSTILE_NAME  # exactly as typed: the page shows it as text
    assert (first["rank"], first["best validation %"], first["test %"]) == (1, 80.0, 79.0)
    # The name and the sweep are labels, not recipe changes: still the demo preset.
    assert (first["recipe"], first["model"], first["epochs"]) == ("demo", "tiny", "2 of 3")
    assert (first["training time"], first["state"], first["sweep"]) == ("20 s", "finished",
                                                                         "sweep-1")
    assert first["started"] == pd.Timestamp("2023-11-14 22:13:20", tz="UTC")
    assert (first["run"], first["class model"], first["yours"]) == (mine.id, False, True)
    second = table.iloc[1]
    assert (second["student"], second["recipe"], second["sweep"]) == ("", "fast-small", "")
    assert (second["class model"], second["yours"]) == (True, False)


def test_unranked_rows_have_no_rank_and_no_percentages(tmp_path):
    make_run(tmp_path, started=1.0, state="running")
    table = leaderboard.table(leaderboard.standings(runs.list_runs(tmp_path)))
    assert pd.isna(table["rank"][0]) and table["best validation %"][0] is None
    assert table["epochs"][0] == "0 of 3" and table["state"][0] == "running"


def test_hand_edited_values_do_not_break_the_board(tmp_path):
    record = make_run(tmp_path, started=1.0)
    status = dict(record.status, started="yesterday", val_accuracy=math.nan,
                  test_accuracy="high", epoch="two")
    (record.path / "status.json").write_text(json.dumps(status))
    (record.path / "history.csv").write_text("epoch,val_accuracy,seconds\n1,oops,\n")
    edited = runs.read_run(record.path)
    places = leaderboard.standings([edited])
    assert places[0].rank is None and places[0].best_validation_accuracy is None
    row = leaderboard.table(places).iloc[0]
    assert pd.isna(row["started"]) and row["test %"] is None and row["epochs"] == "0 of 3"


def test_a_new_epoch_is_seen_at_once(tmp_path):
    """The history summary is cached per file version: a new epoch changes the file."""
    run = runs.start_run(train_config.preset("demo", epochs=3), tmp_path)
    run.record_epoch(1, {"val_accuracy": 0.25}, 5.0)
    assert leaderboard.best_validation_accuracy(runs.read_run(run.path)) == pytest.approx(0.25)
    run.record_epoch(2, {"val_accuracy": 0.5}, 5.0)
    record = runs.read_run(run.path)
    assert leaderboard.best_validation_accuracy(record) == pytest.approx(0.5)
    assert leaderboard.training_seconds(record) == pytest.approx(10.0)


def test_an_empty_server_has_an_empty_board():
    assert leaderboard.standings([]) == []
    table = leaderboard.table([])
    assert table.empty and tuple(table.columns) == leaderboard.COLUMNS
