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
from cifar_core.training import (
    airbench_sgd,
    checkpointing,
    input_pipeline,
    schedules,
    train_config,
)


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


def _optimizer(config, model, steps_per_epoch, segments=()):
    rate = schedules.learning_rate_schedule(config, steps_per_epoch, segments)
    if config.optimizer == "nesterov-l2":
        return _airbench_optimizer(config, model, rate, steps_per_epoch)
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


def _airbench_optimizer(config, model, rate, steps_per_epoch):
    """``airbench_sgd.AirbenchSGD`` with the config's airbench fields mapped onto variables:
    faster batch-norm shifts, frozen batch-norm scales, the whitening kernel frozen and its
    bias frozen after ``whitening_bias_epochs``."""
    scales, frozen_from = {}, {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            if layer.center and config.bias_lr_scale != 1:
                scales[layer.beta.path] = config.bias_lr_scale
            if layer.scale and not config.batchnorm_scale:
                frozen_from[layer.gamma.path] = 0
    if _trains_whitening_bias(config):
        whitening = model.get_layer("conv1")
        frozen_from[whitening.kernel.path] = 0
        frozen_from[whitening.bias.path] = config.whitening_bias_epochs * steps_per_epoch
    averaged = list(model.non_trainable_weights) if config.lookahead else []
    return airbench_sgd.AirbenchSGD(
        rate, momentum=config.momentum, l2=config.weight_decay, scales=scales,
        frozen_from=frozen_from,
        lookahead_every=airbench_sgd.LOOKAHEAD_EVERY if config.lookahead else 0,
        total_steps=max(1, steps_per_epoch * config.epochs), steps_per_epoch=steps_per_epoch,
        averaged=averaged)


def _trains_whitening_bias(config):
    return config.model in architectures.WHITENED and config.whitening_bias_epochs > 0


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
        fast_init.init_whitening(model, images, standardised=config.whitening == "standardised")
        if config.optimizer == "nesterov-l2":  # airbench's start, as PyTorch draws it
            fast_init.init_like_pytorch(model)
        fast_init.init_identity(model)
        # Its optimizer trains the bias alone, and only for the first epochs.
        model.get_layer("conv1").trainable = _trains_whitening_bias(config)
    steps_per_epoch = input_pipeline.batches_per_epoch(len(images), config.batch_size)
    model.compile(optimizer=_optimizer(config, model, steps_per_epoch, segments),
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
    if config.model in architectures.WHITENED:  # fixed from here on, as a saved fast net is
        model.get_layer("conv1").trainable = False
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
