"""CNN architectures by name: builders of our functional Keras models.

Every model follows one contract so the pages can treat them alike (docs/architecture.md):
a functional model starting at ``keras.Input((32, 32, 3))`` that takes raw uint8-valued
images, rescales them to 0-1 in a layer named ``rescaling``, names its convolutions
``conv1``, ``conv2``, ... (ordinary ``Conv2D``), its pooling ``pool1``, ..., its dense
layers ``dense1``, ... and ends in a 10-way softmax named ``probabilities``.
``model.name`` is the architecture name, which is how ``saving.load_model`` recognises ours.

- ``seed``: the seed notebook's CNN, layer for layer (2,915,114 trainable parameters).
- ``fast``: an airbench-style network for time-to-accuracy on a CPU: a fixed 2x2
  whitening convolution, batch norm after pooling, GELU, global max pooling.
- ``fast-small``: the same design at a quarter of the width: several times the images per
  second, for the shortest time to a given accuracy (the 5-minute benchmarks).
- ``tiny``: two small convolutions; an epoch on the full set takes seconds, for demos.
"""

from cifar_core.backend import keras
from cifar_core.models import contract
from cifar_core.models.contract import ARCHITECTURE_NAMES, IMAGE_SHAPE, NUM_CLASSES, PRECISIONS

layers = keras.layers


def _input_and_rescaling(dtype):
    """The shared stem: raw 0-255 pixels in, 0-1 floats out (inside the model)."""
    images = keras.Input(IMAGE_SHAPE, name="images")
    return images, layers.Rescaling(1.0 / 255, name="rescaling", dtype=dtype)(images)


def build_seed(dtype=None):
    """The seed notebook's CNN: three conv pairs (32, 64, 128), dropout 0.2.

    Two MaxNorm dense layers come after the convolutions.
    """
    images, x = _input_and_rescaling(dtype)
    dropout_index = 0

    def dropout(tensor):
        nonlocal dropout_index
        dropout_index += 1
        return layers.Dropout(0.2, name=f"dropout{dropout_index}", dtype=dtype)(tensor)

    for pair, filters in enumerate((32, 64, 128)):
        first, second = 2 * pair + 1, 2 * pair + 2
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{first}",
                          dtype=dtype)(x)
        x = dropout(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{second}",
                          dtype=dtype)(x)
        x = layers.MaxPooling2D(2, name=f"pool{pair + 1}", dtype=dtype)(x)
    x = layers.Flatten(name="flatten", dtype=dtype)(x)  # (4, 4, 128) -> (2048,)
    x = dropout(x)
    x = layers.Dense(1024, activation="relu", kernel_constraint=keras.constraints.MaxNorm(3),
                     name="dense1", dtype=dtype)(x)
    x = dropout(x)
    x = layers.Dense(512, activation="relu", kernel_constraint=keras.constraints.MaxNorm(3),
                     name="dense2", dtype=dtype)(x)
    x = dropout(x)
    # The output stays float32 under mixed precision so the probabilities sum to 1 exactly.
    probabilities = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities",
                                 dtype="float32")(x)
    return keras.Model(images, probabilities, name="seed")


#: Widths of the fast network: the whitening conv, then three blocks of two convs each.
FAST_WHITENING_FILTERS = 24  # 12 eigen-patches of 2x2x3 pixels, each with both signs
# airbench94's widths: slower per image than narrower middle blocks, but it learns more per
# epoch (README's model table has what the shipped model reached).
FAST_WIDTHS = (64, 256, 256)
# A quarter of the width, for time-to-accuracy on a CPU (README's benchmark table).
FAST_SMALL_WIDTHS = (32, 64, 128)


def build_fast(dtype=None, *, widths=FAST_WIDTHS, name="fast"):
    """An airbench-style CNN: fixed whitening conv, then conv-pool-BN-GELU-conv-BN-GELU blocks.

    ``conv1`` is a 2x2 whitening convolution whose kernel ``fast_init.init_whitening`` sets
    from the training images' patch covariance and freezes; it decorrelates the pixels so
    the later layers learn quickly. Batch norm after each pooling keeps large learning
    rates stable; global max pooling keeps the head small (see README's benchmarks).
    """
    # The whitening stem computes in float32 whatever the precision: in bfloat16 its faint,
    # fine patterns carried 17-19% rounding noise (measured on the real images).
    images, x = _input_and_rescaling("float32")
    x = layers.Conv2D(FAST_WHITENING_FILTERS, 2, padding="valid", name="conv1",
                      dtype="float32")(x)  # -> 31x31
    x = layers.Activation("gelu", name="gelu1", dtype="float32")(x)
    conv_index, norm_index = 1, 0
    for block, width in enumerate(widths, start=1):
        for position in range(2):
            conv_index += 1
            x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{conv_index}",
                              dtype=dtype)(x)
            if position == 0:
                x = layers.MaxPooling2D(2, name=f"pool{block}", dtype=dtype)(x)  # 31->15->7->3
            norm_index += 1
            x = layers.BatchNormalization(momentum=0.6, epsilon=1e-5, name=f"batchnorm{norm_index}",
                                          dtype=dtype)(x)
            x = layers.Activation("gelu", name=f"gelu{norm_index + 1}", dtype=dtype)(x)
    x = layers.GlobalMaxPooling2D(name=f"pool{len(widths) + 1}",
                                  dtype=dtype)(x)  # (3, 3, widths[-1]) -> (widths[-1],)
    logits = layers.Dense(NUM_CLASSES, use_bias=False, name="dense1", dtype="float32")(x)
    # Airbench scales the logits down so the softmax starts soft; a layer keeps it savable.
    scaled = layers.Rescaling(1.0 / 9, name="logit_scale", dtype="float32")(logits)
    probabilities = layers.Activation("softmax", name="probabilities", dtype="float32")(scaled)
    return keras.Model(images, probabilities, name=name)


def build_fast_small(dtype=None):
    """``build_fast`` at the widths ``FAST_SMALL_WIDTHS``."""
    return build_fast(dtype, widths=FAST_SMALL_WIDTHS, name="fast-small")


def build_tiny(dtype=None):
    """Two small conv blocks and a linear head: an epoch of 50,000 images in seconds."""
    images, x = _input_and_rescaling(dtype)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1", dtype=dtype)(x)
    x = layers.MaxPooling2D(2, name="pool1", dtype=dtype)(x)  # -> 16x16
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2", dtype=dtype)(x)
    x = layers.MaxPooling2D(2, name="pool2", dtype=dtype)(x)  # -> 8x8
    x = layers.GlobalAveragePooling2D(name="pool3", dtype=dtype)(x)  # (8, 8, 32) -> (32,)
    probabilities = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities",
                                 dtype="float32")(x)
    return keras.Model(images, probabilities, name="tiny")


ARCHITECTURES = {"seed": build_seed, "fast": build_fast, "fast-small": build_fast_small,
                 "tiny": build_tiny}
assert tuple(ARCHITECTURES) == ARCHITECTURE_NAMES, "contract.ARCHITECTURE_NAMES is out of step"
#: Architectures whose conv1 is the fixed whitening layer (``fast_init.init_whitening``).
WHITENED = ("fast", "fast-small")


def build_model(name, seed=None, precision="float32"):
    """A fresh, uncompiled model of architecture ``name``; ``seed`` fixes its initial weights.

    ``precision="mixed_bfloat16"`` computes in bfloat16 with float32 weights (faster
    training on CPUs with AVX512-BF16); ``saving.save_model`` always stores float32 models.
    """
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose one of {sorted(ARCHITECTURES)}")
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {list(PRECISIONS)}")
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    return ARCHITECTURES[name](dtype=precision)


#: Convolution-like layers, found by type (never by name): any stride, padding, dilation or
#: activation. Keras 3's depthwise and separable convolutions are not ``Conv2D`` subclasses.
CONVOLUTION_TYPES = tuple(getattr(layers, name) for name in contract.CONVOLUTION_CLASS_NAMES)


def conv_layer_names(model):
    """Names of the model's convolution-like layers (``CONVOLUTION_TYPES``) in graph order.

    Empty for a model without convolutions (a Dense-only classifier).
    """
    return [layer.name for layer in model.layers if isinstance(layer, CONVOLUTION_TYPES)]
