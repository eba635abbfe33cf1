"""AppTest for the Train page: tiny runs on tiny data, live progress, stop, queue, history."""

import json
import subprocess
import sys
import time

from streamlit.testing.v1 import AppTest

from cifar_core.models import catalog
from cifar_core.storage import PROJECT_ROOT
from cifar_core.training import job_registry, runs, train_config
from cifar_core.ui import tab_identity
from tests.app.polling import run_until

PAGE = str(PROJECT_ROOT / "pages" / "train.py")
TIMEOUT = 60
TAB = "7" * 32  # a tab's token: a tab may delete the runs it started (owner=TAB)


def open_page(preset="demo", tab=None):
    """The page on ``preset`` (the tiny net's demo trains in seconds on the tiny data),
    as the browser tab ``tab`` (a token: the runs it owns; None: a new tab's own)."""
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    app.query_params["preset"] = preset
    if tab is not None:
        app.session_state[tab_identity.TAB_KEY] = tab
    return app.run()


def fill_form(app, **fields):
    """Set the form's fields (by TrainConfig name) and press Start."""
    for name, value in fields.items():
        app.number_input(key=f"field_{name}").set_value(value)
    start = next(button for button in app.button if button.label == "Start training")
    return start.click().run()


def said(app, kind, text):
    return any(text in element.value for element in getattr(app, kind))


def history(app):
    return app.dataframe[0].value


def test_a_tiny_run_trains_live_and_lands_in_the_history(tiny_dataset):
    app = open_page()
    assert not app.exception
    assert said(app, "info", "No runs yet")
    fill_form(app, epochs=2, batch_size=20, train_size=0)
    assert not app.exception and app.session_state["train_job"]
    job_id = app.session_state["train_job"]
    assert app.query_params["job"] in (job_id, [job_id])  # a link re-attaches to the job
    run_until(app, lambda app: said(app, "success", "Run finished"))
    assert "Epoch 2 of 2 · batch 10 of 10" in app.get("progress")[0].proto.text
    assert len(app.get("plotly_chart")) >= 2  # the live curves and the history's curves
    table = history(app)
    assert list(table["status"]) == ["finished"] and list(table["recipe"]) == ["demo (changed)"]
    assert list(table["epochs"]) == ["2 of 2"] and 0 <= table["test accuracy %"][0] <= 100
    assert app.select_slider[0].options == ["0", "1", "2"]  # filters before and after each epoch
    assert any("tensorboard --logdir" in block.value for block in app.code)
    run_id = table["run"][0]
    assert run_id in [entry.key for entry in catalog.run_models()]  # other pages offer it


def test_stop_keeps_the_partial_run(tiny_dataset):
    app = open_page()
    fill_form(app, epochs=500, batch_size=20, train_size=0)
    run_until(app, lambda app: "batch" in app.get("progress")[0].proto.text)
    app.button(key="stop").click().run()
    run_until(app, lambda app: said(app, "success", "Run stopped"))
    table = history(app)
    assert list(table["status"]) == ["stopped"]
    assert int(table["epochs"][0].split(" of ")[0]) < 500
    assert runs.list_runs()[0].model_path is not None  # the partial model was saved


def test_bad_values_are_explained_and_nothing_starts(tiny_dataset):
    app = open_page()
    fill_form(app, epochs=0, learning_rate=0.0, train_size=-3)
    assert not app.exception
    errors = " ".join(element.value for element in app.error)
    assert "integer >= 1" in errors and "greater than 0" in errors and "None (all)" in errors
    assert "train_job" not in app.session_state and not runs.list_runs()


def test_a_second_user_queues_and_trains_when_the_first_run_ends(tiny_dataset):
    teacher = open_page()
    fill_form(teacher, epochs=500, batch_size=20, train_size=0)
    student = open_page()  # another browser session on the same server
    assert not student.exception
    assert said(student, "info", "Every training slot is taken")
    assert said(student, "info", "you are watching it")  # the run is shown, without Stop
    assert not any(button.key == "stop" for button in student.button)
    fill_form(student, epochs=500, batch_size=20, train_size=0)
    assert said(student, "info", "Queued: number 1 in line")
    queued = student.session_state["train_job"]
    teacher.button(key="stop").click().run()
    run_until(teacher, lambda app: said(app, "success", "Run stopped"))
    run_until(student, lambda app: any("batch" in bar.proto.text for bar in app.get("progress")))
    assert student.session_state["train_job"] == queued  # the same run, now training
    student.button(key="stop").click().run()
    run_until(student, lambda app: said(app, "success", "Run stopped"))


class TeacherTabClosed:
    """The server as it is once the teacher's tab was refreshed: its old session is gone."""

    @staticmethod
    def exists():
        return True

    @classmethod
    def instance(cls):
        return cls()

    def is_active_session(self, session_id):
        return False


def test_only_a_tab_whose_link_names_the_run_takes_it_over(tiny_dataset, monkeypatch):
    teacher = open_page()
    fill_form(teacher, epochs=500, batch_size=20, train_size=0)
    job_id = teacher.session_state["train_job"]
    time.sleep(job_registry.ORPHAN_AFTER_SECONDS + 0.5)  # the teacher's tab went to another page
    student = open_page()  # no link to the run: it may watch, never stop it
    assert not student.exception and said(student, "info", "you are watching it")
    assert not any(button.key == "stop" for button in student.button)
    linked = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    linked.query_params["job"] = job_id  # a classmate opens the link while the tab is open
    linked.run()
    assert not linked.exception and not any(button.key == "stop" for button in linked.button)
    monkeypatch.setattr(tab_identity, "Runtime", TeacherTabClosed)
    refreshed = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    refreshed.query_params["job"] = job_id  # the teacher's own link, e.g. after a refresh
    refreshed.run()
    assert not refreshed.exception and refreshed.session_state["train_job"] == job_id
    refreshed.button(key="stop").click().run()
    run_until(refreshed, lambda app: said(app, "success", "Run stopped"))


def test_a_run_of_a_killed_server_shows_as_interrupted(tiny_dataset):
    run = runs.start_run(train_config.PRESETS["demo"])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    status = json.loads((run.path / "status.json").read_text())
    status.update(pid=int(dead.stdout), process_start=None)
    (run.path / "status.json").write_text(json.dumps(status))
    app = open_page()
    assert not app.exception
    assert list(history(app)["status"]) == ["interrupted"]


def test_delete_asks_first(tiny_dataset):
    run = runs.start_run(train_config.PRESETS["demo"], owner=TAB)
    run.finish("stopped")
    app = open_page(tab=TAB)
    app.toggle(key=f"confirm_delete_{run.id}").set_value(True).run()
    confirm = next(button for button in app.button if button.label.startswith("Yes, delete"))
    confirm.click().run()
    assert not app.exception
    assert runs.list_runs() == [] and said(app, "info", "No runs yet")


def two_finished_runs():
    """Two stopped demo runs of the tab ``TAB``, the second newer (the page shows it first)."""
    first, second = (runs.start_run(train_config.PRESETS["demo"], owner=TAB),
                     runs.start_run(train_config.PRESETS["demo"], owner=TAB))
    first.finish("stopped")
    second.finish("stopped")
    second.update(started=first.status["started"] + 1)
    return first, second


def test_deleting_a_run_another_tab_deleted_is_a_message(tiny_dataset):
    kept, gone = two_finished_runs()
    app = open_page(tab=TAB)
    app.toggle(key=f"confirm_delete_{gone.id}").set_value(True).run()
    runs.delete_run(gone.id)  # meanwhile, in another tab
    confirm = next(button for button in app.button if button.label.startswith("Yes, delete"))
    confirm.click().run()
    assert not app.exception
    assert any(gone.id in toast.value for toast in app.toast)
    assert list(history(app)["run"]) == [kept.id]


def test_malformed_links_show_the_page(tiny_dataset):
    run = runs.start_run(train_config.PRESETS["demo"])
    run.finish("finished")
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    app.query_params.update(job="no-such-job", runs="../etc,nope", preset="bogus")
    app.run()
    assert not app.exception
    assert (app.session_state["preset"] == train_config.DEFAULT_PRESET
            and "Current run" not in [h.value for h in app.header])
    assert list(history(app)["run"]) == [run.id]


def test_delete_switch_does_not_follow_to_another_run(tiny_dataset):
    first, second = two_finished_runs()
    app = open_page(tab=TAB)
    app.toggle(key=f"confirm_delete_{second.id}").set_value(True).run()
    assert any(button.label.startswith("Yes, delete") for button in app.button)
    app.query_params["runs"] = first.id  # the teacher picks the other run
    app.run()
    assert not app.exception
    assert not any(button.label.startswith("Yes, delete") for button in app.button)
    assert not app.toggle(key=f"confirm_delete_{first.id}").value


def test_the_page_starts_on_a_recipe_that_learns_visibly_in_about_a_minute(tiny_dataset):
    """Not demo: its tiny net ends near 28% validation accuracy, which looks like failure on
    a projector. The default trains fast-small for two epochs (README: about 78%)."""
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not app.exception
    assert app.session_state["preset"] == "minute" == train_config.DEFAULT_PRESET
    assert app.selectbox(key="field_model").value == "fast-small"
    assert app.number_input(key="field_epochs").value == 2
    assert "about 1 minute on 2 CPU cores" in train_config.describe("minute")
