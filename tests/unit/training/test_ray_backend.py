"""The Ray backend on a local Ray cluster: a run trains as an actor, its progress and files
reach the app, Stop ends it within one batch, a dead worker leaves an interrupted run, a
failure shows the worker's error, a run trains more epochs on a worker, a sweep goes
through the queue to two actors; and the command line's ``--backend ray``.

Each test starts actors (fresh worker processes importing TensorFlow), so the module
takes about two minutes on two cores; the cluster itself is started once.
"""

import dataclasses
import json
import os
import time

import numpy as np
import pytest

ray = pytest.importorskip(
    "ray", reason="Ray is optional (requirements-cluster.txt); .ci/run installs it for these")

from cifar_core import cli, data  # noqa: E402 - after the skip: only with Ray installed
from cifar_core.models import saving  # noqa: E402
from cifar_core.training import (  # noqa: E402
    backends,
    histograms,
    job_registry,
    jobs,
    ray_cluster,
    ray_jobs,
    runs,
)
from tests.unit.training import ray_hooks  # noqa: E402
from tests.unit.training.doubles import TINY  # noqa: E402

#: Seconds any one step may take before the test fails (a worker start imports TensorFlow).
PATIENCE = 180


@pytest.fixture(scope="module")
def local_ray():
    """A Ray cluster of this machine with two CPUs, for the module's tests."""
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def wait_until(condition, what, seconds=PATIENCE):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def app_record(job):
    """The app's copy of the job's run folder, as runs.py reads it."""
    snapshot = job.snapshot()
    assert snapshot.run_dir is not None, snapshot
    return runs.read_run(snapshot.run_dir)


def test_command_line_trains_on_a_local_ray_it_starts(tiny_archive, tmp_path, monkeypatch,
                                                      capsys):
    """No address anywhere: ``--backend ray`` starts a Ray of its own, prints the same
    progress and answer as a local run, and the run folder is complete."""
    if ray.is_initialized():
        ray.shutdown()
    monkeypatch.delenv("CIFAR_RAY_ADDRESS", raising=False)
    archive, _ = tiny_archive
    real_load = data.load_cifar10
    monkeypatch.setattr(data, "load_cifar10", lambda path=None, progress=None: real_load(
        path, progress=progress, expected_counts=None, download=False))
    saved = tmp_path / "models" / "tiny.keras"
    argv = ["train", "--preset", "demo", "--epochs", "2", "--batch-size", "20",
            "--data", str(archive), "--runs-dir", str(tmp_path / "runs"),
            "--backend", "ray", "--save", str(saved)]
    try:
        assert cli.main(argv) == 0
        assert ray.is_initialized()  # it started one
    finally:
        ray.shutdown()
    captured = capsys.readouterr()
    assert "test accuracy:" in captured.out and "run: " in captured.out
    assert "epoch 1/2" in captured.err and "epoch 2/2" in captured.err
    (record,) = runs.list_runs(tmp_path / "runs")
    assert record.state == "finished" and record.model_path is not None
    assert [row["epoch"] for row in record.history()] == [1.0, 2.0]
    card = json.loads(saved.with_suffix(".json").read_text())
    assert card["recipe"].endswith("--backend ray --save " + str(saved))


def test_command_line_refuses_an_address_without_the_ray_backend(capsys):
    assert cli.main(["train", "--backend", "local", "--ray-address", "auto"]) == 2
    assert "--ray-address needs --backend ray" in capsys.readouterr().err


def test_a_run_streams_progress_and_lands_every_file(local_ray, tiny_data, tmp_path):
    pause = ray_hooks.PauseAtBatch(tmp_path, epoch=1, batch=2)  # third batch of epoch 2
    job = ray_jobs.RayTrainingJob(TINY, tiny_data, tmp_path / "runs", owner="tab-1",
                                  callbacks=[pause]).start()
    assert job.snapshot().state == "starting" and not job.snapshot().done
    wait_until(lambda: (tmp_path / "reached").exists(), "the second epoch's third batch")
    # The hook holds the batch before our progress callback runs: two batches of epoch 2.
    wait_until(lambda: job.snapshot().epoch == 2 and job.snapshot().batch == 2,
               "the second epoch's progress")
    during = job.snapshot()
    assert (during.state, during.batches) == ("running", 10)
    assert len(during.validation) == 1 and len(during.training) == 12  # every batch so far
    assert during.elapsed_seconds > 0 and during.images_per_second > 0
    # The first epoch's files are in the app's folder while the run goes on.
    record = app_record(job)
    assert record.state == "running" and record.owner == "tab-1"
    assert [row["epoch"] for row in record.history()] == [1.0]
    assert record.filter_epochs() == [0, 1]
    assert runs.mark_interrupted(tmp_path / "runs") == []  # the app counts as its process

    (tmp_path / "go").write_text("")
    assert job.join(PATIENCE)
    after = job.snapshot()
    assert after.state == "finished" and after.error is None and after.fraction == 1.0
    assert [point[0] for point in after.validation] == [1.0, 2.0]
    record = app_record(job)
    assert record.path.parent == tmp_path / "runs" and record.id == job.snapshot().run_dir \
        .split("/")[-1]
    assert record.state == "finished" and 0 <= record.status["test_accuracy"] <= 1
    assert record.status["worker"]["pid"] != record.status["pid"]  # where it trained
    assert [row["epoch"] for row in record.history()] == [1.0, 2.0]
    assert record.filter_epochs() == [0, 1, 2]
    assert histograms.epochs(record.path) == [0, 1, 2]
    assert list((record.path / "tensorboard").glob("events.out.tfevents.*"))
    model = saving.load_model(record.model_path)
    images = tiny_data.x_test[:4].astype(np.float32) / 255
    assert model.predict(images, verbose=0).shape == (4, 10)
    assert not list(record.path.rglob(".tmp-*"))  # every file was renamed into place


def test_stop_ends_the_run_within_one_batch(local_ray, tiny_data, tmp_path):
    pause = ray_hooks.PauseAtBatch(tmp_path, epoch=0, batch=2)
    job = ray_jobs.RayTrainingJob(dataclasses.replace(TINY, epochs=50), tiny_data,
                                  tmp_path / "runs", callbacks=[pause]).start()
    wait_until(lambda: (tmp_path / "reached").exists(), "the third batch")
    job.stop()  # the click arrives while the third batch ends; the worker has it on return
    assert job.stop_requested
    (tmp_path / "go").write_text("")
    assert job.join(PATIENCE)
    after = job.snapshot()
    assert after.state == "stopped" and (after.epoch, after.batch) == (1, 3)
    assert (tmp_path / "after").read_text() == "0"  # no batch ended after the stop
    record = app_record(job)
    assert record.state == "stopped" and record.model_path is not None


def test_a_worker_that_dies_leaves_an_interrupted_run(local_ray, tiny_data, tmp_path,
                                                      monkeypatch):
    workers = tmp_path / "worker-tmp"  # where the dead worker's folder stays (swept later)
    workers.mkdir()
    monkeypatch.setattr(ray_cluster, "worker_class",
                        lambda: ray.remote(ray_hooks.worker_in(workers)))
    pause = ray_hooks.ExitAtBatch(tmp_path, epoch=1, batch=1)  # in the second epoch
    job = ray_jobs.RayTrainingJob(TINY, tiny_data, tmp_path / "runs",
                                  callbacks=[pause]).start()
    wait_until(lambda: (tmp_path / "reached").exists(), "the second epoch")
    wait_until(lambda: job.snapshot().run_dir and app_record(job).model_path,
               "the first epoch's files")
    (tmp_path / "go").write_text("")  # the worker process exits at once
    assert job.join(PATIENCE)
    after = job.snapshot()
    assert after.done and after.state == "failed"
    assert "Ray worker ended" in after.error and "interrupted" in after.error
    record = app_record(job)
    assert record.state == "interrupted" and "Ray worker ended" in record.status["error"]
    assert record.model_path is not None  # the first epoch's model stays usable
    assert runs.mark_interrupted(tmp_path / "runs") == []  # already marked
    assert len(list(workers.glob("cifar-ray-runs-*"))) == 1  # no close(): swept later


def test_a_failure_in_training_shows_the_workers_error(local_ray, tiny_data, tmp_path):
    job = ray_jobs.RayTrainingJob(TINY, tiny_data, tmp_path / "runs",
                                  callbacks=[ray_hooks.FailAtBatch()]).start()
    assert job.join(PATIENCE)
    after = job.snapshot()
    assert after.state == "failed" and after.error == "RuntimeError: the disk caught fire"
    record = app_record(job)
    assert record.state == "failed" and "the disk caught fire" in record.status["error"]


def test_a_failure_on_the_apps_side_ends_the_run_and_its_worker(local_ray, tiny_data,
                                                                tmp_path, monkeypatch):
    """The app's disk fills up once the run's status.json has landed: the job fails with
    the error, the app's copy says "failed" (not "running", which would keep it from being
    deleted or resumed until a restart), and the worker stops training."""
    write_files = ray_jobs.RayTrainingJob._write_files

    def full_disk(job, files):
        write_files(job, {name: files[name] for name in ("config.json", "status.json")
                          if name in files})
        if "status.json" in files:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(ray_jobs.RayTrainingJob, "_write_files", full_disk)
    workers = tmp_path / "worker-tmp"  # a run stopped before its first batch may write on
    workers.mkdir()  # after close() removed the folder (then the actor ends; swept later)
    monkeypatch.setattr(ray_cluster, "worker_class",
                        lambda: ray.remote(ray_hooks.worker_in(workers)))
    job = ray_jobs.RayTrainingJob(dataclasses.replace(TINY, epochs=50), tiny_data,
                                  tmp_path / "runs").start()
    assert job.join(PATIENCE)
    after = job.snapshot()
    assert after.state == "failed" and after.error == "OSError: [Errno 28] No space left on device"
    (record,) = runs.list_runs(tmp_path / "runs")
    assert record.state == "failed" and record.status["error"] == after.error
    assert runs.mark_interrupted(tmp_path / "runs") == []
    pid = record.status["worker"]["pid"]
    wait_until(lambda: not runs._alive(pid, None), "the worker's end", 60)
    runs.delete_run(record.id, tmp_path / "runs")  # no longer "running"


def test_a_worker_that_cannot_start_leaves_no_folder(local_ray, tiny_data, tmp_path,
                                                     monkeypatch):
    """A failed start ends the actor after it removed its temporary folder; one killed
    without that leaves it, and the next worker sweeps it once it is a day old."""
    workers = tmp_path / "worker-tmp"
    workers.mkdir()
    failing = ray.remote(ray_hooks.worker_in(workers, fail_start=True))
    monkeypatch.setattr(ray_cluster, "worker_class", lambda: failing)
    job = ray_jobs.RayTrainingJob(TINY, tiny_data, tmp_path / "runs").start()
    assert job.join(PATIENCE)
    after = job.snapshot()
    assert after.state == "failed" and after.error == "RuntimeError: the worker could not start"
    assert list(workers.iterdir()) == [] and runs.list_runs(tmp_path / "runs") == []

    plain = ray.remote(ray_hooks.worker_in(workers))
    actor = plain.remote(ray_cluster.dataset_fields(tiny_data))
    assert ray.get(actor.changed_files.remote(), timeout=PATIENCE) == {}
    ray.kill(actor)  # as the app's death or a lost worker would: no close()
    (left,) = workers.iterdir()
    day_old = time.time() - 2 * 24 * 3600
    os.utime(left, (day_old, day_old))
    actor = plain.remote(ray_cluster.dataset_fields(tiny_data))
    assert ray.get(actor.changed_files.remote(), timeout=PATIENCE) == {}
    assert not left.exists() and len(list(workers.iterdir())) == 1  # the new worker's own
    assert ray.get(actor.close.remote(), timeout=PATIENCE)
    ray.kill(actor)
    assert list(workers.iterdir()) == []


def test_a_run_no_worker_can_hold_waits_and_can_be_stopped(local_ray, tiny_data, tmp_path,
                                                           monkeypatch):
    monkeypatch.setenv("CIFAR_RAY_CPUS", "3")  # the cluster has two
    job = ray_jobs.RayTrainingJob(TINY, tiny_data, tmp_path / "runs").start()
    time.sleep(1.5)
    assert job.snapshot().state == "starting"
    job.stop()
    assert job.join(30)
    assert job.snapshot().state == "stopped" and job.snapshot().run_dir is None
    assert runs.list_runs(tmp_path / "runs") == []

    monkeypatch.setenv("CIFAR_RAY_START_SECONDS", "1")
    job = ray_jobs.RayTrainingJob(TINY, tiny_data, tmp_path / "runs").start()
    assert job.join(30)
    after = job.snapshot()
    assert after.state == "failed" and "no Ray worker had 3 CPU(s)" in after.error


def test_a_run_trains_more_epochs_on_the_worker(local_ray, tiny_data, tmp_path):
    """A finished local run goes to the worker with its checkpoint, trains one epoch more
    there, and comes back to the same folder: history, filters and curves continue."""
    local = jobs.TrainingJob(dataclasses.replace(TINY, epochs=1), tiny_data,
                             tmp_path / "runs").start()
    assert local.join(PATIENCE) and local.snapshot().state == "finished"
    run_id = local.snapshot().run_dir.split("/")[-1]
    job = ray_jobs.RayTrainingJob(dataclasses.replace(TINY, epochs=1), tiny_data,
                                  tmp_path / "runs",
                                  resume={"run": run_id, "more_epochs": 1}).start()
    assert job.join(PATIENCE)
    after = job.snapshot()
    assert after.state == "finished", after.error
    assert after.epochs == 2 and after.config.epochs == 2 and after.fraction == 1.0
    assert after.run_dir == str(tmp_path / "runs" / run_id)
    assert [point[0] for point in after.validation] == [1.0, 2.0]  # the earlier epoch too
    (record,) = runs.list_runs(tmp_path / "runs")
    assert record.id == run_id and record.state == "finished"
    assert record.config["epochs"] == 2
    assert [row["epoch"] for row in record.history()] == [1.0, 2.0]
    assert record.filter_epochs() == [0, 1, 2]
    assert saving.load_model(record.model_path) is not None


def test_a_sweep_goes_through_the_queue_to_ray_workers(local_ray, tiny_data, tmp_path):
    """The registry takes its jobs from the Ray backend's factory: a sweep of two runs
    trains on two actors at once and lands as two ordinary runs of the sweep."""
    registry = job_registry.JobRegistry(2, job_factory=backends.job_factory("ray"),
                                        queue_directory=tmp_path / ".queue")
    configs = [dataclasses.replace(TINY, epochs=1, learning_rate=rate, sweep="sweep-1")
               for rate in (0.001, 0.003)]
    ids = registry.submit(configs, tiny_data, owner="tab-1", runs_dir=tmp_path / "runs")
    wait_until(lambda: all(registry.get(job_id) is not None for job_id in ids), "both starts")
    assert all(registry.get(job_id).join(PATIENCE) for job_id in ids)
    assert [registry.get(job_id).snapshot().state for job_id in ids] == ["finished"] * 2
    records = runs.list_runs(tmp_path / "runs")
    assert sorted(record.config["learning_rate"] for record in records) == [0.001, 0.003]
    assert {record.config["sweep"] for record in records} == {"sweep-1"}
    assert all(record.state == "finished" and record.owner == "tab-1" for record in records)
    assert {record.status["queue_id"] for record in records} == set(ids)


# --- the app's side alone (no actor) ---------------------------------------------------

def running_run(runs_dir, *, model=False):
    """A run folder of this process that says "running", with a model.keras if asked."""
    run = runs.start_run(TINY, runs_dir)
    if model:
        (run.path / "model.keras").write_bytes(b"a model")
    return run.path.name


@pytest.mark.parametrize("model, state, kept", [(False, "failed", ""),
                                                (True, "interrupted", "; the run is kept as "
                                                                      "interrupted")])
def test_an_app_side_failure_ends_the_apps_copy(tiny_data, tmp_path, model, state, kept):
    job = ray_jobs.RayTrainingJob(TINY, tiny_data, tmp_path)
    job._run_id = running_run(tmp_path, model=model)
    job._failed(ValueError("not a path inside a run folder: '../x'"))
    message = "ValueError: not a path inside a run folder: '../x'"
    assert job.snapshot().state == "failed" and job.snapshot().error == message + kept
    record = runs.read_run(tmp_path / job._run_id)
    assert record.state == state and record.status["error"] == message


def test_a_failure_before_the_run_folder_leaves_nothing(tiny_data, tmp_path):
    job = ray_jobs.RayTrainingJob(TINY, tiny_data, tmp_path)
    job._name_run("20261129-130000-tiny-ab12")  # claimed, but no file came
    job._failed(OSError(28, "No space left on device"))
    assert job.snapshot().error == "OSError: [Errno 28] No space left on device"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", ".", "..", ".hidden", "a\\b", "a\0b"])
def test_a_worker_run_name_that_is_not_a_plain_folder_is_refused(tiny_data, tmp_path, name):
    job = ray_jobs.RayTrainingJob(TINY, tiny_data, tmp_path)
    with pytest.raises(ValueError, match="not a plain folder name"):
        job._name_run(name)
    assert list(tmp_path.iterdir()) == []


def test_a_run_name_another_run_has_gets_a_folder_of_its_own(tiny_data, tmp_path):
    """Two sweep runs started in the same second on two workers can share a name: the
    second one's files go to a new folder, and its status names the worker's folder."""
    other = running_run(tmp_path)
    before = (tmp_path / other / "status.json").read_bytes()
    job = ray_jobs.RayTrainingJob(TINY, tiny_data, tmp_path)
    status = dict(state="running", epoch=0, host="worker-1", pid=4321)
    remote = dict(state="running", epoch=0, batch=0, batches=10, run_dir=f"/tmp/w/{other}")
    job._mirror(remote, {"config.json": json.dumps(TINY.to_dict()).encode(),
                         "status.json": json.dumps(status).encode()})
    assert job._run_id.startswith(other + "-") and job._run_id != other
    assert (tmp_path / other / "status.json").read_bytes() == before  # untouched
    assert job.snapshot().run_dir == str(tmp_path / job._run_id)
    record = runs.read_run(tmp_path / job._run_id)
    assert record.status["worker"] == {"host": "worker-1", "pid": 4321, "run": other}
    job._mirror(remote, {})  # the same name again: the same folder
    assert job.snapshot().run_dir == str(tmp_path / job._run_id)
    with pytest.raises(ValueError, match="renamed its run folder"):
        job._mirror(dict(remote, run_dir="/tmp/w/another-name"), {})


def test_a_resumed_run_must_come_back_under_its_own_name(tiny_data, tmp_path):
    local = running_run(tmp_path)
    status = runs.read_run(tmp_path / local).status
    (tmp_path / local / "status.json").write_text(json.dumps(dict(status, state="stopped")))
    job = ray_jobs.RayTrainingJob(TINY, tiny_data, tmp_path,
                                  resume={"run": local, "more_epochs": 0})
    job._name_run(local)
    assert job._run_id == local
    other = ray_jobs.RayTrainingJob(TINY, tiny_data, tmp_path,
                                    resume={"run": local, "more_epochs": 0})
    with pytest.raises(ValueError, match="continued run 'elsewhere'"):
        other._name_run("elsewhere")
