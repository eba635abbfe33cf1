"""The job registry: training slots and the queue before them, who controls a job, its settings."""

import dataclasses
import os
import re
import signal
import subprocess
import sys
import threading
import types

import pytest

from cifar_core.storage import PROJECT_ROOT
from cifar_core.training import job_registry, run_queue, runs, train_config
from tests.unit.training.doubles import TINY, PauseAtBatch
from tests.unit.training.fake_jobs import FakeFactory


def test_one_slot_queues_the_next_run_and_one_tab_controls_each(tiny_data, tmp_path):
    """Real training jobs: a second start waits in the queue, keeps its id, starts when the
    first run ends, and its run folder names its queue entry."""
    config = dataclasses.replace(TINY, epochs=1, validation_size=0)
    registry = job_registry.JobRegistry(max_jobs=1, orphan_after=3600,
                                        queue_directory=tmp_path / ".queue")
    pause = PauseAtBatch()
    first = registry.start(config, tiny_data, owner="tab-1", runs_dir=tmp_path, callbacks=[pause])
    assert pause.reached.wait(120), first.snapshot()
    second = registry.start(config, tiny_data, owner="tab-2", runs_dir=tmp_path)
    assert registry.queued(second.id) is second and registry.get(second.id) is None
    assert registry.running() == [first] and registry.position(second.id)[0] == 1
    assert (tmp_path / ".queue" / f"{second.id}.json").is_file()
    assert not (tmp_path / ".queue" / f"{first.id}.json").exists()  # its run folder exists

    assert registry.controls(first.id, "tab-1")
    assert not registry.controls(first.id, "tab-2")  # tab 1 still polls: tab 2 only watches
    registry.orphan_after = 0.0  # tab 1 went quiet (refreshed or closed)
    assert registry.controls(first.id, "tab-2") and registry.owner(first.id) == "tab-2"
    assert not registry.controls("no-such-job", "tab-2")

    first.stop()
    pause.go.set()
    assert first.join(120)
    started = registry.get(second.id)  # the queue went on by itself, under the same id
    assert started is not None and registry.queued(second.id) is None
    started.stop()
    assert started.join(120) and started.snapshot().state == "stopped"
    assert registry.running() == [] and registry.get(first.id) is first
    statuses = {record.status["queue_id"]: record.state for record in runs.list_runs(tmp_path)}
    assert statuses == {first.id: "stopped", second.id: "stopped"}
    assert registry.queue() == [] and not list((tmp_path / ".queue").glob("*.json"))


@pytest.mark.parametrize("setting, expected", [(None, 1), ("3", 3)])
def test_max_jobs_setting(monkeypatch, setting, expected):
    if setting is None:
        monkeypatch.delenv("CIFAR_MAX_JOBS", raising=False)
    else:
        monkeypatch.setenv("CIFAR_MAX_JOBS", setting)
    assert job_registry.max_jobs_setting() == expected


@pytest.mark.parametrize("setting", ["0", "-2", "two", "1.5"])
def test_bad_max_jobs_setting_names_the_value(monkeypatch, setting):
    monkeypatch.setenv("CIFAR_MAX_JOBS", setting)
    with pytest.raises(ValueError, match=repr(setting).replace(".", r"\.")):
        job_registry.max_jobs_setting()


# --- the queue, with fake jobs the tests finish by hand (fast, no TensorFlow) ------------------
#: Estimated at 14.4 s: timed as fast-small (0.6 minutes an epoch), 2 epochs on 1/5 of the images.
MINUTE = train_config.preset("minute", train_size=10_000)
DATA = types.SimpleNamespace(x_train=range(50_000))  # the fake jobs never read the images


def fake_registry(tmp_path, factory=None, **options):
    factory = factory or FakeFactory()
    registry = job_registry.JobRegistry(job_factory=factory, queue_directory=tmp_path / ".queue",
                                        **{"max_jobs": 1, "orphan_after": 3600, **options})
    return registry, factory


def entry_files(tmp_path):
    return sorted(path.stem for path in (tmp_path / ".queue").glob("*.json"))


def test_three_submissions_start_in_order_one_at_a_time(tmp_path):
    registry, factory = fake_registry(tmp_path)
    ids = [registry.submit(MINUTE, DATA, owner=f"tab-{n}", runs_dir=tmp_path)[0]
           for n in range(3)]
    assert [job.id for job in factory.jobs] == ids[:1]
    assert [entry.id for entry in registry.queue()] == ids[1:]
    assert [registry.position(job_id)[0] for job_id in ids[1:]] == [1, 2]
    assert registry.position(ids[0]) is None and registry.queued(ids[0]) is None
    factory.jobs[0].finish()
    assert [job.id for job in factory.jobs] == ids[:2] and registry.get(ids[1]) is factory.jobs[1]
    assert registry.position(ids[2])[0] == 1
    factory.jobs[1].finish("stopped")
    factory.jobs[2].finish("failed")
    assert [job.id for job in factory.jobs] == ids and registry.queue() == []
    assert registry.running() == [] and entry_files(tmp_path) == []
    assert [registry.owner(job_id) for job_id in ids] == ["tab-0", "tab-1", "tab-2"]


def test_the_wait_adds_the_running_eta_and_the_runs_ahead(tmp_path):
    registry, factory = fake_registry(tmp_path, FakeFactory(eta_seconds=120.0))
    demo = train_config.preset("demo")  # never timed: "unknown", not a guess
    ids = [registry.submit(MINUTE, DATA, owner=f"tab-{n}")[0] for n in range(3)]
    unknown = registry.submit(demo, DATA, owner="tab-3")[0]
    after = registry.submit(MINUTE, DATA, owner="tab-4")[0]
    assert registry.queued(ids[1]).estimated_seconds == pytest.approx(14.4)
    assert registry.position(ids[1]) == (1, pytest.approx(120.0))
    assert registry.position(ids[2]) == (2, pytest.approx(134.4))
    assert registry.position(unknown) == (3, pytest.approx(148.8))
    assert registry.position(after) == (4, None)  # behind a run of unknown length
    factory.jobs[0].eta_seconds = None  # the running job cannot tell yet: its own estimate
    assert registry.position(ids[1])[1] == pytest.approx(14.4, abs=1)
    factory.jobs[0].elapsed_seconds = 43.2  # it took 3 times its estimate (a busy server):
    factory.jobs[0].finish()  # the next estimates are scaled by that pace
    factory.jobs[1].eta_seconds = 30.0
    assert registry.position(ids[2]) == (1, pytest.approx(30.0))
    assert registry.position(unknown) == (2, pytest.approx(30.0 + 3 * 14.4))


def test_only_the_owner_cancels_a_waiting_run(tmp_path):
    registry, factory = fake_registry(tmp_path)
    running = registry.submit(MINUTE, DATA, owner="teacher")[0]
    waiting = registry.submit(MINUTE, DATA, owner="student")[0]
    with pytest.raises(ValueError, match="another tab"):
        registry.cancel(waiting, "teacher")
    assert registry.queued(waiting) is not None and waiting in entry_files(tmp_path)
    assert registry.cancel(waiting, "student")
    assert registry.queued(waiting) is None and waiting not in entry_files(tmp_path)
    assert not registry.cancel(waiting, "student")  # already gone
    assert not registry.cancel(running, "teacher")  # training, not waiting: Stop ends it
    factory.jobs[0].finish()
    assert [job.id for job in factory.jobs] == [running]  # the cancelled run never started


def test_a_tab_may_queue_a_few_submissions_and_a_sweep_counts_once(tmp_path):
    registry, factory = fake_registry(tmp_path, per_tab_limit=2)
    registry.submit(MINUTE, DATA, owner="tab")  # trains at once: not waiting
    registry.submit(MINUTE, DATA, owner="tab")
    sweep = [dataclasses.replace(MINUTE, learning_rate=rate, sweep="s1") for rate in (.1, .2, .3)]
    assert len(registry.submit(sweep, DATA, owner="tab")) == 3  # 1 + 1 sweep = 2 submissions
    with pytest.raises(job_registry.QueueFull, match=r"\(2; a sweep counts as one\). Cancel"):
        registry.submit(MINUTE, DATA, owner="tab")
    assert issubclass(job_registry.QueueFull, job_registry.TrainerBusy)  # old callers catch it
    registry.submit(MINUTE, DATA, owner="another tab")  # the limit is per tab
    assert len(registry.queue()) == 5
    factory.jobs[0].finish()  # the single run starts: one submission waiting again
    registry.submit(MINUTE, DATA, owner="tab")


@pytest.mark.parametrize("configs, why", [
    ([], "at least one"),
    ([MINUTE, MINUTE], "non-empty sweep"),
    ([dataclasses.replace(MINUTE, sweep="a"), dataclasses.replace(MINUTE, sweep="b")], "sweep"),
])
def test_bad_submissions_name_the_problem(tmp_path, configs, why):
    registry, _ = fake_registry(tmp_path)
    with pytest.raises(ValueError, match=why):
        registry.submit(configs, DATA, owner="tab")
    assert entry_files(tmp_path) == []


def test_a_factory_that_raises_fails_that_entry_visibly_and_the_queue_goes_on(tmp_path):
    registry, factory = fake_registry(tmp_path, FakeFactory(fail_models={"seed"}))
    first = registry.submit(MINUTE, DATA, owner="a")[0]
    broken = registry.submit(train_config.preset("seed-fast"), DATA, owner="b")[0]
    last = registry.submit(MINUTE, DATA, owner="c")[0]
    factory.jobs[0].finish()
    assert [job.id for job in factory.jobs] == [first, last]
    failure = registry.get(broken)
    assert "no worker can train seed" in failure.error and registry.owner(broken) == "b"
    assert registry.queued(broken) is None and broken not in entry_files(tmp_path)
    snapshot = failure.snapshot()
    assert snapshot.state == "failed" and snapshot.done and "no worker" in snapshot.error


def test_queued_runs_wait_for_the_dataset(tmp_path):
    registry, factory = fake_registry(tmp_path)
    queued = registry.submit(MINUTE, None, owner="tab")[0]  # no dataset yet
    assert factory.jobs == [] and registry.position(queued) == (1, 0.0)  # a slot is free
    registry.attach(DATA)
    assert [job.id for job in factory.jobs] == [queued] and factory.jobs[0].data is DATA


def test_a_new_tab_naming_a_waiting_run_takes_it_over_after_a_restart(tmp_path):
    registry, _ = fake_registry(tmp_path)
    registry.submit(MINUTE, None, owner="old tab")
    waiting = registry.submit(MINUTE, None, owner="old tab",
                              resume={"run": "some-run", "more_epochs": 2})[0]
    assert registry.controls(waiting, "old tab") and not registry.controls(waiting, "new tab")
    restarted, factory = fake_registry(tmp_path)
    assert restarted.queued(waiting).resume == {"run": "some-run", "more_epochs": 2}
    assert restarted.controls(waiting, "new tab")  # the old tab died with the old server
    with pytest.raises(ValueError):
        restarted.cancel(waiting, "old tab")
    restarted.attach(DATA)
    factory.jobs[0].finish()
    assert factory.jobs[1].id == waiting and factory.jobs[1].resume["more_epochs"] == 2


def test_an_entry_whose_run_folder_exists_is_not_started_twice(tmp_path):
    """A crash after the run folder was made but before the entry's file was removed."""
    registry, _ = fake_registry(tmp_path)
    started, waiting = (registry.submit(MINUTE, None, owner="tab", runs_dir=tmp_path)[0]
                        for _ in range(2))
    run = runs.start_run(MINUTE, tmp_path)
    run.update(queue_id=started)
    run.finish("stopped")
    assert entry_files(tmp_path) == sorted([started, waiting])
    restarted, factory = fake_registry(tmp_path)
    assert [entry.id for entry in restarted.queue()] == [waiting]
    assert entry_files(tmp_path) == [waiting]
    restarted.attach(DATA)
    assert [job.id for job in factory.jobs] == [waiting]


#: The "server" the persistence test kills: a registry whose first run trains until killed.
SERVER = """
import sys, time, types
from cifar_core.training import job_registry, train_config
from tests.unit.training.fake_jobs import FakeFactory

runs_dir = sys.argv[1]
registry = job_registry.JobRegistry(max_jobs=1, job_factory=FakeFactory(make_run=True),
                                    queue_directory=runs_dir + "/.queue")
data = types.SimpleNamespace(x_train=range(50_000))
config = train_config.preset("minute", train_size=10_000)
ids = [registry.submit(config, data, owner=f"tab-{n}", runs_dir=runs_dir)[0] for n in range(3)]
registry.queue()  # the first run's folder exists: its entry's file goes
print(*ids, flush=True)
time.sleep(600)
"""


def test_a_server_killed_with_kill_9_loses_no_queued_run(tmp_path):
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path)],
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        training, *waiting = server.stdout.readline().split()
        assert len(waiting) == 2, "the server did not queue its runs"
    finally:
        os.kill(server.pid, signal.SIGKILL)
        server.wait(60)
        server.stdout.close()
    assert entry_files(tmp_path) == sorted(waiting)
    restarted, factory = fake_registry(tmp_path)
    [record] = runs.list_runs(tmp_path)
    assert record.state == "interrupted" and record.status["queue_id"] == training
    assert [entry.id for entry in restarted.queue()] == waiting  # in their order
    assert factory.jobs == []  # nothing starts without the dataset
    restarted.attach(DATA)
    assert [job.id for job in factory.jobs] == waiting[:1]
    assert [job.id for job in restarted.running()] == waiting[:1]
    factory.jobs[0].finish()
    assert [job.id for job in factory.jobs] == waiting


@pytest.mark.parametrize("setting, expected", [(None, 3), ("1", 1), ("10", 10)])
def test_queue_per_tab_setting(monkeypatch, setting, expected):
    if setting is None:
        monkeypatch.delenv("CIFAR_QUEUE_PER_TAB", raising=False)
    else:
        monkeypatch.setenv("CIFAR_QUEUE_PER_TAB", setting)
    assert job_registry.queue_per_tab_setting() == expected


@pytest.mark.parametrize("setting", ["0", "-1", "three", "2.5", ""])
def test_bad_queue_per_tab_setting_names_the_value(monkeypatch, setting):
    monkeypatch.setenv("CIFAR_QUEUE_PER_TAB", setting)
    with pytest.raises(ValueError, match=f"CIFAR_QUEUE_PER_TAB.*{re.escape(repr(setting))}"):
        job_registry.queue_per_tab_setting()


def test_a_run_whose_job_is_being_made_is_still_found(tmp_path):
    """The factory may take seconds (the first imports TensorFlow): the tab keeps its run."""
    release, making = threading.Event(), threading.Event()

    class SlowFactory(FakeFactory):
        def __call__(self, *arguments, **options):
            making.set()
            assert release.wait(60)
            return super().__call__(*arguments, **options)

    registry, factory = fake_registry(tmp_path, SlowFactory())
    submitter = threading.Thread(target=registry.submit, args=(MINUTE, DATA), kwargs={
        "owner": "tab"})
    submitter.start()
    assert making.wait(60)
    [entry] = [registry.queued(job_id) for job_id in registry._starting]
    assert registry.get(entry.id) is None and registry.position(entry.id) is None
    assert registry.queue() == [] and registry.controls(entry.id, "tab")
    assert not registry.cancel(entry.id, "tab")  # no longer waiting
    release.set()
    submitter.join(60)
    assert registry.get(entry.id) is factory.jobs[0] and registry.queued(entry.id) is None


def test_a_sweep_that_cannot_be_written_is_not_queued_at_all(tmp_path, monkeypatch):
    registry, factory = fake_registry(tmp_path)
    registry.submit(MINUTE, DATA, owner="teacher")  # takes the slot
    written = []

    def write_two_then_fail(path, data):
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        written.append(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data)

    monkeypatch.setattr(run_queue.storage, "write_atomic", write_two_then_fail)
    sweep = [dataclasses.replace(MINUTE, learning_rate=rate, sweep="s") for rate in (.1, .2, .3)]
    with pytest.raises(OSError, match="No space"):
        registry.submit(sweep, DATA, owner="student")
    assert registry.queue() == [] and len(written) == 2
    assert entry_files(tmp_path) == [factory.jobs[0].id]  # only the training run's own file


def test_a_run_is_never_queued_to_continue_twice(tmp_path):
    """Waiting, starting (the factory imports TensorFlow) or training: a second resume of the
    same run is refused, even with two free slots; once the first ends it may continue again."""
    release, making = threading.Event(), threading.Event()

    class SlowFactory(FakeFactory):
        def __call__(self, *arguments, **options):
            making.set()
            assert release.wait(60)
            return super().__call__(*arguments, **options)

    registry, factory = fake_registry(tmp_path, SlowFactory(), max_jobs=2)
    resume = {"run": "some-run", "more_epochs": 2}
    waiting = registry.submit(MINUTE, None, owner="tab-1", resume=resume)[0]  # no dataset yet
    assert registry.resuming("some-run") and not registry.resuming("another-run")
    with pytest.raises(job_registry.AlreadyResuming, match="Run some-run is already queued"):
        registry.submit(MINUTE, None, owner="tab-2", resume=resume)
    assert issubclass(job_registry.AlreadyResuming, job_registry.TrainerBusy)
    attacher = threading.Thread(target=registry.attach, args=(DATA,))
    attacher.start()
    assert making.wait(60) and registry.queue() == []  # taken from the queue, job being made
    assert registry.resuming("some-run")
    with pytest.raises(job_registry.AlreadyResuming):
        registry.submit(MINUTE, DATA, owner="tab-2", resume={"run": "some-run",
                                                              "more_epochs": 1})
    release.set()
    attacher.join(60)
    assert registry.get(waiting) is factory.jobs[0] and registry.resuming("some-run")
    with pytest.raises(job_registry.AlreadyResuming):  # training
        registry.submit(MINUTE, DATA, owner="tab-1", resume=resume)
    registry.submit(MINUTE, DATA, owner="tab-2", resume={"run": "another-run",
                                                         "more_epochs": 1})  # other runs go on
    assert len(factory.jobs) == 2
    factory.jobs[0].finish()
    assert not registry.resuming("some-run")
    again = registry.submit(MINUTE, DATA, owner="tab-2", resume=resume)[0]
    assert registry.get(again) is factory.jobs[2]


def test_a_cancelled_or_failed_resume_frees_its_run(tmp_path):
    registry, factory = fake_registry(tmp_path, FakeFactory(fail_models={"seed"}))
    registry.submit(MINUTE, DATA, owner="teacher")  # takes the slot
    resume = {"run": "some-run", "more_epochs": 1}
    waiting = registry.submit(MINUTE, DATA, owner="tab", resume=resume)[0]
    assert registry.cancel(waiting, "tab") and not registry.resuming("some-run")
    broken = registry.submit(train_config.preset("seed-fast"), DATA, owner="tab",
                             resume=resume)[0]
    factory.jobs[0].finish()  # the resume's job cannot be made: it fails visibly
    assert registry.get(broken).snapshot().state == "failed"
    assert not registry.resuming("some-run")


@pytest.mark.parametrize("run_id", [None, "", 3])
def test_resuming_needs_a_run_id(tmp_path, run_id):
    registry, _ = fake_registry(tmp_path)
    with pytest.raises(ValueError, match=re.escape(repr(run_id))):
        registry.resuming(run_id)
