"""Metrics against hand-computed values, gallery queries, the disk cache and the task."""

import os

import numpy as np
import pytest

from cifar_core.inspect import evaluation

# Six images of three classes. Rows true, columns predicted:
#   class 0: one right, one taken for class 1      -> [1, 1, 0]
#   class 1: both right                            -> [0, 2, 0]
#   class 2: both taken for class 0, never predicted -> [2, 0, 0]
LABELS = np.array([0, 0, 1, 1, 2, 2])
PREDICTIONS = np.array([0, 1, 1, 1, 0, 0])
NAMES = ("zero", "one", "two")


def one_hot_probabilities(predictions, confidences, classes=3):
    """Probabilities with ``confidence`` on the prediction and the rest spread evenly."""
    probabilities = np.empty((len(predictions), classes), dtype=np.float32)
    for row, (predicted, confidence) in enumerate(zip(predictions, confidences)):
        probabilities[row] = (1 - confidence) / (classes - 1)
        probabilities[row, predicted] = confidence
    return probabilities


def test_confusion_matrix_by_hand():
    expected = [[1, 1, 0], [0, 2, 0], [2, 0, 0]]
    assert evaluation.confusion_matrix(LABELS, PREDICTIONS, 3).tolist() == expected
    assert evaluation.accuracy(LABELS, PREDICTIONS) == pytest.approx(0.5)


def test_class_report_by_hand_with_zero_division():
    report = evaluation.class_report(evaluation.confusion_matrix(LABELS, PREDICTIONS, 3), NAMES)
    assert list(report.index) == list(NAMES)
    # precision = hits / predicted as the class; class 2 is never predicted: 0/0 -> 0.
    np.testing.assert_allclose(report["precision"], [1 / 3, 2 / 3, 0.0])
    # recall = hits / images of the class.
    np.testing.assert_allclose(report["recall"], [1 / 2, 1.0, 0.0])
    # F1 = 2PR / (P + R): (1/3) / (5/6) = 0.4 and (4/3) / (5/3) = 0.8; 0/0 -> 0.
    np.testing.assert_allclose(report["f1"], [0.4, 0.8, 0.0])
    assert report["support"].tolist() == [2, 2, 2]


def test_class_absent_from_the_test_set_scores_zero_not_nan():
    confusion = evaluation.confusion_matrix([0, 0], [0, 0], 2)
    report = evaluation.class_report(confusion, ("a", "b"))
    assert report.loc["b"].tolist() == [0.0, 0.0, 0.0, 0]
    assert report.loc["a", "precision"] == 1.0
    assert evaluation.accuracy([], []) == 0.0


def test_metrics_match_a_plain_loop_on_random_data():
    generator = np.random.default_rng(0)
    labels, predictions = generator.integers(0, 10, 500), generator.integers(0, 10, 500)
    confusion = evaluation.confusion_matrix(labels, predictions)
    report = evaluation.class_report(confusion, [str(c) for c in range(10)])
    for c in range(10):
        hits = sum(1 for t, p in zip(labels, predictions) if t == c and p == c)
        assert confusion[c].sum() == sum(1 for t in labels if t == c)
        assert report["precision"].iloc[c] == pytest.approx(hits / sum(predictions == c))
        assert report["recall"].iloc[c] == pytest.approx(hits / sum(labels == c))


@pytest.mark.parametrize("labels, predictions, classes", [
    ([0, 1], [0], 3), ([[0]], [[0]], 3), ([0, 3], [0, 0], 3), ([0, -1], [0, 0], 3),
    ([0, 0], [0, 5], 3)])
def test_bad_metric_arguments_raise_value_error(labels, predictions, classes):
    with pytest.raises(ValueError):
        evaluation.confusion_matrix(labels, predictions, classes)


def test_class_report_rejects_a_mismatched_matrix():
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        evaluation.class_report(np.zeros((2, 2)), NAMES)


def test_most_confused_ignores_the_diagonal():
    assert evaluation.most_confused([[9, 1, 0], [0, 9, 0], [2, 0, 9]]) == (2, 0)


def test_cell_gallery_puts_the_most_confident_mistakes_first():
    probabilities = one_hot_probabilities(PREDICTIONS, [0.9, 0.6, 0.8, 0.7, 0.5, 0.95])
    # Class 2 taken for class 0: images 4 (0.5) and 5 (0.95), surest first.
    assert evaluation.cell_indices(LABELS, probabilities, 2, 0).tolist() == [5, 4]
    assert evaluation.cell_indices(LABELS, probabilities, 1, 1).tolist() == [2, 3]
    assert evaluation.cell_indices(LABELS, probabilities, 2, 2).tolist() == []
    with pytest.raises(ValueError, match="true_class"):
        evaluation.cell_indices(LABELS, probabilities, 3, 0)


def test_losses_and_top_losses():
    probabilities = np.array([[0.5, 0.5], [0.9, 0.1], [0.0, 1.0]])
    labels = np.array([0, 1, 1])
    np.testing.assert_allclose(evaluation.losses(labels, probabilities),
                               [np.log(2), -np.log(0.1), 0.0], atol=1e-12)
    assert evaluation.top_losses(labels, probabilities, 2).tolist() == [1, 0]
    assert evaluation.top_losses(labels, probabilities, 10).tolist() == [1, 0, 2]
    with pytest.raises(ValueError):
        evaluation.top_losses(labels, probabilities, -1)


def test_right_and_wrong_compares_two_models():
    right = one_hot_probabilities(LABELS, [0.9] * 6)  # every image right
    wrong = one_hot_probabilities(PREDICTIONS, [0.9, 0.6, 0.8, 0.7, 0.5, 0.95])
    # The second model misses images 1, 4, 5; surest wrong answer (highest loss) first.
    assert evaluation.right_and_wrong(LABELS, right, wrong).tolist() == [5, 1, 4]
    assert evaluation.right_and_wrong(LABELS, wrong, right).tolist() == []


# --- running a model and the disk cache -------------------------------------------------

class FakeModel:
    """Answers ``model(batch, training=False)`` with fixed probabilities; counts images seen."""

    def __init__(self, classes=10):
        self.images_seen, self.classes = 0, classes

    def __call__(self, batch, training):
        assert training is False and batch.dtype == np.float32
        self.images_seen += len(batch)
        # Predict class (first pixel value mod 10) with probability 0.91.
        probabilities = np.full((len(batch), self.classes), 0.01, dtype=np.float32)
        probabilities[np.arange(len(batch)), batch[:, 0, 0, 0].astype(int) % self.classes] = 0.91
        return probabilities


@pytest.fixture(autouse=True)
def fake_models_skip_tensorflow(monkeypatch):
    """FakeModel answers in NumPy; real models keep inference's compiled path (tested there)."""
    from cifar_core.inspect import inference

    compiled = inference.predict

    def predict(model, images):
        if isinstance(model, FakeModel):
            return model(np.asarray(images, dtype=np.float32), training=False)
        return compiled(model, images)

    monkeypatch.setattr(inference, "predict", predict)


@pytest.fixture
def test_set():
    images = np.zeros((23, 32, 32, 3), dtype=np.uint8)
    images[:, 0, 0, 0] = np.arange(23)
    labels = np.arange(23) % 10
    labels[:3] = 9  # images 0-2 are wrong (predicted 0, 1, 2)
    return images, labels


@pytest.fixture
def model_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "models" / "fake.keras"
    path.parent.mkdir()
    path.write_bytes(b"weights v1")
    return path


def test_evaluate_model_batches_and_reports_progress(test_set):
    images, labels = test_set
    calls = []
    result = evaluation.evaluate_model(FakeModel(), images, labels,
                                       progress=lambda *args: calls.append(args), batch_size=10)
    assert calls == [("Evaluating", 10, 23), ("Evaluating", 20, 23), ("Evaluating", 23, 23)]
    assert result.probabilities.shape == (23, 10) and not result.probabilities.flags.writeable
    assert result.accuracy == pytest.approx(20 / 23)
    assert result.confusion()[9, :3].tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="22 labels"):
        evaluation.evaluate_model(FakeModel(), images, labels[:22])


def test_cache_hit_skips_the_model(test_set, model_file):
    images, labels = test_set
    model = FakeModel()
    first = evaluation.cached_evaluation(model_file, images, labels, "tiny", model=model)
    assert model.images_seen == 23
    assert model_file.with_name("fake.keras.eval.npz").is_file()
    again = evaluation.cached_evaluation(model_file, images, labels, "tiny", model=model)
    assert model.images_seen == 23  # served from disk
    np.testing.assert_array_equal(again.probabilities, first.probabilities)
    assert not again.probabilities.flags.writeable


@pytest.mark.parametrize("change", ["model file", "dataset", "labels"])
def test_cache_is_invalidated_by_a_change(test_set, model_file, change):
    images, labels = test_set
    model = FakeModel()
    evaluation.cached_evaluation(model_file, images, labels, "tiny", model=model)
    source = "tiny"
    if change == "model file":
        model_file.write_bytes(b"weights v2, retrained")
    elif change == "dataset":
        source = "other archive"
    else:
        labels = labels[::-1].copy()
    assert evaluation.load_cached(model_file, labels, source) is None
    evaluation.cached_evaluation(model_file, images, labels, source, model=model)
    assert model.images_seen == 46


def test_same_size_model_with_new_mtime_is_recomputed(test_set, model_file):
    images, labels = test_set
    evaluation.cached_evaluation(model_file, images, labels, "tiny", model=FakeModel())
    stat = model_file.stat()
    os.utime(model_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert evaluation.load_cached(model_file, labels, "tiny") is None


@pytest.mark.parametrize("garbage", [b"", b"not a zip file", b"PK\x03\x04 truncated"])
def test_corrupt_cache_is_recomputed_and_rewritten(test_set, model_file, garbage):
    images, labels = test_set
    cache = model_file.with_name("fake.keras.eval.npz")
    cache.write_bytes(garbage)
    model = FakeModel()
    result = evaluation.cached_evaluation(model_file, images, labels, "tiny", model=model)
    assert model.images_seen == 23 and result.accuracy == pytest.approx(20 / 23)
    assert evaluation.load_cached(model_file, labels, "tiny") is not None


def test_unwritable_models_folder_falls_back_to_the_cache_dir(test_set, model_file, tmp_path):
    images, labels = test_set
    # A directory where the cache file would go makes that place unwritable (even for root).
    model_file.with_name("fake.keras.eval.npz").mkdir()
    model = FakeModel()
    evaluation.cached_evaluation(model_file, images, labels, "tiny", model=model)
    written = list((tmp_path / "cache" / "evaluations").glob("fake-*.eval.npz"))
    assert len(written) == 1
    evaluation.cached_evaluation(model_file, images, labels, "tiny", model=model)
    assert model.images_seen == 23
    assert not list(model_file.parent.glob(".tmp-*"))  # no temporary left behind


def test_real_tiny_model_through_the_job(tiny_model_path, tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "cache"))
    generator = np.random.default_rng(1)
    images = generator.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    labels = generator.integers(0, 10, 12)
    task = evaluation.evaluation_task(tiny_model_path, images, labels, f"test {tmp_path}").start()
    assert task.join(timeout=60)
    snapshot = task.snapshot()
    assert snapshot.state == "finished" and snapshot.error is None, snapshot.error
    np.testing.assert_allclose(task.result.probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert (snapshot.completed, snapshot.total) == (12, 12)
    assert evaluation.load_cached(tiny_model_path, labels, f"test {tmp_path}") is not None


def test_job_reports_a_broken_model_file(tmp_path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a model")
    task = evaluation.evaluation_task(broken, np.zeros((2, 32, 32, 3), np.uint8),
                                    np.zeros(2, np.int64), "x").start()
    assert task.join(timeout=60)
    assert task.result is None and "ModelError" in task.snapshot().error


def test_twin_model_files_do_not_share_a_cache_key(model_file):
    twin = model_file.with_name("twin.keras")
    twin.write_bytes(model_file.read_bytes())
    stat = model_file.stat()
    os.utime(twin, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same time
    labels = np.arange(10)
    assert evaluation.cache_key(model_file, labels, "x") != evaluation.cache_key(twin, labels, "x")


# --- the figures the Evaluate page draws (builders live in cifar_core.plots) -----------

def test_confusion_matrix_figure_writes_each_count_once_and_makes_cells_clickable():
    from cifar_core.display import plots

    confusion = evaluation.confusion_matrix(LABELS, PREDICTIONS, 3)
    figure = plots.confusion_matrix_figure(confusion, NAMES, selected=(2, 0))
    hits, mistakes, clickable = figure.data
    assert hits.text.tolist() == [["1", "", ""], ["", "2", ""], ["", "", "0"]]
    assert mistakes.text[2][0] == "2" and mistakes.text[0][0] == ""
    assert clickable.customdata.tolist()[6] == [2, 0, 2]  # row 2, column 0, 2 images
    assert len(figure.layout.shapes) == 1 and figure.layout.shapes[0].x0 == -0.5
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        plots.confusion_matrix_figure(np.zeros((2, 2)), NAMES)


def test_class_accuracy_figure_has_one_bar_group_per_model():
    import pandas as pd

    from cifar_core.display import plots

    accuracies = pd.DataFrame({"a": [0.5, 1.0], "b": [0.25, 0.0]}, index=["cat", "dog"])
    figure = plots.class_accuracy_figure(accuracies)
    assert [bars.name for bars in figure.data] == ["a", "b"]
    assert list(figure.data[1].text) == ["25%", "0%"]
