"""Training: one frozen config, named presets, and ``train(config, data, callbacks)``.

``train`` is ``model.fit`` on a tf.data pipeline (``input_pipeline``: shuffle, batch,
augment in-graph, prefetch) so that Keras callbacks (run recording, progress, stop) plug
straight in.
Every hyperparameter sits in ``TrainConfig`` with a comment on what it means; the presets
are the seed notebook's recipe and our fast CPU recipe (see README's benchmark table).
"""

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from cifar_core import backend, fast_init, input_pipeline, models
from cifar_core.backend import keras, tf

OPTIMIZERS = ("sgd", "nesterov", "adam")
SCHEDULES = ("constant", "time-decay", "warmup-cosine")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; validated on creation (ValueError names the field)."""

    model: str = "tiny"  # architecture name in models.ARCHITECTURES
    epochs: int = 1
    batch_size: int = 128
    optimizer: str = "nesterov"  # "sgd" (momentum), "nesterov" (SGD + Nesterov momentum), "adam"
    learning_rate: float = 0.05  # peak learning rate
    # "constant"; "time-decay": lr / (1 + (lr / epochs) * step), the notebook's Keras-2 decay;
    # "warmup-cosine": linear warmup over warmup_epochs, then cosine down to 0.
    schedule: str = "warmup-cosine"
    weight_decay: float = 0.0  # decoupled: each step w -= learning_rate * weight_decay * w
    label_smoothing: float = 0.0  # share of each target spread evenly over the 10 classes
    augment: bool = False  # horizontal flip + random translation by up to 2 pixels
    # How augment flips: "random": each image mirrored with probability 1/2 every epoch;
    # "alternating" (airbench): random in the first epoch, then each image mirrored in
    # every other epoch, so no image is seen the same way round twice in a row.
    flip: str = "random"
    train_size: int | None = None  # training images used (a seeded random subset); None = all
    validation_size: int = 1000  # test images evaluated after each epoch (as the notebook); 0 = none
    seed: int = 0  # initial weights, subset, shuffling and augmentation
    momentum: float = 0.9  # for "sgd" and "nesterov"
    warmup_epochs: float = 0.0  # for "warmup-cosine"
    ema: bool = False  # keep an exponential moving average of the weights and end on it
    # "mixed_bfloat16": compute in bfloat16, keep float32 weights: about 2x faster for the
    # seed net on CPUs with AVX512-BF16 (README's benchmarks); "auto": that where the
    # hardware has native bfloat16 (a GPU, AVX512-BF16, AMX), else "float32".
    precision: str = "float32"

    def __post_init__(self):
        def fail(field, why):
            raise ValueError(f"TrainConfig.{field} = {getattr(self, field)!r}: {why}")

        if self.model not in models.ARCHITECTURES:
            fail("model", f"choose one of {sorted(models.ARCHITECTURES)}")
        for field, low in (("epochs", 1), ("batch_size", 1), ("validation_size", 0), ("seed", 0)):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                fail(field, f"must be an integer >= {low}")
        if self.batch_size > 8192:
            fail("batch_size", "must be at most 8192")
        if self.train_size is not None and (isinstance(self.train_size, bool)
                                            or not isinstance(self.train_size, int)
                                            or self.train_size < 1):
            fail("train_size", "must be None (all) or an integer >= 1")
        if self.optimizer not in OPTIMIZERS:
            fail("optimizer", f"choose one of {list(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            fail("schedule", f"choose one of {list(SCHEDULES)}")
        if self.flip not in input_pipeline.FLIPS:
            fail("flip", f"choose one of {list(input_pipeline.FLIPS)}")
        for field, low, high in (("learning_rate", 0.0, 100.0), ("weight_decay", 0.0, 1.0),
                                 ("label_smoothing", 0.0, 1.0), ("momentum", 0.0, 1.0),
                                 ("warmup_epochs", 0.0, 1e6)):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or not low <= value <= high:
                fail(field, f"must be a number in [{low}, {high}]")
        if self.learning_rate == 0:
            fail("learning_rate", "must be greater than 0")
        if self.label_smoothing >= 1:
            fail("label_smoothing", "must be below 1")
        if not isinstance(self.augment, bool):
            fail("augment", "must be True or False")
        if not isinstance(self.ema, bool):
            fail("ema", "must be True or False")
        if self.precision not in PRECISIONS:
            fail("precision", f"choose one of {list(PRECISIONS)}")

    def to_dict(self):
        """Plain JSON-ready fields, for run folders."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, fields):
        """The config back from ``to_dict``; unknown keys are a ValueError naming them."""
        unknown = set(fields) - {field.name for field in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown TrainConfig fields: {sorted(unknown)}")
        return cls(**fields)


#: Precisions a config may name: the models' own, plus "auto" (see TrainConfig.precision).
PRECISIONS = ("auto",) + models.PRECISIONS


def effective_precision(config):
    """The precision ``config`` trains in on this machine ("auto" resolved)."""
    if config.precision != "auto":
        return config.precision
    return "mixed_bfloat16" if backend.bfloat16_is_native() else "float32"


# Our CPU recipe (airbench-style): whitened fast net started as the identity, Nesterov,
# strong weight decay on the convolutions (with batch norm after them it keeps the
# effective step large: 2e-2 learnt 1.5% more than 5e-4 in 3 epochs), label smoothing 0.2,
# flip+translate, warmup then cosine decay to 0, bfloat16 compute where native (1.3-1.6x
# the images/s of float32 for this net on AVX512-BF16; measured). 30 epochs: the shipped
# model (90.63%; 26 epochs had given 89.99%).
FAST_RECIPE = TrainConfig(model="fast", epochs=30, batch_size=256, optimizer="nesterov",
                         learning_rate=0.2, schedule="warmup-cosine", weight_decay=2e-2,
                         label_smoothing=0.2, augment=True, warmup_epochs=0.5, ema=False,
                         precision="auto")


PRESETS = {
    # The seed notebook: SGD lr 0.01 momentum 0.9, Keras-2 time decay lr/epochs per step,
    # batch 32, no augmentation, validated on the test set.
    "seed-notebook": TrainConfig(model="seed", epochs=25, batch_size=32, optimizer="sgd",
                                 learning_rate=0.01, schedule="time-decay", momentum=0.9),
    "fast": FAST_RECIPE,
    # The same recipe on the quarter-width net with airbench's alternating flips: about 81%
    # test accuracy in 3 epochs (~2 minutes on 2 cores), the time-to-accuracy and 5-minute
    # benchmarks' recipe (8 epochs: 84.8-85.05% with alternating flips, 84.8% with random).
    "fast-small": dataclasses.replace(FAST_RECIPE, model="fast-small", epochs=3,
                                      flip="alternating"),
    # The seed architecture with our recipe instead of the notebook's: bfloat16 where native,
    # batch 64, Nesterov with warmup and cosine decay, flip+translate: the shipped seed model.
    "seed-fast": TrainConfig(model="seed", epochs=8, batch_size=64, optimizer="nesterov",
                             learning_rate=0.02, schedule="warmup-cosine", warmup_epochs=0.5,
                             augment=True, precision="auto"),
    # A classroom demo: the tiny net on 10,000 images, a few seconds per epoch.
    "demo": TrainConfig(model="tiny", epochs=3, batch_size=128, optimizer="adam",
                        learning_rate=0.003, schedule="constant", augment=False,
                        train_size=10000, validation_size=1000),
}


def preset(name, **overrides):
    """The named preset with some fields replaced, validated again."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return dataclasses.replace(PRESETS[name], **overrides)


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


def _schedule(config, steps_per_epoch):
    rate = float(config.learning_rate)
    if config.schedule == "constant":
        return rate
    if config.schedule == "time-decay":
        # Keras 2's SGD(decay=lr/epochs): lr / (1 + decay * iterations).
        return keras.optimizers.schedules.InverseTimeDecay(rate, decay_steps=1,
                                                           decay_rate=rate / config.epochs)
    total = max(1, steps_per_epoch * config.epochs)
    warmup = min(total - 1, int(round(config.warmup_epochs * steps_per_epoch)))
    return keras.optimizers.schedules.CosineDecay(
        0.0 if warmup else rate, decay_steps=total - warmup, alpha=0.0,
        warmup_target=rate if warmup else None, warmup_steps=warmup)


def _optimizer(config, steps_per_epoch):
    rate = _schedule(config, steps_per_epoch)
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
    chosen = np.sort(np.random.default_rng(config.seed).permutation(len(images))[:config.train_size])
    return images[chosen], labels[chosen]


def validation_subset(config, data):
    """The first ``validation_size`` test images (fixed, so epochs compare), or None."""
    count = min(config.validation_size, len(data.x_test))
    return (data.x_test[:count], data.y_test[:count]) if count else None


def build_for(config, images):
    """A compiled model for ``config``; ``images`` initialise the fast net's whitening."""
    model = models.build_model(config.model, seed=config.seed,
                               precision=effective_precision(config))
    if config.model in models.WHITENED:
        fast_init.init_whitening(model, images)
        fast_init.init_identity(model)
    steps_per_epoch = input_pipeline.batches_per_epoch(len(images), config.batch_size)
    model.compile(optimizer=_optimizer(config, steps_per_epoch),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    return model


def train(config, data, callbacks=()):
    """Train a fresh ``config.model`` on ``data`` (a ``Cifar10``) with ``model.fit``.

    ``callbacks`` are Keras callbacks (run recording, progress, ``StopOnEvent``); a stop
    ends training after the current batch and the partly trained model is returned.
    """
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, not {type(config).__name__}")
    images, labels = training_subset(config, data)
    keras.utils.set_random_seed(config.seed)
    model = build_for(config, images)
    train_data = input_pipeline.make_dataset(images, labels, config.batch_size, shuffle=True,
                                             augment=config.augment, seed=config.seed,
                                             epochs=config.epochs, flip=config.flip)
    validation = validation_subset(config, data)
    validation_data = (None if validation is None
                       else input_pipeline.make_dataset(*validation, 500))
    history = model.fit(train_data, epochs=config.epochs,
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
        raise ValueError(f"need as many labels as images (and some): {len(images)} vs {len(labels)}")
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
