"""Training tied to a run folder: the RunRecorder callback and ``train_run``.

``runs`` owns the files and stays free of TensorFlow; this module is the Keras side:
a callback that writes each epoch's metrics, a heartbeat and conv1's filters into the
run, and ``train_run``, which the CLI and the background job both use so every run
folder is complete whether the run finishes, is stopped, or fails.
"""

import socket
import threading
import time
from pathlib import Path

import numpy as np

from cifar_core.backend import keras, tf
from cifar_core.models import saving
from cifar_core.training import runs, trainer

#: Seconds between status.json heartbeats during an epoch (mark_interrupted reads them).
HEARTBEAT_SECONDS = 10.0


def first_conv_kernel(model):
    """conv1's kernel (kh, kw, in, out) as float32."""
    return np.asarray(model.get_layer("conv1").kernel, dtype=np.float32)


def current_learning_rate(optimizer):
    """The optimizer's learning rate at its current step, as a float."""
    return float(np.asarray(optimizer.learning_rate))


class RunRecorder(keras.callbacks.Callback):
    """Writes history.csv, status heartbeats, filters/epoch_NNN.npy and model.keras each epoch."""

    def __init__(self, run, heartbeat_seconds=HEARTBEAT_SECONDS):
        super().__init__()
        self.run = run
        self.heartbeat_seconds = heartbeat_seconds
        self.started = self.last_beat = time.time()

    def on_train_begin(self, logs=None):
        self.started = self.last_beat = time.time()
        self.run.save_filters(0, first_conv_kernel(self.model))

    def on_train_batch_end(self, batch, logs=None):
        now = time.time()
        if now - self.last_beat >= self.heartbeat_seconds:
            self.last_beat = now
            self.run.update(batch=int(batch) + 1)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        logs["learning_rate"] = current_learning_rate(self.model.optimizer)
        self.run.record_epoch(epoch + 1, logs, time.time() - self.started)
        self.run.save_filters(epoch + 1, first_conv_kernel(self.model))
        # A checkpoint each epoch: a run killed later still leaves a usable model.keras.
        saving.save_model(self.model, self.run.path / "model.keras")


class TensorBoardScalars(keras.callbacks.Callback):
    """Writes each epoch's metrics as TensorBoard scalars into ``log_dir``.

    Keras' own TensorBoard callback needs the ``tensorboard`` package (TensorFlow no longer
    installs it); this writes the same event files (a TFRecord of Event protos) with
    TensorFlow alone, so ``pip install tensorboard; tensorboard --logdir runs`` shows them.
    """

    def __init__(self, log_dir):
        super().__init__()
        self.log_dir = Path(log_dir)
        self.writer = None

    def on_train_begin(self, logs=None):
        self.log_dir.mkdir(parents=True, exist_ok=True)
        path = self.log_dir / f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}"
        self.writer = tf.io.TFRecordWriter(str(path))
        # The Event proto TensorBoard reads (tensorflow.core.util.event_pb2).
        self._write(tf.compat.v1.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def on_epoch_end(self, epoch, logs=None):
        values = [tf.compat.v1.Summary.Value(tag=f"epoch_{name}", simple_value=float(value))
                  for name, value in (logs or {}).items()
                  if np.isscalar(value) or np.ndim(value) == 0]
        self._write(tf.compat.v1.Event(wall_time=time.time(), step=epoch + 1,
                                       summary=tf.compat.v1.Summary(value=values)))

    def on_train_end(self, logs=None):
        self.close()

    def close(self):
        """Close the event file; safe to call twice (``train_run`` calls it after a failure)."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _write(self, event):
        self.writer.write(event.SerializeToString())
        self.writer.flush()


def tensorboard_callback(run):
    """A TensorBoard scalar logger writing into the run's tensorboard/ folder."""
    return TensorBoardScalars(run.path / "tensorboard")


def train_run(config, data, *, runs_directory=None, callbacks=(), stop_event=None,
              evaluate_test=True, on_start=None):
    """Train ``config`` on ``data`` inside a new run folder; returns ``(run, result)``.

    The run ends "stopped" when ``stop_event`` (a threading.Event) was set (training ends
    within one batch and the model is still saved), "finished" otherwise, and "failed"
    (then the error is raised again) if training raised. With ``evaluate_test`` the
    final model's accuracy on the full test split goes into status.json. ``on_start`` is
    called with the new run before training begins (the UI shows its folder at once).
    """
    stop_event = stop_event or threading.Event()
    run = runs.start_run(config, runs_directory)
    tensorboard = tensorboard_callback(run)
    # The stop check comes last so a stop requested by any earlier callback counts at once.
    everything = [RunRecorder(run), tensorboard, *callbacks, trainer.StopOnEvent(stop_event)]
    try:
        if on_start is not None:
            on_start(run)
        result = trainer.train(config, data, callbacks=everything)
        accuracy = None
        if evaluate_test:
            run.update(state="running", phase="evaluating")
            accuracy = trainer.evaluate_accuracy(saving.inference_copy(result.model),
                                                  data.x_test, data.y_test)  # as saved: float32
        run.finish("stopped" if stop_event.is_set() else "finished", result.model,
                   test_accuracy=accuracy)
    except BaseException as error:
        run.finish("failed", error=f"{type(error).__name__}: {error}")
        raise
    finally:
        tensorboard.close()  # Keras skips on_train_end when fit raises: the file stayed open.
    return run, result
