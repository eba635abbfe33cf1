"""AppTest for the Classify page's heat maps: occlusion, SmoothGrad, Integrated Gradients,
their controls, the sanity check, work in the background (stopped, started again), a model
with no convolution, and bad links.

Most tests use the tiny untrained model from ``models_dir`` on an uploaded photo; one runs
the shipped models on a real CIFAR-10 test image.
"""

import io
import json
import threading

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cifar_core.data import CLASS_NAMES, photos
from cifar_core.storage import PROJECT_ROOT
from tests.app.polling import run_until

TIMEOUT = 60
PAGE = str(PROJECT_ROOT / "pages" / "classify.py")
METHODS = ("Grad-CAM", "Saliency", "Occlusion", "SmoothGrad", "Integrated Gradients")


def png(pixels):
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


PHOTO = png(np.random.default_rng(7).integers(0, 256, (48, 48, 3)))


@pytest.fixture
def app(models_dir):
    return AppTest.from_file(PAGE, default_timeout=TIMEOUT)


def upload(app, data=PHOTO, name="photo.png"):
    app.run()
    app.file_uploader[0].set_value((name, data, "image/png")).run()
    assert not app.exception, app.exception
    return app


def captions(app):
    return [caption for image in app.image for caption in image.captions]


@pytest.mark.parametrize("method", METHODS)
def test_each_method_draws_its_heat_map(app, method):
    app.query_params.update(heat=method, explain="frog")
    upload(app)
    assert any(f"{method} for “frog”" in caption for caption in captions(app))
    assert not app.error
    sliders = {slider.key for slider in app.select_slider}
    assert sliders == {"Occlusion": {"patch", "stride"}, "SmoothGrad": {"samples"},
                       "Integrated Gradients": {"steps"}}.get(method, set())
    layer_boxes = [box for box in app.selectbox if box.key == "layer_0"]
    assert bool(layer_boxes) == (method == "Grad-CAM")


def test_choosing_a_method_shows_only_its_controls(app):
    upload(app)
    assert not app.select_slider
    app.selectbox(key="heat").set_value("Occlusion").run()
    assert app.select_slider(key="patch").value == 8
    assert app.select_slider(key="stride").value == 4
    assert app.query_params["heat"] in ("Occlusion", ["Occlusion"])
    app.selectbox(key="heat").set_value("SmoothGrad").run()
    assert [slider.key for slider in app.select_slider] == ["samples"]


def test_occlusion_patch_and_stride_change_the_map_and_the_url(app):
    app.query_params.update(heat="Occlusion")
    upload(app)
    coarse = heat_picture(app)
    app.select_slider(key="patch").set_value(4).run()
    app.select_slider(key="stride").set_value(2).run()
    assert not app.exception
    assert app.query_params["patch"] in ("4", ["4"]) and app.query_params["stride"] in ("2", ["2"])
    assert heat_picture(app) != coarse  # another map
    # A stride longer than the patch is not offered: it would leave pixels unoccluded.
    assert list(app.select_slider(key="stride").options) == ["1", "2", "4"]
    app.select_slider(key="patch").set_value(2).run()
    assert not app.exception and app.select_slider(key="stride").value == 2


def heat_picture(app):
    """The heat map over the 32 x 32 input, as the page's image URL (changes with the map)."""
    return next(image.proto.imgs[0].url for image in app.image
                if any("on the 32 x 32 input" in caption for caption in image.captions))


def test_links_set_the_controls(app):
    app.query_params.update(heat="Integrated Gradients", steps="16", sanity="true")
    upload(app)
    assert app.select_slider(key="steps").value == 16
    assert app.toggle(key="sanity").value


@pytest.mark.parametrize("query, state", [
    (dict(heat="Occlusion", patch="99", stride="abc"), dict(patch=8, stride=4)),
    (dict(heat="Occlusion", patch="4", stride="8"), dict(patch=4, stride=4)),
    (dict(heat="SmoothGrad", samples="7"), dict(samples=25)),
    (dict(heat="Integrated Gradients", steps="-1"), dict(steps=32)),
    (dict(heat="LIME", sanity="maybe"), dict(heat="Grad-CAM", sanity=False)),
])
def test_bad_links_fall_back_to_defaults(app, query, state):
    app.query_params.update(query)
    upload(app)
    assert not app.error
    for key, value in state.items():
        assert app.session_state[key] == value


def test_sanity_check_shows_both_maps_and_the_correlation(app):
    app.query_params.update(heat="Integrated Gradients", sanity="true", compare="true")
    upload(app)
    headings = [header.value for header in app.subheader]
    assert len(headings) == 2 and all(heading.startswith("Sanity check: ") and
                                      heading.endswith(" with random weights")
                                      for heading in headings)
    assert len(app.metric) == 2
    for metric in app.metric:
        assert metric.label == "Spearman rank correlation"
        assert metric.value == "undefined" or -1.0 <= float(metric.value) <= 1.0
    texts = captions(app)
    assert texts.count("Integrated Gradients, trained weights") == 2
    assert texts.count("Integrated Gradients, random weights") == 2
    assert any("passes" in block.value or "fails" in block.value or "agree" in block.value
               for block in app.markdown)
    app.toggle(key="sanity").set_value(False).run()
    assert not app.metric and not app.subheader


def test_big_maps_are_computed_in_the_background(app):
    app.query_params.update(heat="Occlusion", patch="4", stride="1", explain="cat")
    upload(app)  # 29 x 29 = 841 patch positions: a background task
    run_until(app, lambda app: any("Occlusion for “cat”" in caption
                                   for caption in captions(app)))
    assert not app.error


def seeded_stopped_task(models_dir, class_index, options):
    """Stop the page's occlusion task under its own key before the page ever runs it; the
    task computes for real when started again."""
    from cifar_core import background
    from cifar_core.models import saving
    from cifar_core.ui import attribution_panel, task_panel

    uploads, _ = photos.prepare_uploads([("photo.png", PHOTO)], "crop")
    image = uploads[0].steps.model_input
    path = models_dir / "tiny.keras"
    real = attribution_panel._work("map", saving.load_model(path), image, class_index,
                                   "Occlusion", options)
    gate, first = threading.Event(), threading.Event()

    def work(progress):
        if not first.is_set():
            first.set()
            progress("occlusion", 0, 841)
            gate.wait(30)
            progress("occlusion", 1, 841)  # stop() was asked: raises Stopped, at 0 done
        return real(progress)

    key = attribution_panel.task_key("map", path, image, class_index, "Occlusion", options)
    task = task_panel.server_tasks().start(key, lambda: background.Task(work, 841, "test"))
    task.stop()
    gate.set()
    assert task.join(30) and task.snapshot().state == "stopped"
    return task


def test_a_stopped_map_says_so_and_starts_again(app, models_dir):
    task = seeded_stopped_task(models_dir, CLASS_NAMES.index("dog"), {"patch": 2, "stride": 1})
    app.query_params.update(heat="Occlusion", patch="2", stride="1", explain="dog")
    upload(app)
    assert any("stopped at 0 of 841 images" in info.value for info in app.info)
    assert not any("Occlusion for" in caption for caption in captions(app))
    app.button(key="retry_map_0").click().run()
    run_until(app, lambda app: any("Occlusion for “dog”" in caption
                                   for caption in captions(app)))
    assert task.snapshot().state == "finished"


def panel_on_a_dense_model(model_path, image):
    """The panel, called directly, on a model with no convolution (our catalogue loads
    only our own architectures, which all have some)."""
    import streamlit as st

    from cifar_core.backend import keras
    from cifar_core.ui import attribution_panel

    model = keras.saving.load_model(model_path)
    for position, method in enumerate(("Grad-CAM", "Occlusion", "Integrated Gradients")):
        options = attribution_panel.layer_options(model, method, {}, position)
        if options is None:
            continue
        heat = attribution_panel.result("map", model, model_path, image, 0, method, options,
                                        position=position)
        st.session_state[f"heat_{method}"] = None if heat is None else float(heat.max())
    attribution_panel.sanity_row(model, "dense", model_path, image, 0, "Grad-CAM", {},
                                 position=9)
    attribution_panel.sanity_row(model, "dense", model_path, image, 0, "Saliency", {},
                                 position=10)


def test_a_model_with_no_convolution(tmp_path):
    from tests.unit.inspect.any_models import build_dense_only_model

    path = tmp_path / "dense.keras"
    build_dense_only_model().save(path)
    image = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    app = AppTest.from_function(panel_on_a_dense_model, args=(path, image),
                                default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, app.exception
    assert "has none" in app.warning[0].value  # Grad-CAM explains it cannot
    assert app.session_state["heat_Occlusion"] == 1.0
    assert app.session_state["heat_Integrated Gradients"] == 1.0
    assert "could not be computed" in app.error[0].value and "convolution" in app.error[0].value
    assert len(app.metric) == 1  # the saliency sanity check still works


def test_maps_need_no_dataset(app, monkeypatch, tmp_path):
    monkeypatch.setenv("CIFAR10_PATH", str(tmp_path / "missing.tar.gz"))
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "empty-cache"))
    app.query_params.update(heat="SmoothGrad", sanity="true")
    upload(app)
    assert any("SmoothGrad for" in caption for caption in captions(app))
    assert len(app.metric) == 1


def test_shipped_models_on_a_real_test_image(real_cifar_path, monkeypatch):
    """seed and fast on test image 7: every method draws, the sanity numbers show."""
    from cifar_core.data import load_cifar10

    monkeypatch.setenv("CIFAR_MODELS_DIR", str(PROJECT_ROOT / "models"))
    images, labels = load_cifar10(real_cifar_path).split("test")
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    app.query_params.update(model="fast", model2="seed", compare="true", sanity="true",
                            explain=CLASS_NAMES[labels[7]])
    upload(app, png(images[7]), "test-7.png")
    for method in METHODS:
        app.selectbox(key="heat").set_value(method).run()
        assert not app.exception and not app.error, method
        assert len(app.metric) == 2, method
        values = [metric.value for metric in app.metric]
        assert all(value == "undefined" or -1 <= float(value) <= 1 for value in values)
        charts = [json.loads(chart.proto.spec)["layout"]["title"]["text"]
                  for chart in app.get("plotly_chart")]
        assert len(charts) == 2
