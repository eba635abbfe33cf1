"""Training in a child process: progress over the pipe, the run folder, stop, failures, a
dead child, a dead parent, resume, the child's CPU priority, and the registry's queue."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cifar_core import data
from cifar_core.storage import PROJECT_ROOT
from cifar_core.training import backends, job_registry, process_child, process_jobs, runs
from tests.unit.training.doubles import TINY

#: Long enough that a test acts while it trains; the tests stop or kill it.
LONG = dataclasses.replace(TINY, epochs=200)


def wait_for(condition, seconds=180, what="the condition"):
    """Poll ``condition()`` until it is truthy (returned) or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {seconds} s")


def nice(pid):
    """Process ``pid``'s niceness, field 19 of /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # fields 1-2 (pid, name) come before the split point


def alive(pid):
    """Whether process ``pid`` exists (an orphan's zombie too, until its new parent reaps it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def training(job):
    """Wait until ``job``'s child trains (a batch done); returns that snapshot."""
    return wait_for(lambda: (lambda s: s if s.batch > 0 or s.done else None)(job.snapshot()),
                    what="the first batch")


@pytest.fixture
def mapped_data(tiny_archive):
    """The tiny archive loaded as the app loads CIFAR-10: memory maps of the decoded cache."""
    path, _ = tiny_archive
    return data.load_cifar10(path, expected_counts=None)


def test_a_cached_dataset_is_mapped_again_and_other_arrays_travel(mapped_data, tiny_data):
    message = process_child.dataset_message(mapped_data)
    assert {kind for kind, _ in message["arrays"].values()} == {"file"}
    rebuilt = process_child.rebuild_dataset(message)
    for name in process_child.ARRAY_FIELDS:
        assert np.array_equal(getattr(rebuilt, name), getattr(mapped_data, name))
        assert not getattr(rebuilt, name).flags.writeable
    assert rebuilt.source == mapped_data.source
    sliced = dataclasses.replace(mapped_data, x_train=mapped_data.x_train[:50])
    kinds = {name: kind for name, (kind, _) in
             process_child.dataset_message(sliced)["arrays"].items()}
    assert kinds == {"x_train": "array", "y_train": "file", "x_test": "file", "y_test": "file"}
    plain = process_child.dataset_message(tiny_data)["arrays"]
    assert {kind for kind, _ in plain.values()} == {"array"}
    assert np.array_equal(process_child.rebuild_dataset(
        process_child.dataset_message(tiny_data)).x_test, tiny_data.x_test)


def test_a_run_trains_in_a_child_and_leaves_a_complete_folder(mapped_data, tmp_path):
    from cifar_core.models import saving

    job = process_jobs.ProcessTrainingJob(TINY, mapped_data, tmp_path, owner="tab-1").start()
    assert job.pid != os.getpid()
    assert job.join(300)
    snapshot = job.snapshot()
    assert snapshot.state == "finished" and snapshot.error is None, snapshot.error
    assert (snapshot.epoch, snapshot.batch, snapshot.batches) == (2, 5, 5)  # 100 images / 20
    assert [point[0] for point in snapshot.validation] == [1.0, 2.0]
    assert len(snapshot.training) == 10 and snapshot.training[-1][0] == 2.0
    assert snapshot.elapsed_seconds > 0 and snapshot.fraction == 1.0
    record = runs.read_run(Path(snapshot.run_dir))
    assert record.path.parent == tmp_path  # the app's own runs folder, written by the child
    assert record.state == "finished" and record.owner == "tab-1"
    assert record.status["pid"] == job.pid and record.status["queue_id"] == job.id
    assert [row["epoch"] for row in record.history()] == [1.0, 2.0]
    assert record.filter_epochs() == [0, 1, 2]
    assert saving.load_model(record.model_path).name == "tiny"
    assert not alive(job.pid)


def test_stop_ends_the_run_within_a_batch_and_the_child_is_nicer(tiny_data, tmp_path):
    job = process_jobs.ProcessTrainingJob(LONG, tiny_data, tmp_path).start()
    during = training(job)
    assert during.state == "running" and during.run_dir
    assert nice(job.pid) >= min(nice(os.getpid()) + process_child.CHILD_NICENESS, 19)
    job.stop()
    assert job.stop_requested and job.join(120)
    snapshot = job.snapshot()
    assert snapshot.state == "stopped" and snapshot.error is None
    record = runs.read_run(Path(snapshot.run_dir))
    assert record.state == "stopped" and record.model_path.is_file()
    assert len(record.history()) < LONG.epochs


def test_a_stop_before_the_child_trains_starts_no_run(tiny_data, tmp_path):
    job = process_jobs.ProcessTrainingJob(LONG, tiny_data, tmp_path).start()
    job.stop()  # the child is still loading TensorFlow
    assert job.join(120)
    snapshot = job.snapshot()
    assert snapshot.state == "stopped" and snapshot.run_dir is None
    assert runs.list_runs(tmp_path) == []


def test_a_failure_in_the_child_shows_its_error(tiny_data, tmp_path):
    small = dataclasses.replace(  # 16x16 images: the network's 32x32 input refuses them
        tiny_data, x_train=np.ascontiguousarray(tiny_data.x_train[:, :16, :16]))
    job = process_jobs.ProcessTrainingJob(TINY, small, tmp_path).start()
    assert job.join(300)
    snapshot = job.snapshot()
    assert snapshot.state == "failed" and snapshot.done
    assert snapshot.error.startswith("ValueError") and "16" in snapshot.error, snapshot.error
    [record] = runs.list_runs(tmp_path)
    assert record.state == "failed" and record.status["error"] == snapshot.error


def test_a_killed_child_fails_the_job_and_keeps_the_run_resumable(tiny_data, tmp_path):
    job = process_jobs.ProcessTrainingJob(LONG, tiny_data, tmp_path).start()
    run_dir = training(job).run_dir
    os.kill(job.pid, signal.SIGKILL)
    assert job.join(60)
    snapshot = job.snapshot()
    assert snapshot.state == "failed" and "SIGKILL" in snapshot.error
    assert "kept as interrupted" in snapshot.error
    record = runs.read_run(Path(run_dir))
    assert record.state == "interrupted" and "SIGKILL" in record.status["error"]


PARENT = """
import json, sys, time
import numpy as np
from cifar_core import data
from cifar_core.training import process_jobs, train_config
generator = np.random.default_rng(0)
images = generator.integers(0, 256, size=(240, 32, 32, 3), dtype=np.uint8)
labels = np.arange(240, dtype=np.int64) % 10
dataset = data.Cifar10(images[:200], labels[:200], images[200:], labels[200:])
config = train_config.TrainConfig.from_dict(json.loads(sys.argv[1]))
job = process_jobs.ProcessTrainingJob(config, dataset, sys.argv[2]).start()
while not job.snapshot().validation:  # an epoch done: its checkpoint is on disk
    time.sleep(0.05)
print(json.dumps({"pid": job.pid, "run_dir": job.snapshot().run_dir}), flush=True)
time.sleep(600)
"""


def test_a_killed_server_leaves_an_interrupted_run_that_resumes(tiny_data, tmp_path):
    config = dataclasses.replace(TINY, epochs=20)
    parent = subprocess.Popen([sys.executable, "-c", PARENT, json.dumps(config.to_dict()),
                               str(tmp_path)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                              text=True)
    try:
        line = parent.stdout.readline()
        assert line, "the parent ended before its child trained an epoch"
        child = json.loads(line)
    finally:
        parent.kill()  # SIGKILL: no clean-up of any kind
        parent.wait()
    wait_for(lambda: not alive(child["pid"]), 60, "the child's exit")
    record = runs.read_run(Path(child["run_dir"]))
    assert record.state == "running" and record.status["pid"] == child["pid"]
    assert runs.mark_interrupted(tmp_path) == [record.id]

    job = process_jobs.ProcessTrainingJob(config, tiny_data, tmp_path,
                                          resume={"run": record.id, "more_epochs": 0}).start()
    assert job.join(300)
    snapshot = job.snapshot()
    assert snapshot.state == "finished", snapshot.error
    assert snapshot.run_dir == str(record.path)
    assert [point[0] for point in snapshot.validation] == [float(n) for n in range(1, 21)]
    resumed = runs.read_run(record.path)
    assert resumed.state == "finished"
    assert [row["epoch"] for row in resumed.history()] == [float(n) for n in range(1, 21)]


def test_callbacks_cannot_cross_into_the_child(tiny_data, tmp_path):
    with pytest.raises(ValueError, match="callbacks cannot reach a training process"):
        process_jobs.ProcessTrainingJob(TINY, tiny_data, tmp_path, callbacks=[object()])
    with pytest.raises(ValueError, match="not a run id"):
        process_jobs.ProcessTrainingJob(TINY, tiny_data, tmp_path, resume={"run": "../x"})


def test_the_registry_runs_queued_runs_one_after_the_other(tiny_data, tmp_path):
    registry = job_registry.JobRegistry(max_jobs=1, job_factory=backends.job_factory("process"),
                                        queue_directory=tmp_path / ".queue")
    registry.attach(tiny_data)
    first, = registry.submit(TINY, tiny_data, owner="tab-1", runs_dir=tmp_path)
    second, = registry.submit(TINY, tiny_data, owner="tab-2", runs_dir=tmp_path)
    job = wait_for(lambda: registry.get(second), 300, "the second run's start")
    assert job.join(300) and registry.get(first).join(1)
    records = {record.owner: record for record in runs.list_runs(tmp_path)}
    assert {name: record.state for name, record in records.items()} == \
        {"tab-1": "finished", "tab-2": "finished"}
    assert records["tab-2"].status["started"] >= records["tab-1"].status["finished"]
    assert isinstance(job, process_jobs.ProcessTrainingJob) and registry.queue() == []
