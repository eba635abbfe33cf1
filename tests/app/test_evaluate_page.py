"""AppTest for the Evaluate page: the tiny model on the real test set (skips without it)."""

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.polling import run_until
from tests.paths import APP_PATH

TIMEOUT = 60


def evaluate_page():
    app = AppTest.from_file(APP_PATH, default_timeout=TIMEOUT)
    app.switch_page("pages/evaluate.py")
    return app


def run_until_evaluated(app):
    """Run the page, then rerun while the background evaluation is still going."""
    app.run()
    return run_until(app, lambda app: app.exception or app.error or app.get("image"))


@pytest.fixture
def app(real_cifar_path, models_dir):
    return evaluate_page()


@pytest.fixture
def two_models(tiny_model_path, tmp_path, monkeypatch):
    """A models folder with the tiny model as ``first`` and an other-seed one as ``second``."""
    from cifar_core.models import architectures, saving

    for name in ("first", "second"):
        shutil.copy(tiny_model_path.with_suffix(".json"), tmp_path / f"{name}.json")
    shutil.copy(tiny_model_path, tmp_path / "first.keras")
    saving.save_model(architectures.build_model("tiny", seed=1), tmp_path / "second.keras")
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(tmp_path))
    return tmp_path


def query(app, name):
    """A query parameter as one string (AppTest keeps the ones the page set as lists)."""
    value = app.query_params[name]
    return value[-1] if isinstance(value, list) else value


def captions(app):
    return [image.proto.imgs[0].caption for image in app.get("image")]


def links(app):
    return [image.proto.link for image in app.get("image")]


def mistake_images(app):
    """The images of the mistake galleries, not of "Which labels look wrong?" (tested in
    tests/app/test_label_issues.py), whose captions start with "label "."""
    return [image for image in app.get("image")
            if not image.proto.imgs[0].caption.startswith("label ")]


def test_page_shows_accuracy_matrix_table_and_linked_galleries(app):
    run_until_evaluated(app)
    assert not app.exception and not app.error
    accuracy = app.metric[0]
    assert accuracy.label == "Test accuracy" and accuracy.value.endswith("%")
    assert app.get("plotly_chart"), "the confusion matrix is missing"
    assert len(app.dataframe[0].value) == 10  # one row per class
    assert len(mistake_images(app)) == 48  # the chosen cell and the top losses, 24 each
    assert all(link.startswith("layers?model=tiny&split=test&index=") for link in links(app))
    assert query(app, "model") == "tiny"
    assert {"true", "predicted"} <= set(app.query_params)


def cell_captions(app):
    """Captions of the chosen cell's gallery (its size is in the sentence above it)."""
    count = int(app.markdown[0].value.split("**")[1].replace(",", ""))
    assert len(mistake_images(app)) == min(count, 24) + 24  # the cell, then the top losses
    return captions(app)[:min(count, 24)]


def test_a_cell_from_the_link_fills_the_gallery_and_selectors_update_the_url(app):
    app.query_params.update(true="3", predicted="3")
    run_until_evaluated(app)
    assert not app.exception
    assert app.selectbox(key="true").value == 3
    assert "of **cat** recognised as **cat**" in app.markdown[0].value
    assert all(caption.startswith("cat ✓") for caption in cell_captions(app))

    app.selectbox(key="predicted").set_value(5).run()
    assert not app.exception
    assert query(app, "true") == "3" and query(app, "predicted") == "5"
    assert "of **cat** taken for **dog**" in app.markdown[0].value
    assert all(caption.startswith("cat → dog") for caption in cell_captions(app))


@pytest.mark.parametrize("name, value", [("true", "99"), ("predicted", "cat"),
                                         ("compare", "no-such-model"), ("model", "../etc")])
def test_malformed_links_fall_back_to_defaults(app, name, value):
    app.query_params[name] = value
    run_until_evaluated(app)
    assert not app.exception and not app.error
    assert app.get("image")


def test_two_models_compared(real_cifar_path, two_models):
    app = evaluate_page()
    app.query_params.update(model="first", compare="second")
    run_until_evaluated(app)
    assert not app.exception and not app.error
    assert [metric.label for metric in app.metric] == [
        "Test accuracy", "Mistakes", "Test accuracy of second"]
    assert "vs second" in app.metric[0].proto.delta
    assert len(app.get("plotly_chart")) == 2  # the matrix and per-class accuracy
    assert [tab.label for tab in app.tabs] == ["first right, second wrong",
                                               "second right, first wrong"]
    assert query(app, "compare") == "second"


def test_a_broken_model_file_gives_a_message_not_a_traceback(real_cifar_path, tmp_path,
                                                             monkeypatch, tiny_model_path):
    shutil.copy(tiny_model_path.with_suffix(".json"), tmp_path / "broken.json")
    (tmp_path / "broken.keras").write_bytes(b"this is not a model")
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(tmp_path))
    app = evaluate_page()
    run_until_evaluated(app)
    assert not app.exception
    assert "could not be evaluated" in app.error[0].value


def test_a_failed_evaluation_can_be_tried_again(real_cifar_path, tiny_model_path, tmp_path,
                                                monkeypatch):
    from cifar_core.inspect import evaluation

    for suffix in (".keras", ".json"):  # a fresh copy: no evaluation cached next to it yet
        shutil.copy(tiny_model_path.with_suffix(suffix), tmp_path / f"tiny{suffix}")
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(tmp_path))
    app = evaluate_page()

    real_evaluate = evaluation.evaluate_model
    calls = []

    def fails_once(*arguments, **options):
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError("out of memory for a moment")
        return real_evaluate(*arguments, **options)

    monkeypatch.setattr(evaluation, "evaluate_model", fails_once)
    run_until_evaluated(app)
    assert not app.exception and "out of memory for a moment" in app.error[0].value
    app.button(key="retry_tiny").click()
    run_until_evaluated(app)
    assert not app.exception and not app.error
    assert len(calls) == 2 and app.metric[0].label == "Test accuracy"
