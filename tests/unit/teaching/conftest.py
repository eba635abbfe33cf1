"""Fixtures for the teaching tests: fake ``.keras`` files (a zip with a config.json, no
TensorFlow needed), app facts over the shipped models, lesson files in a temp folder."""

import json
import zipfile

import pytest

from cifar_core.storage import PROJECT_ROOT
from cifar_core.teaching import views


def conv(name, filters, kernel=3, padding="same", strides=1):
    return {"class_name": "Conv2D", "config": {
        "name": name, "filters": filters, "kernel_size": [kernel, kernel],
        "strides": [strides, strides], "padding": padding}}


def layer(name, kind):
    return {"class_name": kind, "config": {"name": name}}


#: A small model's layer list as Keras 3 writes it: conv1 (8 filters) -> pool1 -> conv2 (16).
SMALL_LAYERS = [layer("images", "InputLayer"), layer("rescaling", "Rescaling"),
                conv("conv1", 8), layer("pool1", "MaxPooling2D"), conv("conv2", 16),
                layer("probabilities", "Dense")]


def write_keras(path, layers=SMALL_LAYERS, *, config=None):
    """A fake .keras file: a zip whose config.json lists ``layers`` (or holds ``config``)."""
    if config is None:
        config = {"class_name": "Functional", "config": {"name": "small", "layers": layers}}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        archive.writestr("config.json", config if isinstance(config, str) else json.dumps(config))
    return path


@pytest.fixture(scope="session")
def shipped_facts():
    """The app's facts over the shipped models only (models/seed.keras, models/fast.keras)."""
    facts = views.app_facts(PROJECT_ROOT / "models", PROJECT_ROOT / "no-runs-here")
    assert list(facts.models) == ["fast", "seed"], "the shipped models changed"
    return facts


@pytest.fixture
def small_facts(tmp_path):
    """Facts with one fake model, ``small``, and no other."""
    return views.AppFacts({"small": write_keras(tmp_path / "small.keras")})
