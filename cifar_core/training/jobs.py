"""Background training jobs for the UI: a thread per job, a progress snapshot, stop.

A ``TrainingJob`` runs ``trainer.train`` in a daemon thread that never touches Streamlit.
Keras callbacks write progress into the job under a lock; the page polls ``snapshot()``
(an immutable copy) from an ``st.fragment(run_every=...)``. ``stop()`` sets an event that
``trainer.StopOnEvent`` turns into ``model.stop_training`` after the current batch.
``recording.train_run`` keeps the run folder (model, history, filters, status, test
accuracy) on disk whether the run finishes, is stopped or fails. A server's jobs and who
controls them live in ``job_registry``.
"""

import collections
import threading
import time
import uuid

import numpy as np
import pandas as pd

from cifar_core.backend import keras
from cifar_core.display import text
from cifar_core.training import checkpoints, recording, resuming, train_config, trainer
from cifar_core.training.job_state import DONE_STATES, JobProgress, JobSnapshot  # noqa: F401

#: Training points kept per epoch for the live curve (the page draws every one of them).
POINTS_PER_EPOCH = 50
#: Batches over which images/second is averaged (recent speed, not the start-up cost).
SPEED_WINDOW = 20

class _ProgressCallback(keras.callbacks.Callback):
    """Copies Keras' progress into the job (under its lock) as batches and epochs end.

    images/second is measured over the last few batches of the current epoch (the speed
    of training itself); the ETA divides what is left by the average speed since the
    first batch, which includes the validation and saving at each epoch's end.
    """

    def __init__(self, job, images_per_epoch):
        super().__init__()
        self.job = job
        self.images_per_epoch = images_per_epoch
        self.batch_size = job.config.batch_size
        self.epoch = 0
        self.every = 1
        self.last_batch = 0
        self.first = None  # (time, images seen) when the first batch ended
        self.epoch_seen = (0, np.zeros(2))
        self.smoothed = None  # moving average of the batches' (loss, accuracy)
        self.recent = collections.deque(maxlen=SPEED_WINDOW + 1)  # (time, images seen)

    def on_train_begin(self, logs=None):
        batches = int(self.params.get("steps") or 0)
        self.every = max(1, batches // POINTS_PER_EPOCH)
        self.job._update(state="running", batches=batches)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.recent.clear()  # the pause at the epoch's end is not training speed
        self.epoch_seen = (0, np.zeros(2))  # images and mean (loss, accuracy) so far this epoch
        self.job._update(epoch=epoch + 1, batch=0)

    def on_train_batch_end(self, batch, logs=None):
        done = self.last_batch = batch + 1
        images = self.epoch * self.images_per_epoch + min(done * self.batch_size,
                                                          self.images_per_epoch)
        now = time.monotonic()
        self.recent.append((now, images))
        self.first = self.first or (now, images)
        changes = {"batch": done}
        (start, start_images), (end, end_images) = self.recent[0], self.recent[-1]
        if end > start:
            changes["images_per_second"] = (end_images - start_images) / (end - start)
        if now > self.first[0]:
            average = (images - self.first[1]) / (now - self.first[0])
            remaining = self.job.config.epochs * self.images_per_epoch - images
            changes["eta_seconds"] = remaining / average
        point = None
        batches = self.params.get("steps") or 0
        if logs:
            self._smooth(images - self.epoch * self.images_per_epoch,
                         np.array([float(logs["loss"]), float(logs["accuracy"])]))
            if done % self.every == 0 or done == batches:
                point = (self.epoch + done / max(batches, done), *map(float, self.smoothed))
        self.job._update(training_point=point, **changes)

    def _smooth(self, seen, means):
        """Fold this batch's loss and accuracy into the moving averages the curve shows.

        Keras reports means over the epoch so far (weighted by images), which restart at
        every epoch and jump there; the batch's own values are recovered from two
        consecutive means, then smoothed over about ``self.every`` batches.
        """
        seen_before, means_before = self.epoch_seen
        batch_values = (seen * means - seen_before * means_before) / max(seen - seen_before, 1)
        batch_values = np.clip(batch_values, 0, [np.inf, 1])  # float32 means: tiny overshoots
        self.epoch_seen = (seen, means)
        rate = 2 / (self.every + 1)
        self.smoothed = batch_values if self.smoothed is None \
            else self.smoothed + rate * (batch_values - self.smoothed)

    def on_train_end(self, logs=None):
        self.job._update(state="evaluating")  # train_run now measures test accuracy

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if "val_loss" in logs:
            batches = self.params.get("steps") or 0
            fraction = min(self.last_batch / batches, 1.0) if batches else 1.0  # <1: stopped
            self.job._update(validation_point=(epoch + fraction, float(logs["val_loss"]),
                                               float(logs["val_accuracy"])))


class TrainingJob(JobProgress):
    """One training run in a daemon thread: ``start()``, ``stop()``, ``snapshot()``.

    ``data`` is a ``Cifar10`` (read-only arrays, shared safely). ``on_done`` is called once
    from the job's thread when it ends, whatever the outcome (the registry frees its slot).
    ``callbacks`` are extra Keras callbacks run before ours (tests, instrumentation).
    ``job_id`` (default: a new random id) and ``owner`` (the tab's token) come from the
    registry, so a queued run keeps the id its tab already shows. ``resume``
    (``{"run": run id, "more_epochs": n}``) continues that run folder instead of starting
    one (``recording.train_run``); the job's config becomes the run's own once it reopens.
    """

    def __init__(self, config, data, runs_dir=None, *, job_id=None, owner=None, on_done=None,
                 callbacks=(), resume=None):
        if not hasattr(config, "to_dict"):
            raise ValueError(f"config must be a TrainConfig, not {type(config).__name__}")
        # Rebuilt from its fields: Streamlit reloads edited modules during development, so
        # a page may hand over a TrainConfig of a newer copy of the training module.
        config = train_config.TrainConfig.from_dict(config.to_dict())
        self.id = job_id or uuid.uuid4().hex[:10]
        self.owner = owner  # the tab that asked for it, recorded in the run's status
        self.config = config
        self.data = data
        self.runs_dir = runs_dir
        self._on_done = on_done
        self._extra_callbacks = list(callbacks)
        self.resume = None if resume is None else checkpoints.request(resume)
        self._start_progress()
        self._thread = threading.Thread(target=self._run, name=f"training-{self.id}", daemon=True)

    # --- the page's side --------------------------------------------------------------
    def start(self):
        """Start training in the background; returns self."""
        self._started()
        self._thread.start()
        return self

    def stop(self):
        """Ask the job to end after the current batch; it saves what it has."""
        self._stop.set()

    # --- the thread's side ------------------------------------------------------------
    def _run_started(self, run):
        # The queue entry this job came from (its id is the job's): once the run folder
        # names it, a server restarted after a crash drops the entry instead of rerunning it.
        # ``train_run`` already wrote it with "running"; a run made elsewhere gets it here.
        if run.status.get("queue_id") != self.id:
            run.update(queue_id=self.id)
        self._update(run_dir=str(run.path))

    def _run(self):
        try:
            images_per_epoch = len(trainer.training_subset(self.config, self.data)[0])
            callbacks = self._extra_callbacks + [_ProgressCallback(self, images_per_epoch)]

            def started(run):  # a resumed run brings its config (more epochs) and curves
                with self._lock:
                    self.config = train_config.TrainConfig.from_dict(run.config)
                    self._training[:0], self._validation[:0] = \
                        resuming.earlier_curves(run.history)
                self._run_started(run)

            run, _ = recording.train_run(self.config, self.data, runs_directory=self.runs_dir,
                                         callbacks=callbacks, stop_event=self._stop,
                                         owner=self.owner, on_start=started,
                                         resume=self.resume, queue_id=self.id)
            self._update(state="stopped" if self._stop.is_set() else "finished",
                         eta_seconds=0.0, run_dir=str(run.path))
        # Any failure: the page shows the message; the server stays up.
        except Exception as error:  # noqa: BLE001
            self._update(state="failed", error=f"{type(error).__name__}: {error}", eta_seconds=None)
        finally:
            self._finished()
            if self._on_done is not None:
                self._on_done()


def curves_frame(snapshot, run="this run"):
    """The snapshot's curves as the DataFrame ``plots.training_curves_figure`` draws."""
    rows = [(run, "train", *point) for point in snapshot.training]
    rows += [(run, "validation", *point) for point in snapshot.validation]
    return pd.DataFrame(rows, columns=["run", "split", "epoch", "loss", "accuracy"])


def progress_text(snapshot):
    """The line under the progress bar: epoch, batch, speed and time left."""
    if snapshot.state == "starting":
        return "Preparing the data and building the model..."
    parts = [f"Epoch {max(snapshot.epoch, 1)} of {snapshot.epochs}",
             f"batch {snapshot.batch:,} of {snapshot.batches:,}"]
    if snapshot.images_per_second:
        parts.append(f"{snapshot.images_per_second:,.0f} images/s")
    if snapshot.state == "running" and snapshot.epoch <= 1 and snapshot.batch == 0:
        parts.append("building the model's computation graph")
    elif snapshot.state == "evaluating":
        parts.append("measuring accuracy on the test images")
    elif not snapshot.done and snapshot.eta_seconds is not None:
        parts.append(f"about {text.duration_text(snapshot.eta_seconds)} left")
    parts.append(f"{text.duration_text(snapshot.elapsed_seconds)} so far")
    return " · ".join(parts)
