"""What every training job shares, wherever it trains: its progress and its snapshot.

A job (``jobs.TrainingJob`` in a thread, ``process_jobs.ProcessTrainingJob`` in a child
process, ``ray_jobs.RayTrainingJob`` on a Ray worker) keeps its progress under a lock and
hands the page an immutable ``JobSnapshot``; ``JobProgress`` holds that state once for all
three. No TensorFlow here, so the server can poll a child's or a worker's job cheaply.
"""

import dataclasses
import threading
import time

from cifar_core.training import train_config

#: States in which a job has ended (of "starting", "running", "evaluating" and these).
DONE_STATES = ("finished", "stopped", "failed")


@dataclasses.dataclass(frozen=True)
class JobSnapshot:
    """What a job has done so far, copied under the job's lock (safe to read anywhere).

    ``training`` holds (epoch, loss, accuracy) every few batches, where epoch is fractional
    (1.5 = half-way through the second epoch) and loss/accuracy are moving averages of the
    recent batches' values; ``validation`` holds (epoch, loss, accuracy) after each epoch.
    """

    job_id: str
    config: train_config.TrainConfig
    state: str  # "starting", "running", "evaluating", or one of DONE_STATES
    epoch: int  # epochs begun, 1-based (0 before the first)
    epochs: int
    batch: int  # batches done in the current epoch
    batches: int  # batches per epoch (0 until known)
    training: tuple = ()
    validation: tuple = ()
    images_per_second: float | None = None
    eta_seconds: float | None = None
    elapsed_seconds: float = 0.0
    error: str | None = None
    run_dir: str | None = None

    @property
    def done(self):
        return self.state in DONE_STATES

    @property
    def fraction(self):
        """Share of all batches of all epochs done, 0-1."""
        if not self.batches:
            return 1.0 if self.state == "finished" else 0.0
        done = (max(self.epoch, 1) - 1) * self.batches + self.batch
        return min(done / (self.epochs * self.batches), 1.0)


class JobProgress:
    """The progress every job class keeps: fields, curves, timing, the stop flag.

    A job calls ``_start_progress()`` in its constructor, ``_started()`` when it starts and
    ``_finished()`` when its thread ends, and needs a ``_thread`` for ``join``.
    """

    def _start_progress(self):
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started_at = self._finished_at = None
        self._fields = dict(state="starting", epoch=0, batch=0, batches=0, images_per_second=None,
                            eta_seconds=None, error=None, run_dir=None)
        self._training, self._validation = [], []

    def _started(self):
        self._started_at = time.monotonic()

    def _finished(self):
        with self._lock:
            self._finished_at = time.monotonic()

    def join(self, timeout=None):
        """Wait for the job's thread to end; True when it has (the run is over).

        A job the registry has made but not yet started (its dispatcher starts it just
        after) counts as running: joining it waits for the start instead of raising.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._thread.ident is None:  # made, not yet started
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        self._thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not self._thread.is_alive()

    @property
    def stop_requested(self):
        return self._stop.is_set()

    def snapshot(self):
        """An immutable copy of the progress so far, timed by this process."""
        with self._lock:
            end = self._finished_at or time.monotonic()
            elapsed = end - self._started_at if self._started_at else 0.0
            return JobSnapshot(job_id=self.id, config=self.config, epochs=self.config.epochs,
                               training=tuple(self._training),
                               validation=tuple(self._validation),
                               elapsed_seconds=elapsed, **self._fields)

    def _update(self, *, training_point=None, validation_point=None, **fields):
        with self._lock:
            self._fields.update(fields)
            if training_point is not None:
                self._training.append(training_point)
            if validation_point is not None:
                self._validation.append(validation_point)

    def _replace_progress(self, fields, training=None, validation=None, config=None):
        """Take a whole report from where the run trains: its fields, curves (when given)
        and, for a resumed run, its own config (a dict: more epochs)."""
        with self._lock:
            if config is not None and config != self.config.to_dict():
                self.config = train_config.TrainConfig.from_dict(config)
            if training is not None:
                self._training = list(training)
            if validation is not None:
                self._validation = list(validation)
            self._fields.update(fields)
