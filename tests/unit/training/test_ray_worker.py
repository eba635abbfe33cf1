"""The Ray actor's class on its own (no Ray needed): it trains an ordinary job in a folder
of its own and hands each file version to the app once, removals included."""

import os
import tempfile
import time

import pytest

from cifar_core.training import ray_cluster, ray_worker
from tests.unit.training.doubles import TINY


@pytest.fixture
def worker(tiny_data):
    worker = ray_worker.TrainingWorker(ray_cluster.dataset_fields(tiny_data))
    yield worker
    worker.close()


def test_each_file_version_goes_to_the_app_once(worker):
    assert worker.snapshot() is None and worker.changed_files() == {}
    where = worker.start(TINY.to_dict(), job_id="job-1", owner="tab-1")
    assert where["pid"] > 0 and where["host"]
    assert worker.job.join(120)
    snapshot = worker.snapshot()
    assert snapshot["state"] == "finished" and snapshot["job_id"] == "job-1"
    assert snapshot["config"] == TINY.to_dict() and snapshot["batches"] == 10
    first = worker.changed_files()
    assert {"config.json", "status.json", "history.csv", "model.keras", "filters/epoch_000.npy",
            "filters/epoch_002.npy", "histograms/epoch_002.npz"} <= set(first)
    assert any(name.startswith("tensorboard/events.out.tfevents.") for name in first)
    assert all(isinstance(payload, bytes) and payload for payload in first.values())
    assert worker.changed_files() == {}  # nothing new since

    run_dir = worker.runs_dir / snapshot["run_dir"].split("/")[-1]
    (run_dir / "filters" / "epoch_002.npy").unlink()
    (run_dir / "history.csv").write_text("epoch\n1\n")
    assert worker.changed_files() == {"filters/epoch_002.npy": None, "history.csv": b"epoch\n1\n"}
    assert worker.changed_files() == {}


def test_a_stop_before_start_ends_the_run_at_its_first_batch(worker):
    assert worker.stop() is True
    worker.start(TINY.to_dict(), job_id="job-2")
    assert worker.job.join(120)
    snapshot = worker.snapshot()
    assert snapshot["state"] == "stopped" and (snapshot["epoch"], snapshot["batch"]) == (1, 1)


def test_close_removes_the_workers_folder(tiny_data):
    worker = ray_worker.TrainingWorker(ray_cluster.dataset_fields(tiny_data))
    assert worker.runs_dir.is_dir()
    worker.close()
    assert not worker.runs_dir.exists()


def test_close_stops_a_run_before_removing_its_folder(worker):
    worker.start({**TINY.to_dict(), "epochs": 50}, job_id="job-4")
    worker.close()
    assert worker.job.stop_requested
    assert worker.job.join(120) and worker.snapshot()["state"] == "stopped"
    worker.close()  # what the run wrote after the first close (it had not ended in time)
    assert not worker.runs_dir.exists()


def test_stale_worker_folders_are_swept(tmp_path, monkeypatch, tiny_data):
    """A folder left by a killed actor goes once it has been unchanged for a day; a live
    worker's folder, other folders and files stay."""
    day_old = time.time() - ray_worker.STALE_SECONDS - 60
    left = tmp_path / "cifar-ray-runs-left"
    (left / "run-1").mkdir(parents=True)
    fresh = tmp_path / "cifar-ray-runs-fresh"
    fresh.mkdir()
    other = tmp_path / "someone-elses"
    other.mkdir()
    lone_file = tmp_path / "cifar-ray-runs-file"
    lone_file.write_text("")
    for path in (left, other, lone_file):
        os.utime(path, (day_old, day_old))
    assert ray_worker.sweep_stale(tmp_path) == [left]
    assert not left.exists() and fresh.is_dir() and other.is_dir() and lone_file.is_file()

    os.utime(fresh, (day_old, day_old))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    worker = ray_worker.TrainingWorker(ray_cluster.dataset_fields(tiny_data))  # sweeps
    assert not fresh.exists() and worker.runs_dir.parent == tmp_path
    os.utime(worker.runs_dir, (day_old, day_old))
    assert worker.changed_files() == {}  # a poll is a heartbeat: the folder is not stale
    assert ray_worker.sweep_stale(tmp_path) == [] and worker.runs_dir.is_dir()
    worker.close()


def test_the_dataset_must_carry_its_arrays():
    with pytest.raises(ValueError, match="lacks"):
        ray_worker.TrainingWorker({"x_train": None})


def test_run_files_need_a_run_to_resume(worker):
    with pytest.raises(ValueError, match="without a run to resume"):
        worker.start(TINY.to_dict(), job_id="job-3", run_files={"config.json": b"{}"})


@pytest.mark.parametrize("relative", ["../escape", "/etc/passwd", "", "a/../../b",
                                      "filters\\..\\x", 7, None])
def test_paths_outside_a_run_folder_are_refused(relative):
    with pytest.raises(ValueError, match="not a path inside a run folder"):
        ray_worker.check_relative(relative)


@pytest.mark.parametrize("relative", ["status.json", "filters/epoch_001.npy",
                                      "checkpoint/state.npz"])
def test_paths_inside_a_run_folder_pass(relative):
    assert ray_worker.check_relative(relative) == relative
