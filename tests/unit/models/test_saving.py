"""Saving and loading our models: atomic .keras files, safe loading, model cards."""

import json
import zipfile

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
