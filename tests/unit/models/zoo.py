"""A zoo of tiny generated models of every kind the importer accepts, and files it refuses.

Untrained, small (a few thousand weights), on (32, 32, 3) inputs, with Keras' default
layer names, as a student's notebook would make them:

- ``sequential_default``: a ``Sequential`` fed ``X / 255`` (no scaling layer), softmax out.
- ``standardised_logits``: functional, fed standardised pixels, batch norm, logits out.
- ``residual_strided``: its own ``Rescaling`` in front, strided and dilated convolutions, a
  residual ``Add``, softmax out.
- ``separable_depthwise``: (None, None, 3) input, ``SeparableConv2D``, ``DepthwiseConv2D``,
  a 1x1 ``Conv2D``, logits out.
- ``nested_block``: a ``Sequential`` block (conv, ReLU, pool) used as a layer.
- ``dense_only``: no convolution at all.

``save`` writes any of them as ``.keras`` or legacy ``.h5``; ``import_into`` imports one
into a models folder (no dataset needed) and returns its ``catalog.ModelEntry``, for other
tests (pages in AppTest) that need imported models. The ``bad_*`` writers make the files
the importer must refuse, and ``brightness_*`` a task whose right input scaling is forced.
"""

import json
import zipfile
from types import SimpleNamespace

import numpy as np

from cifar_core.backend import keras
from cifar_core.models import input_scaling

layers = keras.layers


def sequential_default():
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),  # -> 16x16
        layers.Conv2D(8, 3, activation="relu"),  # -> 14x14
        layers.MaxPooling2D(),  # -> 7x7
        layers.Flatten(),  # (7, 7, 8) -> (392,)
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])


def standardised_logits():
    images = keras.Input((32, 32, 3))
    x = layers.Conv2D(4, 3, padding="same", use_bias=False)(images)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(images, layers.Dense(10)(x))


def residual_strided():
    images = keras.Input((32, 32, 3))
    x = layers.Rescaling(1 / 255)(images)
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)  # -> 16x16
    branch = layers.Conv2D(8, 3, padding="same", dilation_rate=2, activation="relu")(x)
    x = layers.Add()([x, branch])
    x = layers.Conv2D(8, 3, strides=2, padding="valid")(x)  # -> 7x7
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(images, layers.Dense(10, activation="softmax")(x))


def separable_depthwise():
    images = keras.Input((None, None, 3))
    x = layers.SeparableConv2D(8, 3, padding="same", activation="relu")(images)
    x = layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2)(x)  # -> 15x15x16
    x = layers.Conv2D(8, 1)(x)
    x = layers.GlobalMaxPooling2D()(x)
    return keras.Model(images, layers.Dense(10)(x))


def nested_block():
    block = keras.Sequential([layers.Conv2D(4, 3, padding="same"), layers.ReLU(),
                              layers.MaxPooling2D()], name="block")
    images = keras.Input((32, 32, 3))
    x = block(images)  # -> 16x16x4
    x = layers.Conv2D(4, 3)(x)
    x = layers.Flatten()(x)
    return keras.Model(images, layers.Dense(10, activation="softmax")(x))


def dense_only():
    return keras.Sequential([keras.Input((32, 32, 3)), layers.Flatten(),
                             layers.Dense(16, activation="relu"),
                             layers.Dense(10, activation="softmax")])


KINDS = {"sequential_default": sequential_default, "standardised_logits": standardised_logits,
         "residual_strided": residual_strided, "separable_depthwise": separable_depthwise,
         "nested_block": nested_block, "dense_only": dense_only}
#: What each kind outputs, as the importer should detect it.
OUTPUTS = {"sequential_default": "probabilities", "standardised_logits": "logits",
           "residual_strided": "probabilities", "separable_depthwise": "logits",
           "nested_block": "probabilities", "dense_only": "probabilities"}


def build(kind, seed=0):
    """An untrained model of ``kind`` (one of ``KINDS``), weights fixed by ``seed``."""
    keras.utils.set_random_seed(seed)
    return KINDS[kind]()


def save(model, directory, name, file_format="keras"):
    """``model`` saved as ``directory/name.keras`` or legacy ``directory/name.h5``."""
    path = directory / f"{name}.{file_format}"
    model.save(path)
    return path


def import_into(models_directory, kind, file_format="keras", *, scaling=None, dataset=None):
    """Import a fresh ``kind`` model into ``models_directory``; its ModelEntry."""
    from cifar_core.models import importing

    source = models_directory / "zoo-sources"
    source.mkdir(parents=True, exist_ok=True)
    path = save(build(kind), source, kind, file_format)
    return importing.import_model(path, kind, dataset=dataset, scaling=scaling,
                                  models_directory=models_directory)


# Files the importer must refuse.

def bad_lambda_h5(path, marker):
    """A legacy .h5 whose Lambda layer's Python code would create the file ``marker``."""
    function = eval(  # noqa: S307 - the very code the importer must never run
        f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]")
    model = keras.Sequential([keras.Input((32, 32, 3)), layers.Lambda(function),
                              layers.Flatten(), layers.Dense(10, activation="softmax")])
    marker.unlink(missing_ok=True)  # building the model ran the lambda once
    model.save(path)
    return path


def bad_lambda_keras(path):
    model = keras.Sequential([keras.Input((32, 32, 3)), layers.Lambda(lambda x: x * 2),
                              layers.Flatten(), layers.Dense(10)])
    model.save(path)
    return path


@keras.saving.register_keras_serializable(package="zoo")
class Doubling(layers.Layer):
    """A custom layer class the app does not know."""

    def call(self, inputs):
        return inputs * 2


def bad_custom_layer(path):
    model = keras.Sequential([keras.Input((32, 32, 3)), Doubling(), layers.Flatten(),
                              layers.Dense(10)])
    model.save(path)
    return path


def bad_two_inputs(path):
    first, second = keras.Input((32, 32, 3)), keras.Input((32, 32, 3))
    x = layers.Flatten()(layers.Add()([first, second]))
    keras.Model([first, second], layers.Dense(10)(x)).save(path)
    return path


def bad_input_224(path):
    keras.Sequential([keras.Input((224, 224, 3)), layers.Conv2D(2, 3, strides=8),
                      layers.GlobalAveragePooling2D(), layers.Dense(10)]).save(path)
    return path


def bad_100_classes(path):
    keras.Sequential([keras.Input((32, 32, 3)), layers.Flatten(),
                      layers.Dense(100, activation="softmax")]).save(path)
    return path


def bad_truncated(path, source):
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def bad_random_bytes(path):
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    return path


def bad_zip_not_model(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "holiday photos")
        archive.writestr("data.json", json.dumps({"a": 1}))
    return path


def bad_h5_not_model(path):
    import h5py

    with h5py.File(path, "w") as file:
        file.create_dataset("temperatures", data=np.arange(10.0))
    return path


# A task whose right scaling is forced: the class is the image's brightness bucket.

def brightness_dataset(train=2000, test=1000, seed=0):
    """Images of one flat grey level each; the label is which tenth of 0-255 it falls in."""
    rng = np.random.default_rng(seed)

    def split(count):
        levels = rng.integers(0, 256, count)
        images = np.broadcast_to(levels[:, None, None, None], (count, 32, 32, 3)).astype(np.uint8)
        return images, np.minimum(levels // 25.6, 9).astype(np.int64)

    x_train, y_train = split(train)
    x_test, y_test = split(test)
    return SimpleNamespace(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def brightness_classifier(scaling, statistics=None, *, softmax=False):
    """A hand-set model that classifies ``brightness_dataset`` perfectly when its pixels come
    scaled as ``scaling``: logit k = 2 c_k s - c_k^2 (the nearest bucket centre c_k to the
    mean level s, as -(s - c_k)^2 up to a term shared by every class)."""
    centres = (np.arange(10) + 0.5) * 25.6  # raw 0-255 bucket centres
    scaled = input_scaling.scale(np.broadcast_to(centres[:, None, None, None], (10, 1, 1, 3)),
                                 scaling, statistics)[:, 0, 0, 0]  # channel 0, (10,)
    images = keras.Input((32, 32, 3))
    means = layers.GlobalAveragePooling2D()(images)  # (3,): each channel's level
    dense = layers.Dense(10, activation="softmax" if softmax else None)
    outputs = dense(means)
    kernel = np.zeros((3, 10), np.float32)
    kernel[0] = 2 * scaled
    dense.set_weights([kernel, (-scaled ** 2).astype(np.float32)])
    return keras.Model(images, outputs)
