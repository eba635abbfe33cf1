"""Training tied to a run folder: the RunRecorder callback and ``train_run``.

``runs`` owns the files and stays free of TensorFlow; this module is the Keras side:
a callback that writes each epoch's metrics, a heartbeat and conv1's filters into the
run, one that writes each epoch's weight and activation histograms (``histograms`` owns
their files) into the run and its TensorBoard logs, and ``train_run``, which the CLI and
the background job both use so every run folder is complete whether the run finishes, is
stopped, or fails. With ``resume`` it continues a run folder in place from its last
checkpoint (``checkpoints``: the files; ``checkpointing``: the Keras side; ``resuming``: the
run folder reopened).
"""

import socket
import threading
import time
from pathlib import Path

import numpy as np

from cifar_core.backend import keras, tf
from cifar_core.models import saving
from cifar_core.training import checkpointing, histograms, resuming, runs, trainer

#: Seconds between status.json heartbeats during an epoch (mark_interrupted reads them).
HEARTBEAT_SECONDS = 10.0


def first_conv_kernel(model):
    """The first Conv2D's kernel on the RGB image (kh, kw, 3, out) as float32, or None.

    Found by type, not by the name ``conv1``: a designed network may start otherwise, or
    have no convolution at all (then no filter snapshots are saved).
    """
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D) and layer.kernel.shape[2] == 3:
            return np.asarray(layer.kernel, dtype=np.float32)
    return None


def current_learning_rate(optimizer):
    """The optimizer's learning rate at its current step, as a float."""
    return float(np.asarray(optimizer.learning_rate))


class RunRecorder(keras.callbacks.Callback):
    """Writes history.csv, status heartbeats, filters/epoch_NNN.npy and model.keras each epoch.

    A resumed run starts at ``first_epoch``: its filters of epoch 0 stay those of its start,
    and its seconds count on from ``seconds_before`` (the time of the epochs it has).
    """

    def __init__(self, run, heartbeat_seconds=HEARTBEAT_SECONDS, *, first_epoch=0,
                 seconds_before=0.0):
        super().__init__()
        self.run = run
        self.heartbeat_seconds = heartbeat_seconds
        self.first_epoch, self.seconds_before = first_epoch, float(seconds_before)
        self.started = self.last_beat = time.time()

    def on_train_begin(self, logs=None):
        self.started = self.last_beat = time.time() - self.seconds_before
        if self.first_epoch == 0:
            self._save_filters(0)

    def on_train_batch_end(self, batch, logs=None):
        now = time.time()
        if now - self.last_beat >= self.heartbeat_seconds:
            self.last_beat = now
            self.run.update(batch=int(batch) + 1)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        logs["learning_rate"] = current_learning_rate(self.model.optimizer)
        self.run.record_epoch(epoch + 1, logs, time.time() - self.started)
        self._save_filters(epoch + 1)
        # A checkpoint each epoch: a run killed later still leaves a usable model.keras.
        saving.save_model(self.model, self.run.path / "model.keras")

    def _save_filters(self, epoch):
        kernel = first_conv_kernel(self.model)
        if kernel is not None:  # A network without convolutions has no filters to watch.
            self.run.save_filters(epoch, kernel)


#: Layers whose output is not worth a histogram: the input, a copy or a fixed rescaling of
#: the layer before (dropout is off outside training), so the chart would repeat another.
_SKIPPED_OUTPUTS = (keras.layers.InputLayer, keras.layers.Dropout, keras.layers.Flatten,
                    keras.layers.Reshape, keras.layers.Rescaling)


def histogram_layers(model):
    """Layers whose outputs the histogram recorder summarises, in the model's order."""
    return [layer for layer in model.layers if not isinstance(layer, _SKIPPED_OUTPUTS)]


def _summary_function(bins):
    """A traced function: one flat float32 tensor's histogram fields, as ``summarise`` has
    them: (counts, start, stop, total, sum, sum of squares, minimum, maximum), ``start``
    and ``stop`` being the outer bin edges.

    Traced once for any length, so a model's twenty outputs cost one trace, not twenty.
    The common case, every value finite, takes one pass per reduction; a NaN or an
    infinity (a diverging run) shows in the sum and sends the tensor through a filter first.
    """

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def summary(values):
        low, high, total_sum = tf.reduce_min(values), tf.reduce_max(values), tf.reduce_sum(values)
        clean = tf.reduce_all(tf.math.is_finite(tf.stack([low, high, total_sum])))
        finite = tf.cond(clean, lambda: values,
                         lambda: tf.boolean_mask(values, tf.math.is_finite(values)))
        empty = tf.equal(tf.size(finite), 0)
        low, high, total_sum = tf.cond(
            clean, lambda: (low, high, total_sum),
            lambda: (tf.where(empty, np.nan, tf.reduce_min(finite)),
                     tf.where(empty, np.nan, tf.reduce_max(finite)), tf.reduce_sum(finite)))
        start, stop = tf.where(empty, 0.0, low), tf.where(empty, 1.0, high)
        constant = stop <= start  # a zero bias: np.histogram's +- 0.5 around the value
        start, stop = tf.where(constant, start - 0.5, start), tf.where(constant, stop + 0.5, stop)
        scale = tf.cast(bins, tf.float32) / (stop - start)
        index = tf.clip_by_value(tf.floor((finite - start) * scale), 0.0, bins - 1.0)
        counts = tf.math.bincount(tf.cast(index, tf.int32), minlength=bins, maxlength=bins,
                                  dtype=tf.int32)
        return (counts, start, stop, tf.size(values, out_type=tf.int64), total_sum,
                tf.reduce_sum(tf.square(finite)), low, high)

    return summary


class HistogramRecorder(keras.callbacks.Callback):
    """Histograms of every weight and every layer's output, before training and each epoch.

    Activations are the model's outputs (inference mode: no dropout, batch norm's moving
    statistics) on ``images``, a fixed batch (``train_run`` passes the first
    ``histograms.IMAGE_COUNT`` test images), so epochs compare; they are summarised inside
    TensorFlow (a traced forward pass, then ``_summary_function``), so only ``bins`` counts
    of each leave it. Weights (a few million values at most) are summarised in NumPy by
    ``histograms.summarise``. Files go to ``histograms/epoch_NNN.npz``, and to
    ``tensorboard`` (a ``TensorBoardScalars``) if given, for TensorBoard's Histograms and
    Distributions tabs. ``bench/bench_training_histograms.py`` measures the cost.
    """

    def __init__(self, run, images, tensorboard=None, bins=histograms.BINS, *, first_epoch=0):
        super().__init__()
        if int(bins) < 1:
            raise ValueError(f"bins must be at least 1, not {bins!r}")
        self.run, self.tensorboard, self.bins = run, tensorboard, int(bins)
        self.images = np.asarray(images)
        self.first_epoch = first_epoch  # a resumed run has its earlier epochs' files
        self._outputs = self._summary = None

    def on_train_begin(self, logs=None):
        self._build()
        if self.first_epoch == 0:
            self.record(0)

    def on_epoch_end(self, epoch, logs=None):
        self.record(epoch + 1)

    def _build(self):
        names = [layer.name for layer in histogram_layers(self.model)] if len(self.images) else []
        self._summary = _summary_function(self.bins)
        if not names:
            self._outputs = dict
            return
        try:
            extractor = keras.Model(self.model.inputs, {name: self.model.get_layer(name).output
                                                        for name in names})
        except (AttributeError, ValueError):  # a subclassed model: its layers have no graph
            self._outputs = dict  # weights only, rather than failing the training run
            return
        images = tf.constant(self.images, dtype=tf.float32)

        @tf.function
        def outputs():
            activations = extractor(images, training=False)
            # (N, ...) in the compute dtype -> (N * ...,) float32, the summary's input.
            return {name: tf.reshape(tf.cast(activations[name], tf.float32), [-1])
                    for name in names}

        self._outputs = outputs

    def record(self, epoch):
        """Summarise the model now and save it as epoch ``epoch``'s histograms."""
        if self._summary is None:
            self._build()
        activations = self._outputs()
        recorded = []
        for layer in self.model.layers:  # layer by layer: its weights, then its output
            for variable in layer.weights:
                recorded.append(histograms.Histogram(
                    "weights", layer.name, variable.path,
                    *histograms.summarise(np.asarray(variable, dtype=np.float32), self.bins)))
            if layer.name in activations:
                counts, start, stop, total, total_sum, squares, low, high = (
                    np.asarray(part) for part in self._summary(activations[layer.name]))
                edges = np.linspace(float(start), float(stop), self.bins + 1)  # (bins + 1,)
                recorded.append(histograms.Histogram(
                    "activations", layer.name, layer.name, counts.astype(np.int32), edges,
                    int(total), float(total_sum), float(squares), float(low), float(high)))
        histograms.save_epoch(self.run.path, epoch, recorded, images=len(self.images))
        if self.tensorboard is not None:
            self.tensorboard.write_histograms(epoch, recorded)
        return recorded


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
        while path.exists():  # a resumed run in the same second: a file of its own, appended
            path = path.with_name(path.name + "-resumed")
        self.writer = tf.io.TFRecordWriter(str(path))
        # The Event proto TensorBoard reads (tensorflow.core.util.event_pb2).
        self._write(tf.compat.v1.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def on_epoch_end(self, epoch, logs=None):
        values = [tf.compat.v1.Summary.Value(tag=f"epoch_{name}", simple_value=float(value))
                  for name, value in (logs or {}).items()
                  if np.isscalar(value) or np.ndim(value) == 0]
        self._write(tf.compat.v1.Event(wall_time=time.time(), step=epoch + 1,
                                       summary=tf.compat.v1.Summary(value=values)))

    def write_histograms(self, step, recorded):
        """Write ``histograms.Histogram``s as TensorBoard histograms at ``step`` (epoch).

        A HistogramProto's ``bucket_limit`` holds each bin's right edge and ``min`` the
        first bin's left edge (TensorBoard rebuilds the bins from them). Tags are
        "weights/<layer>/<weight>" and "activations/<layer>". Nothing is written once closed.
        """
        if self.writer is None:
            return
        values = [tf.compat.v1.Summary.Value(
            tag=f"{histogram.kind}/{histogram.name}",
            histo=tf.compat.v1.HistogramProto(
                min=float(histogram.edges[0]), max=float(histogram.edges[-1]),
                num=histogram.finite, sum=histogram.sum, sum_squares=histogram.sum_of_squares,
                bucket_limit=[float(edge) for edge in histogram.edges[1:]],
                bucket=[float(count) for count in histogram.counts]))
            for histogram in recorded]
        self._write(tf.compat.v1.Event(wall_time=time.time(), step=int(step),
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
              evaluate_test=True, on_start=None, owner=None, resume=None, queue_id=None):
    """Train ``config`` on ``data`` inside a new run folder; returns ``(run, result)``.

    The run ends "stopped" when ``stop_event`` (a threading.Event) was set (training ends
    within one batch and the model is still saved), "finished" otherwise, and "failed"
    (then the error is raised again) if training raised. With ``evaluate_test`` the
    final model's accuracy on the full test split goes into status.json. ``on_start`` is
    called with the new run before training begins (the UI shows its folder at once).
    ``owner`` is the tab that asked for the run (``runs.start_run``); ``queue_id`` the queue
    entry it comes from, written with the run's first "running" status.

    ``resume`` (``{"run": run id, "more_epochs": n}``) continues that run folder in place
    instead, from its last checkpoint and with its own config (``config`` is not used;
    it may be None): ``n`` more epochs for a finished run, 0 to finish a stopped or
    interrupted one. Its history, filters, histograms and TensorBoard logs go on from the
    checkpoint's epoch. A run that cannot continue is refused (ValueError naming it) before
    anything in its folder changes (``resuming.reopen``).
    """
    stop_event = stop_event or threading.Event()
    checkpoint, segments, seconds_before = None, (), 0.0
    if resume is None:
        run = runs.start_run(config, runs_directory, owner=owner, queue_id=queue_id)
    else:
        resumed = resuming.reopen(resume, runs_directory, owner=owner, queue_id=queue_id)
        run, config = resumed.run, resumed.config
        checkpoint, segments = resumed.checkpoint, resumed.segments
        seconds_before = run.history[-1].get("seconds", 0.0) if run.history else 0.0
    first_epoch = checkpoint.epoch if checkpoint is not None else 0
    tensorboard = tensorboard_callback(run)
    # The stop check comes last so a stop requested by any earlier callback counts at once.
    # The histogram recorder writes into the TensorBoard file, so it comes after its opening;
    # the checkpoint comes after the epoch's history row (a resumed run keeps rows up to it).
    recorder = HistogramRecorder(run, data.x_test[:histograms.IMAGE_COUNT], tensorboard,
                                 first_epoch=first_epoch)
    everything = [RunRecorder(run, first_epoch=first_epoch, seconds_before=seconds_before),
                  tensorboard, recorder, checkpointing.CheckpointRecorder(run, segments),
                  *callbacks, trainer.StopOnEvent(stop_event)]
    try:
        if on_start is not None:
            on_start(run)
        result = trainer.train(config, data, callbacks=everything, checkpoint=checkpoint,
                               segments=segments)
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
