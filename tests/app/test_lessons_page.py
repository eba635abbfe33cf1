"""AppTest for the Lessons page: choosing a lesson, stepping through it by button and URL,
and lessons with problems reported while the others still work.

Every test runs without the dataset (CIFAR10_PATH names a missing file): the page needs
none. Links are checked against the shipped models (models/seed.keras, models/fast.keras).
"""

import textwrap

import pytest
from streamlit.testing.v1 import AppTest

from cifar_core.storage import PROJECT_ROOT
from tests.paths import APP_PATH

TIMEOUT = 60


@pytest.fixture(autouse=True)
def no_dataset_and_shipped_models(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_PATH", str(tmp_path / "missing" / "cifar-10-python.tar.gz"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(PROJECT_ROOT / "models"))
    monkeypatch.delenv("CIFAR_LESSONS_DIR", raising=False)


def lessons_page(**query):
    app = AppTest.from_file(APP_PATH, default_timeout=TIMEOUT)
    app.switch_page("pages/lessons.py")
    app.query_params.update(query)
    return app.run()


def query(app, name):
    """A query parameter as one string (AppTest keeps the ones the page set as lists)."""
    value = app.query_params[name]
    return value[-1] if isinstance(value, list) else value


def heading(app):
    return app.header[0].value


def view_links(app):
    """(page, query string) of the step's "Open this view" links."""
    return [(link.proto.page, link.proto.query_string) for link in app.get("page_link")
            if link.proto.label == "**Open this view**"]


def test_the_page_opens_on_the_first_lesson_without_the_dataset():
    app = lessons_page()
    assert not app.exception and not app.error
    assert app.title[0].value == "Lessons"
    assert not app.warning, "the page asked for the dataset"
    assert app.selectbox(key="lesson").value == "pixels"
    assert heading(app) == "Step 1 of 7: Sixty thousand small photos"
    assert (query(app, "lesson"), query(app, "step")) == ("pixels", "1")
    assert view_links(app) == [("dataset", "split=train&grid=8")]
    assert "CIFAR-10 is 60,000 colour photos" in " ".join(block.value for block in app.markdown)
    assert not app.expander or "problem" not in app.expander[0].label  # no problem to report


def test_choosing_a_lesson_starts_it_at_step_one():
    app = lessons_page(lesson="pixels", step="4")
    app.selectbox(key="lesson").set_value("convolution").run()
    assert not app.exception
    assert (query(app, "lesson"), query(app, "step")) == ("convolution", "1")
    assert heading(app) == "Step 1 of 7: The picture goes in, a class comes out"
    assert view_links(app) == [("layers", "model=seed&split=test&index=7&layer=conv1")]
    assert app.selectbox(key="lesson").options == [
        "Pixels and normalisation", "One convolution by hand, then feature maps and filters",
        "A network learning live", "Where the model fails, and why"]


def test_next_and_previous_change_the_step_and_the_url():
    app = lessons_page(lesson="convolution")
    assert app.button(key="previous_step").disabled and not app.button(key="next_step").disabled
    app.button(key="next_step").click().run()
    app.button(key="next_step").click().run()
    assert not app.exception
    assert query(app, "step") == "3" and heading(app) == "Step 3 of 7: At the edge: zero padding"
    assert view_links(app) == [
        ("layers", "model=seed&split=test&index=7&layer=conv1&row=0&col=0&step_filter=0")]
    app.button(key="previous_step").click().run()
    assert query(app, "step") == "2" and heading(app) == "Step 2 of 7: One convolution by hand"
    assert query(app, "lesson") == "convolution"


def test_the_last_step_has_no_next():
    app = lessons_page(lesson="training", step="6")
    assert heading(app) == "Step 6 of 6: Your run is a model too"
    assert app.button(key="next_step").disabled and not app.button(key="previous_step").disabled
    assert view_links(app) == [("evaluate", "model=seed")]


def test_a_step_from_the_url_is_shown():
    app = lessons_page(lesson="mistakes", step="3")
    assert not app.exception
    assert heading(app) == "Step 3 of 8: Precision and recall"
    assert view_links(app) == [("evaluate", "model=seed&true=3&predicted=3")]
    # Every step is listed, so a teacher can jump; the current one in bold.
    jump = app.button(key="go_to_step_3")
    assert jump.label == "**3. Precision and recall**" and jump.proto.icon
    assert app.button(key="go_to_step_4").label == "4. The worst mistakes"
    app.button(key="go_to_step_6").click().run()
    assert not app.exception
    assert heading(app) == "Step 6 of 8: The same image in the better model"
    assert query(app, "step") == "6"


@pytest.mark.parametrize("lesson, step", [("mistakes", "99"), ("mistakes", "0"),
                                          ("mistakes", "three"), ("no-such-lesson", "2")])
def test_a_bad_lesson_or_step_in_the_url_falls_back(lesson, step):
    app = lessons_page(lesson=lesson, step=step)
    assert not app.exception
    expected_lesson = "mistakes" if lesson == "mistakes" else "pixels"
    expected_step = "1" if lesson == "mistakes" else "2"
    assert (query(app, "lesson"), query(app, "step")) == (expected_lesson, expected_step)
    assert heading(app).startswith(f"Step {expected_step} of ")


def test_the_menu_entry_brings_the_teacher_back_to_the_same_step():
    app = lessons_page(lesson="convolution", step="5")
    app.switch_page("pages/home.py")  # away to another page: the query string is cleared
    app.query_params.clear()
    app.run()
    app.switch_page("pages/lessons.py")  # back through the menu, with no lesson in the URL
    app.run()
    assert not app.exception
    assert heading(app) == "Step 5 of 7: Deeper: conv3"
    assert (query(app, "lesson"), query(app, "step")) == ("convolution", "5")


FRONT = "---\ntitle: {title}\nlevel: beginner\nduration: 10 min\n---\n"


def write_lesson(folder, name, title, body):
    (folder / name).write_text(FRONT.format(title=title) + textwrap.dedent(body))


@pytest.fixture
def teacher_lessons(tmp_path, monkeypatch):
    """A lessons folder as a teacher left it: a good lesson, one with a bad link in step 2,
    one whose front matter is broken."""
    folder = tmp_path / "lessons"
    folder.mkdir()
    write_lesson(folder, "1-good.md", "A good lesson", """
        ## Look at the grid
        View: dataset?split=test
        Text of the first step.
        """)
    write_lesson(folder, "2-typo.md", "A lesson with a typo", """
        ## Fine step
        View: layers?model=seed&layer=conv3
        Text.

        ## Typo step
        View: layers?model=seed&layer=conv9
        Text of the step with the typo.
        """)
    (folder / "3-broken.md").write_text("title: A broken lesson\n\n## Step\nText\n")
    monkeypatch.setenv("CIFAR_LESSONS_DIR", str(folder))
    return folder


def test_bad_lessons_are_reported_and_the_others_still_work(teacher_lessons):
    app = lessons_page()
    assert not app.exception
    report = app.expander[0]
    assert report.label.startswith("2 problems in the lessons folder")
    text = " ".join(block.value for block in report.markdown).replace("\\", "")
    assert "2-typo.md, step 2 (Typo step), link 'layers?model=seed&layer=conv9': model " \
           "'seed' has no layer 'conv9'" in text
    assert "3-broken.md: no front matter" in text
    # The broken lesson is left out; the one with a typo is offered.
    assert app.selectbox(key="lesson").options == ["A good lesson", "A lesson with a typo"]
    assert heading(app) == "Step 1 of 1: Look at the grid"

    app.selectbox(key="lesson").set_value("typo").run()
    assert view_links(app) == [("layers", "model=seed&layer=conv3")]  # step 1 is fine
    app.button(key="next_step").click().run()
    assert not app.exception and heading(app) == "Step 2 of 2: Typo step"
    assert view_links(app) == []  # no link to a view that does not exist...
    warning = app.warning[0].value.replace("\\", "")  # ...but why
    assert warning == ("This step's view, layers?model=seed&layer=conv9, cannot be shown:\n"
                       "- model 'seed' has no layer 'conv9'; its conv layers: conv1, conv2, "
                       "conv3, conv4, conv5, conv6")


def test_an_empty_lessons_folder_says_how_to_add_one(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR_LESSONS_DIR", str(tmp_path))
    app = lessons_page()
    assert not app.exception
    assert "No lesson to show yet" in app.info[0].value
    assert not app.get("selectbox")
