"""AppTest for the Evaluate page's "Where the test images live" (the embedding map).

The page tests use the tiny untrained model on the real test set (skipped without it);
the section is also run on its own, through ``AppTest.from_function``, on networks the
catalogue cannot load (one without convolutions, one without any Dense layer), where no
dataset is needed. AppTest cannot click a Plotly chart: a click is the selection the
chart's callback stores in session state, set directly here.
"""

import json
import shutil
import threading

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.page_helpers import app_at, captions, check_ok
from tests.app.polling import run_until

TIMEOUT = 120
HEADER = "Where the test images live"


def evaluate_page():
    """The app opened at the Evaluate page, not yet run."""
    return app_at("pages/evaluate.py", TIMEOUT)


def embedding_chart(app):
    """The map's figure as a dict, or None before it is drawn."""
    for chart in app.get("plotly_chart"):
        figure = json.loads(chart.proto.spec)
        if "features" in str(figure["layout"].get("title", {}).get("text", "")):
            return figure
    return None


def query(app, name):
    value = app.query_params[name]
    return value[-1] if isinstance(value, list) else value


def layers_links(app):
    return [(link.proto.page, link.proto.query_string) for link in app.get("page_link")]


@pytest.fixture
def app(real_cifar_path, models_dir):
    return evaluate_page()


@pytest.fixture
def fresh_model(real_cifar_path, tiny_model_path, tmp_path, monkeypatch):
    """A copy of the tiny model under a new path: nothing of it cached or running yet."""
    for suffix in (".keras", ".json"):
        shutil.copy(tiny_model_path.with_suffix(suffix), tmp_path / f"tiny{suffix}")
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(tmp_path))
    return tmp_path / "tiny.keras"


def test_the_pca_map_renders_and_a_click_shows_the_image_and_its_layers_link(app):
    app.run()
    run_until(app, lambda app: embedding_chart(app) is not None)
    check_ok(app)
    assert HEADER in [header.value for header in app.header]
    figure = embedding_chart(app)
    assert figure["layout"]["title"]["text"] == "10,000 test images by tiny's features (PCA)"
    assert figure["layout"]["legend"]["title"]["text"] == "True class"
    assert sum(trace.get("showlegend", True) for trace in figure["data"]) == 10
    assert "% of the variance" in figure["layout"]["xaxis"]["title"]["text"]
    assert query(app, "projection") == "pca" and query(app, "colour_by") == "true"
    assert "Click a dot to see its image here." in [caption.value for caption in app.caption]
    assert not layers_links(app)

    app.session_state["embedding_chosen"] = 42  # what the chart's click callback stores
    app.run()
    check_ok(app)
    assert any(caption.startswith("test #42: ") for caption in captions(app))
    assert any(text.value.startswith("**Test image #42**: a **") and " tiny says **" in text.value
               for text in app.markdown)
    assert layers_links(app) == [("layers", "model=tiny&split=test&index=42")]
    ring = embedding_chart(app)["data"][-1]
    assert ring["name"] == "chosen image"


def test_colour_and_method_come_from_the_link_and_bad_values_fall_back(app):
    app.query_params.update(colour_by="predicted", projection="umap")
    app.run()
    run_until(app, lambda app: embedding_chart(app) is not None)
    check_ok(app)
    assert app.radio(key="colour_by").value == "predicted"
    assert app.radio(key="projection").value == "pca"  # "umap" is not offered
    assert embedding_chart(app)["layout"]["legend"]["title"]["text"] == "Predicted class"


def test_tsne_waits_for_a_click_and_a_stopped_run_can_start_again(fresh_model, monkeypatch):
    from cifar_core import data
    from cifar_core.inspect import embedding

    release = threading.Event()

    def slow_tsne(features):  # stands in for a minute of t-SNE until the test lets it go
        release.wait(60)
        return np.zeros((len(features), 2), np.float32)

    monkeypatch.setattr(embedding, "tsne", slow_tsne)
    app = evaluate_page()
    app.query_params["projection"] = "tsne"
    app.run()
    run_until(app, lambda app: HEADER in [header.value for header in app.header])
    check_ok(app)
    assert embedding_chart(app) is None
    assert app.button(key="embedding_start").label.startswith("Compute the t-SNE map")

    app.button(key="embedding_start").click().run()
    run_until(app, lambda app: "embedding_retry_stop" in [button.key for button in app.button])
    app.button(key="embedding_retry_stop").click().run()
    release.set()  # t-SNE returns; the stop asked meanwhile takes effect
    run_until(app, lambda app: any("stopped at" in info.value for info in app.info))
    check_ok(app)
    assert app.button(key="embedding_retry").label == "Start again"
    assert embedding_chart(app) is None
    test_images, _ = data.load_cifar10().split("test")
    assert not embedding.cache_path(fresh_model, test_images, "tsne").exists()

    app.button(key="embedding_retry").click().run()
    run_until(app, lambda app: embedding_chart(app) is not None)
    check_ok(app)
    assert embedding_chart(app)["layout"]["title"]["text"].endswith("(t-SNE)")


def test_no_dataset_shows_the_dataset_panel_not_the_map(tmp_path, models_dir, monkeypatch):
    monkeypatch.setenv("CIFAR10_PATH", str(tmp_path / "missing.tar.gz"))
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "empty-cache"))
    app = evaluate_page()
    app.run()
    assert not app.exception, app.exception
    assert "missing.tar.gz" in app.error[0].value
    assert HEADER not in [header.value for header in app.header]
    assert embedding_chart(app) is None


def panel_on_a_model(model_path, images, labels):
    """The section on its own, for a model file the catalogue would not load."""
    from pathlib import Path

    import numpy as np

    from cifar_core.backend import keras
    from cifar_core.models import catalog
    from cifar_core.ui.embedding_panel import embedding_section

    model = keras.saving.load_model(model_path)
    entry = catalog.ModelEntry(key="other", label="other net", path=Path(model_path),
                               architecture=None, source="shipped", test_accuracy=None)
    probabilities = np.full((len(labels), 10), 0.05, np.float32)
    probabilities[np.arange(len(labels)), (np.asarray(labels) + 1) % 10] = 0.55  # all wrong
    embedding_section(entry, images, labels, probabilities,
                      [f"class {index}" for index in range(10)], model=model)


def saved(model, path):
    model.save(path)
    return path


def test_a_network_without_convolutions_is_mapped_by_its_hidden_layer(tmp_path, monkeypatch):
    from cifar_core.backend import keras

    monkeypatch.setenv("CIFAR10_PATH", str(tmp_path / "missing.tar.gz"))  # no dataset needed
    inputs = keras.Input((32, 32, 3), name="images")
    flat = keras.layers.Flatten(name="flatten")(keras.layers.Rescaling(1 / 255)(inputs))
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(flat)
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(hidden)
    path = saved(keras.Model(inputs, outputs, name="dense-only"), tmp_path / "dense.keras")
    images = np.random.default_rng(3).integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    app = AppTest.from_function(panel_on_a_model, args=(path, images, np.arange(12) % 10),
                                default_timeout=TIMEOUT)
    app.run()
    run_until(app, lambda app: embedding_chart(app) is not None)
    check_ok(app)
    traces = embedding_chart(app)["data"]
    assert all(trace["marker"]["symbol"] == "x" for trace in traces if trace["x"])  # all wrong


def test_a_network_without_a_dense_layer_says_why_there_is_no_map(tmp_path, monkeypatch):
    from cifar_core.backend import keras

    monkeypatch.setenv("CIFAR10_PATH", str(tmp_path / "missing.tar.gz"))
    inputs = keras.Input((32, 32, 3), name="images")
    maps = keras.layers.Conv2D(10, 3, name="conv1")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(maps)
    outputs = keras.layers.Activation("softmax", name="probabilities")(pooled)
    path = saved(keras.Model(inputs, outputs, name="all-conv"), tmp_path / "conv.keras")
    images = np.zeros((6, 32, 32, 3), np.uint8)
    app = AppTest.from_function(panel_on_a_model, args=(path, images, np.arange(6)),
                                default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, app.exception
    assert "model 'all-conv' has no Dense layer" in app.info[0].value
    assert embedding_chart(app) is None and not app.button
