"""A run folder reopened to continue (no TensorFlow): rolled back to its checkpoint's
epoch, running again for this process, its config grown for "train more"."""

import json
import os
import subprocess
import sys

import pytest

from cifar_core.training import checkpoints, resuming, runs
from tests.unit.training.test_checkpoints import CONFIG, ended_run


def test_an_interrupted_run_reopens_in_place_at_its_checkpoint(tmp_path):
    # Killed during epoch 3, after epoch 2's history row but before its checkpoint.
    record = ended_run(tmp_path, "running", epochs_done=2, checkpoint_epoch=1)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    status = json.loads((record.path / "status.json").read_text())
    status.update(pid=int(dead.stdout), process_start=None)
    (record.path / "status.json").write_text(json.dumps(status))
    runs.mark_interrupted(tmp_path)
    record = runs.read_run(record.path)
    assert checkpoints.can_resume(record)
    assert "epoch 1 of 3" in checkpoints.resume_summary(record)
    assert "Epoch 2 was cut short" in checkpoints.resume_summary(record)
    resumed = resuming.reopen({"run": record.id, "more_epochs": 0}, tmp_path, owner="tab-2")
    assert resumed.run.path == record.path and resumed.checkpoint.epoch == 1
    assert resumed.config == CONFIG and resumed.segments == ()
    after = runs.read_run(record.path)
    assert after.state == "running" and after.status["pid"] == os.getpid()
    assert "error" not in after.status and after.status["resumed_by"] == "tab-2"
    assert [row["epoch"] for row in after.history()] == [1.0]  # epoch 2 is redone
    assert after.filter_epochs() == [1]
    assert runs.mark_interrupted(tmp_path) == []  # alive: not marked again
    with pytest.raises(ValueError, match="still running"):
        resuming.reopen({"run": record.id}, tmp_path)  # a second tab asking too


def test_train_more_grows_the_config_and_records_the_segment(tmp_path):
    record = ended_run(tmp_path, "finished", epochs_done=3, checkpoint_epoch=3)
    resumed = resuming.reopen({"run": record.id, "more_epochs": 2}, tmp_path)
    assert resumed.config.epochs == 5 and resumed.segments == (3,)
    after = runs.read_run(record.path)
    assert after.config["epochs"] == 5 and after.status["epochs_before"] == 3
    assert after.status["segments"] == [3] and "test_accuracy" not in after.status
    assert [row["epoch"] for row in after.history()] == [1.0, 2.0, 3.0]


def test_earlier_curves_are_the_history_at_each_epochs_end():
    training, validation = resuming.earlier_curves(
        [{"epoch": 1, "loss": 2.0, "accuracy": 0.1, "val_loss": 2.2, "val_accuracy": 0.15},
         {"epoch": 2, "loss": 1.5, "accuracy": 0.3}])
    assert training == [(1, 2.0, 0.1), (2, 1.5, 0.3)] and validation == [(1, 2.2, 0.15)]


def test_a_train_more_killed_between_its_writes_resumes_as_it_was(tmp_path):
    """status.json is written before config.json: a process killed between the two leaves
    an interrupted run whose extra segment is dropped, so it finishes as before."""
    record = ended_run(tmp_path, "finished", epochs_done=3, checkpoint_epoch=3)
    status = json.loads((record.path / "status.json").read_text())
    status.update(state="interrupted", segments=[3], epochs_before=3)
    (record.path / "status.json").write_text(json.dumps(status))
    record = runs.read_run(record.path)
    assert checkpoints.can_resume(record)
    resumed = resuming.reopen({"run": record.id}, tmp_path)
    assert resumed.segments == () and resumed.config.epochs == 3


def test_a_resume_names_its_queue_entry_in_the_running_write(tmp_path, monkeypatch):
    record = ended_run(tmp_path, "finished", epochs_done=3, checkpoint_epoch=3)
    old = json.loads((record.path / "status.json").read_text())
    (record.path / "status.json").write_text(json.dumps({**old, "queue_id": "first-entry"}))
    writes = []
    write = resuming.storage.write_atomic

    def recording_write(path, data):
        if path.name == "status.json":
            writes.append(json.loads(data))
        write(path, data)

    monkeypatch.setattr(runs.storage, "write_atomic", recording_write)
    resuming.reopen({"run": record.id, "more_epochs": 1}, tmp_path, queue_id="second-entry")
    [running] = [status for status in writes if status.get("state") == "running"]
    assert running["queue_id"] == "second-entry"
    assert runs.read_run(record.path).status["queue_id"] == "second-entry"
