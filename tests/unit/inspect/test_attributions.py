"""Occlusion, SmoothGrad and Integrated Gradients on models whose answers are known.

``region_model`` is set by hand: its "airplane" logit is a weighted sum of the pixels in
one 8 x 8 square (rows 8-15, columns 16-23) and nothing else, so occlusion must find that
square and Integrated Gradients is exact there. The untrained ``tiny`` model checks the
axioms on a real convolutional network; a Dense-only model, a network with no convolution.
"""

import numpy as np
import pytest

from cifar_core import background
from cifar_core.backend import keras, tf
from cifar_core.inspect import attributions, inference
from tests.unit.inspect.any_models import COLUMNS, ROWS, WEIGHT, build_dense_only_model


@pytest.fixture(scope="module")
def photo():
    return np.random.default_rng(3).integers(0, 256, (32, 32, 3), dtype=np.uint8)


def test_patch_positions_cover_the_image_to_its_edge():
    assert attributions.patch_positions(8, 8) == [(row, column) for row in (0, 8, 16, 24)
                                                  for column in (0, 8, 16, 24)]
    starts = sorted({row for row, _ in attributions.patch_positions(6, 4)})
    assert starts == [0, 4, 8, 12, 16, 20, 24, 26]  # the last patch flush with the edge
    assert len(attributions.patch_positions(32, 1)) == 1


def test_occlusion_finds_the_only_pixels_the_model_reads(region_model, bright_square):
    drops = attributions.occlusion(region_model, bright_square, 0, patch=4, stride=2)
    assert drops.shape == (32, 32) and drops.dtype == np.float32
    row, column = np.unravel_index(drops.argmax(), drops.shape)
    assert 8 <= row < 16 and 16 <= column < 24
    assert drops[ROWS, COLUMNS].min() > 0.02  # hiding any of it lowers the probability
    far = np.ones((32, 32), bool)
    far[4:20, 12:28] = False  # no 4x4 patch reaching the region covers these pixels
    assert np.abs(drops[far]).max() < 1e-6  # float32 rounding between batch sizes


def test_occlusion_drop_is_the_probability_lost(region_model, bright_square):
    """One patch over the whole region: the map is the probability drop, exactly."""
    drops = attributions.occlusion(region_model, bright_square, 0, patch=8, stride=8)
    before = region_model(bright_square[None].astype(np.float32)).numpy()[0, 0]
    hidden = bright_square.astype(np.float32)
    hidden[ROWS, COLUMNS] = attributions.GREY
    after = region_model(hidden[None]).numpy()[0, 0]
    np.testing.assert_allclose(drops[ROWS, COLUMNS], before - after, rtol=1e-5)
    assert abs(drops[0, 0]) < 1e-6


def test_occlusion_reports_progress_and_stops(tiny_model, photo):
    reports = []
    attributions.occlusion(tiny_model, photo, 2, patch=4, stride=1,
                           progress=lambda *report: reports.append(report))
    positions = 29 * 29
    assert [completed for _, completed, _ in reports] == \
        list(range(attributions.BATCH, positions, attributions.BATCH)) + [positions]
    assert {total for _, _, total in reports} == {positions}

    def stop(stage, completed, total):
        raise background.Stopped("asked to stop")
    with pytest.raises(background.Stopped):
        attributions.occlusion(tiny_model, photo, 2, patch=4, stride=1, progress=stop)


def test_integrated_gradients_is_complete(tiny_model, photo):
    """Sundararajan et al.'s completeness: attributions sum to score(x) - score(baseline)."""
    attributions_ = attributions.integrated_gradients(tiny_model, photo, 4, steps=256)
    assert attributions_.shape == (32, 32, 3)
    expected = (attributions.class_score(tiny_model, photo, 4)
                - attributions.class_score(tiny_model, np.zeros_like(photo), 4))
    assert attributions_.sum() == pytest.approx(expected, rel=0.02, abs=1e-3)


def test_integrated_gradients_with_another_baseline(tiny_model, photo):
    grey = np.full_like(photo, 128)
    attributions_ = attributions.integrated_gradients(tiny_model, photo, 1, steps=256,
                                                      baseline=grey)
    expected = (attributions.class_score(tiny_model, photo, 1)
                - attributions.class_score(tiny_model, grey, 1))
    assert attributions_.sum() == pytest.approx(expected, rel=0.02, abs=1e-3)


def test_integrated_gradients_is_exact_for_a_linear_score(region_model, bright_square):
    """The region model's class-0 logit is linear: IG is input x weight, with any steps."""
    attributions_ = attributions.integrated_gradients(region_model, bright_square, 0, steps=1)
    expected = np.zeros((32, 32, 3), np.float32)
    expected[ROWS, COLUMNS] = WEIGHT  # 1.0 (255 / 255) x the weight, per channel
    np.testing.assert_allclose(attributions_, expected, atol=1e-6)


def test_smoothgrad_without_noise_is_the_saliency_gradient(tiny_model, photo):
    raw = attributions.smoothgrad(tiny_model, photo, 6, samples=3, noise=0.0)
    image = tf.constant(photo[None].astype(np.float32))
    output_layer = tiny_model.get_layer("probabilities")
    features = keras.Model(tiny_model.inputs, output_layer.input)
    with tf.GradientTape() as tape:
        tape.watch(image)
        logit = (tf.matmul(features(image), output_layer.kernel) + output_layer.bias)[0, 6]
    gradient = tape.gradient(logit, image)[0].numpy()  # (32, 32, 3)
    np.testing.assert_allclose(raw, np.abs(gradient).max(axis=-1), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(attributions.to_heat(raw),
                               inference.saliency(tiny_model, photo, 6), atol=1e-5)


def test_smoothgrad_noise_smooths_and_is_reproducible(tiny_model, photo):
    first = attributions.smoothgrad(tiny_model, photo, 6, samples=10, noise=0.2, seed=1)
    again = attributions.smoothgrad(tiny_model, photo, 6, samples=10, noise=0.2, seed=1)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, attributions.smoothgrad(tiny_model, photo, 6, noise=0.0))


@pytest.mark.parametrize("method", attributions.METHODS)
def test_every_heat_map_is_in_0_to_1(method, tiny_model, photo):
    heat = attributions.heat_map(method, tiny_model, photo, 3)
    assert heat.shape == (32, 32) and heat.dtype == np.float32
    assert heat.min() >= 0.0 and heat.max() == pytest.approx(1.0)


def test_a_model_with_no_convolution(photo):
    model = build_dense_only_model()
    for method in ("Saliency", "Occlusion", "SmoothGrad", "Integrated Gradients"):
        assert attributions.heat_map(method, model, photo, 0).shape == (32, 32)
    with pytest.raises(ValueError, match="convolution"):
        attributions.heat_map("Grad-CAM", model, photo, 0)


def test_to_heat_sums_channels_and_drops_negatives():
    values = np.zeros((32, 32, 3), np.float32)
    values[0, 0] = [1, -1, 2]
    values[1, 1] = [-2, 0, 0]
    heat = attributions.to_heat(values)
    assert heat[0, 0] == 1.0 and heat[1, 1] == 0.5  # absolute values: 4 and 2
    assert attributions.to_heat(-np.ones((32, 32))).max() == 0.0


def test_work_size_counts_the_images_through_the_model():
    assert attributions.work_size("Occlusion") == 49  # patch 8, stride 4: 7 x 7
    assert attributions.work_size("Occlusion", patch=4, stride=1) == 29 * 29
    assert attributions.work_size("SmoothGrad", samples=10) == 20
    assert attributions.work_size("Integrated Gradients", steps=32) == 66
    assert attributions.work_size("Saliency") == 2


@pytest.mark.parametrize("function, arguments, message", [
    ("occlusion", dict(patch=0), "patch"),
    ("occlusion", dict(patch=33), "patch"),
    ("occlusion", dict(patch=2.5), "patch"),
    ("occlusion", dict(patch=True), "patch"),
    ("occlusion", dict(stride=0), "stride"),
    ("occlusion", dict(patch=4, stride=5), "stride"),
    ("occlusion", dict(fill=300), "fill"),
    ("occlusion", dict(class_index=10), "class_index"),
    ("smoothgrad", dict(samples=0), "samples"),
    ("smoothgrad", dict(noise=-0.1), "noise"),
    ("integrated_gradients", dict(steps=0), "steps"),
    ("integrated_gradients", dict(steps="32"), "steps"),
    ("integrated_gradients", dict(image=np.zeros((2, 32, 32, 3))), "one image"),
    ("integrated_gradients", dict(image=np.zeros((28, 28, 3))), "32, 32, 3"),
])
def test_bad_arguments_are_value_errors(function, arguments, message, tiny_model, photo):
    arguments = {"image": photo, "class_index": 0, **arguments}
    with pytest.raises(ValueError, match=message):
        getattr(attributions, function)(tiny_model, **arguments)


def test_unknown_method_is_a_value_error(tiny_model, photo):
    with pytest.raises(ValueError, match="LIME"):
        attributions.heat_map("LIME", tiny_model, photo, 0)
    with pytest.raises(ValueError, match="LIME"):
        attributions.work_size("LIME")
