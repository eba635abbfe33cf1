"""Receptive fields: size, step and the box of input pixels one output can see."""

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.inspect import activations, receptive_fields
from cifar_core.models import architectures

layers = keras.layers


def strided_model():
    """A tiny named mock on (8, 8, 3): stride 2, 'valid' padding, dilation and average pooling."""
    inputs = keras.Input((8, 8, 3))
    x = layers.Rescaling(1 / 255, name="rescaling")(inputs)
    x = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="conv1")(x)  # 4x4
    x = layers.Conv2D(4, 2, padding="valid", dilation_rate=1, name="conv2")(x)  # 3x3
    x = layers.BatchNormalization(name="norm")(x)
    x = layers.AveragePooling2D(3, strides=1, name="pool1")(x)  # 1x1
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="strided")


@pytest.mark.parametrize("architecture, expected", [
    ("tiny", {"conv1": (3, 1), "pool1": (4, 2), "conv2": (8, 2), "pool2": (10, 4)}),
    ("seed", {"conv1": (3, 1), "conv2": (5, 1), "pool1": (6, 2), "conv3": (10, 2),
              "conv4": (14, 2), "pool2": (16, 4), "conv5": (24, 4), "conv6": (32, 4),
              "pool3": (36, 8)}),
])
def test_receptive_fields(architecture, expected):
    fields = receptive_fields.receptive_fields(architectures.build_model(architecture, seed=0))
    assert {name: fields[name] for name in expected} == expected


def test_receptive_fields_with_strides_and_passthrough_layers():
    fields = receptive_fields.receptive_fields(strided_model())
    assert fields["conv1"] == (3, 2)
    assert fields["conv2"] == (5, 2)  # 3 + (2 - 1) * 2
    assert fields["norm"] == (5, 2)
    assert fields["pool1"] == (9, 2)  # 5 + (3 - 1) * 2


@pytest.mark.parametrize("architecture", ["tiny", "fast"])
def test_field_box_holds_every_pixel_an_output_depends_on(architecture):
    """Changing pixels outside the box leaves the output there unchanged; inside, it changes."""
    model = architectures.build_model(architecture, seed=0)
    geometry = receptive_fields.field_geometry(model)
    image = np.random.default_rng(3).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    extractor = activations.extractor(model)
    before = extractor(image)
    for name in activations.stage_layer_names(model)[:4]:
        side = before[name].shape[1]
        for row, column in [(0, 0), (side // 2, side // 3), (side - 1, side - 1)]:
            top, left, bottom, right = receptive_fields.field_box(geometry[name], row, column, 32)
            outside = np.ones((32, 32), bool)
            outside[top:bottom + 1, left:right + 1] = False
            changed = image.copy()
            changed[outside] = 255 - changed[outside]
            after = extractor(changed)[name][0, row, column]
            np.testing.assert_allclose(after, before[name][0, row, column], rtol=1e-4, atol=1e-4,
                                       err_msg=f"{name} at {(row, column)}")
            inside = image.copy()
            inside[top:bottom + 1, left:right + 1] = 255 - inside[top:bottom + 1, left:right + 1]
            assert not np.allclose(extractor(inside)[name][0, row, column],
                                   before[name][0, row, column])


def test_field_geometry_of_the_tiny_model(tiny_model):
    assert receptive_fields.field_geometry(tiny_model) == {
        "rescaling": (1, 1, 0.0), "conv1": (3, 1, 0.0), "pool1": (4, 2, 0.5),
        "conv2": (8, 2, 0.5), "pool2": (10, 4, 1.5)}
    assert receptive_fields.field_box((8, 2, 0.5), 5, 5, 32) == (7, 7, 14, 14)
    # clipped at borders
    assert receptive_fields.field_box((8, 2, 0.5), 0, 15, 32) == (0, 27, 4, 31)


def test_effective_kernel_and_same_padding_count_dilation_and_stride():
    inputs = keras.Input((8, 8, 3))
    dilated = layers.Conv2D(2, 3, dilation_rate=2, padding="same")
    strided = layers.Conv2D(2, (3, 4), strides=2, padding="same")
    valid = layers.Conv2D(2, 3, padding="valid")
    for layer in (dilated, strided, valid):
        layer(inputs)
    assert receptive_fields.effective_kernel(dilated) == 5  # (3 - 1) * 2 + 1
    assert receptive_fields.padding_before(dilated, 8) == 2
    # stride 2 over 8 pixels: 4 outputs need (4 - 1) * 2 + k pixels; the odd one goes after.
    assert receptive_fields.padding_before(strided, 8, axis=0) == 0
    assert receptive_fields.padding_before(strided, 8, axis=1) == 1
    assert receptive_fields.padding_before(valid, 8) == 0
