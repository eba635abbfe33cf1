"""AppTest for the Train page's resume section: resume a stopped run, train a finished one
more, and say why a run cannot continue (tiny runs on tiny data)."""

import json
import threading
import types

import pytest
from streamlit.testing.v1 import AppTest

from cifar_core.backend import keras
from cifar_core.storage import PROJECT_ROOT
from cifar_core.training import class_model, permissions, recording, runs, train_config
from cifar_core.ui import leaderboard_panel, tab_identity
from tests.app.polling import run_until

PAGE = str(PROJECT_ROOT / "pages" / "train.py")
TIMEOUT = 60
#: The tiny net on the fixture's 200 images: 10 batches an epoch, seconds per run.
CONFIG = train_config.TrainConfig(model="tiny", epochs=2, batch_size=20, optimizer="adam",
                                  learning_rate=0.003, schedule="constant", validation_size=20)
#: The tab the tests' pages are (its token), which started the runs; another tab; a password.
MINE, THEIRS, PASSWORD = "tab-1", "tab-2", "open sesame"


class StopAtEpochEnd(keras.callbacks.Callback):
    def __init__(self, event, epoch):
        super().__init__()
        self.event, self.epoch = event, epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self.event.set()


def trained_run(data, stop_after_epoch=None, owner=MINE):
    """A run of CONFIG in $CIFAR_RUNS_DIR, started by tab ``owner``: stopped after that
    epoch (0-based), or finished."""
    stop = threading.Event()
    callbacks = [] if stop_after_epoch is None else [StopAtEpochEnd(stop, stop_after_epoch)]
    run, _ = recording.train_run(CONFIG, data, stop_event=stop, callbacks=callbacks,
                                 owner=owner)
    return runs.read_run(run.path)


def open_page(tab=MINE, unlocked=False):
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    app.session_state[tab_identity.TAB_KEY] = tab
    app.session_state[leaderboard_panel.UNLOCKED_KEY] = unlocked
    return app.run()


@pytest.fixture
def no_password(monkeypatch):
    monkeypatch.delenv(permissions.PASSWORD_VARIABLE, raising=False)


@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv(permissions.PASSWORD_VARIABLE, PASSWORD)


def button(app, label):
    return next((item for item in app.button if item.label == label), None)


def said(app, kind, text):
    return any(text in element.value for element in getattr(app, kind))


def history(app):
    return app.dataframe[0].value


def test_a_stopped_run_resumes_in_place_and_finishes(tiny_dataset):
    record = trained_run(tiny_dataset, stop_after_epoch=0)
    app = open_page()
    assert not app.exception
    assert said(app, "info", "continues from its checkpoint at the end of epoch 1 of 2")
    button(app, "Resume training").click().run()
    assert not app.exception and app.session_state["train_job"]
    run_until(app, lambda app: said(app, "success", "Run finished"))
    table = history(app)
    assert list(table["run"]) == [record.id]  # the same run, not a new one
    assert list(table["status"]) == ["finished"] and list(table["epochs"]) == ["2 of 2"]
    assert [row["epoch"] for row in runs.read_run(record.path).history()] == [1.0, 2.0]
    assert button(app, "Resume training") is None
    assert button(app, "Train 2 more epochs") is not None  # finished: it may train more


def test_a_finished_run_trains_more_epochs(tiny_dataset):
    record = trained_run(tiny_dataset)
    app = open_page()
    assert button(app, "Resume training") is None
    app.number_input(key=f"more_epochs_{record.id}").set_value(1).run()
    button(app, "Train 1 more epochs").click().run()
    assert not app.exception
    run_until(app, lambda app: said(app, "success", "Run finished"))
    table = history(app)
    assert list(table["run"]) == [record.id] and list(table["epochs"]) == ["3 of 3"]
    after = runs.read_run(record.path)
    assert after.config["epochs"] == 3 and after.status["epochs_before"] == 2


def test_a_run_without_checkpoint_says_why_it_cannot_continue(tiny_dataset):
    run = runs.start_run(CONFIG)  # stopped before its first epoch ended: no checkpoint
    run.finish("stopped")
    app = open_page()
    assert not app.exception
    assert button(app, "Resume training") is None
    assert said(app, "caption", f"Cannot continue: Run {run.id} has no checkpoint")


def panel_with(record, registry):
    import streamlit as st

    from cifar_core.ui import resume_panel

    resume_panel.resume_section(record, registry, None, "tab-1")  # MINE (the source runs alone)
    st.text(repr(st.session_state.get("train_job")))


class RefusingRegistry:
    """A registry whose ``submit`` raises ``error`` (remembering what was submitted), with
    the resume requests ``waiting`` in its queue and the runs ``continuing`` (their resume
    starting or training)."""

    def __init__(self, error=None, waiting=(), continuing=()):
        self.error, self.waiting, self.submitted = error, list(waiting), []
        self.continuing = set(continuing)

    def submit(self, config, data, *, owner, resume=None):
        self.submitted.append((config, owner, resume))
        raise self.error

    def queue(self):
        return [types.SimpleNamespace(id=f"entry-{number}", resume=resume)
                for number, resume in enumerate(self.waiting)]

    def resuming(self, run_id):
        return run_id in self.continuing or any(
            resume["run"] == run_id for resume in self.waiting)


def test_a_full_queue_or_a_late_refusal_is_a_message_and_nothing_starts(tiny_dataset):
    from cifar_core.training import job_registry

    record = trained_run(tiny_dataset, stop_after_epoch=0)
    for error, kind in ((job_registry.QueueFull("This tab already has 3 runs waiting"),
                         "warning"),
                        (ValueError(f"Run {record.id} is still running"), "error")):
        registry = RefusingRegistry(error)
        app = AppTest.from_function(panel_with, args=(record, registry),
                                    default_timeout=TIMEOUT).run()
        button(app, "Resume training").click().run()
        assert not app.exception
        assert said(app, kind, str(error))
        assert registry.submitted == [(CONFIG, MINE, {"run": record.id, "more_epochs": 0})]
        assert app.text[0].value == "None"  # no job to show


def test_a_run_waiting_in_the_queue_to_continue_says_so(tiny_dataset):
    record = trained_run(tiny_dataset, stop_after_epoch=0)
    registry = RefusingRegistry(waiting=[{"run": "another-run", "more_epochs": 0},
                                         {"run": record.id, "more_epochs": 0}])
    app = AppTest.from_function(panel_with, args=(record, registry),
                                default_timeout=TIMEOUT).run()
    assert not app.exception and button(app, "Resume training") is None
    assert said(app, "info", "waits in the queue to continue")


def test_a_running_run_shows_no_controls(tiny_dataset):
    run = runs.start_run(CONFIG)  # this process is alive: it really runs
    app = AppTest.from_function(panel_with, args=(runs.read_run(run.path), RefusingRegistry()),
                                default_timeout=TIMEOUT).run()
    assert not app.exception and not app.button and not app.caption and not app.info


def test_a_run_whose_resume_is_starting_or_training_shows_no_buttons(tiny_dataset):
    record = trained_run(tiny_dataset)  # finished: it could train more
    registry = RefusingRegistry(continuing=[record.id])  # taken from the queue, not running yet
    app = AppTest.from_function(panel_with, args=(record, registry),
                                default_timeout=TIMEOUT).run()
    assert not app.exception and not app.button and registry.submitted == []
    assert said(app, "info", "A resume of this run is already queued or training")


def test_only_the_tab_that_started_a_run_or_the_teacher_may_continue_it(tiny_dataset,
                                                                        password):
    record = trained_run(tiny_dataset, stop_after_epoch=0, owner=THEIRS)
    app = open_page()  # another student's tab
    assert not app.exception and button(app, "Resume training") is None
    assert said(app, "caption", "Only the tab that started this run, or the teacher, can "
                                "continue it.")
    app = open_page(unlocked=True)  # the teacher
    assert button(app, "Resume training") is not None
    class_model.pin(record.id)
    app = open_page(tab=THEIRS)  # the student who trained it, once it is the class model
    assert button(app, "Resume training") is None
    assert said(app, "caption", "This run is the class model: only the teacher can continue it.")


def test_the_rule_is_checked_again_when_the_button_is_pressed(tiny_dataset, no_password):
    record = trained_run(tiny_dataset, stop_after_epoch=0)
    registry = RefusingRegistry(ValueError("never submitted"))
    app = AppTest.from_function(panel_with, args=(record, registry),
                                default_timeout=TIMEOUT).run()
    status = json.loads((record.path / "status.json").read_text())
    status["owner"] = THEIRS  # meanwhile the run changed hands (a stale page)
    (record.path / "status.json").write_text(json.dumps(status))
    button(app, "Resume training").click().run()
    assert not app.exception and registry.submitted == []
    assert said(app, "error", "Only the tab that started this run can continue it")
    assert app.text[0].value == "None"
