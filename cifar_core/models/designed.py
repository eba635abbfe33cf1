"""Designed networks as Keras models: a ``design`` definition built in the contract layout.

The model takes raw 0-255 pixels (float32, (None, 32, 32, 3)), rescales them in the layer
``rescaling``, applies the design's blocks under the names ``design.layer_table`` gives
them (``conv1``, ``pool1``, ``batchnorm1``, ``dense1``, ...), and ends in a 10-way Dense
layer ``logits`` and a float32 softmax ``Activation`` named ``probabilities``.
"""

from cifar_core.backend import keras
from cifar_core.models import design
from cifar_core.models.contract import IMAGE_SHAPE, NUM_CLASSES, PRECISIONS

layers = keras.layers


def _layer(block, name, dtype):
    """The Keras layer of one normalised block."""
    kind = block["type"]
    if kind == "convolution":
        return layers.Conv2D(block["filters"], block["kernel_size"], strides=block["stride"],
                             padding=block["padding"], activation=block["activation"], name=name,
                             dtype=dtype)
    if kind == "batch_norm":
        return layers.BatchNormalization(name=name, dtype=dtype)
    if kind == "max_pooling":
        return layers.MaxPooling2D(block["pool_size"], name=name, dtype=dtype)
    if kind == "average_pooling":
        return layers.AveragePooling2D(block["pool_size"], name=name, dtype=dtype)
    if kind == "dropout":
        return layers.Dropout(block["rate"], name=name, dtype=dtype)
    if kind == "global_pooling":
        pooling = (layers.GlobalAveragePooling2D if block["mode"] == "average"
                   else layers.GlobalMaxPooling2D)
        return pooling(name=name, dtype=dtype)
    if kind == "flatten":
        return layers.Flatten(name=name, dtype=dtype)
    assert kind == "dense", kind
    return layers.Dense(block["units"], activation=block["activation"], name=name, dtype=dtype)


def build_designed(definition, precision="float32", seed=None):
    """A fresh, uncompiled Keras model of ``definition``; ValueError for an impossible design.

    ``precision`` as ``architectures.build_model``; ``seed`` fixes the initial weights.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {list(PRECISIONS)}")
    rows = design.layer_table(definition)  # ValueError naming the impossible block
    blocks = design.normalise(definition)["blocks"]
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    images = keras.Input(IMAGE_SHAPE, name="images")
    x = layers.Rescaling(1.0 / 255, name="rescaling", dtype=precision)(images)
    for row in rows:
        if row.block is not None:
            x = _layer(blocks[row.block - 1], row.name, precision)(x)
    # The head stays float32 under mixed precision so the probabilities sum to 1 exactly.
    logits = layers.Dense(NUM_CLASSES, name="logits", dtype="float32")(x)
    probabilities = layers.Activation("softmax", name="probabilities", dtype="float32")(logits)
    return keras.Model(images, probabilities, name=design.DESIGNED)

