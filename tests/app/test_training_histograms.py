"""AppTest for the Train page's "What training changed": a run's weight and activation
histograms under its filter evolution, sharing its epoch slider; old, odd and damaged runs."""

import json
import threading
import types

import numpy as np
from streamlit.testing.v1 import AppTest

from cifar_core.storage import PROJECT_ROOT
from cifar_core.training import histograms, recording, runs, train_config
from cifar_core.ui import training_histograms_panel
from tests.unit.training.doubles import TINY

PAGE = str(PROJECT_ROOT / "pages" / "train.py")
TIMEOUT = 60


def figures(app):
    """The page's Plotly figures by title."""
    charts = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return {chart["layout"]["title"]["text"]: chart for chart in charts}


def histogram_figure(app):
    (title,) = [title for title in figures(app) if ": values " in title]
    return title, figures(app)[title]


def test_a_finished_run_shows_its_histograms_with_the_filter_slider(tiny_dataset):
    run, _ = recording.train_run(TINY, tiny_dataset, evaluate_test=False)
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not app.exception, app.exception
    assert "What training changed" in [markdown.value.strip("# ") for markdown in app.markdown]
    layer = app.selectbox(key=f"histogram_layer_{run.id}")
    assert layer.options == ["conv1", "pool1", "conv2", "pool2", "pool3", "probabilities"]
    title, figure = histogram_figure(app)
    assert title == "conv1: values after epoch 2 (grey: before training)"
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["before training", "after epoch 2"] * 3  # kernel, bias, outputs
    assert "conv1: range, mean and spread over epochs" in figures(app)
    assert any("first 40 test images" in caption.value for caption in app.caption)

    app.select_slider(key=f"epoch_{run.id}").set_value(1).run()  # the filter slider
    assert histogram_figure(app)[0] == "conv1: values after epoch 1 (grey: before training)"
    app.select_slider(key=f"epoch_{run.id}").set_value(0).run()
    title, figure = histogram_figure(app)
    assert title == "conv1: values before training"
    assert {trace["name"] for trace in figure["data"]} == {"before training"}  # no grey twin

    app.selectbox(key=f"histogram_layer_{run.id}").set_value("probabilities").run()
    app.toggle(key=f"histogram_log_{run.id}").set_value(True).run()
    assert not app.exception, app.exception
    title, figure = histogram_figure(app)
    assert title.startswith("probabilities: values before training")
    assert figure["layout"]["yaxis"]["type"] == "log"


def test_a_stopped_run_shows_the_epochs_it_reached(tiny_dataset):
    stop = threading.Event()
    stop.set()  # stopped during the first batch
    run, _ = recording.train_run(TINY, tiny_dataset, stop_event=stop, evaluate_test=False)
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not app.exception, app.exception
    assert app.select_slider(key=f"epoch_{run.id}").options == ["0", "1"]
    assert histogram_figure(app)[0].startswith("conv1: values after epoch 1")


def test_a_run_from_before_histograms_gets_a_note(tiny_dataset):
    old = runs.start_run(train_config.PRESETS["demo"])
    old.save_filters(0, np.zeros((3, 3, 3, 4), np.float32))
    old.finish("finished")
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not app.exception, app.exception
    assert training_histograms_panel.NO_HISTOGRAMS in [info.value for info in app.info]
    assert not [title for title in figures(app) if ": values " in title]
    assert app.select_slider(key=f"epoch_{old.id}").options == ["0"]  # filters still shown


def test_a_damaged_file_is_a_warning_and_other_epochs_still_show(tiny_dataset):
    run, _ = recording.train_run(TINY, tiny_dataset, evaluate_test=False)
    histograms.epoch_path(run.path, 2).write_bytes(b"damaged")
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not app.exception, app.exception
    assert "could not be read" in app.warning[0].value
    app.select_slider(key=f"epoch_{run.id}").set_value(1).run()
    assert not app.warning and histogram_figure(app)[0].startswith("conv1: values after epoch 1")


def panel_of_run(path):
    """The section alone, for a run folder that has histograms but no filter snapshots."""
    from cifar_core.training import runs
    from cifar_core.ui import training_histograms_panel

    training_histograms_panel.histogram_section(runs.read_run(path))


def test_a_model_without_convolutions_gets_its_own_slider_and_needs_no_dataset(
        tmp_path, monkeypatch):
    from cifar_core.backend import keras

    monkeypatch.setenv("CIFAR10_PATH", str(tmp_path / "missing.tar.gz"))
    run = runs.start_run({"model": "dense-only", "epochs": 1})
    inputs = keras.Input((32, 32, 3))
    hidden = keras.layers.Dense(6, activation="relu", name="dense1")(
        keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(10, name="probabilities")(hidden))
    recorder = recording.HistogramRecorder(types.SimpleNamespace(path=run.path),
                                           np.zeros((3, 32, 32, 3), np.uint8))
    recorder.set_model(model)
    recorder.record(0)
    kernel = model.get_layer("probabilities").kernel  # "training" moves only the last layer
    kernel.assign(kernel.numpy() * 2)
    recorder.record(1)
    run.finish("finished")
    app = AppTest.from_function(panel_of_run, args=(run.path,), default_timeout=TIMEOUT).run()
    assert not app.exception, app.exception
    assert app.select_slider(key=f"histogram_epoch_{run.id}").options == ["0", "1"]
    layer = app.selectbox(key=f"histogram_layer_{run.id}")
    assert layer.options == ["dense1", "probabilities"]
    assert layer.value == "probabilities"  # it starts on the first layer training changed
    assert histogram_figure(app)[0] == ("probabilities: values after epoch 1 "
                                        "(grey: before training)")
    layer.set_value("dense1").run()
    assert any("weights of dense1 did not change" in caption.value for caption in app.caption)
