"""Architectures: the seed CNN's exact layer table, the model contract, save/load, conv1 by hand."""

import json

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.models import architectures, saving
from cifar_core.storage import PROJECT_ROOT

#: The seed notebook's model.summary(): (type, output shape, parameters), rescaling left out.
SEED_TABLE = [
    ("Conv2D", (32, 32, 32), 896),
    ("Dropout", (32, 32, 32), 0),
    ("Conv2D", (32, 32, 32), 9248),
    ("MaxPooling2D", (16, 16, 32), 0),
    ("Conv2D", (16, 16, 64), 18496),
    ("Dropout", (16, 16, 64), 0),
    ("Conv2D", (16, 16, 64), 36928),
    ("MaxPooling2D", (8, 8, 64), 0),
    ("Conv2D", (8, 8, 128), 73856),
    ("Dropout", (8, 8, 128), 0),
    ("Conv2D", (8, 8, 128), 147584),
    ("MaxPooling2D", (4, 4, 128), 0),
    ("Flatten", (2048,), 0),
    ("Dropout", (2048,), 0),
    ("Dense", (1024,), 2098176),
    ("Dropout", (1024,), 0),
    ("Dense", (512,), 524800),
    ("Dropout", (512,), 0),
    ("Dense", (10,), 5130),
]


@pytest.fixture(scope="module")
def built():
    """One model per architecture, built once for the module."""
    return {name: architectures.build_model(name, seed=1) for name in architectures.ARCHITECTURES}


def random_images(count, seed=0):
    """Raw uint8-valued images as float32 (count, 32, 32, 3), as the models expect."""
    return np.random.default_rng(seed).integers(0, 256, (count, 32, 32, 3)).astype("float32")


def test_seed_matches_notebook_summary(built):
    model = built["seed"]
    rows = [(type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params())
            for layer in model.layers[2:]]  # Skip the input and rescaling layers.
    assert rows == SEED_TABLE
    trainable = sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)
    assert trainable == 2_915_114
    assert model.layers[1].name == "rescaling"


@pytest.mark.parametrize("name", sorted(architectures.ARCHITECTURES))
def test_contract_forward_pass_and_reload(built, name, tmp_path):
    model = built[name]
    assert model.name == name
    assert tuple(model.input_shape[1:]) == (32, 32, 3)
    assert model.get_layer("rescaling") is not None
    conv_names = architectures.conv_layer_names(model)
    assert conv_names == [f"conv{index}" for index in range(1, len(conv_names) + 1)]
    assert model.layers[-1].name == "probabilities"

    images = random_images(4)
    probabilities = np.asarray(model(images, training=False))
    assert probabilities.shape == (4, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)

    path = saving.save_model(model, tmp_path / f"{name}.keras")
    reloaded = saving.load_model(path)
    assert reloaded.name == name
    np.testing.assert_allclose(np.asarray(reloaded(images, training=False)), probabilities,
                               rtol=1e-5, atol=1e-6)
    assert not list(tmp_path.glob(".tmp-*"))  # Atomic save leaves no temporary behind.


def test_conv1_matches_numpy_reference(built):
    """conv1 at one pixel = relu(sum(patch * kernel) + bias) on the rescaled input."""
    model = built["seed"]
    images = random_images(1, seed=3)
    extractor = keras.Model(model.input, model.get_layer("conv1").output)
    feature_maps = np.asarray(extractor(images, training=False))  # (1, 32, 32, 32)
    kernel, bias = (np.asarray(weight) for weight in model.get_layer("conv1").get_weights())
    row, column = 10, 17
    patch = images[0, row - 1:row + 2, column - 1:column + 2, :] / 255.0  # (3, 3, 3)
    expected = np.maximum(np.einsum("hwc,hwcf->f", patch, kernel) + bias, 0.0)  # (32,)
    np.testing.assert_allclose(feature_maps[0, row, column], expected, rtol=1e-4, atol=1e-5)


def test_unknown_architecture_is_a_value_error():
    with pytest.raises(ValueError, match="resnet"):
        architectures.build_model("resnet")


SHIPPED = sorted((PROJECT_ROOT / "models").glob("*.keras"))


def test_the_shipped_models_are_there():
    assert [path.stem for path in SHIPPED] == ["fast", "seed"]


@pytest.mark.parametrize("path", SHIPPED, ids=[path.stem for path in SHIPPED])
def test_shipped_model_matches_its_architecture(path):
    """A shipped model has the current builder's weight shapes.

    That way inference_copy and the pages agree.
    """
    card = json.loads(path.with_suffix(".json").read_text())
    model = saving.load_model(path)
    assert card["architecture"] == model.name
    fresh = architectures.build_model(model.name)
    assert [weight.shape for weight in model.weights] == [weight.shape for weight in fresh.weights]
    assert card["parameters"] == fresh.count_params()
