"""Feature-map extractor, layer facts, filters and mosaics."""

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.display import pictures
from cifar_core.inspect import activations
from cifar_core.models import architectures, saving

layers = keras.layers


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)


def test_stage_names_follow_the_forward_order(tiny_model):
    assert activations.stage_layer_names(tiny_model) == ["conv1", "pool1", "conv2", "pool2"]
    assert architectures.conv_layer_names(tiny_model) == architectures.conv_layer_names(tiny_model)


def test_extractor_names_and_shapes(tiny_model, images):
    outputs = activations.extractor(tiny_model)(images)
    assert {name: value.shape for name, value in outputs.items()} == {
        "conv1": (3, 32, 32, 16), "pool1": (3, 16, 16, 16), "conv2": (3, 16, 16, 32),
        "pool2": (3, 8, 8, 32), "probabilities": (3, 10),
        "conv1.input": (3, 32, 32, 3), "conv2.input": (3, 16, 16, 16),
    }
    single = activations.extractor(tiny_model)(images[0])
    assert single["conv1"].shape == (1, 32, 32, 16)
    only = activations.Extractor(tiny_model, ["pool2"])(images)
    assert list(only) == ["pool2"] and only["pool2"].shape == (3, 8, 8, 32)


def test_extractor_is_built_once_per_model(tiny_model):
    assert activations.extractor(tiny_model) is activations.extractor(tiny_model)


def test_extractor_equals_a_manual_forward_pass_layer_by_layer(tiny_model, images):
    outputs = activations.extractor(tiny_model)(images)
    tensor = images.astype(np.float32)
    for layer in tiny_model.layers[1:]:  # skip the InputLayer
        if layer.name == "conv1":
            np.testing.assert_allclose(outputs["conv1.input"], tensor, rtol=1e-6)
        tensor = layer(tensor, training=False).numpy()
        if layer.name in outputs:
            np.testing.assert_allclose(outputs[layer.name], tensor, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outputs["probabilities"].sum(axis=1), 1.0, rtol=1e-5)


def test_one_image_is_computed_once_and_shared_read_only(tiny_model, images, monkeypatch):
    extractor = activations.Extractor(tiny_model, ["conv1", "probabilities"])
    batches = []
    run = extractor._run
    monkeypatch.setattr(extractor, "_run", lambda batch: batches.append(len(batch)) or run(batch))
    first = extractor(images[0])
    again = extractor(images[0].copy())  # the same pixels, another array
    assert batches == [1]
    np.testing.assert_array_equal(again["conv1"], first["conv1"])
    with pytest.raises(ValueError, match="read-only"):
        again["conv1"][0, 0, 0, 0] = 1.0  # shared with every later caller
    again["extra"] = None  # each caller gets its own dict
    assert "extra" not in extractor(images[0])
    other = extractor(images[1])
    assert batches == [1, 1]
    assert not np.array_equal(other["conv1"], first["conv1"])
    # Batches are not remembered, and equal what single images give.
    batch = extractor(images[:2])
    assert batches == [1, 1, 2]
    np.testing.assert_allclose(batch["conv1"][1:], other["conv1"], rtol=1e-5, atol=1e-6)


def test_only_the_last_images_are_remembered(tiny_model, images, monkeypatch):
    extractor = activations.Extractor(tiny_model, ["probabilities"])
    monkeypatch.setattr(extractor, "IMAGES_KEPT", 2)
    for image in images:  # three images, two kept: the first is dropped
        extractor(image)
    calls = []
    run = extractor._run
    monkeypatch.setattr(extractor, "_run", lambda batch: calls.append(1) or run(batch))
    extractor(images[2])
    extractor(images[0])
    assert calls == [1]


def test_extractor_rejects_wrong_shapes(tiny_model):
    with pytest.raises(ValueError, match="expected images of shape"):
        activations.extractor(tiny_model)(np.zeros((1, 28, 28, 3), np.uint8))
    with pytest.raises(ValueError, match="no layer named 'conv9'"):
        activations.Extractor(tiny_model, ["conv9"])


def test_layer_table_lists_every_layer(tiny_model):
    table = activations.layer_table(tiny_model)
    assert list(table.columns) == ["layer", "type", "output shape", "parameters", "receptive field"]
    row = table.set_index("layer").loc["conv1"]
    assert (row["type"], row["output shape"], row["parameters"], row["receptive field"]) == \
        ("Conv2D", "32 x 32 x 16", 3 * 3 * 3 * 16 + 16, "3 x 3")
    assert table["parameters"].sum() == tiny_model.count_params()
    assert table.set_index("layer").loc["probabilities", "receptive field"] == "whole image"
    facts = activations.layer_facts(tiny_model, "conv2")
    assert facts == {"output_shape": (16, 16, 32), "parameters": 3 * 3 * 16 * 32 + 32,
                     "receptive_field": 8}


def test_feature_map_mosaic_sorts_by_mean_and_tiles():
    maps = np.zeros((4, 4, 3), np.float32)
    maps[:, :, 1] = 2.0
    maps[:, :, 2] = 1.0
    picture, order = activations.feature_map_mosaic(maps, tile_pixels=8, columns=3)
    assert list(order) == [1, 2, 0]
    assert picture.shape == (8, 3 * 8 + 2 * 2, 3) and picture.dtype == np.uint8
    _, unsorted = activations.feature_map_mosaic(maps, sort_by_mean=False)
    assert list(unsorted) == [0, 1, 2]
    with pytest.raises(ValueError, match="feature maps"):
        activations.feature_map_mosaic(np.zeros((4, 4)))


def test_overview_strip_shows_the_image_then_the_strongest_maps(tiny_model, images):
    outputs = activations.extractor(tiny_model)(images[:1])
    strip, shown = activations.overview_strip(images[0], outputs, ["conv1", "pool2"],
                                              tile_pixels=40)
    channel = int(np.argmax(outputs["conv1"][0].mean(axis=(0, 1))))
    assert shown[0] == ("conv1", channel) and shown[1][0] == "pool2"
    assert strip.shape == (40 + 18, 3 * 40 + 2 * 6, 3) and strip.dtype == np.uint8
    np.testing.assert_array_equal(strip[:40:5, :40:5], images[0][::4, ::4])  # nearest neighbour


def test_filters(tiny_model):
    kernel, bias = activations.kernel_and_bias(tiny_model, "conv1")
    assert kernel.shape == (3, 3, 3, 16) and bias.shape == (16,)
    patches = pictures.rgb_filter_images(kernel)
    assert patches.shape == (16, 3, 3, 3) and patches.dtype == np.uint8
    assert patches.reshape(16, -1).min(axis=1).tolist() == [0] * 16
    deeper, _ = activations.kernel_and_bias(tiny_model, "conv2")
    picture = activations.filter_mosaic(deeper, 5, tile_pixels=9)
    assert picture.ndim == 3 and picture.shape[2] == 3
    with pytest.raises(ValueError, match="filter 32 out of range"):
        activations.filter_mosaic(deeper, 32)
    with pytest.raises(ValueError, match="not a convolution"):
        activations.kernel_and_bias(tiny_model, "pool1")
    with pytest.raises(ValueError, match="kernel"):
        pictures.rgb_filter_images(deeper)


def test_filters_picture_depends_on_the_layer(tiny_model):
    first, _ = activations.kernel_and_bias(tiny_model, "conv1")
    picture, caption = activations.filters_picture(first, 0, name="conv1")
    assert caption.startswith("The 16 filters of conv1 as 3 x 3 RGB patches")
    assert picture.shape == (36, 16 * 36 + 15 * 4, 3)
    deeper, _ = activations.kernel_and_bias(tiny_model, "conv2")
    picture, caption = activations.filters_picture(deeper, 7, name="conv2")
    assert caption.startswith("Filter 7 of conv2: one 3 x 3 slice per input channel (16)")


def test_colorize_signed_puts_zero_in_the_middle():
    colours = pictures.colorize_signed(np.array([[[-2.0, 0.0, 2.0]]]))
    negative, zero, positive = colours[0, 0]
    assert zero.min() > 230  # white-ish
    assert negative[2] > negative[0] and positive[0] > positive[2]  # blue, then red


def test_works_after_a_keras_save_and_reload(tiny_model, images, tmp_path):
    path = saving.save_model(tiny_model, tmp_path / "tiny.keras")
    reloaded = saving.load_model(path)
    np.testing.assert_allclose(activations.extractor(reloaded)(images)["conv2"],
                               activations.extractor(tiny_model)(images)["conv2"], rtol=1e-6)
