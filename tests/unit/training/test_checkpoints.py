"""Checkpoint files of a run folder (no TensorFlow): atomic, latest only, never unpickled;
which runs may continue, and reopening one in place."""

import io
import json
import os
import pathlib

import numpy as np
import pytest

from cifar_core import storage
from cifar_core.training import checkpoints, resuming, runs, train_config

CONFIG = train_config.TrainConfig(model="tiny", epochs=3, batch_size=20, validation_size=20)


def weights(value):
    """(path, array) pairs shaped like a two-variable model."""
    return [("conv1/kernel", np.full((3, 3, 3, 4), value, np.float32)),
            ("conv1/bias", np.full(4, value, np.float32))]


def optimizer(step):
    return [("adam/iteration", np.array(step, np.int64)),
            ("adam/conv1_kernel_momentum", np.zeros((3, 3, 3, 4), np.float32))]


def ended_run(tmp_path, state, *, epochs_done=2, checkpoint_epoch=2, config=CONFIG):
    """A run folder as training leaves it: ``epochs_done`` history rows and filters, a
    checkpoint at ``checkpoint_epoch`` (None: none), then ``state``."""
    run = runs.start_run(config, tmp_path)
    for epoch in range(1, epochs_done + 1):
        run.record_epoch(epoch, {"loss": 2.0 / epoch, "accuracy": 0.1 * epoch,
                                 "val_loss": 2.1 / epoch, "val_accuracy": 0.1 * epoch}, epoch)
        run.save_filters(epoch, np.ones((3, 3, 3, 4)))
    if checkpoint_epoch is not None:
        checkpoints.write(run.path, epoch=checkpoint_epoch, model=weights(checkpoint_epoch),
                          optimizer=optimizer(10 * checkpoint_epoch), config=run.config)
    if state != "running":
        run.finish(state)
    return runs.read_run(run.path)


def test_a_checkpoint_reads_back_as_written_and_only_the_latest_is_kept(tmp_path):
    record = ended_run(tmp_path, "stopped", checkpoint_epoch=1)
    checkpoints.write(record.path, epoch=2, model=weights(2.0), optimizer=optimizer(20),
                      config=record.config, segments=(3,))
    assert sorted(path.name for path in (record.path / "checkpoint").iterdir()) == ["state.npz"]
    checkpoint = checkpoints.read(record.path)
    assert checkpoint.epoch == 2 and checkpoint.meta["segments"] == [3]
    assert checkpoint.meta["shuffle"] == {"seed": 0, "next_epoch": 2}
    assert checkpoint.meta["config"] == CONFIG.to_dict()
    assert [entry["path"] for entry in checkpoint.meta["model"]] == ["conv1/kernel", "conv1/bias"]
    np.testing.assert_array_equal(checkpoint.model[0], np.full((3, 3, 3, 4), 2.0))
    assert checkpoint.optimizer[0] == 20 and checkpoint.optimizer[0].dtype == np.int64
    assert checkpoints.read_meta(record.path)["epoch"] == 2
    assert checkpoints.read(tmp_path / "nowhere") is None
    assert checkpoints.read_meta(tmp_path / "nowhere") is None


def test_leftover_temporaries_are_ignored_and_cleared_at_the_next_write(tmp_path):
    record = ended_run(tmp_path, "stopped", checkpoint_epoch=1)
    folder = record.path / "checkpoint"
    # What a writer killed mid-write leaves: a temporary folder and a half file.
    (folder / f"{storage.TEMPORARY_PREFIX}123-abcd-checkpoint").mkdir()
    (folder / f"{storage.TEMPORARY_PREFIX}123-abcd-state.npz").write_bytes(b"PK\x03\x04 half")
    assert checkpoints.read(record.path).epoch == 1
    assert checkpoints.can_resume(record)
    checkpoints.write(record.path, epoch=2, model=weights(2.0), optimizer=optimizer(20),
                      config=record.config)
    assert sorted(path.name for path in folder.iterdir()) == ["state.npz"]


def test_a_write_that_fails_half_way_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    record = ended_run(tmp_path, "stopped", checkpoint_epoch=1)

    def full_disk(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        checkpoints.write(record.path, epoch=2, model=weights(2.0), optimizer=optimizer(20),
                          config=record.config)
    monkeypatch.undo()
    checkpoint = checkpoints.read(record.path)
    assert checkpoint.epoch == 1 and checkpoint.model[0].max() == 1.0
    assert sorted(path.name for path in (record.path / "checkpoint").iterdir()) == ["state.npz"]


class _Touch:
    """Unpickling this creates ``path``: the payload a tampered checkpoint would carry."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.path),)


def test_a_checkpoint_holding_a_pickled_object_is_refused_and_runs_nothing(tmp_path):
    record = ended_run(tmp_path, "stopped", checkpoint_epoch=1)
    good = checkpoints.read(record.path)
    marker = tmp_path / "pwned"
    payload = np.empty(1, dtype=object)
    payload[0] = _Touch(marker)
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array(json.dumps(good.meta)), model_0000=payload,
             model_0001=good.model[1], optimizer_0000=good.optimizer[0],
             optimizer_0001=good.optimizer[1])
    (record.path / "checkpoint" / "state.npz").write_bytes(buffer.getvalue())
    with pytest.raises(checkpoints.CheckpointError, match="state.npz"):
        checkpoints.read(record.path)
    assert not marker.exists()
    assert not checkpoints.can_resume(record)
    assert "state.npz" in checkpoints.resume_problem(record)
    with pytest.raises(ValueError, match=record.id):
        resuming.reopen({"run": record.id}, tmp_path)
    assert not marker.exists()
    assert runs.read_run(record.path).state == "stopped"  # refused before changing anything


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04 truncated"])
def test_a_damaged_checkpoint_is_an_error_naming_the_file(tmp_path, content):
    record = ended_run(tmp_path, "stopped", checkpoint_epoch=1)
    (record.path / "checkpoint" / "state.npz").write_bytes(content)
    with pytest.raises(checkpoints.CheckpointError, match="state.npz"):
        checkpoints.read(record.path)
    assert not checkpoints.can_resume(record)


def test_object_variables_are_not_written(tmp_path):
    with pytest.raises(ValueError, match="conv1/kernel"):
        checkpoints.write(tmp_path, epoch=1, model=[("conv1/kernel", np.array([None]))],
                          optimizer=[], config=CONFIG.to_dict())


@pytest.mark.parametrize("state, resumable, more", [
    ("stopped", True, False), ("interrupted", True, False), ("finished", False, True),
    ("failed", False, False)])
def test_which_runs_resume_and_which_train_more(tmp_path, state, resumable, more):
    record = ended_run(tmp_path, state, epochs_done=3 if state == "finished" else 2,
                       checkpoint_epoch=3 if state == "finished" else 2)
    assert checkpoints.can_resume(record) is resumable
    assert checkpoints.can_train_more(record) is more


def test_refusals_name_the_run_and_say_why(tmp_path):
    running = ended_run(tmp_path, "running")  # this process is alive: it really runs
    assert "still running" in checkpoints.resume_problem(running)
    bare = ended_run(tmp_path, "stopped", checkpoint_epoch=None)
    assert "no checkpoint" in checkpoints.resume_problem(bare)
    finished = ended_run(tmp_path, "finished", epochs_done=3, checkpoint_epoch=3)
    assert "ask for more epochs" in checkpoints.resume_problem(finished)
    failed = ended_run(tmp_path, "failed")
    assert "only a stopped or interrupted run" in checkpoints.resume_problem(failed)
    foreign = ended_run(tmp_path, "stopped")
    (foreign.path / "config.json").write_text(json.dumps({"model": "imported-net", "epochs": 3}))
    foreign = runs.read_run(foreign.path)
    assert "cannot be rebuilt" in checkpoints.resume_problem(foreign)
    for record, more in ((running, 0), (bare, 0), (finished, 0), (failed, 0), (foreign, 0),
                         (bare, 2)):
        status = (record.path / "status.json").read_text()
        with pytest.raises(ValueError, match=record.id):
            resuming.reopen({"run": record.id, "more_epochs": more}, tmp_path)
        assert (record.path / "status.json").read_text() == status  # nothing changed
    with pytest.raises(ValueError, match="no run 'gone'"):
        resuming.reopen({"run": "gone"}, tmp_path)


@pytest.mark.parametrize("resume, message", [
    ("run-1", "resume must be"), ({"run": "../x"}, "not a run id"),
    ({"run": "a", "more_epochs": -1}, "more_epochs"), ({"run": "a", "more_epochs": True},
                                                       "more_epochs"),
    ({"run": "a", "epochs": 3}, "resume must be")])
def test_bad_resume_requests_are_refused(resume, message):
    with pytest.raises(ValueError, match=message):
        checkpoints.request(resume)
