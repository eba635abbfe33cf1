"""Training jobs: lifecycle on tiny data, stop within one batch, failures, progress."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.display import plots
from cifar_core.training import jobs, recording, runs
from tests.unit.training.doubles import TINY, PauseAtBatch, PauseAtEpochEnd


class FailAtBatch(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            raise RuntimeError("the disk caught fire")


def run_state(run_dir):
    """The state runs.py recorded for the run folder."""
    [record] = [record for record in runs.list_runs(run_dir.parent)
                if record.path == run_dir]
    return record


def test_job_trains_to_the_end_and_reports_progress(tiny_data, tmp_path):
    job = jobs.TrainingJob(TINY, tiny_data, tmp_path).start()
    assert job.join(120)
    snapshot = job.snapshot()
    assert snapshot.state == "finished" and snapshot.done and snapshot.error is None, snapshot.error
    assert (snapshot.epoch, snapshot.batch, snapshot.batches) == (2, 10, 10)
    assert snapshot.fraction == 1.0
    assert len(snapshot.training) == 20  # every batch: fewer than POINTS_PER_EPOCH per epoch
    assert [point[0] for point in snapshot.validation] == [1.0, 2.0]
    epochs, losses, accuracies = zip(*snapshot.training)
    assert list(epochs) == sorted(epochs) and epochs[-1] == 2.0
    assert all(np.isfinite(losses)) and all(0 <= value <= 1 for value in accuracies)
    assert snapshot.images_per_second > 0 and snapshot.eta_seconds == 0
    run_dir = tmp_path / snapshot.run_dir.split("/")[-1]
    assert (run_dir / "model.keras").is_file()
    assert run_state(run_dir).state == "finished"


def test_snapshot_mid_run_and_stop_takes_effect_within_one_batch(tiny_data, tmp_path):
    pause = PauseAtBatch(epoch=0, batch=2)  # after the third batch of the first epoch
    job = jobs.TrainingJob(dataclasses.replace(TINY, epochs=50), tiny_data, tmp_path,
                           callbacks=[pause]).start()
    assert pause.reached.wait(120)
    during = job.snapshot()
    assert during.state == "running" and not during.done
    assert (during.epoch, during.batch, during.batches) == (1, 2, 10)  # ours runs after pause
    run_dir = tmp_path / during.run_dir.split("/")[-1]
    assert runs.mark_interrupted(tmp_path) == []  # the page calls it while a job trains
    assert run_state(run_dir).state == "running"
    job.stop()  # the click arrives while the third batch ends
    pause.go.set()
    assert job.join(120)
    after = job.snapshot()
    assert after.state == "stopped"
    assert (after.epoch, after.batch) == (1, 3)  # the batch in flight when asked, no other
    assert len(after.validation) == 1 and after.validation[0][0] < 1  # partial epoch validated
    assert (run_dir / "model.keras").is_file()  # the partial run is kept
    assert run_state(run_dir).state == "stopped"

    # The same folder as a killed server leaves it: "running", written by a dead process.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    status = json.loads((run_dir / "status.json").read_text())
    status.update(state="running", pid=int(dead.stdout), process_start=None)
    (run_dir / "status.json").write_text(json.dumps(status))
    assert runs.mark_interrupted(tmp_path) == [run_dir.name]
    assert run_state(run_dir).state == "interrupted"


def test_stop_during_an_epochs_end_trains_no_further_batch(tiny_data, tmp_path):
    pause = PauseAtEpochEnd()
    job = jobs.TrainingJob(dataclasses.replace(TINY, epochs=5), tiny_data, tmp_path,
                           callbacks=[pause]).start()
    assert pause.reached.wait(120)
    job.stop()  # the click arrives while the first epoch is validated and saved
    pause.go.set()
    assert job.join(120)
    snapshot = job.snapshot()
    assert snapshot.state == "stopped" and (snapshot.epoch, snapshot.batch) == (1, 10)
    assert [point[0] for point in snapshot.validation] == [1.0]


def test_failure_is_recorded_with_its_message(tiny_data, tmp_path, monkeypatch):
    loggers = []

    def remembered_logger(run):
        loggers.append(recording.TensorBoardScalars(run.path / "tensorboard"))
        return loggers[-1]

    monkeypatch.setattr(recording, "tensorboard_callback", remembered_logger)
    config = dataclasses.replace(TINY, validation_size=0)
    job = jobs.TrainingJob(config, tiny_data, tmp_path, callbacks=[FailAtBatch()]).start()
    assert job.join(120)
    assert len(loggers) == 1 and loggers[0].writer is None  # the event file was closed
    snapshot = job.snapshot()
    assert snapshot.state == "failed" and "the disk caught fire" in snapshot.error
    record = run_state(tmp_path / snapshot.run_dir.split("/")[-1])
    assert record.state == "failed" and "the disk caught fire" in record.status["error"]


def test_curves_frame_holds_both_splits():
    snapshot = jobs.JobSnapshot(job_id="x", config=TINY, state="running", epoch=1, epochs=2,
                             batch=5, batches=10, training=((0.5, 2.0, 0.2),),
                             validation=((1.0, 1.9, 0.25),))
    frame = jobs.curves_frame(snapshot, run="demo")
    assert list(frame["split"]) == ["train", "validation"] and set(frame["run"]) == {"demo"}
    assert snapshot.fraction == 0.25
    figure = plots.training_curves_figure(frame)  # loss and accuracy for each split
    assert [trace.name for trace in figure.data] == ["demo · train"] * 2 + ["demo · validation"] * 2
    assert list(figure.data[1].y) == [0.2] and list(figure.data[3].y) == [0.25]
    with pytest.raises(ValueError, match="accuracy"):
        plots.training_curves_figure(frame.drop(columns="accuracy"))


def test_curve_points_are_the_batches_own_values_not_epoch_means(tiny_data):
    job = jobs.TrainingJob(TINY, tiny_data)  # never started: only its snapshot is used
    progress = jobs._ProgressCallback(job, images_per_epoch=60)
    progress.set_params({"steps": 3, "epochs": 2})
    progress.on_train_begin()
    for epoch, batch_losses in enumerate(([2.0, 1.0, 3.0], [0.5, 0.7, 0.3])):
        progress.on_epoch_begin(epoch)
        for batch, mean in enumerate(np.cumsum(batch_losses) / np.arange(1, 4)):  # Keras' means
            progress.on_train_batch_end(batch, {"loss": mean, "accuracy": 0.5})
    epochs, losses, accuracies = zip(*job.snapshot().training)
    assert np.allclose(losses, [2.0, 1.0, 3.0, 0.5, 0.7, 0.3])  # no jump back at epoch 2
    assert np.allclose(epochs, [1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2]) and set(accuracies) == {0.5}


def test_progress_text_and_durations():
    snapshot = jobs.JobSnapshot(job_id="x", config=TINY, state="running", epoch=2, epochs=3,
                             batch=40, batches=79, images_per_second=2512.4, eta_seconds=75,
                             elapsed_seconds=3725)
    assert jobs.progress_text(snapshot) == ("Epoch 2 of 3 · batch 40 of 79 · 2,512 images/s · "
                                            "about 1 min 15 s left · 1 h 02 min so far")
