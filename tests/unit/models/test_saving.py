"""Saving and loading our models: atomic .keras files, safe loading, model cards."""

import json
import zipfile

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.models import saving


def test_load_refuses_non_model_files(tmp_path):
    text = tmp_path / "notes.keras"
    text.write_text("not a model")
    with pytest.raises(saving.ModelError, match="notes.keras"):
        saving.load_model(text)
    with pytest.raises(saving.ModelError, match="no model file"):
        saving.load_model(tmp_path / "missing.keras")
    broken = tmp_path / "broken.keras"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("config.json", "{}")
    with pytest.raises(saving.ModelError):
        saving.load_model(broken)


def test_load_refuses_foreign_keras_model(tmp_path):
    inputs = keras.Input((8,))
    foreign = keras.Model(inputs, keras.layers.Dense(2)(inputs), name="someone_elses")
    path = tmp_path / "foreign.keras"
    foreign.save(path)
    with pytest.raises(saving.ModelError, match="someone_elses"):
        saving.load_model(path)


def test_model_card_fields(tiny_model_path):
    card = json.loads(tiny_model_path.with_suffix(".json").read_text())
    assert set(card) == {"architecture", "recipe", "epochs", "test_accuracy", "date", "parameters"}
    assert card["architecture"] == "tiny"
    assert 0.0 <= card["test_accuracy"] <= 1.0


def contract_model(name="designed", dtype=None):
    """A small non-ours model with the app's layout: rescaling ... probabilities."""
    images = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255, name="rescaling", dtype=dtype)(images)
    x = keras.layers.Conv2D(4, 3, strides=2, dtype=dtype)(x)
    x = keras.layers.GlobalAveragePooling2D(dtype=dtype)(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities",
                                 dtype="float32")(x)
    return keras.Model(images, outputs, name=name)


def test_load_accepts_any_model_with_the_layout(tmp_path):
    model = contract_model()
    path = saving.save_model(model, tmp_path / "designed.keras")
    loaded = saving.load_model(path)
    assert loaded.name == "designed" and loaded.layers[-1].name == "probabilities"
    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("change, reason", [
    ("no_rescaling", "first layer"), ("no_probabilities", "last layer"),
    ("wrong_input", "input shape"), ("nested", "nests sub-models")])
def test_load_refuses_models_without_the_layout(tmp_path, change, reason):
    images = keras.Input((16, 16, 3) if change == "wrong_input" else (32, 32, 3))
    x = images
    if change != "no_rescaling":
        x = keras.layers.Rescaling(1 / 255, name="rescaling")(x)
    if change == "nested":
        block = keras.Sequential([keras.layers.Conv2D(2, 3)], name="block")
        x = block(x)
    x = keras.layers.Flatten()(x)
    last_name = "scores" if change == "no_probabilities" else "probabilities"
    outputs = keras.layers.Dense(10, activation="softmax", name=last_name)(x)
    path = tmp_path / "bad.keras"
    keras.Model(images, outputs, name="bad").save(path)
    with pytest.raises(saving.ModelError, match=f"bad.keras.*{reason}"):
        saving.load_model(path)


def test_inference_copy_of_a_mixed_precision_designed_network_is_float32(tmp_path):
    model = contract_model(dtype="mixed_bfloat16")
    copy = saving.inference_copy(model)
    assert all(layer.dtype_policy.name == "float32" for layer in copy.layers)
    for original, copied in zip(model.get_weights(), copy.get_weights(), strict=True):
        np.testing.assert_array_equal(original, copied)
    float32_model = contract_model()
    assert saving.inference_copy(float32_model) is float32_model
    saving.save_model(model, tmp_path / "mixed.keras")
    assert saving.load_model(tmp_path / "mixed.keras").layers[1].dtype_policy.name == "float32"
