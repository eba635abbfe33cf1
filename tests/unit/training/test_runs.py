"""Run folders: layout, atomic writes, listing, and marking runs whose process died."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from cifar_core import storage
from cifar_core.training import runs


def started(tmp_path, **config):
    return runs.start_run({"model": "tiny", "epochs": 2, **config}, tmp_path)


def test_runs_dir_defaults_to_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(tmp_path / "elsewhere"))
    assert runs.runs_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("CIFAR_RUNS_DIR")
    assert runs.runs_dir() == storage.PROJECT_ROOT / "runs"


def test_start_record_and_finish(tmp_path):
    run = started(tmp_path)
    record = runs.read_run(run.path)
    assert record.state == "running" and record.status["pid"] == os.getpid()
    assert record.config == {"model": "tiny", "epochs": 2}
    run.record_epoch(1, {"loss": 2.0, "accuracy": 0.25, "val_accuracy": 0.2}, 1.5)
    run.save_filters(1, np.ones((3, 3, 3, 4)))
    run.finish("finished", test_accuracy=0.3)
    record = runs.read_run(run.path)
    assert record.state == "finished" and record.status["test_accuracy"] == 0.3
    assert record.history() == [{"epoch": 1.0, "loss": 2.0, "accuracy": 0.25,
                                 "val_accuracy": 0.2, "seconds": 1.5}]
    assert record.filter_epochs() == [1]
    assert not list(run.path.rglob(".tmp-*"))  # Atomic writes leave no temporaries.
    with pytest.raises(ValueError, match="running"):
        run.finish("running")


def test_list_runs_newest_first_and_skips_broken_folders(tmp_path):
    first = started(tmp_path)
    second = started(tmp_path)
    # Explicit start times: two runs started within one clock tick must not tie.
    first.update(started=1000.0)
    second.update(started=2000.0)
    (tmp_path / "half-written").mkdir()  # No config/status: not a run.
    (tmp_path / "garbled").mkdir()
    (tmp_path / "garbled" / "config.json").write_text("{not json")
    (tmp_path / "garbled" / "status.json").write_text("[]")
    assert [record.id for record in runs.list_runs(tmp_path)] == [second.id, first.id]
    assert runs.list_runs(tmp_path / "missing") == []


def test_run_of_dead_process_is_marked_interrupted_on_next_start(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    run = started(tmp_path)
    run.update(pid=int(dead.stdout), process_start=None)  # As if that process had run it.
    alive = started(tmp_path)  # Starting a run checks the others first.
    states = {record.id: record.state for record in runs.list_runs(tmp_path)}
    assert states == {run.id: "interrupted", alive.id: "running"}
    assert "ended" in runs.read_run(run.path).status["error"]


def test_reused_pid_and_silent_other_host_count_as_dead(tmp_path):
    reused, remote = started(tmp_path), started(tmp_path)
    reused.update(process_start=1)  # Our pid, but a different process start time.
    remote.update(host="another-machine")
    status = json.loads((remote.path / "status.json").read_text())
    status["updated"] = time.time() - runs.STALE_AFTER_SECONDS - 1
    (remote.path / "status.json").write_text(json.dumps(status))
    fresh = runs.Run(tmp_path / "fresh", {})
    (tmp_path / "fresh").mkdir()
    storage.write_atomic(fresh.path / "config.json", "{}")
    fresh.update(state="running", host="another-machine")  # Heartbeat just now.
    assert sorted(runs.mark_interrupted(tmp_path)) == sorted([reused.id, remote.id])
    assert runs.read_run(fresh.path).state == "running"


def test_delete_run_removes_a_finished_run_and_refuses_running_or_bad_ids(tmp_path):
    finished, running = started(tmp_path), started(tmp_path)
    finished.finish("finished")
    runs.delete_run(finished.id, tmp_path)
    assert [record.id for record in runs.list_runs(tmp_path)] == [running.id]
    assert not finished.path.exists() and not list(tmp_path.glob(".deleted-*"))
    with pytest.raises(ValueError, match="still running"):
        runs.delete_run(running.id, tmp_path)
    for bad in ("../etc", "..", "", ".hidden", finished.id):
        with pytest.raises(ValueError, match="run"):
            runs.delete_run(bad, tmp_path)


def test_hand_edited_start_time_sorts_last_instead_of_breaking_the_list(tmp_path):
    normal = started(tmp_path)
    edited = started(tmp_path)
    normal.update(started=1000.0)
    edited.update(started="yesterday")
    assert [record.id for record in runs.list_runs(tmp_path)] == [normal.id, edited.id]


def test_the_owner_is_kept_in_the_status(tmp_path):
    owned = runs.start_run({"model": "tiny"}, tmp_path, name="owned", owner="tab-1")
    anonymous = runs.start_run({"model": "tiny"}, tmp_path, name="anonymous")
    assert runs.read_run(owned.path).owner == "tab-1"
    assert runs.read_run(anonymous.path).owner is None


def test_the_queue_entry_is_in_the_first_status_write(tmp_path, monkeypatch):
    """A server killed right after "running" was written must not queue the run again."""
    writes = []
    write = storage.write_atomic

    def recording_write(path, data):
        if path.name == "status.json":
            writes.append(json.loads(data))
        write(path, data)

    monkeypatch.setattr(runs.storage, "write_atomic", recording_write)
    runs.start_run({"model": "tiny"}, tmp_path, name="queued", queue_id="entry-1")
    assert writes[0]["state"] == "running" and writes[0]["queue_id"] == "entry-1"
    runs.start_run({"model": "tiny"}, tmp_path, name="by-hand")
    assert "queue_id" not in writes[-1]
