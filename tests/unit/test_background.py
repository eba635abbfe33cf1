"""Background tasks for pages: start once, progress, failure and retry, a shared registry."""

import dataclasses
import threading

import pytest

from cifar_core import background


def finished_task(value, name="t"):
    """A task that returns ``value`` at once, already run to the end."""
    task = background.Task(lambda progress: value, total=1, name=name).start()
    assert task.join(timeout=10)
    return task


def test_task_reports_progress_and_its_result():
    reported, release = threading.Event(), threading.Event()

    def work(progress):
        progress("step", 1, 3)
        reported.set()
        release.wait(10)
        return "peaks"

    task = background.Task(work, total=3, name="demo")
    assert task.snapshot() == background.TaskSnapshot("waiting", 0, 3)
    task.start().start()  # a second start is a no-op
    assert reported.wait(10)
    assert task.snapshot().state == "running" and task.result is None
    release.set()
    assert task.join(timeout=10)
    assert task.snapshot() == background.TaskSnapshot("finished", 3, 3)
    assert task.result == "peaks"


def test_a_failed_task_reports_its_error_and_runs_again_when_started():
    calls = []

    def work(progress):
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError("out of memory for a moment")
        return 42

    task = background.Task(work, total=1, name="flaky").start()
    assert task.join(timeout=10)
    snapshot = task.snapshot()
    assert (snapshot.state == "failed"
            and snapshot.error == "MemoryError: out of memory for a moment")
    assert task.start().join(timeout=10)  # "Try again"
    assert task.snapshot().state == "finished" and task.result == 42 and len(calls) == 2
    task.start().join(timeout=10)  # a done task is not run again
    assert len(calls) == 2


def test_registry_makes_one_task_per_key_and_does_not_restart_it():
    registry = background.TaskRegistry()
    failing = registry.start("k", lambda: background.Task(lambda p: 1 / 0, total=1, name="x"))
    assert failing.join(timeout=10) and failing.snapshot().state == "failed"
    # Every visitor gets the same task, failed: only its "Try again" button restarts it.
    assert registry.start("k", lambda: pytest.fail("made twice")) is failing
    assert failing.snapshot().state == "failed"
    assert registry.get("other") is None


def test_registry_keeps_only_the_most_recently_used_finished_tasks():
    registry = background.TaskRegistry(keep=2)
    first = registry.start("first", lambda: finished_task("a"))
    second = registry.start("second", lambda: finished_task("b"))
    assert registry.get("first") is first  # used again: "second" is now the oldest
    third = registry.start("third", lambda: finished_task("c"))
    assert registry.get("second") is None and registry.get("first") is first
    assert registry.get("third") is third and second.result == "b"
    with pytest.raises(ValueError, match="keep"):
        background.TaskRegistry(keep=0)


def test_registry_never_drops_a_running_task():
    release = threading.Event()
    registry = background.TaskRegistry(keep=1)
    running = registry.start("slow", lambda: background.Task(lambda p: release.wait(10),
                                                             total=1, name="slow"))
    registry.start("quick", lambda: finished_task("q"))
    registry.start("quicker", lambda: finished_task("r"))
    assert registry.get("slow") is running
    release.set()
    assert running.join(timeout=10)


def test_a_snapshot_is_frozen_and_says_how_far_the_task_got():
    snapshot = background.TaskSnapshot("running", 250, 1000)
    assert snapshot.fraction == 0.25 and not snapshot.done
    assert background.TaskSnapshot("finished", 1000, 1000).done
    assert background.TaskSnapshot("failed", 3, 1000, "OSError: disk full").done
    assert background.TaskSnapshot("waiting", 0, 0).fraction == 0.0  # total not known yet
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.state = "finished"


def test_a_stopped_task_ends_at_its_next_report_and_starts_afresh():
    reported, release = threading.Event(), threading.Event()
    runs = []

    def work(progress):
        runs.append(1)
        progress("step", 1, 3)
        reported.set()
        release.wait(10)
        progress("step", 2, 3)  # raises Stopped once stop() was asked
        return "done"

    task = background.Task(work, total=3, name="stoppable").start()
    assert reported.wait(10)
    task.stop()
    release.set()
    assert task.join(timeout=10)
    snapshot = task.snapshot()
    assert snapshot.state == "stopped" and snapshot.done and snapshot.completed == 1
    assert task.result is None
    assert task.start().join(timeout=10)  # "Start again" runs the work from the start
    assert task.snapshot().state == "finished" and task.result == "done" and len(runs) == 2
