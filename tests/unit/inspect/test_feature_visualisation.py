"""Feature visualisation: objectives, synthesis by gradient ascent, the test images' best."""

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.inspect import activations, feature_visualisation

QUICK = feature_visualisation.Settings(steps=48)


@pytest.fixture(scope="module")
def dense_only_model():
    """A network with no convolution at all: nothing for a filter picture to show."""
    images = keras.Input((32, 32, 3), name="images")
    flat = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(images))
    probabilities = keras.layers.Dense(10, activation="softmax", name="probabilities")(flat)
    return keras.Model(images, probabilities, name="dense-only")


@pytest.fixture(scope="module")
def noise():
    return np.random.default_rng(1).integers(0, 256, size=(40, 32, 32, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def conv2_pictures(tiny_model):
    targets = np.array([0, 3, 7, 12])
    climb = feature_visualisation.filter_scores(tiny_model, "conv2", for_climbing=True)
    return targets, feature_visualisation.synthesise(climb, targets, QUICK)


def test_pictures_are_uint8_images_one_per_target(conv2_pictures):
    targets, images = conv2_pictures
    assert images.shape == (len(targets), 32, 32, 3) and images.dtype == np.uint8
    assert images.std() > 5  # a pattern, not a flat colour


def test_synthesised_image_excites_its_filter_more_than_noise_or_grey(tiny_model, conv2_pictures,
                                                                      noise):
    targets, images = conv2_pictures
    scores = feature_visualisation.filter_scores(tiny_model, "conv2")
    synthesised = feature_visualisation.measure(scores, images, targets)
    grey = feature_visualisation.measure(scores, np.full_like(images, 128), targets)
    noisy = scores(noise.astype(np.float32)).numpy()[:, targets].max(axis=0)  # best of 40
    assert (synthesised > grey).all(), (synthesised, grey)
    assert (synthesised > noisy).all(), (synthesised, noisy)


def test_filter_scores_are_the_mean_of_the_layer_output(tiny_model, noise):
    scores = feature_visualisation.filter_scores(tiny_model, "conv2")(noise[:3].astype(np.float32))
    maps = activations.extractor(tiny_model)(noise[:3])["conv2"]  # (3, 16, 16, 32)
    np.testing.assert_allclose(scores.numpy(), maps.mean(axis=(1, 2)), rtol=1e-4, atol=1e-6)


def test_class_scores_are_the_logits_under_the_softmax(tiny_model, dense_only_model, noise):
    for model in (tiny_model, dense_only_model):
        logits = feature_visualisation.class_scores(model)(noise[:4].astype(np.float32)).numpy()
        probabilities = model(noise[:4].astype(np.float32), training=False).numpy()
        softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
        np.testing.assert_allclose(softmax / softmax.sum(axis=1, keepdims=True), probabilities,
                                   rtol=1e-4, atol=1e-6)


def test_a_class_picture_raises_its_logit(tiny_model):
    scores = feature_visualisation.class_scores(tiny_model)
    images = feature_visualisation.synthesise(scores, [2, 5], QUICK)
    grey = np.full_like(images, 128)
    assert (feature_visualisation.measure(scores, images, [2, 5])
            > feature_visualisation.measure(scores, grey, [2, 5])).all()


def test_one_filter_alone_looks_as_in_its_layers_grid(tiny_model, conv2_pictures):
    targets, images = conv2_pictures
    climb = feature_visualisation.filter_scores(tiny_model, "conv2", for_climbing=True)
    alone = feature_visualisation.synthesise(climb, [targets[1]], QUICK)
    assert np.abs(alone[0].astype(int) - images[1]).mean() < 2


def test_progress_is_reported_every_step(tiny_model):
    calls = []
    scores = feature_visualisation.filter_scores(tiny_model, "conv1")
    feature_visualisation.synthesise(scores, [0], feature_visualisation.Settings(steps=3),
                                     progress=lambda *call: calls.append(call))
    assert calls == [("gradient ascent", step, 3) for step in (1, 2, 3)]


def test_best_test_scores_find_the_highest_scoring_image(tiny_model, noise):
    scores = feature_visualisation.filter_scores(tiny_model, "conv1")
    indices, values = feature_visualisation.best_test_scores(scores, noise, batch_size=16)
    table = scores(noise.astype(np.float32)).numpy()  # (40, 16)
    assert indices.tolist() == table.argmax(axis=0).tolist()
    np.testing.assert_allclose(values, table.max(axis=0), rtol=1e-5)
    with pytest.raises(ValueError, match="batch_size"):
        feature_visualisation.best_test_scores(scores, noise, batch_size=0)


@pytest.mark.parametrize("layer, filters, message", [
    ("pool1", [0], "'pool1' is not a conv layer"),
    ("nope", [0], "'nope' is not a conv layer"),
    ("conv2", [32], "filter 32 out of range 0..31 of conv2"),
    ("conv1", [-1], "filter -1 out of range 0..15 of conv1"),
    ("conv1", [1.5], "filters must be one or more integers"),
    ("conv1", [], "filters must be one or more integers"),
])
def test_bad_layer_or_filter_is_refused(tiny_model, layer, filters, message):
    with pytest.raises(ValueError, match=message):
        feature_visualisation.check_filters(tiny_model, layer, filters)


def test_a_model_without_convolutions_is_refused_clearly(dense_only_model):
    for call in (lambda: feature_visualisation.conv_layers(dense_only_model),
                 lambda: feature_visualisation.filter_scores(dense_only_model, "probabilities"),
                 lambda: feature_visualisation.check_filters(dense_only_model, "dense", [0])):
        with pytest.raises(ValueError, match="'dense-only' has no convolution layer"):
            call()


@pytest.mark.parametrize("field, value", [("steps", 0), ("steps", 2.5), ("learning_rate", 0),
                                          ("jitter", -1), ("jitter", 9), ("decay", 3)])
def test_bad_settings_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        feature_visualisation.Settings(**{field: value})
    with pytest.raises(ValueError, match="at least one"):
        feature_visualisation.synthesise(lambda images: images, [], QUICK)


def test_settings_key_names_every_setting():
    assert feature_visualisation.Settings().key() != QUICK.key()
    assert "steps=48" in QUICK.key()
