"""AppTest for the Train page's queue: a run started while the slot is taken waits, shows its
place and start, can be cancelled by its tab only, turns into the live run; the per-tab limit;
the student's name. The server's registry trains fake jobs the tests finish by hand."""

import pytest
from streamlit.testing.v1 import AppTest

from cifar_core.storage import PROJECT_ROOT
from cifar_core.training import job_registry, jobs
from cifar_core.ui import job_panel, tab_identity
from tests.unit.training.fake_jobs import FakeFactory, FakeJob

PAGE = str(PROJECT_ROOT / "pages" / "train.py")
TIMEOUT = 60
TEACHER, STUDENT = "t" * 32, "s" * 32  # two browser tabs' tokens


class PanelJob(FakeJob):
    """A fake job whose snapshot is the real one, so the page's panel draws it."""

    snapshot_type = jobs.JobSnapshot


@pytest.fixture
def server(tiny_dataset, monkeypatch, tmp_path):
    """The page's registry: one slot, two queued submissions per tab, fake jobs (ETA 90 s)."""
    factory = FakeFactory(job_type=PanelJob, eta_seconds=90.0)
    registry = job_registry.JobRegistry(max_jobs=1, job_factory=factory, per_tab_limit=2,
                                        queue_directory=tmp_path / ".queue", orphan_after=3600)
    monkeypatch.setattr(job_panel, "server_jobs", lambda: registry)
    return registry, factory


def open_page(tab, preset="minute"):
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    app.query_params["preset"] = preset
    app.session_state[tab_identity.TAB_KEY] = tab
    return app.run()


def start(app, name=None, **fields):
    """Fill the New run form (by TrainConfig name) and press Start."""
    if name is not None:
        app.text_input(key="field_student").set_value(name)
    for field, value in fields.items():
        app.number_input(key=f"field_{field}").set_value(value)
    button = next(button for button in app.button if button.label == "Start training")
    return button.click().run()


def texts(app, kind):
    return " ".join(element.value for element in getattr(app, kind))


def keys(app):
    return {button.key for button in app.button}


def test_a_run_waits_in_line_then_becomes_the_live_run(server):
    registry, factory = server
    teacher = start(open_page(TEACHER), name="Ms Lee")
    assert not teacher.exception and [job.owner for job in factory.jobs] == [TEACHER]
    student = open_page(STUDENT)
    assert "Every training slot is taken" in texts(student, "info")
    assert "you are watching it" in texts(student, "info")  # the teacher's run, no Stop
    assert "stop" not in keys(student)
    student = start(student, name="Ana", epochs=4)
    queued = student.session_state["train_job"]
    assert not student.exception and registry.queued(queued).owner == STUDENT
    assert student.query_params["job"] in (queued, [queued])  # a link follows it
    assert "Queued: number 1 in line, starts in about 1 min 30 s." in texts(student, "info")
    assert "cancel" in keys(student)

    teacher.run()  # the teacher's tab sees the queue as a table, never a tab's token
    table = teacher.dataframe[0].value
    assert list(table.columns) == ["place", "model", "recipe", "student", "epochs", "yours"]
    assert table.iloc[0].tolist() == [1, "fast-small", "fast-small (changed)", "Ana", 4, ""]
    assert STUDENT not in table.to_string() and "cancel" not in keys(teacher)
    assert any("Training now: the fast-small model" in caption.value
               for caption in teacher.caption)  # what the queue waits for

    factory.jobs[0].finish()  # the teacher's run ends: the student's starts, same id
    student.run()
    assert not student.exception and student.session_state["train_job"] == queued
    assert factory.jobs[1].id == queued and "stop" in keys(student)
    assert "Epoch 1 of 4" in student.get("progress")[0].proto.text
    assert "Queued" not in texts(student, "info")


def test_only_its_tab_cancels_a_waiting_run(server):
    registry, factory = server
    start(open_page(TEACHER))
    student = start(open_page(STUDENT))
    queued = student.session_state["train_job"]
    watcher = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    watcher.query_params["job"] = queued  # someone else's link to the waiting run
    watcher.session_state[tab_identity.TAB_KEY] = "w" * 32
    watcher.run()
    assert "Queued: number 1 in line" in texts(watcher, "info")
    assert "Another tab queued this run" in texts(watcher, "caption")
    assert "cancel" not in keys(watcher) and not watcher.exception

    student.button(key="cancel").click().run()
    assert not student.exception and registry.queue() == []
    assert "train_job" not in student.session_state and "job" not in student.query_params
    assert "Queued" not in texts(student, "info")
    factory.jobs[0].finish()
    assert len(factory.jobs) == 1  # the cancelled run never started


def test_a_tab_over_its_queue_limit_is_told_how_to_cancel_one(server):
    registry, _ = server
    student = start(open_page(STUDENT))  # trains at once
    for _ in range(2):
        student = start(student)
    first_waiting, second_waiting = registry.queue()
    assert student.session_state["train_job"] == second_waiting.id
    student = start(student)  # a third waiting run: over the limit of 2
    warning = texts(student, "warning")
    assert "already has 2 runs or sweeps waiting" in warning and "Cancel one" in warning
    assert len(registry.queue()) == 2 and not student.exception
    # The panel cancels the run it shows; the queue's buttons this tab's others.
    assert f"cancel_{first_waiting.id}" in keys(student)
    student.button(key=f"cancel_{first_waiting.id}").click().run()
    assert [entry.id for entry in registry.queue()] == [second_waiting.id]
    assert student.session_state["train_job"] == second_waiting.id


def test_the_students_name_reaches_the_config_as_plain_text(server):
    registry, factory = server
    name = "**Zoë** <b>9b</b>"
    app = start(open_page(STUDENT), name=name)
    assert factory.jobs[0].config.student == name
    assert f"Student: {name}" in [element.value for element in app.text]  # never markdown
    assert name not in texts(app, "markdown")
    app = start(app)  # the next run keeps the name, also after switching recipes
    assert registry.queue()[0].config.student == name
    app.selectbox(key="preset").set_value("demo").run()
    assert app.text_input(key="field_student").value == name


def test_a_bad_name_is_explained_under_it_and_nothing_queues(server):
    registry, factory = server
    app = start(open_page(STUDENT), name="Ana\u200b")  # a zero-width space
    assert not app.exception
    assert "control or invisible" in texts(app, "error")
    assert factory.jobs == [] and registry.queue() == [] and "train_job" not in app.session_state
