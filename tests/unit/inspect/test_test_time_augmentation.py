"""Test-time augmentation: each level averages exactly the views airbench94's infer does."""

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.inspect import test_time_augmentation as tta


@pytest.fixture(scope="module")
def dense_model():
    """A softmax over a fixed random linear map of the pixels: no symmetry to hide a mistake."""
    rng = np.random.default_rng(0)
    inputs = keras.Input((32, 32, 3))
    dense = keras.layers.Dense(10, activation="softmax")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    dense.set_weights([rng.normal(0, 1e-3, (3072, 10)).astype(np.float32),
                       np.zeros(10, np.float32)])
    return model


def forward(model, images):
    return np.asarray(model(images.astype(np.float32), training=False))


def mirrored(model, images):
    return (forward(model, images) + forward(model, images[:, :, ::-1])) / 2


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)


def test_levels_average_the_views_airbench_does(dense_model, images):
    assert np.allclose(tta.tta_probabilities(dense_model, images, 0), forward(dense_model, images),
                       atol=1e-6)
    assert np.allclose(tta.tta_probabilities(dense_model, images, 1),
                       mirrored(dense_model, images), atol=1e-6)
    padded = np.pad(images, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")  # (5, 34, 34, 3)
    expected = (mirrored(dense_model, images)
                + (mirrored(dense_model, padded[:, :32, :32])
                   + mirrored(dense_model, padded[:, 2:, 2:])) / 2) / 2
    got = tta.tta_probabilities(dense_model, images, 2, batch_size=2)  # batches of 2, 2 and 1
    assert got.shape == (5, 10) and got.dtype == np.float32
    assert np.allclose(got, expected, atol=1e-6)


def test_accuracy_counts_the_averaged_answers(dense_model, images):
    answers = tta.tta_probabilities(dense_model, images, 2).argmax(axis=1)
    labels = answers.copy()
    labels[:2] = (labels[:2] + 1) % 10
    assert tta.tta_accuracy(dense_model, images, labels, 2) == pytest.approx(3 / 5)


@pytest.mark.parametrize("level", [3, -1, True, "2", None])
def test_an_unknown_level_is_refused_by_name(dense_model, images, level):
    with pytest.raises(ValueError, match="tta level"):
        tta.tta_probabilities(dense_model, images, level)


def test_bad_images_and_labels_are_refused(dense_model, images):
    with pytest.raises(ValueError, match=r"\(N, 32, 32, 3\)"):
        tta.tta_probabilities(dense_model, images[0], 2)
    with pytest.raises(ValueError, match="5 images for 4 labels"):
        tta.tta_accuracy(dense_model, images, np.zeros(4), 2)
    with pytest.raises(ValueError, match="batch_size"):
        tta.tta_probabilities(dense_model, images, 2, batch_size=0)
