"""AppTest for the Class leaderboard page, and the Train page's delete under the same rule.

Runs are run folders written with ``runs.start_run``/``finish`` into the temp
``CIFAR_RUNS_DIR`` (tests/conftest.py): no training, no dataset, no TensorFlow.
"""

import pytest
from streamlit.testing.v1 import AppTest

from cifar_core.models import catalog
from cifar_core.storage import PROJECT_ROOT
from cifar_core.training import class_model, permissions, runs, train_config
from cifar_core.ui import leaderboard_panel, tab_identity

PAGE = str(PROJECT_ROOT / "pages" / "leaderboard.py")
TRAIN_PAGE = str(PROJECT_ROOT / "pages" / "train.py")
TIMEOUT = 60
MINE, THEIRS, PASSWORD = "1" * 32, "2" * 32, "open sesame"
HOSTILE_NAME = "<img src=x onerror=alert(1)>**bold**"


def make_run(owner, *, student="", accuracies=(0.5,), started, state="finished"):
    """A finished run folder (a placeholder model file: the page never loads it)."""
    run = runs.start_run(train_config.preset("demo", student=student), owner=owner)
    for epoch, accuracy in enumerate(accuracies, start=1):
        run.record_epoch(epoch, {"loss": 1.0, "val_loss": 1.0, "val_accuracy": accuracy}, 2.0)
    (run.path / "model.keras").write_bytes(b"not loaded by these tests")
    if state != "running":
        run.finish(state)
    run.update(started=started)
    return runs.read_run(run.path)


def open_page(tab=MINE, page=PAGE):
    app = AppTest.from_file(page, default_timeout=TIMEOUT)
    app.session_state[tab_identity.TAB_KEY] = tab  # this tab's token: the runs it owns
    return app.run()


def check_ok(app):
    assert not app.exception, app.exception
    assert not app.error, [error.value for error in app.error]


def board(app):
    return app.dataframe[0].value


def choose(app, record):
    return app.selectbox(key=leaderboard_panel.CHOSEN_KEY).set_value(record.id).run()


def has_delete_toggle(app, record):
    return any(toggle.key == f"confirm_delete_{record.id}" for toggle in app.toggle)


def markdown_texts(app):
    """The text of every element Streamlit renders as Markdown, and every widget label."""
    texts = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "success", "info",
                 "warning", "error", "toast", "exception"):
        texts += [str(element.value) for element in getattr(app, kind)]
    texts += [element.label for element in app.button] + [element.label for element in app.toggle]
    texts += [option for element in app.selectbox for option in element.options]
    texts += [element.label for element in app.get("expander")]
    return texts


@pytest.fixture
def no_password(monkeypatch):
    monkeypatch.delenv(permissions.PASSWORD_VARIABLE, raising=False)


@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv(permissions.PASSWORD_VARIABLE, PASSWORD)


def test_an_empty_server_says_how_to_get_runs(no_password):
    app = open_page()
    check_ok(app)
    assert app.title[0].value == "Class leaderboard"
    assert any("No runs yet" in info.value for info in app.info)
    assert not app.dataframe and not app.selectbox


def test_runs_are_listed_best_first_with_names_as_plain_text(no_password):
    low = make_run(THEIRS, student="Bo", accuracies=(0.3,), started=1.0)
    hostile = make_run(THEIRS, student=HOSTILE_NAME, accuracies=(0.4, 0.9, 0.8), started=2.0)
    mine = make_run(MINE, student="Ada", accuracies=(0.6,), started=3.0)
    app = open_page()
    check_ok(app)
    table = board(app)
    assert list(table["run"]) == [hostile.id, mine.id, low.id]
    assert list(table["student"]) == [HOSTILE_NAME, "Ada", "Bo"]
    assert list(table["best validation %"]) == [90.0, 60.0, 30.0]
    assert list(table["yours"]) == [False, True, False]
    assert [header.value for header in app.header] == [
        "Runs by best validation accuracy", "The class model", "Pin or delete a run"]
    # The chooser names runs by rank and id; the chosen run's name shows as plain text.
    assert app.selectbox(key=leaderboard_panel.CHOSEN_KEY).options == [
        f"#1 · run {hostile.id}", f"#2 · run {mine.id}", f"#3 · run {low.id}"]
    choose(app, hostile)
    check_ok(app)
    assert f"{HOSTILE_NAME} · run {hostile.id} · finished" in [text.value for text in app.text]
    assert not any(HOSTILE_NAME in text or "onerror" in text or "bold" in text
                   for text in markdown_texts(app))


def test_without_a_password_a_tab_deletes_only_its_own_runs(no_password):
    mine = make_run(MINE, started=1.0)
    theirs = make_run(THEIRS, started=2.0)
    app = open_page()
    assert any("no teacher's password" in block.value for block in app.markdown)
    choose(app, theirs)
    check_ok(app)
    assert not has_delete_toggle(app, theirs)
    assert any("Only the tab that started this run can delete it" in caption.value
               for caption in app.caption)
    assert any("Only the teacher can choose the class model" in caption.value
               for caption in app.caption)
    assert not any(button.label == "Pin as the class model" for button in app.button)
    choose(app, mine)
    app.toggle(key=f"confirm_delete_{mine.id}").set_value(True).run()
    confirm = next(button for button in app.button if button.label.startswith("Yes, delete"))
    confirm.click().run()
    check_ok(app)
    assert [record.id for record in runs.list_runs()] == [theirs.id]
    assert list(board(app)["run"]) == [theirs.id]


def test_a_wrong_password_is_refused(password):
    theirs = make_run(THEIRS, started=1.0)
    app = open_page()
    app.text_input(key=leaderboard_panel.PASSWORD_KEY).input("open sesame!")
    next(button for button in app.button if button.label == "Unlock").click().run()
    assert not app.exception
    assert [error.value for error in app.error] == ["That is not the teacher's password."]
    assert not app.session_state[leaderboard_panel.UNLOCKED_KEY]
    assert app.text_input(key=leaderboard_panel.PASSWORD_KEY).value == ""  # not kept
    choose(app, theirs)
    assert not has_delete_toggle(app, theirs)
    assert any("or the teacher, can delete it" in caption.value for caption in app.caption)


def test_the_teacher_pins_the_class_model_and_deletes_any_run(password):
    pinned = make_run(THEIRS, student="Ada", accuracies=(0.7,), started=1.0)
    other = make_run(None, accuracies=(0.2,), started=2.0)  # a command-line run: no owner
    app = open_page()
    app.text_input(key=leaderboard_panel.PASSWORD_KEY).input(PASSWORD)
    next(button for button in app.button if button.label == "Unlock").click().run()
    check_ok(app)
    assert any(success.value.startswith("Unlocked in this tab") for success in app.success)
    choose(app, pinned)
    next(button for button in app.button if button.label == "Pin as the class model").click()
    app.run()
    check_ok(app)
    assert class_model.pinned_id() == pinned.id
    assert list(board(app)["class model"]) == [True, False]
    assert f"Ada · run {pinned.id} · finished" in [text.value for text in app.text]
    first = catalog.available_models()[0]  # Classify, Layers and Evaluate list it first
    assert (first.key, first.label) == (pinned.id, "class model: Ada (tiny)")
    # Deleting the class model unpins it; a run of nobody's tab goes too.
    for record in (pinned, other):
        choose(app, record)
        app.toggle(key=f"confirm_delete_{record.id}").set_value(True).run()
        next(button for button in app.button if button.label.startswith("Yes, delete")).click()
        app.run()
        check_ok(app)
    assert runs.list_runs() == [] and class_model.pinned_id() is None


def test_a_tab_that_locks_again_loses_the_teachers_rights(password):
    theirs = make_run(THEIRS, started=1.0)
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    app.session_state[tab_identity.TAB_KEY] = MINE
    app.session_state[leaderboard_panel.UNLOCKED_KEY] = True
    app.run()
    choose(app, theirs)
    assert has_delete_toggle(app, theirs)
    app.button(key="teacher_lock").click().run()
    assert not has_delete_toggle(app, theirs)


def test_an_unlocked_tab_is_no_teacher_once_the_password_is_unset(monkeypatch):
    monkeypatch.delenv(permissions.PASSWORD_VARIABLE, raising=False)
    theirs = make_run(THEIRS, started=1.0)
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    app.session_state[leaderboard_panel.UNLOCKED_KEY] = True  # from before a restart
    app.run()
    choose(app, theirs)
    check_ok(app)
    assert not has_delete_toggle(app, theirs)


def test_a_run_deleted_by_another_tab_is_a_message(no_password):
    mine = make_run(MINE, started=1.0)
    app = open_page()
    choose(app, mine)
    app.toggle(key=f"confirm_delete_{mine.id}").set_value(True).run()
    runs.delete_run(mine.id)  # meanwhile, in another tab of the same student
    next(button for button in app.button if button.label.startswith("Yes, delete")).click().run()
    assert not app.exception
    assert any(mine.id in toast.value and "not deleted" in toast.value for toast in app.toast)
    assert any("No runs yet" in info.value for info in app.info)


def test_a_running_run_has_no_delete_and_no_rank(no_password):
    running = make_run(MINE, accuracies=(), started=1.0, state="running")
    app = open_page()
    check_ok(app)
    assert app.selectbox(key=leaderboard_panel.CHOSEN_KEY).options == [
        f"unranked · run {running.id}"]
    choose(app, running)
    assert not has_delete_toggle(app, running)


def test_the_train_page_deletes_under_the_same_rule(tiny_dataset, password):
    theirs = make_run(THEIRS, started=1.0)
    app = open_page(page=TRAIN_PAGE)
    assert not app.exception
    assert not has_delete_toggle(app, theirs)
    assert any("or the teacher, can delete it" in caption.value for caption in app.caption)
    app.session_state[leaderboard_panel.UNLOCKED_KEY] = True  # unlocked on the leaderboard
    app.run()
    app.toggle(key=f"confirm_delete_{theirs.id}").set_value(True).run()
    next(button for button in app.button if button.label.startswith("Yes, delete")).click().run()
    assert not app.exception and runs.list_runs() == []


def test_the_class_model_is_the_teachers_to_delete(password):
    mine = make_run(MINE, student="Ada", started=1.0)
    class_model.pin(mine.id)
    app = open_page()  # the student who trained it, not unlocked
    choose(app, mine)
    check_ok(app)
    assert not has_delete_toggle(app, mine)
    assert any("only the teacher can delete it" in caption.value for caption in app.caption)
    assert list(board(app)["class model"]) == [True]
