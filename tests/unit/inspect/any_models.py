"""Tiny models of many shapes in the layout every page gets (issue 15's contract).

Input float32 (None, 32, 32, 3) of raw 0-255 pixels -> a layer named ``rescaling`` -> the
network's own layers under Keras' default names -> a softmax named ``probabilities``.
Each builder is deterministic (``seed``); ``BUILDERS`` names them for parametrised tests.
"""

import numpy as np

from cifar_core.backend import keras

layers = keras.layers


def _start(scaling="divide"):
    images = keras.Input((32, 32, 3), name="images")
    if scaling == "divide":
        return images, layers.Rescaling(1.0 / 255, name="rescaling")(images)
    mean = np.array([125.3, 123.0, 113.9], np.float32)  # CIFAR-10's per-channel statistics
    variance = np.array([63.0, 62.1, 66.7], np.float32) ** 2
    return images, layers.Normalization(mean=mean, variance=variance, name="rescaling")(images)


def _end(images, features, name, logits=True):
    if logits:
        scores = layers.Dense(10)(features)
        return keras.Model(images, layers.Activation("softmax", name="probabilities")(scores),
                           name=name)
    return keras.Model(images, layers.Dense(10, activation="softmax", name="probabilities")(
        features), name=name)


def sequential_default_names(seed=0):
    """The seed notebook's shape in miniature: default names, /255, ReLU convs, Dense head."""
    keras.utils.set_random_seed(seed)
    images, x = _start()
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)  # -> 16 x 16
    x = layers.Conv2D(6, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)  # -> 8 x 8
    x = layers.Flatten()(x)  # (8, 8, 6) -> (384,)
    x = layers.Dense(12, activation="relu")(x)
    return _end(images, x, "sequential", logits=False)


def standardised_dilated(seed=0):
    """Standardised inputs, a strided 'valid' GELU conv, a dilated one, BN + ReLU, logits."""
    keras.utils.set_random_seed(seed)
    images, x = _start("standardise")
    x = layers.Conv2D(5, 3, strides=2, padding="valid", activation="gelu")(x)  # -> 15 x 15
    x = layers.Conv2D(6, 3, padding="valid", dilation_rate=2)(x)  # 15 -> 11
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return _end(images, x, "standardised")


def dilated_first(seed=0):
    """A dilated 'same'-padded first convolution (linear), then a strided tanh one."""
    keras.utils.set_random_seed(seed)
    images, x = _start()
    x = layers.Conv2D(4, 3, dilation_rate=2, padding="same")(x)  # sees 5 x 5, stays 32 x 32
    x = layers.Conv2D(4, 3, strides=2, padding="same", activation="tanh")(x)  # -> 16 x 16
    x = layers.GlobalMaxPooling2D()(x)
    return _end(images, x, "dilated")


def residual(seed=0):
    """Two residual blocks: a strided stem, an identity shortcut, a strided 1x1 shortcut."""
    keras.utils.set_random_seed(seed)
    images, x = _start()
    x = layers.Conv2D(4, 3, strides=2, padding="same", use_bias=False)(x)  # -> 16 x 16
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    branch = layers.Conv2D(4, 3, padding="same")(x)
    branch = layers.BatchNormalization()(branch)
    x = layers.ReLU()(layers.Add()([x, branch]))
    shortcut = layers.Conv2D(8, 1, strides=2)(x)  # -> 8 x 8
    branch = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    branch = layers.Conv2D(8, 3, padding="same")(branch)
    x = layers.Activation("relu")(layers.Add()([shortcut, branch]))
    x = layers.GlobalAveragePooling2D()(x)
    return _end(images, x, "residual")


def separable_depthwise(seed=0):
    """A depthwise first layer (multiplier 2), then a strided separable convolution."""
    keras.utils.set_random_seed(seed)
    images, x = _start()
    x = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu")(x)
    x = layers.SeparableConv2D(8, 3, strides=2, depth_multiplier=2, padding="valid")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.AveragePooling2D(2)(x)
    x = layers.Flatten()(x)
    return _end(images, x, "mobile")


def separable_first(seed=0):
    """A separable first layer with its own ReLU (the convolution by hand on two steps)."""
    keras.utils.set_random_seed(seed)
    images, x = _start()
    x = layers.SeparableConv2D(6, 3, depth_multiplier=2, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    return _end(images, x, "separable")


def dense_only(seed=0):
    """No convolution at all: flatten the pixels into a small multilayer perceptron."""
    keras.utils.set_random_seed(seed)
    images, x = _start()
    x = layers.Flatten()(x)  # (32, 32, 3) -> (3072,)
    x = layers.Dense(8, activation="relu")(x)
    return _end(images, x, "perceptron", logits=False)


BUILDERS = {"sequential": sequential_default_names, "standardised": standardised_dilated,
            "dilated": dilated_first, "residual": residual, "mobile": separable_depthwise,
            "separable": separable_first, "perceptron": dense_only}
#: The builders whose models have at least one convolution.
WITH_CONVOLUTIONS = [name for name in BUILDERS if name != "perceptron"]


# Models whose answers are known, for the attribution methods and their sanity check (not
# in BUILDERS: they are set by hand, not shapes to parametrise the pages' tests over).
ROWS, COLUMNS = slice(8, 16), slice(16, 24)  # the region the hand-set model reads
WEIGHT = 0.02  # its weight per channel of each pixel (0-1 after rescaling)


def build_region_model():
    """conv1 sums the channels (1x1, weights 1); the head reads only the region, class 0.

    Its "airplane" logit is a weighted sum of the pixels in one 8 x 8 square (``ROWS``,
    ``COLUMNS``) and nothing else, so occlusion must find that square and Integrated
    Gradients is exact there.
    """
    images = keras.Input((32, 32, 3), name="images")
    x = keras.layers.Rescaling(1 / 255, name="rescaling")(images)
    x = keras.layers.Conv2D(1, 1, use_bias=False, name="conv1")(x)  # (32, 32, 1)
    x = keras.layers.Flatten(name="flatten")(x)  # (1024,)
    probabilities = keras.layers.Dense(10, activation="softmax", name="probabilities")(x)
    model = keras.Model(images, probabilities, name="region")
    model.get_layer("conv1").set_weights([np.ones((1, 1, 3, 1), np.float32)])
    kernel = np.zeros((32, 32, 10), np.float32)
    kernel[ROWS, COLUMNS, 0] = WEIGHT
    model.get_layer("probabilities").set_weights([kernel.reshape(1024, 10),
                                                  np.zeros(10, np.float32)])
    return model


def build_dense_only_model():
    """No convolution at all: Grad-CAM cannot explain it, the other methods can."""
    images = keras.Input((32, 32, 3), name="images")
    x = keras.layers.Rescaling(1 / 255, name="rescaling")(images)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(16, activation="relu", name="dense1")(x)
    probabilities = keras.layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(images, probabilities, name="dense-only")
