"""Label issues: planted wrong labels found first, quietly, in a task; bad inputs refused."""

import subprocess
import sys
import threading

import numpy as np
import pytest

from cifar_core.inspect import label_issues

CLASSES = 4
PER_CLASS = 50
#: image -> the wrong label planted on it; the first is the most confident disagreement.
PLANTED = {7: 2, 60: 3, 130: 0, 180: 1}


def synthetic(seed=0):
    """(true labels, given labels, probabilities): a model right about every image, with its
    confidence drawn from 0.55-0.85; on the images whose label is planted wrong it is 0.97
    sure of the truth and gives their label 0.001, 0.002, ... (the first the least)."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(CLASSES), PER_CLASS)  # (200,)
    confidence = rng.uniform(0.55, 0.85, len(truth))
    probabilities = rng.random((len(truth), CLASSES))
    probabilities[np.arange(len(truth)), truth] = 0
    probabilities *= ((1 - confidence) / probabilities.sum(axis=1))[:, None]  # the others' share
    probabilities[np.arange(len(truth)), truth] = confidence
    given = truth.copy()
    for rank, (index, wrong) in enumerate(PLANTED.items()):
        given[index] = wrong
        label_share = 0.001 * (rank + 1)
        probabilities[index] = (1 - 0.97 - label_share) / (CLASSES - 2)
        probabilities[index, truth[index]], probabilities[index, wrong] = 0.97, label_share
    return truth, given, probabilities


def test_planted_wrong_labels_are_found_first_with_the_models_answer():
    truth, given, probabilities = synthetic()
    issues = label_issues.find_label_issues(given, probabilities)
    assert list(issues.indices[:len(PLANTED)]) == list(PLANTED)  # most suspicious first
    assert list(issues.predictions[:len(PLANTED)]) == list(truth[list(PLANTED)])
    np.testing.assert_allclose(issues.confidences[:len(PLANTED)],
                               probabilities[list(PLANTED), truth[list(PLANTED)]])
    np.testing.assert_allclose(issues.label_probabilities,
                               probabilities[issues.indices, given[issues.indices]])
    assert issues.total == len(given) and issues.fraction == len(issues) / len(given)
    assert (issues.predictions != given[issues.indices]).all()


def test_labels_the_model_agrees_with_are_not_flagged():
    truth, _, probabilities = synthetic()
    issues = label_issues.find_label_issues(truth, probabilities)
    assert len(issues) == 0 and issues.fraction == 0.0
    assert issues.indices.dtype == np.int64


def test_float32_softmax_outputs_and_a_list_of_labels_are_accepted():
    _, given, probabilities = synthetic()
    issues = label_issues.find_label_issues(given.tolist(), probabilities.astype(np.float32))
    assert list(issues.indices[:len(PLANTED)]) == list(PLANTED)


def test_it_prints_nothing(capfd):
    _, given, probabilities = synthetic()
    label_issues.find_label_issues(given, probabilities)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_importing_the_module_or_finding_issues_pulls_in_neither_cleanlab_early_nor_tensorflow():
    code = ("import sys; from cifar_core.inspect import label_issues; "
            "assert 'cleanlab' not in sys.modules; "
            "import numpy as np; label_issues.find_label_issues("
            "np.array([0, 1, 0, 1]), np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])); "
            "assert 'cleanlab' in sys.modules; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("labels", "probabilities", "message"), [
    (np.array([], np.int64), np.zeros((0, 3)), "non-empty 1-D"),
    (np.zeros((2, 2), np.int64), np.full((2, 2), 0.5), "non-empty 1-D"),
    (np.array([0.0, 1.0]), np.full((2, 2), 0.5), "integers"),
    (np.array([0, 1, 0]), np.full((2, 2), 0.5), r"\(N, classes\)"),
    (np.array([0, 1]), np.ones((2, 1)), r"\(N, classes\)"),
    (np.array([0, 1]), np.array([[0.5, np.nan], [0.5, 0.5]]), "finite"),
    (np.array([0, 1]), np.array([[1.5, -0.5], [0.5, 0.5]]), "non-negative"),
    (np.array([0, 1]), np.array([[0.5, 0.4], [0.5, 0.5]]), "row 0 sums to 0.9"),
    (np.array([0, 2]), np.full((2, 2), 0.5), r"0\.\.1, got 0\.\.2"),
    (np.array([-1, 0]), np.full((2, 2), 0.5), r"0\.\.1, got -1\.\.0"),
    (np.array([0, 1]), np.array([["a", "b"], ["c", "d"]]), "real numbers"),
])
def test_bad_inputs_are_a_value_error_naming_them(labels, probabilities, message):
    with pytest.raises(ValueError, match=message):
        label_issues.find_label_issues(labels, probabilities)


def test_the_task_finishes_with_the_ranking_and_reports_its_steps():
    _, given, probabilities = synthetic()
    task = label_issues.label_issues_task(given, probabilities).start()
    assert task.join(60)
    snapshot = task.snapshot()
    assert snapshot.state == "finished" and (snapshot.completed, snapshot.total) == (2, 2)
    assert list(task.result.indices[:len(PLANTED)]) == list(PLANTED)


def test_a_stopped_task_ends_after_its_step_and_starts_again(monkeypatch):
    _, given, probabilities = synthetic()
    ranking, started = threading.Event(), threading.Event()
    real_find = label_issues.find_label_issues

    def held_find(labels, probabilities):
        started.set()
        assert ranking.wait(60)
        return real_find(labels, probabilities)

    monkeypatch.setattr(label_issues, "find_label_issues", held_find)
    task = label_issues.label_issues_task(given, probabilities).start()
    assert started.wait(60)
    task.stop()
    ranking.set()
    assert task.join(60) and task.snapshot().state == "stopped" and task.result is None
    task.start()
    assert task.join(60) and task.snapshot().state == "finished"
    assert list(task.result.indices[:len(PLANTED)]) == list(PLANTED)


def test_a_task_for_bad_inputs_is_refused_at_once():
    with pytest.raises(ValueError, match="row 0 sums to 0.9"):
        label_issues.label_issues_task(np.array([0, 1]), np.array([[0.5, 0.4], [0.5, 0.5]]))


def test_the_task_key_follows_the_arrays():
    _, given, probabilities = synthetic()
    key = label_issues.task_key(given, probabilities)
    assert key == label_issues.task_key(given.copy(), probabilities.copy())
    changed = probabilities.copy()
    changed[0] = changed[0][::-1]
    assert key != label_issues.task_key(given, changed)


def test_issues_by_label_and_the_commonest_pairs():
    truth, given, probabilities = synthetic()
    issues = label_issues.find_label_issues(given, probabilities)
    assert list(issues.labels) == list(given[issues.indices])
    # (label, answer): 7 is (2, 0), 60 (3, 1), 130 (0, 2), 180 (1, 3), one image each.
    assert list(issues.indices[issues.positions_labelled(3)]) == [60]
    assert list(issues.indices[issues.positions_labelled(None)]) == list(issues.indices)
    assert issues.most_common_pairs(2) == [(0, 2, 1), (1, 3, 1)]  # ties in class order
    given[8], probabilities[8] = 2, probabilities[7]  # like image 7: a 0 labelled 2
    issues = label_issues.find_label_issues(given, probabilities)
    assert {*PLANTED, 8} <= set(issues.indices.tolist())
    assert issues.most_common_pairs(1) == [(2, 0, 2)]


def test_any_model_s_probabilities_will_do_even_one_without_convolutions():
    """Label issues need only the answers: a Dense-only Keras model's softmax is ranked too."""
    from cifar_core.backend import keras

    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.Dense(CLASSES, activation="softmax", name="probabilities")(
        keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs, name="dense_only")
    images = np.random.default_rng(3).random((40, 8, 8, 3)).astype("float32")
    probabilities = model(images, training=False).numpy()  # (40, 4)
    labels = np.arange(40) % CLASSES
    issues = label_issues.find_label_issues(labels, probabilities)
    assert issues.total == 40 and set(issues.indices.tolist()) <= set(range(40))
    assert (issues.predictions == probabilities[issues.indices].argmax(axis=1)).all()
    assert (issues.predictions != labels[issues.indices]).all()
