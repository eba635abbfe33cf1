"""Predictions, top-k, results table and heat maps on tiny untrained models."""

import numpy as np
import pytest

from cifar_core.data import CLASS_NAMES
from cifar_core.inspect import inference
from cifar_core.models import architectures, saving


@pytest.fixture(scope="module")
def fast_model():
    # Ends in Activation("softmax") rather than a softmax Dense: the other logits path.
    return architectures.build_model("fast", seed=0)


@pytest.fixture(scope="module")
def images_uint8():
    return np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)


def test_predictions_are_probabilities_and_match_a_plain_call(tiny_model, images_uint8):
    probabilities = inference.predict(tiny_model, images_uint8)
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities >= 0).all()
    reference = tiny_model(images_uint8.astype(np.float32), training=False).numpy()
    np.testing.assert_allclose(probabilities, reference, atol=1e-6)


def test_one_image_is_a_batch_of_one(tiny_model, images_uint8):
    single = inference.predict(tiny_model, images_uint8[0])
    np.testing.assert_allclose(single, inference.predict(tiny_model, images_uint8)[:1], atol=1e-6)


def test_saved_and_reloaded_model_predicts_the_same(tiny_model_path, images_uint8):
    loaded = saving.load_model(tiny_model_path)
    built = architectures.build_model("tiny", seed=0)
    built.set_weights(loaded.get_weights())
    np.testing.assert_allclose(inference.predict(loaded, images_uint8),
                               inference.predict(built, images_uint8), atol=1e-6)


@pytest.mark.parametrize("shape", [(32, 32), (2, 28, 28, 3), (0, 32, 32, 3), (32, 32, 4)])
def test_wrong_image_shapes_are_value_errors(tiny_model, shape):
    with pytest.raises(ValueError, match="32, 32, 3"):
        inference.predict(tiny_model, np.zeros(shape, dtype=np.uint8))


def test_top_k_orders_by_probability():
    probabilities = np.array([0.05, 0.5, 0.0, 0.2, 0.0, 0.0, 0.25, 0.0, 0.0, 0.0])
    assert inference.top_k(probabilities, 3, CLASS_NAMES) == [
        ("automobile", 0.5), ("frog", 0.25), ("cat", 0.2)]
    assert len(inference.top_k(probabilities[None], 10, CLASS_NAMES)) == 10


@pytest.mark.parametrize("k", [0, 11, -1])
def test_top_k_rejects_bad_k(k):
    with pytest.raises(ValueError, match="k must be"):
        inference.top_k(np.full(10, 0.1), k, CLASS_NAMES)


def test_results_table_has_one_row_per_file():
    probabilities = np.eye(10)[[3, 8]] * 0.9 + 0.01
    table = inference.results_table(["a.png", "b.jpg"], probabilities, CLASS_NAMES)
    assert list(table.columns) == ["file", "top class", "confidence"]
    assert table["top class"].tolist() == ["cat", "ship"]
    np.testing.assert_allclose(table["confidence"], [0.91, 0.91])
    with pytest.raises(ValueError):
        inference.results_table(["only one"], probabilities, CLASS_NAMES)


@pytest.mark.parametrize("model_name", ["tiny_model", "fast_model"])
def test_grad_cam_has_the_input_size_and_range(model_name, images_uint8, request):
    model = request.getfixturevalue(model_name)
    for layer_name in [None] + architectures.conv_layer_names(model)[:2]:
        heat = inference.grad_cam(model, images_uint8[0], 3, layer_name)
        assert heat.shape == (32, 32) and heat.dtype == np.float32
        assert heat.min() >= 0.0 and heat.max() <= 1.0


def test_grad_cam_defaults_to_the_last_convolution(tiny_model, images_uint8):
    np.testing.assert_allclose(inference.grad_cam(tiny_model, images_uint8[1], 5),
                               inference.grad_cam(tiny_model, images_uint8[1], 5, "conv2"))


def test_grad_cam_uses_the_activated_feature_maps(fast_model):
    # conv7 is followed by batch norm and GELU: Grad-CAM must read the GELU's output.
    assert inference.activated_output(fast_model, "conv7") == "gelu7"
    assert inference.activated_output(fast_model, "conv2") == "conv2"  # pooling comes next


def test_grad_cam_matches_a_hand_computation(tiny_model, images_uint8):
    """Reference: the Grad-CAM formula written out with a plain GradientTape."""
    from cifar_core.backend import keras, tf

    extractor = keras.Model(tiny_model.inputs, [tiny_model.get_layer("conv2").output,
                                                tiny_model.get_layer("pool3").output])
    dense = tiny_model.get_layer("probabilities")
    image = tf.constant(images_uint8[:1].astype(np.float32))
    with tf.GradientTape() as tape:
        feature_maps, pooled = extractor(image)
        logit = (tf.matmul(pooled, dense.kernel) + dense.bias)[0, 7]
    gradients = tape.gradient(logit, feature_maps)[0].numpy()  # (16, 16, 32)
    maps = feature_maps[0].numpy()
    coarse = np.maximum((maps * gradients.mean(axis=(0, 1))).sum(axis=-1), 0)  # (16, 16)
    expected = tf.image.resize(coarse[..., None], (32, 32))[..., 0].numpy()
    expected = expected / expected.max() if expected.max() > 0 else expected
    np.testing.assert_allclose(inference.grad_cam(tiny_model, images_uint8[0], 7), expected,
                               atol=1e-4)


def test_saliency_has_the_input_size_and_range(tiny_model, fast_model, images_uint8):
    for model in (tiny_model, fast_model):
        heat = inference.saliency(model, images_uint8[2], 0)
        assert heat.shape == (32, 32) and 0.0 <= heat.min() and heat.max() == pytest.approx(1.0)


@pytest.mark.parametrize("arguments, message", [
    (dict(class_index=10), "class_index"),
    (dict(class_index=-1), "class_index"),
    (dict(class_index=1.5), "class_index"),
    (dict(class_index=1, layer_name="dense1"), "layer_name"),
    (dict(class_index=1, layer_name="pool1"), "layer_name"),
])
def test_grad_cam_rejects_bad_arguments(tiny_model, images_uint8, arguments, message):
    with pytest.raises(ValueError, match=message):
        inference.grad_cam(tiny_model, images_uint8[0], **arguments)


def test_compiled_functions_do_not_keep_a_model_alive(images_uint8):
    """The server's model cache evicts models; our per-model functions must let them go."""
    import gc
    import weakref

    model = architectures.build_model("tiny", seed=1)
    inference.predict(model, images_uint8)
    inference.grad_cam(model, images_uint8[0], 1)
    inference.saliency(model, images_uint8[0], 1)
    assert model in inference._COMPILED
    alive = weakref.ref(model)
    del model
    gc.collect()
    # Other tests' models may be collected at the same time, so check this one by name.
    assert alive() is None
    assert all(key is not None for key in inference._COMPILED.keys())
