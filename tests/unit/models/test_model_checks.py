"""Untrusted model files: each bad kind refused before loading, with one message naming it."""

import os

import pytest

from cifar_core.backend import keras
from cifar_core.models import importing, model_checks
from tests.unit.models import zoo


def refusal(path, tmp_path):
    """The one-line ModelError importing ``path`` gives; nothing is left in the catalogue."""
    models_directory = tmp_path / "catalogue"
    with pytest.raises(model_checks.ModelError) as error:
        importing.import_model(path, models_directory=models_directory)
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{path.name}: ")
    imported = models_directory / "imported"
    assert not imported.exists() or list(imported.iterdir()) == []
    return message


def test_a_legacy_h5_lambda_is_refused_without_running_its_code(tmp_path):
    marker = tmp_path / "the-lambda-ran"
    path = zoo.bad_lambda_h5(tmp_path / "evil.h5", marker)
    assert not marker.exists()
    message = refusal(path, tmp_path)
    assert "Lambda" in message and "Python code" in message
    assert not marker.exists(), "the Lambda's code ran while the file was checked"
    with pytest.raises(model_checks.ModelError):
        importing.open_model(path)
    assert not marker.exists()
    # The control: the file is armed. Keras with safe mode off runs the code on load.
    keras.models.load_model(path, compile=False, safe_mode=False)
    assert marker.exists()


def test_a_legacy_keras2_lambda_with_marshalled_bytecode_is_refused_unread(tmp_path):
    """Keras 2 stored a Lambda's function as base64 marshalled bytecode in model_config."""
    import base64
    import json
    import marshal

    import h5py

    marker = tmp_path / "bytecode-ran"
    code = compile(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]",
                   "<model>", "eval")
    bytecode = base64.b64encode(marshal.dumps(code)).decode()
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 32, 32, 3]}},
        {"class_name": "Lambda", "config": {"name": "lambda", "function": [bytecode, None, None],
                                            "function_type": "lambda"}},
        {"class_name": "Flatten", "config": {"name": "flatten"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 10}}]}}
    path = tmp_path / "keras2.h5"
    with h5py.File(path, "w") as file:
        file.attrs["model_config"] = json.dumps(config)
        file.attrs["keras_version"] = "2.15.0"
    assert "Lambda layer" in refusal(path, tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize("writer, reason", [
    (zoo.bad_lambda_keras, "Lambda layer"),
    (zoo.bad_custom_layer, "'Doubling', a custom or unsupported layer"),
    (zoo.bad_two_inputs, "2 inputs"),
    (zoo.bad_input_224, "input shape is (224, 224, 3)"),
    (zoo.bad_100_classes, "output shape is (100,)"),
    (zoo.bad_random_bytes, "not a Keras model file"),
    (zoo.bad_zip_not_model, "zip archive but not a Keras model"),
])
def test_bad_keras_files_get_one_clear_message(tmp_path, writer, reason):
    path = writer(tmp_path / f"{writer.__name__}.keras")
    assert reason in refusal(path, tmp_path)


def test_a_hdf5_file_that_is_not_a_model(tmp_path):
    path = zoo.bad_h5_not_model(tmp_path / "measurements.h5")
    assert "HDF5 file but not a whole Keras model" in refusal(path, tmp_path)


@pytest.mark.parametrize("file_format", ["keras", "h5"])
def test_a_truncated_file_is_refused(tmp_path, file_format):
    whole = zoo.save(zoo.build("sequential_default"), tmp_path, "whole", file_format)
    path = zoo.bad_truncated(tmp_path / f"cut.{file_format}", whole)
    message = refusal(path, tmp_path)
    assert "damaged or truncated" in message or "could not load" in message


def test_an_oversized_file_is_refused_from_its_size_alone(tmp_path, monkeypatch):
    path = tmp_path / "huge.keras"
    with open(path, "wb") as file:  # a sparse file: 201 MB on paper, nothing written
        file.truncate(201 * 2**20)
    read = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: read.append(a) or real_open(*a, **k))
    message = refusal(path, tmp_path)
    assert "over the 200 MB limit" in message and read == []


def test_an_empty_or_missing_file(tmp_path):
    empty = tmp_path / "empty.keras"
    empty.write_bytes(b"")
    assert "empty" in refusal(empty, tmp_path)
    with pytest.raises(model_checks.ModelError, match="missing.h5: no model file at"):
        importing.import_model(tmp_path / "missing.h5", models_directory=tmp_path)


def test_a_zip_bomb_config_is_not_unpacked(tmp_path, monkeypatch):
    monkeypatch.setattr(model_checks, "MAX_UNPACKED_BYTES", 1000)
    path = zoo.save(zoo.build("dense_only"), tmp_path, "dense", "keras")
    assert "unpacks to more than" in refusal(path, tmp_path)


def test_a_config_naming_a_foreign_module_is_refused(tmp_path):
    import json
    import zipfile

    path = tmp_path / "sneaky.keras"
    config = {"class_name": "Sequential", "module": "keras", "config": {"layers": [
        {"class_name": "Dense", "module": "keras.layers", "config": {
            "name": "dense", "units": 10,
            "activation": {"class_name": "function", "module": "os", "config": "system"}}}]}}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", b"")
    assert "module 'os'" in refusal(path, tmp_path)


def test_facts_of_an_accepted_file(tmp_path):
    path = zoo.save(zoo.build("nested_block"), tmp_path, "nested", "h5")
    facts = model_checks.inspect_file(path)
    assert facts.format == "h5" and facts.architecture == "Functional"
    assert facts.size == os.path.getsize(path)
    assert facts.layer_classes.count("Conv2D") == 2 and "Sequential" in facts.layer_classes
