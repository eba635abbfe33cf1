"""The server's training jobs: a limit on how many train at once, and who controls which.

A ``JobRegistry`` is created once per server (``st.cache_resource``). It holds the jobs
and a semaphore of ``$CIFAR_MAX_JOBS`` slots (default 1: a 2-core machine trains one model
at a time), and decides which browser session controls which job: the session that
started it, or (after a browser refresh, which is a new session) a session that names the
job in its URL once the old session has stopped polling. Everyone else may watch.
"""

import os
import threading
import time

from cifar_core.training.jobs import TrainingJob

#: Seconds without a poll after which a session is taken to have left its job.
ORPHAN_AFTER_SECONDS = 4.0
#: Finished jobs the registry remembers (their runs stay on disk regardless).
KEEP_FINISHED = 10


class TrainerBusy(Exception):
    """Every training slot of this server is taken; the message says so plainly."""


def max_jobs_setting():
    """Concurrent jobs allowed on this server: ``$CIFAR_MAX_JOBS`` (default 1)."""
    raw = os.environ.get("CIFAR_MAX_JOBS", "1")
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"CIFAR_MAX_JOBS must be a whole number, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"CIFAR_MAX_JOBS must be at least 1, got {raw!r}")
    return value


class JobRegistry:
    """The server's jobs, a limit on how many train at once, and who controls which.

    Create one per server process. ``owner`` is any string naming a browser session.
    """

    def __init__(self, max_jobs=None, *, orphan_after=ORPHAN_AFTER_SECONDS):
        self.max_jobs = max_jobs_setting() if max_jobs is None else int(max_jobs)
        if self.max_jobs < 1:
            raise ValueError(f"max_jobs must be at least 1, got {max_jobs!r}")
        self.orphan_after = orphan_after
        self._slots = threading.BoundedSemaphore(self.max_jobs)
        self._lock = threading.Lock()
        self._jobs = {}  # job id -> TrainingJob, oldest first
        self._owners = {}  # job id -> owner
        self._seen = {}  # job id -> time.monotonic() of the owner's last poll

    def start(self, config, data, *, owner, runs_dir=None, callbacks=()):
        """Start a job owned by ``owner``; TrainerBusy when every slot is taken.

        One job per owner: a tab that is already training is told so instead.
        """
        if any(self.owner(job.id) == owner for job in self.running()):
            raise TrainerBusy("This tab is already training a run: stop it or let it end first.")
        if not self._slots.acquire(blocking=False):
            running = self.running()
            who = f" ({running[0].config.model}, epoch {running[0].snapshot().epoch} of " \
                  f"{running[0].config.epochs})" if running else ""
            raise TrainerBusy(f"The trainer is busy: {self.max_jobs} of {self.max_jobs} training "
                              f"slot(s) in use{who}. Watch it below, or start yours when it ends.")
        try:
            job = TrainingJob(config, data, runs_dir, owner=owner, on_done=self._slots.release,
                              callbacks=callbacks)
        except BaseException:
            self._slots.release()
            raise
        with self._lock:
            self._jobs[job.id] = job
            self._owners[job.id] = owner
            self._seen[job.id] = time.monotonic()
            self._forget_old()
        return job.start()

    def get(self, job_id):
        with self._lock:
            return self._jobs.get(job_id)

    def running(self):
        """Jobs not yet done, oldest first."""
        with self._lock:
            jobs = list(self._jobs.values())
        return [job for job in jobs if not job.snapshot().done]

    def owner(self, job_id):
        with self._lock:
            return self._owners.get(job_id)

    def controls(self, job_id, owner):
        """Whether ``owner`` controls the job (may stop it); records that it is polling.

        A session that is not the owner takes the job over when the owner has not polled
        for ``orphan_after`` seconds: the old tab was refreshed or closed.
        """
        now = time.monotonic()
        with self._lock:
            if job_id not in self._jobs:
                return False
            if self._owners[job_id] != owner and now - self._seen[job_id] > self.orphan_after:
                self._owners[job_id] = owner
            if self._owners[job_id] == owner:
                self._seen[job_id] = now
                return True
            return False

    def _forget_old(self):
        done = [job_id for job_id, job in self._jobs.items() if job.snapshot().done]
        for job_id in done[:-KEEP_FINISHED] if len(done) > KEEP_FINISHED else []:
            del self._jobs[job_id], self._owners[job_id], self._seen[job_id]
