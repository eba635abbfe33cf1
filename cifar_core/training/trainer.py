"""Training: ``train(config, data, callbacks)`` and the model a config builds.

``train`` is ``model.fit`` on a tf.data pipeline (``input_pipeline``: shuffle, batch,
augment in-graph, prefetch) so that Keras callbacks (run recording, progress, stop) plug
straight in. What to train is a ``train_config.TrainConfig``; a resumed run starts from a
``checkpoints.Checkpoint`` (weights, optimizer state, epoch) instead of from scratch.
"""

from dataclasses import dataclass

import numpy as np

from cifar_core import backend
from cifar_core.backend import keras, tf
from cifar_core.models import architectures, design, designed, fast_init
from cifar_core.training import checkpointing, input_pipeline, train_config


def effective_precision(config):
    """The precision ``config`` trains in on this machine ("auto" resolved)."""
    if config.precision != "auto":
        return config.precision
    return "mixed_bfloat16" if backend.bfloat16_is_native() else "float32"


@dataclass
class TrainResult:
    """The trained model and Keras' per-epoch history (metric name -> list of values)."""

    model: object
    history: dict


class StopOnEvent(keras.callbacks.Callback):
    """Ends ``fit`` after the current batch once ``event`` (a threading.Event) is set."""

    def __init__(self, event):
        super().__init__()
        self.event = event

    def on_train_batch_end(self, batch, logs=None):
        if self.event.is_set():
            self.model.stop_training = True

    # A stop asked for during an epoch's validation and saving ends fit right there, not
    # after one more batch and a second validation (seconds on a busy 2-core machine).
    on_epoch_end = on_train_batch_end


#: "Train N more epochs" of a warmup-cosine run: the new epochs decay along a fresh cosine
#: from this share of the peak learning rate down to 0, without a second warmup. The first
#: cosine ended at 0, so the run moves again, yet a quarter of the peak does not undo what it
#: learned (a damped warm restart, as SGDR's restarts at a lower rate).
MORE_EPOCHS_PEAK = 0.25


class SegmentedSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """``first`` until step ``later[0][0]``, then each later (start step, schedule) from its
    start, counting its own steps from 0. Built from the config and the run's segments on
    every start, never saved: saved models leave the optimizer out (``saving.save_model``).
    """

    def __init__(self, first, later):
        self.first, self.later = first, tuple(later)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        rate = tf.cast(self.first(step), tf.float32)
        for start, schedule in self.later:
            local = tf.maximum(step - float(start), 0.0)
            rate = tf.where(step >= float(start), tf.cast(schedule(local), tf.float32), rate)
        return rate

    def get_config(self):
        serialize = keras.optimizers.schedules.serialize
        return {"first": serialize(self.first),
                "later": [[start, serialize(schedule)] for start, schedule in self.later]}


def _schedule(config, steps_per_epoch, segments=()):
    """The learning rate by step. ``segments``: the epochs at which "train more" segments
    begin (the first one is the run's original number of epochs); "constant" and
    "time-decay" simply go on (time decay keeps its original rate of decay), "warmup-cosine"
    adds a fresh cosine from ``MORE_EPOCHS_PEAK`` x the peak for each segment."""
    rate = float(config.learning_rate)
    bounds = [*segments, config.epochs]
    if any(not low < high for low, high in zip([0, *bounds], bounds)):
        raise ValueError(f"segments {list(segments)} must rise from 1 to below the "
                         f"{config.epochs} epochs")
    epochs = bounds[0]  # the original schedule's length
    if config.schedule == "constant":
        return rate
    if config.schedule == "time-decay":
        # Keras 2's SGD(decay=lr/epochs): lr / (1 + decay * iterations).
        return keras.optimizers.schedules.InverseTimeDecay(rate, decay_steps=1,
                                                           decay_rate=rate / epochs)
    total = max(1, steps_per_epoch * epochs)
    warmup = min(total - 1, int(round(config.warmup_epochs * steps_per_epoch)))
    first = keras.optimizers.schedules.CosineDecay(
        0.0 if warmup else rate, decay_steps=total - warmup, alpha=0.0,
        warmup_target=rate if warmup else None, warmup_steps=warmup)
    if not segments:
        return first
    later = [(low * steps_per_epoch, keras.optimizers.schedules.CosineDecay(
        rate * MORE_EPOCHS_PEAK, decay_steps=max(1, (high - low) * steps_per_epoch), alpha=0.0))
        for low, high in zip(bounds, bounds[1:])]
    return SegmentedSchedule(first, later)


def _optimizer(config, steps_per_epoch, segments=()):
    rate = _schedule(config, steps_per_epoch, segments)
    decay = config.weight_decay or None
    if config.optimizer == "adam":
        optimizer = keras.optimizers.Adam(rate, weight_decay=decay, use_ema=config.ema)
    else:
        optimizer = keras.optimizers.SGD(rate, momentum=config.momentum,
                                         nesterov=config.optimizer == "nesterov",
                                         weight_decay=decay, use_ema=config.ema)
    # Batch norm's scale and shift are not weights to shrink: decaying them fights the
    # normalisation (measured with the fast net: decay on convolutions only learns faster).
    optimizer.exclude_from_weight_decay(var_names=["gamma", "beta"])
    return optimizer


def training_subset(config, data):
    """The (images, labels) ``config`` trains on: all, or a seeded random subset."""
    images, labels = data.x_train, data.y_train
    if config.train_size is None or config.train_size >= len(images):
        return images, labels
    chosen = np.sort(
        np.random.default_rng(config.seed).permutation(len(images))[:config.train_size])
    return images[chosen], labels[chosen]


def validation_subset(config, data):
    """The first ``validation_size`` test images (fixed, so epochs compare), or None."""
    count = min(config.validation_size, len(data.x_test))
    return (data.x_test[:count], data.y_test[:count]) if count else None


def build_for(config, images, segments=()):
    """A compiled model for ``config``; ``images`` initialise the fast net's whitening;
    ``segments`` are a run's "train more" boundaries (``_schedule``)."""
    if config.model == design.DESIGNED:  # drawn on the Train page: built from its definition
        model = designed.build_designed(config.design, effective_precision(config),
                                        seed=config.seed)
    else:
        model = architectures.build_model(config.model, seed=config.seed,
                                          precision=effective_precision(config))
    if config.model in architectures.WHITENED:
        fast_init.init_whitening(model, images)
        fast_init.init_identity(model)
    steps_per_epoch = input_pipeline.batches_per_epoch(len(images), config.batch_size)
    model.compile(optimizer=_optimizer(config, steps_per_epoch, segments),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    return model


def train(config, data, callbacks=(), *, checkpoint=None, segments=()):
    """Train a fresh ``config.model`` on ``data`` (a ``Cifar10``) with ``model.fit``.

    ``callbacks`` are Keras callbacks (run recording, progress, ``StopOnEvent``); a stop
    ends training after the current batch and the partly trained model is returned.
    With ``checkpoint`` (a ``checkpoints.Checkpoint``) the model and its optimizer start
    from it and training goes on from its epoch to ``config.epochs``, drawing the batches
    an uninterrupted run would have drawn; ``segments`` shape the schedule (``_schedule``).
    """
    if not isinstance(config, train_config.TrainConfig):
        raise ValueError(f"config must be a TrainConfig, not {type(config).__name__}")
    images, labels = training_subset(config, data)
    keras.utils.set_random_seed(config.seed)
    model = build_for(config, images, segments)
    first_epoch = 0
    if checkpoint is not None:
        checkpointing.restore(model, checkpoint)
        first_epoch = checkpoint.epoch
    if first_epoch >= config.epochs:  # killed after its last epoch: nothing left to train
        return TrainResult(model, {})
    train_data = input_pipeline.make_dataset(images, labels, config.batch_size, shuffle=True,
                                             augment=config.augment, seed=config.seed,
                                             epochs=config.epochs, flip=config.flip,
                                             first_epoch=first_epoch)
    validation = validation_subset(config, data)
    validation_data = (None if validation is None
                       else input_pipeline.make_dataset(*validation, 500))
    history = model.fit(train_data, epochs=config.epochs, initial_epoch=first_epoch,
                        steps_per_epoch=input_pipeline.batches_per_epoch(len(images),
                                                                         config.batch_size),
                        validation_data=validation_data,
                        callbacks=list(callbacks), shuffle=False, verbose=0)  # tf.data shuffles
    return TrainResult(model, dict(history.history))


def evaluate_accuracy(model, images, labels, *, batch_size=500, flip_average=False):
    """Share of ``images`` the model classifies correctly (0-1).

    ``flip_average`` averages the probabilities of each image and its mirror image
    (test-time augmentation); the app's pages do not, so reported accuracies do not either.
    """
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"need as many labels as images (and some): "
                         f"{len(images)} vs {len(labels)}")
    images = np.asarray(images)

    # One compiled graph for every batch: op-by-op eager calls need the GIL between ops and
    # ran 10-20x slower inside the Streamlit server while a page polled (measured: 50 s
    # instead of 3 s for the tiny model on the 10,000 test images).
    @tf.function(input_signature=[tf.TensorSpec((None,) + images.shape[1:], images.dtype)])
    def predict(batch):
        batch = tf.cast(batch, tf.float32)
        probabilities = model(batch, training=False)
        if flip_average:
            probabilities = (probabilities + model(tf.reverse(batch, axis=[2]), training=False)) / 2
        return tf.argmax(probabilities, axis=1)

    predicted = [predict(batch).numpy()
                 for batch in tf.data.Dataset.from_tensor_slices(images).batch(batch_size)]
    return float(np.mean(np.concatenate(predicted) == np.asarray(labels)))
