"""Run history for the Train page: durations, the table rows, curves to compare."""

import numpy as np
import pytest

from cifar_core.training import run_history, runs, train_config


def test_history_table_and_curves(tmp_path):
    demo = train_config.PRESETS["demo"]
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


def test_filter_mosaic_tiles_each_epochs_filters(tmp_path):
    run = runs.start_run(train_config.PRESETS["demo"], tmp_path)
    kernel = np.random.default_rng(0).normal(size=(3, 3, 3, 16))  # (kh, kw, in, filters)
    run.save_filters(0, kernel)
    [record] = runs.list_runs(tmp_path)
    mosaic = run_history.filter_mosaic(record, 0)
    tile = 3 * (run_history.FILTER_PIXELS // 3)
    assert mosaic.shape == (2 * tile + 4, 8 * tile + 7 * 4, 3) and mosaic.dtype == np.uint8
    with pytest.raises(ValueError, match="epoch 5"):
        run_history.filter_mosaic(record, 5)
