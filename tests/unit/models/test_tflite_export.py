"""TensorFlow Lite export: the phone's probabilities are the page's probabilities."""

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.models import tflite_export

IMAGES = np.random.default_rng(3).integers(0, 256, size=(5, 32, 32, 3), dtype=np.uint8)


def depthwise_model():
    """A non-architecture model in the app's layout: standardising input, depthwise and
    separable convolutions, logits turned into probabilities by a final softmax."""
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="rescaling")(inputs)
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="same")(x)
    x = keras.layers.SeparableConv2D(6, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(10)(x)
    outputs = keras.layers.Activation("softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="separable")


@pytest.mark.parametrize("make_model", [lambda tiny: tiny, lambda tiny: depthwise_model()],
                         ids=["tiny", "separable"])
def test_tflite_matches_keras_on_raw_pixels(tiny_model, make_model):
    model = make_model(tiny_model)
    tflite = tflite_export.to_tflite(model)
    assert tflite[4:8] == b"TFL3"  # the flatbuffer's file identifier
    expected = model(IMAGES.astype("float32"), training=False).numpy()
    found = tflite_export.tflite_probabilities(tflite, IMAGES)
    assert found.shape == (5, 10)
    np.testing.assert_allclose(found.sum(axis=1), 1.0, atol=1e-5)  # probabilities out
    np.testing.assert_allclose(found, expected, atol=1e-5)


def test_model_without_the_layout_is_refused():
    inputs = keras.Input((64, 64, 3))
    model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="one input of shape"):
        tflite_export.to_tflite(model)
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, keras.layers.Dense(100)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="10 classes"):
        tflite_export.to_tflite(model)
    with pytest.raises(ValueError, match="keras.Model"):
        tflite_export.to_tflite("model.keras")


@pytest.mark.parametrize("shape", [(32, 32, 3), (0, 32, 32, 3), (2, 28, 28, 3)])
def test_bad_image_batches_are_refused(tiny_model, shape):
    tflite = tflite_export.to_tflite(tiny_model)
    with pytest.raises(ValueError, match="images must have shape"):
        tflite_export.tflite_probabilities(tflite, np.zeros(shape, np.uint8))


@pytest.mark.parametrize("kind", ["sequential_default", "standardised_logits",
                                  "residual_strided", "separable_depthwise", "nested_block",
                                  "dense_only"])
def test_every_imported_kind_exports_with_the_pages_probabilities(tmp_path, kind):
    """Each kind of the import zoo, as the pages see it (wrapped: its scaling in front, a
    softmax after logits, nested blocks flattened), gives the same probabilities in TFLite."""
    from cifar_core.models import importing
    from tests.unit.models import zoo

    entry = zoo.import_into(tmp_path, kind, scaling="-1..1")
    model = importing.load_imported(entry.path)
    expected = model(IMAGES.astype("float32"), training=False).numpy()
    found = tflite_export.tflite_probabilities(tflite_export.to_tflite(model), IMAGES)
    np.testing.assert_allclose(found.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(found, expected, atol=1e-5)


def test_the_conversion_runs_as_a_task(tiny_model):
    task = tflite_export.tflite_task(tiny_model, "tiny").start()
    assert task.join(120) and task.snapshot().state == "finished"
    found = tflite_export.tflite_probabilities(task.result, IMAGES)
    np.testing.assert_allclose(found, tiny_model(IMAGES.astype("float32")).numpy(), atol=1e-5)
