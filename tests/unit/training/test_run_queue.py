"""The on-disk queue: entries as files, their order, unreadable files, time estimates."""

import json
import logging

import pytest

from cifar_core.training import run_queue, runs, train_config

MINUTE = train_config.preset("minute")


def test_an_entry_survives_its_file(tmp_path):
    queue = run_queue.RunQueue(tmp_path)
    entry = run_queue.new_entry(train_config.preset("demo", student="Ana <b>"), "tab",
                                resume={"run": "r1", "more_epochs": 2}, runs_dir=tmp_path,
                                estimated_seconds=12.5)
    queue.add(entry)
    [path] = tmp_path.glob("*.json")
    assert path.name == f"{entry.id}.json"
    assert json.loads(path.read_text())["config"]["student"] == "Ana <b>"
    assert run_queue.read_entries(tmp_path) == [entry]
    with pytest.raises(ValueError, match="already queued"):
        queue.add(entry)


def test_entries_of_one_instant_keep_the_order_they_were_made(tmp_path, monkeypatch):
    monkeypatch.setattr(run_queue.time, "time", lambda: 1000.0)
    queue = run_queue.RunQueue(tmp_path)
    made = [run_queue.new_entry(MINUTE, "tab") for _ in range(5)]
    for entry in reversed(made):  # written in another order: the files do not decide
        queue.add(entry)
    assert queue.entries() == made
    assert run_queue.read_entries(tmp_path) == made
    assert run_queue.RunQueue(tmp_path).restore() == made


def test_take_keeps_the_file_until_discard(tmp_path):
    queue = run_queue.RunQueue(tmp_path)
    first, second = run_queue.new_entry(MINUTE, "a"), run_queue.new_entry(MINUTE, "b")
    queue.add(first)
    queue.add(second)
    assert queue.take(first.id) == first and queue.entries() == [second]
    assert queue.has_file(first.id) and (tmp_path / f"{first.id}.json").is_file()
    assert run_queue.RunQueue(tmp_path).restore() == [first, second]  # a crash now: both wait
    queue.discard(first.id)
    assert not (tmp_path / f"{first.id}.json").exists()
    assert run_queue.RunQueue(tmp_path).restore() == [second]


def test_restore_drops_entries_whose_run_folder_names_them(tmp_path):
    queue = run_queue.RunQueue(tmp_path / ".queue")
    started, waiting = (run_queue.new_entry(MINUTE, "tab", runs_dir=tmp_path) for _ in range(2))
    queue.add(started)
    queue.add(waiting)
    run = runs.start_run(MINUTE, tmp_path)
    run.update(queue_id=started.id)
    assert run_queue.started_queue_ids(tmp_path) == {started.id}
    assert run_queue.RunQueue(tmp_path / ".queue").restore() == [waiting]
    assert [path.stem for path in (tmp_path / ".queue").glob("*.json")] == [waiting.id]


@pytest.mark.parametrize("name, content", [
    ("garbage.json", "{not json"),
    ("list.json", "[1, 2]"),
    ("fields.json", json.dumps({"id": "fields", "owner": "x"})),
    ("badconfig.json", json.dumps({"id": "badconfig", "owner": "x", "created": 1, "sequence": 0,
                                   "config": {"epochs": -1}})),
    ("wrongkind.json", json.dumps({"id": "wrongkind", "owner": "x", "created": "soon",
                                   "sequence": 0, "config": {}})),
    ("renamed.json", None),  # a good entry under another entry's name
    ("dotdot.json", json.dumps({"id": "../x", "owner": "x", "created": 1, "sequence": 0,
                               "config": {}})),
])
def test_an_unreadable_entry_is_skipped_with_a_warning(tmp_path, caplog, name, content):
    queue = run_queue.RunQueue(tmp_path)
    good = run_queue.new_entry(MINUTE, "tab")
    queue.add(good)
    if content is None:
        content = (tmp_path / f"{good.id}.json").read_text()
    (tmp_path / name).write_text(content)
    with caplog.at_level(logging.WARNING, logger=run_queue.__name__):
        assert run_queue.RunQueue(tmp_path).restore() == [good]
    assert name in caplog.text and "Skipping" in caplog.text


def test_a_missing_folder_is_an_empty_queue(tmp_path):
    assert run_queue.RunQueue(tmp_path / "nothing").restore() == []


@pytest.mark.parametrize("config, images, expected", [
    (MINUTE, 50_000, 2 * 0.55 * 60),  # the measured preset on the full training set
    # Changed form fields: the first preset of the same recipe (minute is fast-small for 2
    # epochs, so it is timed as fast-small is).
    (train_config.preset("minute", train_size=10_000), 50_000, 2 * 0.6 * 12),
    (MINUTE, 5_000, 2 * 0.55 * 6),  # a smaller dataset, all of it
    (train_config.preset("minute", epochs=4, learning_rate=0.1), 50_000, 4 * 0.6 * 60),
    (train_config.preset("fast", student="Bo", sweep="s"), 50_000,
     train_config.PRESETS["fast"].epochs * train_config.EPOCH_MINUTES["fast"] * 60),
    (train_config.preset("minute", model="seed"), 50_000, None),  # another network
    (train_config.preset("demo"), 50_000, None),  # never timed
    (train_config.TrainConfig(model="tiny"), 50_000, None),  # custom
])
def test_estimated_seconds_come_from_measured_minutes_per_epoch(config, images, expected):
    estimate = run_queue.estimate_seconds(config, images)
    assert estimate == (None if expected is None else pytest.approx(expected))


def test_a_resume_estimates_the_epochs_it_adds(tmp_path):
    assert run_queue.epochs_to_train(MINUTE) == 2
    assert run_queue.epochs_to_train(MINUTE, {"run": "x", "more_epochs": 5}, tmp_path) == 5
    run = runs.start_run(train_config.preset("minute", epochs=6), tmp_path)
    run.update(epoch=4)
    config = train_config.preset("minute", epochs=6)
    assert run_queue.epochs_to_train(config, {"run": run.id, "more_epochs": 0}, tmp_path) == 2
    assert run_queue.epochs_to_train(config, {"run": "../etc", "more_epochs": 0}, tmp_path) == 6
    assert run_queue.estimate_seconds(MINUTE, 50_000, epochs=1) == pytest.approx(33)


@pytest.mark.parametrize("slots, ahead, expected", [
    ([0.0], [], 0.0),  # a free slot: starts now
    ([100.0], [], 100.0),
    ([100.0], [30.0, 20.0], 150.0),
    ([None], [], None),  # the running job cannot tell
    ([100.0], [None], None),  # a run ahead of unknown length
    ([100.0, 10.0], [30.0], 40.0),  # two slots: the one freeing first
    ([100.0, None], [30.0], 130.0),  # an unknown slot does not matter when another frees
    ([100.0, 10.0], [None, 5.0], 105.0),
])
def test_the_wait_takes_the_slot_that_frees_first(slots, ahead, expected):
    wait = run_queue.estimate_wait(slots, ahead)
    assert wait == (None if expected is None else pytest.approx(expected))


def test_no_slots_is_a_value_error():
    with pytest.raises(ValueError, match="slot"):
        run_queue.estimate_wait([], [])


@pytest.mark.parametrize("resume", ["run-1", ["run-1"]])
def test_a_resume_is_a_dict(resume):
    with pytest.raises(ValueError, match="resume"):
        run_queue.new_entry(MINUTE, "tab", resume=resume)
