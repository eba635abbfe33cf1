"""How the fast nets start: whitening conv1, identity 3x3 convolutions."""

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.models import architectures, fast_init


def test_whitening_decorrelates_patches():
    images = np.random.default_rng(0).integers(0, 256, (200, 32, 32, 3), dtype=np.uint8)
    model = architectures.build_model("fast", seed=0)
    fast_init.init_whitening(model, images)
    assert not model.get_layer("conv1").trainable
    extractor = keras.Model(model.input, model.get_layer("conv1").output)
    outputs = np.asarray(extractor(images[:50].astype("float32")))  # (50, 31, 31, 24)
    half = outputs[..., :12].reshape(-1, 12)
    covariance = np.cov(half, rowvar=False)
    np.testing.assert_allclose(covariance, np.eye(12), atol=0.1)


def test_standardised_whitening_takes_0_1_pixels_and_whitens_standardised_patches():
    images = np.random.default_rng(2).integers(0, 256, (200, 32, 32, 3), dtype=np.uint8)
    model = architectures.build_model("fast", seed=0)
    fast_init.init_whitening(model, images, standardised=True, epsilon=0.0)
    extractor = keras.Model(model.input, model.get_layer("conv1").output)
    outputs = np.asarray(extractor(images.astype("float32")))  # (200, 31, 31, 24)
    half = outputs[..., :12].reshape(-1, 12)
    # Second moments about 0 (airbench's), of standardised pixels: the identity.
    np.testing.assert_allclose(half.T @ half / len(half), np.eye(12), atol=2e-3)
    np.testing.assert_allclose(outputs[..., 12:], -outputs[..., :12], atol=1e-4)
    plain = architectures.build_model("fast", seed=0)
    fast_init.init_whitening(plain, images)
    assert not np.allclose(plain.get_layer("conv1").kernel.numpy(),
                           model.get_layer("conv1").kernel.numpy())


def test_identity_start_passes_each_input_channel_through():
    model = architectures.build_model("fast-small", seed=0)
    fast_init.init_identity(model)
    conv3 = keras.ops.convert_to_numpy(model.get_layer("conv3").kernel)  # (3, 3, 32, 32)
    image = np.random.default_rng(1).normal(size=(1, 15, 15, 32)).astype("float32")
    passed = keras.ops.convert_to_numpy(keras.ops.conv(image, conv3, padding="same"))
    np.testing.assert_allclose(passed, image, atol=1e-6)  # the convolution is the identity
    conv1 = keras.ops.convert_to_numpy(model.get_layer("conv1").kernel)
    assert np.abs(conv1).sum() > 0 and conv1.shape == (2, 2, 3, 24)  # conv1 is not touched


def test_pytorch_start_draws_within_one_over_root_fan_in():
    model = architectures.build_model("fast-small", seed=0)
    fast_init.init_like_pytorch(model)
    for name in ("conv2", "conv7", "dense1"):
        kernel = keras.ops.convert_to_numpy(model.get_layer(name).kernel)
        fan_in = int(np.prod(kernel.shape[:-1]))
        limit = 1 / np.sqrt(fan_in)
        assert np.abs(kernel).max() <= limit
        assert np.abs(kernel).max() > 0.9 * limit  # drawn across the whole range
        assert kernel.std() == pytest.approx(limit / np.sqrt(3), rel=0.1)


def test_the_whitening_stem_computes_in_float32_under_bfloat16():
    model = architectures.build_model("fast", precision="mixed_bfloat16")
    assert [model.get_layer(name).compute_dtype for name in ("rescaling", "conv1", "gelu1")] \
        == ["float32"] * 3
    assert model.get_layer("conv2").compute_dtype == "bfloat16"
