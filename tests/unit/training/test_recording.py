"""Training tied to a run folder: complete folders, stop within a batch, failures recorded."""

import threading

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.models import saving
from cifar_core.training import recording, runs, train_config
from tests.unit.training.doubles import random_dataset


def test_train_run_writes_complete_run_folder(tmp_path):
    config = train_config.TrainConfig(model="tiny", epochs=2, batch_size=16, validation_size=16,
                                  augment=True)
    run, result = recording.train_run(config, random_dataset(), runs_directory=tmp_path)
    names = {path.name for path in run.path.iterdir()}
    assert {"config.json", "status.json", "history.csv", "model.keras", "filters",
            "tensorboard"} <= names
    record = runs.read_run(run.path)
    assert record.state == "finished"
    assert 0.0 <= record.status["test_accuracy"] <= 1.0
    assert [row["epoch"] for row in record.history()] == [1.0, 2.0]
    assert record.filter_epochs() == [0, 1, 2]
    assert np.load(run.path / "filters" / "epoch_002.npy").shape == (3, 3, 3, 16)
    assert any((run.path / "tensorboard").rglob("events.out.tfevents*"))
    assert saving.load_model(record.model_path).name == "tiny"
    assert train_config.TrainConfig.from_dict(record.config) == config


def test_stop_ends_training_within_one_batch_and_saves_model(tmp_path):
    stop = threading.Event()
    batches = []

    class StopAfterThree(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batches.append(batch)
            if len(batches) == 3:
                stop.set()

    config = train_config.TrainConfig(model="tiny", epochs=5, batch_size=8, validation_size=0)
    run, result = recording.train_run(config, random_dataset(), runs_directory=tmp_path,
                                      callbacks=[StopAfterThree()], stop_event=stop,
                                      evaluate_test=False)
    assert len(batches) == 3  # 8 batches per epoch, 5 epochs: it stopped after the third.
    record = runs.read_run(run.path)
    assert record.state == "stopped"
    assert record.model_path is not None


def test_failed_training_marks_run_failed(tmp_path):
    class Boom(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise RuntimeError("boom")

    config = train_config.TrainConfig(model="tiny", epochs=1, batch_size=16, validation_size=0)
    with pytest.raises(RuntimeError, match="boom"):
        recording.train_run(config, random_dataset(), runs_directory=tmp_path, callbacks=[Boom()])
    (record,) = runs.list_runs(tmp_path)
    assert record.state == "failed" and "boom" in record.status["error"]
