"""The sanity check: randomised copies, Spearman rank correlation, and maps that change."""

import numpy as np
import pytest

from cifar_core.inspect import sanity_check
from tests.unit.inspect.any_models import build_dense_only_model


def test_the_randomised_copy_has_new_weights_and_leaves_the_model_alone(tiny_model):
    before = [weights.copy() for weights in tiny_model.get_weights()]
    copy = sanity_check.randomised_copy(tiny_model, seed=5)
    assert copy is not tiny_model and copy is sanity_check.randomised_copy(tiny_model, seed=5)
    for original, weights in zip(before, tiny_model.get_weights()):
        np.testing.assert_array_equal(original, weights)
    for layer in tiny_model.layers:
        for original, fresh in zip(layer.get_weights(), copy.get_layer(layer.name).get_weights()):
            assert original.shape == fresh.shape
            if original.ndim >= 2:  # kernels: Glorot uniform, nothing like the old ones
                assert not np.allclose(original, fresh)
                assert np.abs(fresh).max() <= np.sqrt(6 / (original.size / original.shape[-1]
                                                            / original.shape[-2]
                                                            * sum(original.shape[-2:])))
            else:
                np.testing.assert_array_equal(fresh, 0.0)  # biases start at zero


def test_cascading_randomisation_starts_at_the_output(tiny_model):
    copy = sanity_check.randomised_copy(tiny_model, layers=1, seed=2)
    assert not np.allclose(copy.get_layer("probabilities").get_weights()[0],
                           tiny_model.get_layer("probabilities").get_weights()[0])
    for name in ("conv1", "conv2"):
        np.testing.assert_array_equal(copy.get_layer(name).get_weights()[0],
                                      tiny_model.get_layer(name).get_weights()[0])


@pytest.mark.parametrize("layers", [0, 4, 1.5, True])
def test_bad_layer_counts_are_value_errors(tiny_model, layers):
    with pytest.raises(ValueError, match="layers"):
        sanity_check.randomised_copy(tiny_model, layers=layers)


def test_rank_correlation_is_spearmans():
    generator = np.random.default_rng(0)
    first = generator.integers(0, 5, (32, 32)).astype(np.float32)  # many ties
    second = first + generator.normal(0, 2, (32, 32))
    scipy_stats = pytest.importorskip("scipy.stats")
    assert sanity_check.rank_correlation(first, second) == pytest.approx(
        scipy_stats.spearmanr(first.ravel(), second.ravel()).statistic)
    assert sanity_check.rank_correlation(first, np.exp(first)) == pytest.approx(1.0)
    assert sanity_check.rank_correlation(first, -first) == pytest.approx(-1.0)
    assert np.isnan(sanity_check.rank_correlation(first, np.zeros((32, 32))))
    with pytest.raises(ValueError, match="different sizes"):
        sanity_check.rank_correlation(first, first[:16])


@pytest.fixture(scope="module")
def photo():
    return np.random.default_rng(4).integers(0, 256, (32, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize("method", ["Occlusion", "Integrated Gradients", "Grad-CAM"])
def test_the_map_of_a_randomised_model_differs(method, region_model, photo):
    """The region model reads 64 pixels only; random weights read all of them, and the
    maps' rankings of the 1,024 pixels have little in common."""
    check = sanity_check.sanity_check(method, region_model, photo, 0)
    assert check.trained.shape == check.randomised.shape == (32, 32)
    assert np.isnan(check.correlation) or check.correlation < 0.5, check.correlation
    assert "passes" in check.verdict


def test_the_check_catches_a_map_that_shows_the_image(region_model, bright_square):
    """Adebayo et al.'s point: Integrated Gradients multiplies by (image - baseline), so
    on an image black everywhere but one square its map is that square, whatever the
    weights. The check says so instead of hiding it."""
    check = sanity_check.sanity_check("Integrated Gradients", region_model, bright_square, 0)
    assert check.correlation > 0.9
    assert "fails" in check.verdict


def test_sanity_check_reports_both_halves(tiny_model):
    image = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    reports = []
    sanity_check.sanity_check("SmoothGrad", tiny_model, image, 2, samples=80,
                              progress=lambda *report: reports.append(report[1:]))
    assert reports[-1] == (160, 160) and reports[0][0] < 80 < reports[-1][0]


def test_a_trained_map_given_is_used_and_only_the_random_half_computed(tiny_model):
    image = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    full = sanity_check.sanity_check("Saliency", tiny_model, image, 2)
    reports = []
    given = sanity_check.sanity_check("SmoothGrad", tiny_model, image, 2, samples=80,
                                      trained=full.trained,
                                      progress=lambda *report: reports.append(report[1:]))
    assert given.trained is full.trained and reports[-1] == (80, 80)
    again = sanity_check.sanity_check("Saliency", tiny_model, image, 2, trained=full.trained)
    np.testing.assert_array_equal(again.randomised, full.randomised)
    assert again.correlation == full.correlation


def test_sanity_check_on_a_model_with_no_convolution():
    model = build_dense_only_model()
    image = np.random.default_rng(2).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    check = sanity_check.sanity_check("Saliency", model, image, 1)
    assert -1.0 <= check.correlation <= 1.0
    with pytest.raises(ValueError, match="convolution"):
        sanity_check.sanity_check("Grad-CAM", model, image, 1)


@pytest.mark.parametrize("correlation, words", [
    (float("nan"), "flat"), (0.1, "passes"), (-0.6, "passes"), (0.45, "partly"),
    (0.9, "fails")])
def test_the_verdict_reads_the_number_honestly(correlation, words):
    maps = np.linspace(0, 1, 1024, dtype=np.float32).reshape(32, 32)
    assert words in sanity_check.SanityCheck(maps, maps, correlation).verdict
    flat = sanity_check.SanityCheck(np.zeros((32, 32)), maps, float("nan"))
    assert "nothing to compare" in flat.verdict
