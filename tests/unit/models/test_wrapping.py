"""The wrapper: flat graph, shared weights, and the names pages rely on kept free."""

import numpy as np

from cifar_core.backend import keras
from cifar_core.models import saving, wrapping

layers = keras.layers
IMAGES = np.random.default_rng(3).integers(0, 256, (3, 32, 32, 3)).astype(np.float32)


def test_names_the_wrapper_needs_are_freed_and_repeats_renamed():
    inner = keras.Sequential([layers.Conv2D(2, 3, name="conv"), layers.ReLU(name="probabilities")],
                             name="block")
    images = keras.Input((32, 32, 3))
    x = layers.Conv2D(2, 3, padding="same", name="rescaling")(images)  # a conv named rescaling
    x = layers.Conv2D(2, 3, padding="same", name="conv")(inner(x))  # repeats the inner name
    outputs = layers.Dense(10, name="logits")(layers.Flatten()(x))
    user = keras.Model(images, outputs)
    expected = np.asarray(keras.ops.softmax(user.predict(IMAGES / 255, verbose=0)))

    wrapped = wrapping.wrap(user, "0-1", "logits")
    names = [layer.name for layer in wrapped.layers]
    assert saving.layout_problem(wrapped) is None
    assert len(names) == len(set(names)) and names[1] == "rescaling" and \
        names[-1] == "probabilities"
    assert "rescaling_original" in names and "probabilities_original" in names
    assert isinstance(wrapped.get_layer("rescaling_original"), layers.Conv2D)
    np.testing.assert_allclose(wrapped.predict(IMAGES, verbose=0), expected, rtol=1e-4, atol=1e-6)


def test_weights_are_shared_not_copied():
    user = keras.Sequential([keras.Input((32, 32, 3)), layers.Flatten(),
                             layers.Dense(10, activation="softmax")])
    wrapped = wrapping.wrap(user, "0-255", "probabilities")
    dense = wrapped.get_layer("probabilities")
    assert dense is user.layers[-1]
    assert wrapped.count_params() == user.count_params()


def test_a_models_own_rescaling_front_becomes_the_rescaling_layer():
    user = keras.Sequential([keras.Input((32, 32, 3)), layers.Rescaling(1 / 127.5, offset=-1),
                             layers.Flatten(), layers.Dense(10, activation="softmax")])
    wrapped = wrapping.wrap(user, "0-255", "probabilities")
    assert wrapped.layers[1] is user.layers[0] and wrapped.layers[1].name == "rescaling"
    overridden = wrapping.wrap(user, "0-1", "probabilities")  # a scaling by hand goes in front
    assert [type(layer).__name__ for layer in overridden.layers[1:3]] == ["Rescaling"] * 2
