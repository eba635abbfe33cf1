"""Work a page starts once and then polls: a daemon thread and a snapshot of its progress.

A page never runs seconds of work in its script. It starts a ``Task`` (whose thread never
calls Streamlit) and reads ``snapshot()``, a frozen ``TaskSnapshot``, from a fragment. A
``TaskRegistry`` shares tasks between sessions by key, so a model's test set is processed
once, whoever asks first. Training jobs speak the same words (``training.jobs``): a
snapshot with a ``state``, ``done`` once it ended, and a ``fraction`` for the progress bar.
A task can be stopped: its next progress report ends the work, and starting it again
begins afresh.
"""

import dataclasses
import threading

#: States in which a task has ended (its thread is gone).
DONE_STATES = ("finished", "failed", "stopped")


class Stopped(Exception):  # noqa: N818 -- it names what happened, like StopIteration
    """Raised inside a task's work by its progress report once ``stop()`` was asked."""


@dataclasses.dataclass(frozen=True)
class TaskSnapshot:
    """A task's progress at one moment, safe to read anywhere."""

    state: str  # "waiting", "running", "finished", "failed" or "stopped"
    completed: int  # items (images) processed so far
    total: int  # items in all
    error: str | None = None  # "ErrorType: message" once failed

    @property
    def done(self):
        """Whether the task has ended, finished or failed."""
        return self.state in DONE_STATES

    @property
    def fraction(self):
        """Share of the items processed, 0-1."""
        return min(self.completed / self.total, 1.0) if self.total else 0.0


class Task:
    """``work(progress)`` in a daemon thread; ``progress(stage, completed, total)`` reports.

    ``result`` holds what ``work`` returned once the state is "finished". ``stop()`` makes
    the next ``progress`` call raise ``Stopped``, so work ends within one report (work that
    must stop quickly reports often). Starting a failed or stopped task runs it again (a
    "Try again" button); starting a running or finished one does nothing.
    """

    def __init__(self, work, total, name):
        self._work, self._name = work, name
        self._lock = threading.Lock()
        self._thread = None
        self._stop = threading.Event()
        self._snapshot = TaskSnapshot("waiting", 0, total)
        self.result = None

    def _update(self, **fields):
        with self._lock:
            self._snapshot = dataclasses.replace(self._snapshot, **fields)

    def start(self):
        """Start the work unless it is running or finished; returns self."""
        with self._lock:
            if self._thread is None or self._snapshot.state in ("failed", "stopped"):
                self._stop.clear()
                self._snapshot = dataclasses.replace(self._snapshot, state="running", error=None)
                self._thread = threading.Thread(target=self._run, daemon=True, name=self._name)
                self._thread.start()
        return self

    def stop(self):
        """Ask running work to end at its next progress report (state "stopped")."""
        self._stop.set()

    def _progress(self, stage, completed, total):
        if self._stop.is_set():
            raise Stopped(f"stopped at {completed} of {total}")
        self._update(completed=completed, total=total)

    def _run(self):
        try:
            result = self._work(self._progress)
        except Stopped:
            self._update(state="stopped")
            return
        # Any failure is reported on the page instead of killing the thread.
        except Exception as error:  # noqa: BLE001
            self._update(state="failed", error=f"{type(error).__name__}: {error}")
            return
        self.result = result
        with self._lock:
            self._snapshot = dataclasses.replace(self._snapshot, state="finished",
                                                 completed=self._snapshot.total)

    def snapshot(self):
        """The task's progress now, as a frozen ``TaskSnapshot``."""
        with self._lock:
            return self._snapshot

    def join(self, timeout=None):
        """Wait for the current run to end (at most ``timeout`` seconds); True if it has."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is not None and not thread.is_alive()


class TaskRegistry:
    """The server's tasks by key; beyond ``keep`` tasks the least recently used finished go.

    A finished task holds its result (peak tables of tens of MB for the seed network), so a
    server that sees many models must not keep them all; the results also sit in disk
    caches, so asking again reads them back in a moment.
    """

    def __init__(self, keep=8):
        if keep < 1:
            raise ValueError(f"keep must be at least 1, got {keep!r}")
        self.keep = keep
        self._lock = threading.Lock()
        self._tasks = {}  # key -> Task, least recently used first

    def get(self, key):
        """The task under ``key`` (now the most recently used), or None."""
        with self._lock:
            task = self._tasks.pop(key, None)
            if task is not None:
                self._tasks[key] = task
            return task

    def start(self, key, make_task):
        """The task under ``key``; if there is none, ``make_task()`` makes one, started now."""
        with self._lock:
            task = self._tasks.pop(key, None)
            new = task is None
            if new:
                task = make_task()
            self._tasks[key] = task  # the most recently used last
            finished = [other for other, other_task in self._tasks.items()
                        if other != key and other_task.snapshot().done]
            for other in finished[:max(0, len(self._tasks) - self.keep)]:
                del self._tasks[other]  # least recently used first; running tasks stay
        return task.start() if new else task
