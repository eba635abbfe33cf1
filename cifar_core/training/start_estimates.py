"""When a waiting run will start: each run's estimated training time, scaled by the server's pace.

``run_queue.estimate_seconds`` estimates a run from ``EPOCH_MINUTES``, measured on an idle
2-core machine; a busy server, a GPU or a cluster is slower or faster, with a fixed cost
per run on top. ``StartEstimates`` keeps each queued or training run's estimate and the
pace of this server (seconds a run really took per estimated second, from the last run
that finished here), and turns them into the wait before a queued run gets a slot
(``run_queue.estimate_wait``). ``job_registry.JobRegistry`` holds one and calls it under
its lock, except ``seconds_left``, which asks a job for its snapshot. No TensorFlow here.
"""

from cifar_core.training import run_queue


class StartEstimates:
    """Estimated seconds of training per job or entry id, and the pace that scales them."""

    def __init__(self):
        self._seconds = {}  # job or entry id -> estimated seconds of training (or None)
        self.pace = 1.0  # seconds a run took per estimated second, from the last finished

    def add(self, run_id, seconds):
        """Remember ``run_id``'s estimate (None: unknown)."""
        self._seconds[run_id] = seconds

    def forget(self, run_id):
        """Drop ``run_id``'s estimate (cancelled, or a job the registry no longer keeps)."""
        self._seconds.pop(run_id, None)

    def estimate(self, run_id):
        """``run_id``'s own estimate, unscaled (None: unknown)."""
        return self._seconds.get(run_id)

    def learn(self, estimate, snapshot):
        """Take the pace from a finished run's ``snapshot`` against its ``estimate``."""
        if snapshot is not None and snapshot.state == "finished" and snapshot.elapsed_seconds > 0:
            self.pace = snapshot.elapsed_seconds / estimate

    def scaled(self, run_id):
        """``run_id``'s estimate at this server's pace (None: unknown)."""
        estimate = self._seconds.get(run_id)
        return None if estimate is None else estimate * self.pace

    def seconds_left(self, job):
        """Seconds until a running job frees its slot, or None when unknown."""
        if job is None:
            return None  # Reserved by the dispatcher, not created yet.
        snapshot = job.snapshot()
        if snapshot.eta_seconds is not None:
            return snapshot.eta_seconds
        estimate = self.scaled(job.id)
        return None if estimate is None else max(estimate - snapshot.elapsed_seconds, 0.0)

    def wait(self, active_jobs, ahead, slots):
        """Estimated seconds until a queued run starts, or None when unknown.

        The running jobs' ETAs (or their own estimate less the time they have trained) fill
        ``slots`` (free ones at 0), then the runs ahead (``ahead``: their ``scaled``
        estimates) each take the slot that frees first.
        """
        left = [self.seconds_left(job) for job in active_jobs]
        left += [0.0] * (slots - len(left))
        return run_queue.estimate_wait(left, ahead)
