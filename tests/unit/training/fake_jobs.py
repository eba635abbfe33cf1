"""Fake training jobs for the queue's tests: no TensorFlow, finished by the test's hand.

``FakeFactory`` has the job factory's signature (``job_registry.JobRegistry(job_factory=...)``)
and keeps every job it made, in order. A ``FakeJob`` "trains" until the test calls
``finish()``; with ``make_run`` it opens a real run folder naming its queue entry, as
``jobs.TrainingJob`` does, so restarts and ``runs.mark_interrupted`` see it.
"""

import dataclasses
import threading

from cifar_core.training import runs


@dataclasses.dataclass(frozen=True)
class FakeSnapshot:
    """The fields of ``jobs.JobSnapshot`` the registry and the tests read."""

    job_id: str
    config: object
    state: str
    epoch: int
    epochs: int
    batch: int
    batches: int
    eta_seconds: float | None = None
    elapsed_seconds: float = 0.0
    error: str | None = None
    run_dir: str | None = None

    @property
    def done(self):
        return self.state in ("finished", "stopped", "failed")


class FakeJob:
    """A job that runs until ``finish()``; ``eta_seconds`` is what its snapshot reports."""

    #: The snapshot class (an AppTest sets ``jobs.JobSnapshot`` so the real panel draws it).
    snapshot_type = FakeSnapshot

    def __init__(self, config, data, runs_dir, *, job_id, owner, resume, on_done, callbacks,
                 make_run=False, eta_seconds=None):
        self.id, self.config, self.owner = job_id, config, owner
        self.data, self.runs_dir, self.resume, self.callbacks = data, runs_dir, resume, callbacks
        self._on_done, self.make_run, self.eta_seconds = on_done, make_run, eta_seconds
        self.state, self.run, self.started = "starting", None, False
        self.elapsed_seconds = 0.0  # what the snapshot says it has taken (set by a test)
        self._stop, self._ended = threading.Event(), threading.Event()

    def start(self):
        self.started = True
        if self.make_run:
            self.run = runs.start_run(self.config, self.runs_dir, owner=self.owner)
            self.run.update(queue_id=self.id)
        self.state = "running"
        return self

    def finish(self, state="finished"):
        """End the job as ``state``: its run folder too, then the registry's ``on_done``."""
        self.state = state
        if self.run is not None:
            self.run.finish(state)
        self._ended.set()
        self._on_done()

    def stop(self):
        self._stop.set()

    @property
    def stop_requested(self):
        return self._stop.is_set()

    def join(self, timeout=None):
        return self._ended.wait(timeout)

    def snapshot(self):
        return self.snapshot_type(
            job_id=self.id, config=self.config, state=self.state, epoch=1 if self.started else 0,
            epochs=self.config.epochs, batch=0, batches=10,
            eta_seconds=self.eta_seconds if self.state == "running" else None,
            elapsed_seconds=self.elapsed_seconds,
            run_dir=str(self.run.path) if self.run is not None else None)


class FakeFactory:
    """Makes ``FakeJob``s and keeps them; raises for configs whose model is in ``fail_models``."""

    def __init__(self, *, make_run=False, eta_seconds=None, fail_models=(), job_type=FakeJob):
        self.jobs = []
        self.make_run, self.eta_seconds = make_run, eta_seconds
        self.fail_models, self.job_type = set(fail_models), job_type

    def __call__(self, config, data, runs_dir, *, job_id, owner, resume, on_done, callbacks):
        if config.model in self.fail_models:
            raise RuntimeError(f"no worker can train {config.model}")
        job = self.job_type(config, data, runs_dir, job_id=job_id, owner=owner, resume=resume,
                            on_done=on_done, callbacks=callbacks, make_run=self.make_run,
                            eta_seconds=self.eta_seconds)
        self.jobs.append(job)
        return job

    def by_id(self, job_id):
        return next(job for job in self.jobs if job.id == job_id)
