"""Layers read from a .keras file's config.json, without TensorFlow."""

import os
import zipfile

import pytest

from cifar_core.storage import PROJECT_ROOT
from cifar_core.teaching import model_files
from tests.unit.teaching.conftest import conv, layer, write_keras


def test_the_shipped_seed_model_has_six_conv_layers():
    layers = model_files.read_layers(PROJECT_ROOT / "models" / "seed.keras")
    assert layers[0].name == "images" and layers[-1].name == "probabilities"
    convs = model_files.conv_layers(PROJECT_ROOT / "models" / "seed.keras")
    assert [layer.name for layer in convs] == [f"conv{number}" for number in range(1, 7)]
    assert [layer.filters for layer in convs] == [32, 32, 64, 64, 128, 128]
    assert model_files.output_size(convs[0]) == 32  # 'same' padding keeps 32 x 32


def test_the_shipped_fast_model_starts_with_a_2x2_valid_conv():
    first = model_files.conv_layers(PROJECT_ROOT / "models" / "fast.keras")[0]
    assert (first.name, first.filters, first.kernel_size, first.padding) == (
        "conv1", 24, (2, 2), "valid")
    assert model_files.output_size(first) == 31


def test_a_fake_file_reads_like_a_model(tmp_path):
    path = write_keras(tmp_path / "small.keras")
    layers = model_files.read_layers(path)
    assert [(layer.name, layer.kind) for layer in layers] == [
        ("images", "InputLayer"), ("rescaling", "Rescaling"), ("conv1", "Conv2D"),
        ("pool1", "MaxPooling2D"), ("conv2", "Conv2D"), ("probabilities", "Dense")]
    assert [layer.is_conv for layer in layers] == [False, False, True, False, True, False]
    assert layers[3].filters is None and layers[4].filters == 16


def test_a_changed_file_is_read_again(tmp_path):
    path = write_keras(tmp_path / "model.keras")
    assert [layer.name for layer in model_files.conv_layers(path)] == ["conv1", "conv2"]
    write_keras(path, [conv("conv1", 4), conv("conv2", 4), conv("conv3", 4)])
    os.utime(path, ns=(1, 1))  # a different modification time, whatever the clock says
    assert [layer.name for layer in model_files.conv_layers(path)] == ["conv1", "conv2", "conv3"]


def write_bytes(path, data):
    path.write_bytes(data)
    return path


def zip_without_config(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.weights.h5", b"weights only")
    return path


@pytest.mark.parametrize("make, message", [
    (lambda path: path, "cannot be read"),  # no file at all
    (lambda path: write_bytes(path, b"this is not a model"), "not a readable .keras file"),
    (lambda path: write_bytes(path, b"PK\x03\x04 truncated"), "not a readable .keras file"),
    (zip_without_config, "has no config.json"),
    (lambda path: write_keras(path, config="{not json"), "not a readable .keras file"),
    (lambda path: write_keras(path, config=[1, 2]), "lists no layers"),
    (lambda path: write_keras(path, config={"config": {"layers": []}}), "lists no layers"),
    (lambda path: write_keras(path, [{"class_name": "Conv2D"}]), "without a name or class"),
    (lambda path: write_keras(path, [layer(3, "Dense")]), "without a name or class"),
    (lambda path: write_keras(path, config={"config": [1]}), "lists no layers"),
    (lambda path: write_keras(path, config="[" * 100_000 + "]" * 100_000),
     "not a readable .keras file"),
], ids=["missing", "not-a-zip", "truncated-zip", "no-config", "config-not-json",
        "config-not-an-object", "no-layers", "layer-without-config", "name-not-text",
        "inner-config-not-an-object", "json-nested-too-deep"])
def test_a_bad_file_raises_model_file_error_naming_it(tmp_path, make, message):
    path = make(tmp_path / "broken.keras")
    with pytest.raises(model_files.ModelFileError, match=message) as raised:
        model_files.read_layers(path)
    assert "broken.keras" in str(raised.value)


def test_an_oversized_config_is_not_read(tmp_path, monkeypatch):
    path = write_keras(tmp_path / "big.keras")
    monkeypatch.setattr(model_files, "MAX_CONFIG_BYTES", 10)
    model_files._cached_layers.cache_clear()
    with pytest.raises(model_files.ModelFileError, match="too large"):
        model_files.read_layers(path)


@pytest.mark.parametrize("kernel, padding, strides, size", [
    (3, "same", 1, 32), (2, "valid", 1, 31), (3, "valid", 1, 30), (3, "same", 2, 16),
    (3, "valid", 2, 15), (3, "causal", 1, None),
])
def test_output_size_follows_tensorflow(kernel, padding, strides, size):
    info = model_files._layer_info(conv("conv1", 8, kernel, padding, strides))
    assert model_files.output_size(info) == size


def test_output_size_of_a_layer_that_is_not_a_conv_is_none():
    assert model_files.output_size(model_files.LayerInfo("pool1", "MaxPooling2D")) is None


def test_a_stride_or_kernel_below_one_is_not_taken_as_a_size(tmp_path):
    """A tampered file with strides 0 must not reach the output-size arithmetic (a division
    by zero on the Lessons page): such a layer has no usable geometry."""
    path = write_keras(tmp_path / "odd.keras", [conv("conv1", 8, strides=0),
                                                conv("conv2", 8, kernel=-3)])
    first, second = model_files.conv_layers(path)
    assert first.strides is None and second.kernel_size is None
    assert model_files.output_size(first) is None and model_files.output_size(second) is None
