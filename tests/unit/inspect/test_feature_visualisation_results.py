"""A layer's or the classes' pictures checked against test images, cached, in a task."""

import numpy as np
import pytest

from cifar_core import background
from cifar_core.inspect import feature_visualisation, feature_visualisation_results

QUICK = feature_visualisation.Settings(steps=24)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(2).integers(0, 256, size=(30, 32, 32, 3), dtype=np.uint8)


def test_filters_come_with_the_best_test_images_score(tiny_model, tiny_model_path, images):
    result = feature_visualisation_results.visualise(tiny_model, tiny_model_path, "conv2",
                                                     [4, 9], images, QUICK)
    assert result["targets"].tolist() == [4, 9]
    assert result["images"].shape == (2, 32, 32, 3) and result["images"].dtype == np.uint8
    table = feature_visualisation.filter_scores(tiny_model, "conv2")(
        images.astype(np.float32)).numpy()[:, [4, 9]]  # (30, 2): the same objective
    assert result["best_indices"].tolist() == table.argmax(axis=0).tolist()
    np.testing.assert_allclose(result["best_values"], table.max(axis=0), rtol=1e-5)
    np.testing.assert_allclose(result["values"], feature_visualisation.measure(
        feature_visualisation.filter_scores(tiny_model, "conv2"), result["images"], [4, 9]),
        rtol=1e-5)


def test_results_are_read_back_from_the_cache(tiny_model, tiny_model_path, images, monkeypatch):
    first = feature_visualisation_results.visualise(tiny_model, tiny_model_path, None, [1, 2],
                                                    images, QUICK)
    assert feature_visualisation_results.cache_path(tiny_model_path, None, [1, 2], images,
                                                    QUICK).exists()

    def fail(*arguments, **options):
        raise AssertionError("synthesised again instead of read from the cache")

    monkeypatch.setattr(feature_visualisation, "synthesise", fail)
    again = feature_visualisation_results.visualise(tiny_model, tiny_model_path, None, [1, 2],
                                                    images, QUICK)
    np.testing.assert_array_equal(again["images"], first["images"])
    with pytest.raises(AssertionError, match="synthesised again"):  # other settings: a miss
        feature_visualisation_results.visualise(tiny_model, tiny_model_path, None, [1, 2], images,
                                                feature_visualisation.Settings(steps=25))


def test_progress_counts_test_batches_then_steps(tiny_model, tiny_model_path, images):
    calls = []
    feature_visualisation_results.visualise(
        tiny_model, tiny_model_path, "conv1", [3], images, feature_visualisation.Settings(
            steps=4, seed=5), progress=lambda *call: calls.append(call))
    assert [call[1:] for call in calls] == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert calls[0][0] == "test images" and calls[-1][0] == "gradient ascent"


def test_grid_covers_the_first_filters(tiny_model):
    assert feature_visualisation_results.grid_filters(tiny_model, "conv2").tolist() == list(
        range(32))
    with pytest.raises(ValueError, match="not a conv layer"):
        feature_visualisation_results.grid_filters(tiny_model, "pool2")


@pytest.mark.parametrize("layer, targets, message", [
    (None, [10], "classes must be integers in 0..9"), (None, [], "classes must be integers"),
    ("conv2", [40], "filter 40 out of range"), ("pool1", [0], "not a conv layer")])
def test_bad_targets_are_refused(tiny_model, tiny_model_path, images, layer, targets, message):
    with pytest.raises(ValueError, match=message):
        feature_visualisation_results.visualise(tiny_model, tiny_model_path, layer, targets,
                                                images, QUICK)


def test_a_stopped_task_saves_nothing_and_can_start_again(tiny_model, tiny_model_path, images):
    settings = feature_visualisation.Settings(steps=400, seed=9)
    task = feature_visualisation_results.visualise_task(tiny_model, tiny_model_path, "conv1",
                                                        [0, 1], images, settings)
    assert task.snapshot().total == 1 + 400
    task.start().stop()  # 400 steps take seconds: the next progress report ends it
    assert task.join(60)
    assert task.snapshot().state == "stopped" and task.result is None
    assert not feature_visualisation_results.cache_path(tiny_model_path, "conv1", [0, 1], images,
                                                        settings).exists()


def test_a_finished_task_holds_the_result(tiny_model, tiny_model_path, images):
    task = feature_visualisation_results.visualise_task(tiny_model, tiny_model_path, None, [7],
                                                        images, QUICK).start()
    assert task.join(120)
    snapshot = task.snapshot()
    assert snapshot.state == "finished", snapshot.error
    assert isinstance(task, background.Task) and task.result["targets"].tolist() == [7]
