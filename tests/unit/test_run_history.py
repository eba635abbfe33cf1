"""Run history for the Train page: recipe names, the table rows, curves to compare."""

import dataclasses

from cifar_core import run_history, runs, training


def test_durations_read_aloud():
    assert run_history.duration_text(None) == "-" and run_history.duration_text(9.6) == "10 s"
    assert run_history.duration_text(142) == "2 min 22 s"
    assert run_history.duration_text(3725) == "1 h 02 min"


def test_recipe_names_and_history_table(tmp_path):
    demo = training.PRESETS["demo"]
    assert run_history.recipe_of(demo.to_dict()) == "demo"
    assert run_history.recipe_of(dataclasses.replace(demo, epochs=9).to_dict()) == "demo (changed)"
    assert run_history.recipe_of({"model": "tiny"}) == "custom"
    run = runs.start_run(demo, tmp_path)
    run.record_epoch(1, {"loss": 2.0, "accuracy": 0.3, "val_loss": 2.1, "val_accuracy": 0.25}, 4)
    run.finish("stopped", test_accuracy=0.27)
    records = runs.list_runs(tmp_path)
    row = run_history.runs_table(records).iloc[0]
    assert (row["model"], row["recipe"], row["epochs"], row["status"]) == \
        ("tiny", "demo", "1 of 3", "stopped")
    assert (row["train accuracy %"], row["validation accuracy %"], row["test accuracy %"]) == \
        (30.0, 25.0, 27.0)
    curves = run_history.runs_curves(records)
    assert list(curves["split"]) == ["train", "validation"] and list(curves["loss"]) == [2.0, 2.1]
