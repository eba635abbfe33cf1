"""AppTest for the Train page's Sweeps section: the launch form (count, time, bad values, the
12-run limit, a full queue) and the sweep view (states, table, charts) over a real job
registry whose jobs are fakes the test finishes by hand (no TensorFlow)."""

import json
import types

import pytest
from streamlit.testing.v1 import AppTest

from cifar_core.training import job_registry, runs, sweep_results, sweeps, train_config
from tests.unit.training.fake_jobs import FakeFactory

TIMEOUT = 30
BASE = train_config.preset("minute")
DATA = types.SimpleNamespace(x_train=range(50000))


def sweep_page(registry, data, base):
    """The section alone, as the Train page calls it."""
    from cifar_core.ui import sweep_panel

    sweep_panel.sweep_section(registry, data, "tab-1", base)


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A real registry (its queue and the runs under a temporary folder) of fake jobs."""
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(tmp_path))
    factory = FakeFactory(make_run=True)
    registry = job_registry.JobRegistry(max_jobs=1, job_factory=factory, per_tab_limit=1)
    registry.factory = factory
    return registry


def open_section(registry, base=BASE):
    return AppTest.from_function(sweep_page, args=(registry, DATA, base),
                                 default_timeout=TIMEOUT).run()


def finish(registry, job_id, accuracies):
    """A fake job "trains": one epoch per validation accuracy, then it finishes."""
    job = registry.factory.by_id(job_id)
    for epoch, accuracy in enumerate(accuracies, start=1):
        job.run.record_epoch(epoch, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.0,
                                     "val_accuracy": accuracy}, seconds=1.0)
    job.finish()
    return job


def texts(elements):
    return " ".join(element.value for element in elements)


def launch_button(app):
    return app.button(key="sweep_launch")


def chart_titles(app):
    return [json.loads(chart.proto.spec)["layout"]["title"]["text"]
            for chart in app.get("plotly_chart")]


def test_a_sweep_is_launched_through_the_queue_and_followed_to_its_chart(registry):
    app = open_section(registry)
    assert not app.exception and app.header[0].value.startswith("Sweeps")
    assert "No sweeps yet" in texts(app.info)
    assert app.selectbox(key="sweep_field_1").value == "learning_rate"
    assert app.text_input(key="sweep_values_1_learning_rate").value == "0.02, 0.067, 0.2, 0.6"
    app.text_input(key="sweep_values_1_learning_rate").set_value("0.05, 0.2, 0.8").run()
    estimate = sweeps.estimated_seconds(sweeps.grid(BASE, {"learning_rate": [0.05, 0.2, 0.8]}))
    assert estimate > 0
    assert "3 runs, about" in texts(app.info) and "of training in all" in texts(app.info)
    assert not launch_button(app).disabled

    launch_button(app).click().run()
    assert not app.exception and "Sweep launched: 3 runs queued" in texts(app.success)
    [sweep_id] = sweep_results.sweep_ids()
    assert app.session_state["sweep_launched"] == sweep_id
    table = app.dataframe[0].value
    assert list(table["learning rate"]) == ["0.05", "0.2", "0.8"]
    assert list(table["state"]) == ["running", "queued", "queued"]
    assert "0 of 3 runs finished" in app.get("progress")[0].proto.text
    assert "appears as soon as a run of this sweep finishes" in texts(app.info)
    assert [entry.config.sweep for entry in registry.queue()] == [sweep_id] * 2
    assert "2 of its runs wait in the queue. The next one is number 1 in line; it starts in " \
        "about" in texts(app.caption)

    # The queue hands each run to a (fake) job as the slot frees.
    for number, accuracies in enumerate(([0.3, 0.42], [0.35, 0.5], [0.1, 0.2])):
        finish(registry, registry.factory.jobs[number].id, accuracies)
    assert registry.queue() == []
    app.run()
    table = app.dataframe[0].value
    assert list(table["state"]) == ["finished"] * 3
    assert list(table["final validation accuracy"]) == [42.0, 50.0, 20.0]
    assert list(table["best validation accuracy"]) == [42.0, 50.0, 20.0]
    titles = chart_titles(app)
    assert titles[0] == "Final validation accuracy against learning rate"
    accuracy = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert accuracy["data"][0]["y"] == [0.42, 0.5, 0.2]
    assert accuracy["layout"]["xaxis"]["type"] == "log"  # 0.05-0.8 spans a decade
    curves = json.loads(app.get("plotly_chart")[1].proto.spec)
    assert {trace["name"].split(" · ")[0] for trace in curves["data"]} == {
        "learning rate 0.05", "learning rate 0.2", "learning rate 0.8"}


def test_bad_values_are_explained_and_nothing_is_launched(registry):
    app = open_section(registry)
    app.text_input(key="sweep_values_1_learning_rate").set_value("0.1, 0, **big**").run()
    assert not app.exception
    assert "learning rate 0: must be greater than 0" in texts(app.error).replace("\\", "")
    assert launch_button(app).disabled
    app.text_input(key="sweep_values_1_learning_rate").set_value("0.1, **big**").run()
    error = texts(app.error)
    assert r"\*\*big\*\*" in error  # shown as typed, never as bold Markdown
    assert launch_button(app).disabled and registry.queue() == []


def test_two_fields_make_a_grid_and_more_than_twelve_runs_are_refused(registry):
    app = open_section(registry)
    app.selectbox(key="sweep_field_2").set_value("batch_size").run()
    assert "learning_rate" not in app.selectbox(key="sweep_field_2").options
    assert "12 runs" in texts(app.info)  # 4 learning rates x 3 batch sizes
    app.text_input(key="sweep_values_2_batch_size").set_value("32, 64, 128, 256").run()
    assert "a sweep of 16 runs (4 x 4) is more than 12" in texts(app.error).replace("\\", "")
    assert launch_button(app).disabled
    app.text_input(key="sweep_values_1_learning_rate").set_value("0.1, 0.4").run()
    app.text_input(key="sweep_values_2_batch_size").set_value("64, 256").run()
    launch_button(app).click().run()
    assert not app.exception
    ids = [job.id for job in registry.factory.jobs] + [entry.id for entry in registry.queue()]
    assert len(ids) == 4
    for job_id, accuracy in zip(ids, (0.3, 0.4, 0.5, 0.6), strict=True):
        finish(registry, job_id, [accuracy])
    app.run()
    assert chart_titles(app)[0] == \
        "Final validation accuracy against learning rate, a line per batch size"
    app.radio(key=f"sweep_chart_{sweep_results.sweep_ids()[0]}").set_value("heat map").run()
    heat = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]
    assert heat["type"] == "heatmap" and heat["text"] == [["30.0%", "40.0%"], ["50.0%", "60.0%"]]


def test_a_full_queue_is_a_plain_warning(registry):
    app = open_section(registry)
    launch_button(app).click().run()
    app.text_input(key="sweep_values_1_learning_rate").set_value("0.1, 0.3").run()
    launch_button(app).click().run()
    assert not app.exception
    assert "a sweep counts as one" in texts(app.warning)
    assert len(sweep_results.sweep_ids()) == 1  # the refused sweep left no plan behind


def test_without_a_recipe_only_the_view_shows_and_any_sweep_on_disk_can_be_chosen(registry):
    older = sweeps.grid(BASE, {"epochs": [1, 2]}, sweep_id="sweep-older")
    newer = sweeps.grid(BASE, {"momentum": [0.5, 0.9]}, sweep_id="sweep-newer")
    for configs in (older, newer):
        sweeps.launch(registry, configs, DATA, owner=f"tab-{configs[0].sweep}")
    app = open_section(registry, base=None)
    assert not app.exception and "Choose a recipe" in texts(app.info)
    chooser = app.selectbox[0]
    assert chooser.options[0].startswith("sweep-newer · momentum · 2 runs")
    assert chooser.value == "sweep-newer"
    assert list(app.dataframe[0].value["momentum"]) == ["0.5", "0.9"]
    assert not [button for button in app.button if button.label.startswith("Cancel")]
    chooser.set_value("sweep-older").run()
    assert list(app.dataframe[0].value["epochs"]) == ["1", "2"]
    assert list(app.dataframe[0].value["state"]) == ["running", "queued"]


def test_its_owner_may_cancel_the_waiting_runs_of_a_sweep(registry):
    app = open_section(registry)
    launch_button(app).click().run()
    [sweep_id] = sweep_results.sweep_ids()
    app.button(key=f"sweep_cancel_{sweep_id}").click().run()
    assert not app.exception and registry.queue() == []
    assert list(app.dataframe[0].value["state"]) == ["running", "not started", "not started",
                                                     "not started"]
    finish(registry, registry.factory.jobs[0].id, [0.4])
    app.run()  # every run has ended or will never start: the view settles
    assert list(app.dataframe[0].value["state"])[0] == "finished"
    assert chart_titles(app)[0] == "Final validation accuracy against learning rate"


def recipe_page():
    """The recipe the Train page's form holds, as the sweep section gets it."""
    import streamlit as st

    from cifar_core.ui import sweep_panel

    st.text(repr(sweep_panel.current_recipe()))


@pytest.mark.parametrize("state, expected", [
    ({"preset": "demo", "field_epochs": 5, "field_train_size": 0, "field_student": "Ada"},
     train_config.preset("demo", epochs=5, train_size=None, student="Ada")),
    ({"preset": "minute"}, train_config.preset("minute")),
    ({"preset": "demo", "field_epochs": 0}, None),  # a bad field: nothing to sweep yet
    ({"preset": "no-such-recipe"}, None),
    ({}, None),
])
def test_the_sweep_starts_from_the_recipe_the_form_holds(state, expected):
    app = AppTest.from_function(recipe_page, default_timeout=TIMEOUT)
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    assert not app.exception and app.text[0].value == repr(expected)


def test_a_sweep_labelled_by_hand_shows_without_a_plan(registry, tmp_path):
    label = "Ada's **sweep** <b>"
    run = runs.start_run(train_config.TrainConfig(sweep=label), tmp_path)
    run.record_epoch(1, {"loss": 1.0, "accuracy": 0.3, "val_accuracy": 0.25}, 1.0)
    run.finish("finished")
    app = open_section(registry, base=None)
    assert not app.exception
    assert app.selectbox[0].options == [label]  # a selectbox option: plain text
    assert list(app.dataframe[0].value["state"]) == ["finished"]
    assert "nothing to plot their accuracy against" in texts(app.info)
    assert len(app.get("plotly_chart")) == 1  # its curves
