"""Input scaling inference on a task where only one scaling can classify correctly."""

import numpy as np
import pytest

from cifar_core.models import input_scaling
from tests.unit.models import zoo


@pytest.fixture(scope="module")
def brightness():
    dataset = zoo.brightness_dataset()
    return dataset, input_scaling.channel_statistics(dataset.x_train)


@pytest.mark.parametrize("expected", input_scaling.SCALINGS)
@pytest.mark.parametrize("softmax", [False, True])
def test_the_scaling_a_model_was_built_for_wins(brightness, expected, softmax):
    dataset, statistics = brightness
    model = zoo.brightness_classifier(expected, statistics, softmax=softmax)
    images, labels = input_scaling.fixed_sample(dataset.x_test, dataset.y_test)
    choice = input_scaling.infer_scaling(model, images, labels, statistics)
    assert choice.scaling == expected
    assert choice.accuracies[expected] == 1.0
    assert all(accuracy < 1.0 for name, accuracy in choice.accuracies.items() if name != expected)
    assert choice.output == ("probabilities" if softmax else "logits")
    assert choice.sample_size == len(images) == 1000


def test_without_statistics_standardised_is_not_tried(brightness):
    dataset, _ = brightness
    model = zoo.brightness_classifier("-1..1")
    choice = input_scaling.infer_scaling(model, dataset.x_test, dataset.y_test)
    assert choice.scaling == "-1..1" and "standardised" not in choice.accuracies
    assert "not tried" in choice.note


def test_a_model_with_its_own_rescaling_gets_raw_pixels(brightness):
    dataset, statistics = brightness
    model = zoo.build("residual_strided")
    choice = input_scaling.infer_scaling(model, dataset.x_test[:50], dataset.y_test[:50],
                                         statistics, own_scaling=True)
    assert choice.scaling == "0-255" and "rescales its own input" in choice.note
    assert set(choice.accuracies) == set(input_scaling.SCALINGS)


def test_no_dataset_assumes_0_1_and_says_so():
    choice = input_scaling.assumed_scaling(zoo.build("standardised_logits"))
    assert choice.scaling == "0-1" and "assumed 0-1" in choice.note
    assert choice.output == "logits" and choice.accuracies == {}


def test_channel_statistics_match_numpy():
    images = np.random.default_rng(1).integers(0, 256, (30, 32, 32, 3)).astype(np.uint8)
    statistics = input_scaling.channel_statistics(images)
    np.testing.assert_allclose(statistics.mean, images.mean(axis=(0, 1, 2)), rtol=1e-9)
    np.testing.assert_allclose(statistics.std, images.std(axis=(0, 1, 2)), rtol=1e-7)
    assert input_scaling.ChannelStatistics.from_json(statistics.to_json()) == statistics
    with pytest.raises(ValueError, match="uint8"):
        input_scaling.channel_statistics(images.astype(np.float32))


@pytest.mark.parametrize("scaling", input_scaling.SCALINGS)
def test_the_scaling_layer_computes_what_scale_does(scaling):
    statistics = input_scaling.ChannelStatistics((120.0, 110.0, 100.0), (60.0, 61.0, 62.0))
    images = np.random.default_rng(2).integers(0, 256, (4, 32, 32, 3)).astype(np.float32)
    layer = input_scaling.scaling_layer(scaling, statistics)
    np.testing.assert_allclose(np.asarray(layer(images)),
                               input_scaling.scale(images, scaling, statistics),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("bad", ["0-2", "", None])
def test_unknown_scalings_are_refused(bad):
    with pytest.raises(ValueError, match="unknown input scaling"):
        input_scaling.scale(np.zeros((1, 32, 32, 3)), bad)


def test_standardised_needs_statistics():
    with pytest.raises(ValueError, match="statistics"):
        input_scaling.scale(np.zeros((1, 32, 32, 3)), "standardised")


def test_output_kind():
    assert input_scaling.output_kind([[0.2, 0.8], [0.5, 0.5]]) == "probabilities"
    assert input_scaling.output_kind([[2.0, -1.0], [0.5, 0.5]]) == "logits"
    assert input_scaling.output_kind([[1.5, -0.5]]) == "logits"  # sums to 1, but negative
