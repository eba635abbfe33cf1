"""AppTest for the Evaluate page's "Which labels look wrong?" on the real test set.

The evaluation is replaced by one that returns planted probabilities (a model sure of the
true class, except on a few images where it confidently says another class than their
label), so the test knows which images must come first; it can also be held running,
stopped and started again. Skips without the real dataset.
"""

import shutil
import threading

import numpy as np
import pytest

from tests.app.page_helpers import app_at, assert_no_dataset_means_no_section, headers, hide_dataset
from tests.app.polling import run_until

TIMEOUT = 60
HEADER = "Which labels look wrong?"
#: Test images the model is 0.97 sure are their label + 1, the first the most suspicious.
PLANTED = (9, 3, 120, 4000, 9999)


def planted_probabilities(labels, planted=PLANTED):
    """float32 (N, 10): 0.55-0.85 on each image's label; on the planted images 0.97 on the
    next class and 0.001-0.002 on their label (the first planted the least)."""
    rng = np.random.default_rng(0)
    count = len(labels)
    confidence = rng.uniform(0.55, 0.85, count)
    probabilities = rng.random((count, 10))
    probabilities[np.arange(count), labels] = 0
    probabilities *= ((1 - confidence) / probabilities.sum(axis=1))[:, None]
    probabilities[np.arange(count), labels] = confidence
    for rank, index in enumerate(planted):
        label_share = 0.001 * (1 + rank / len(planted))
        probabilities[index] = (1 - 0.97 - label_share) / 8
        probabilities[index, (labels[index] + 1) % 10] = 0.97
        probabilities[index, labels[index]] = label_share
    return probabilities.astype(np.float32)


@pytest.fixture(autouse=True)
def fresh_tasks():
    """No ranking left from an earlier test: the same planted answers make the same key."""
    from cifar_core.ui import task_panel

    task_panel.server_tasks.clear()


@pytest.fixture
def models_copy(real_cifar_path, tiny_model_path, tmp_path, monkeypatch):
    """A fresh copy of the tiny model as the only model: no evaluation cached beside it."""
    for suffix in (".keras", ".json"):
        shutil.copy(tiny_model_path.with_suffix(suffix), tmp_path / f"tiny{suffix}")
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def gate(models_copy, monkeypatch):
    """Evaluations that report progress until the gate opens, then give planted answers."""
    from cifar_core import background
    from cifar_core.inspect import evaluation

    opened = threading.Event()

    def held_evaluation_task(model_path, images, labels, source):
        def work(progress):
            while not opened.wait(0.05):
                progress("evaluating", 0, len(labels))  # raises Stopped once stopped
            return evaluation.Evaluation(np.asarray(labels), planted_probabilities(labels))
        return background.Task(work, total=len(labels), name="evaluation")

    monkeypatch.setattr(evaluation, "evaluation_task", held_evaluation_task)
    return opened


def evaluate_page():
    """The app opened at the Evaluate page, not yet run."""
    return app_at("pages/evaluate.py", TIMEOUT)


def ranked(app):
    """Whether the section shows its ranking (the background task has finished)."""
    return any("look wrong to this model" in text.value for text in app.markdown)


def issue_images(app):
    """(caption, link) of the label-issue gallery's images."""
    return [(image.proto.imgs[0].caption, image.proto.link) for image in app.get("image")
            if image.proto.imgs[0].caption.startswith("label ")]


def test_planted_wrong_labels_come_first_with_label_answer_and_link(gate):
    from cifar_core import data

    gate.set()
    labels = data.load_cifar10().split("test")[1]
    app = evaluate_page()
    app.run()
    run_until(app, ranked)
    assert not app.exception and not app.error
    assert headers(app)[-1] == HEADER  # the page's last section
    assert any(text.value.startswith(f"**{len(PLANTED)}** of 10,000 test labels (0.1%)")
               for text in app.markdown)
    names = data.CLASS_NAMES
    expected = [(f"label {names[labels[index]]} · model {names[(labels[index] + 1) % 10]} 97%",
                 f"layers?model=tiny&split=test&index={index}") for index in PLANTED]
    assert issue_images(app) == expected
    assert any("no model trained on them" in caption.value for caption in app.caption)
    assert not app.info  # a model this sure flags few images: no warning about its mistakes
    first_label = int(labels[PLANTED[0]])
    assert any(f"labelled **{names[first_label]}**, the model says "
               f"**{names[(first_label + 1) % 10]}**" in text.value for text in app.markdown)

    app.selectbox(key="labelled").set_value(first_label).run()
    assert not app.exception and app.query_params["labelled"] == str(first_label)
    same_label = [entry for entry, index in zip(expected, PLANTED)
                  if labels[index] == first_label]
    assert issue_images(app) == same_label
    app.selectbox(key="labelled").set_value(-1).run()  # any class: the parameter goes
    assert "labelled" not in app.query_params and issue_images(app) == expected


def test_a_model_that_flags_many_images_is_said_to_be_mostly_wrong_itself(models_copy,
                                                                          monkeypatch):
    from cifar_core import background
    from cifar_core.inspect import evaluation

    def many_mistakes(model_path, images, labels, source):
        planted = tuple(range(0, len(labels), 10))  # every tenth image: 10% of the test set
        answers = evaluation.Evaluation(np.asarray(labels),
                                        planted_probabilities(labels, planted))
        return background.Task(lambda progress: answers, total=len(labels), name="evaluation")

    monkeypatch.setattr(evaluation, "evaluation_task", many_mistakes)
    app = evaluate_page()
    app.run()
    run_until(app, ranked)
    assert not app.exception
    assert "most of these are its own mistakes" in app.info[0].value
    assert len(issue_images(app)) == 24  # the gallery shows the first 24


def test_no_section_while_the_evaluation_runs_or_is_stopped_then_it_comes(gate):
    app = evaluate_page()
    app.run()
    assert not app.exception
    assert HEADER not in headers(app) and not issue_images(app)
    assert "Evaluating" in app.get("progress")[0].proto.text  # the evaluation's progress
    app.button(key="retry_tiny_stop").click().run()
    run_until(app, lambda app: app.button(key="retry_tiny").label == "Start again"
              if any(button.key == "retry_tiny" for button in app.button) else False)
    assert not app.exception and "stopped" in app.info[0].value
    assert HEADER not in headers(app) and not issue_images(app)
    gate.set()
    app.button(key="retry_tiny").click().run()
    run_until(app, ranked)
    assert not app.exception and len(issue_images(app)) == len(PLANTED)


def test_a_stopped_ranking_says_so_and_starts_again(gate, monkeypatch):
    """The ranking held until the test opens a second gate; stopped, then started again."""
    from cifar_core.inspect import label_issues

    gate.set()
    ranking = threading.Event()
    real_find = label_issues.find_label_issues

    def held_find(labels, probabilities):
        assert ranking.wait(60), "the test never let the ranking go"
        return real_find(labels, probabilities)

    monkeypatch.setattr(label_issues, "find_label_issues", held_find)
    app = evaluate_page()
    app.run()
    run_until(app, lambda app: any(button.key == "label_issues_tiny_stop"
                                   for button in app.button))
    assert "Finding the labels that look wrong" in app.get("progress")[-1].proto.text
    assert not issue_images(app)
    app.button(key="label_issues_tiny_stop").click().run()
    ranking.set()  # the ranking ends; the task's next progress report sees the Stop
    run_until(app, lambda app: any(button.key == "label_issues_tiny" for button in app.button))
    assert not app.exception
    assert app.button(key="label_issues_tiny").label == "Start again"
    assert any("stopped" in info.value for info in app.info) and not issue_images(app)
    assert headers(app)[-1] == HEADER  # the rest of the page is all there
    app.button(key="label_issues_tiny").click().run()
    run_until(app, ranked)
    assert not app.exception and len(issue_images(app)) == len(PLANTED)


def test_no_dataset_shows_how_to_get_it_and_no_section(models_dir, tmp_path, monkeypatch):
    hide_dataset(monkeypatch, tmp_path)
    assert_no_dataset_means_no_section(evaluate_page().run(), HEADER)
