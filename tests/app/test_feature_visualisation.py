"""AppTest for the Layers page's "What a filter wants to see" section.

The page tests run on the real dataset (skipped where it is absent) with an untrained
seed model saved to a temporary models folder; the panel is also run on its own, on a
network without convolutions and on tiny images, where no dataset is needed.
"""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cifar_core.storage import PROJECT_ROOT
from tests.app.polling import run_until

TIMEOUT = 120
HEADER = "What a filter wants to see"


@pytest.fixture(scope="module")
def untrained_models_dir(tmp_path_factory):
    from cifar_core.models import architectures, saving

    directory = tmp_path_factory.mktemp("feature-visualisation-models")
    model = architectures.build_model("seed", seed=1)
    path = saving.save_model(model, directory / "seed.keras")
    saving.write_model_card(path, architecture="seed", recipe="untrained", epochs=0,
                            test_accuracy=0.1, parameters=model.count_params())
    return directory


@pytest.fixture
def app(real_cifar_path, untrained_models_dir, monkeypatch):
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(untrained_models_dir))
    return AppTest.from_file(str(PROJECT_ROOT / "pages" / "layers.py"), default_timeout=TIMEOUT)


def captions(app):
    return [image.caption for element in app.get("image") for image in element.proto.imgs]


def verdicts(app, about):
    return [element.value for element in list(app.success) + list(app.warning)
            if about in element.value]


def class_table(app):
    """Our table of class scores, or None before it is drawn."""
    return next((frame.value for frame in app.dataframe
                 if "best test image's score" in frame.value.columns), None)


def check_ok(app):
    assert not app.exception, app.exception
    assert not app.error, [error.value for error in app.error]


def test_section_comes_last_and_waits_for_a_click(app):
    app.query_params.update(model="seed", layer="conv2", filter="5")
    app.run()
    check_ok(app)
    headers = [header.value for header in app.header]
    assert headers[-2:] == ["Test images that excite conv2 filter 5 most", HEADER]
    assert app.button(key="fv_start_filter").label.startswith(
        "Synthesise what conv2 filter 5 wants to see")
    assert app.button(key="fv_start_classes")
    assert app.toggle(key="fv_grid").label == "Show the whole layer's grid (all 32 filters)"
    assert not any("Synthesised for" in caption for caption in captions(app))


def test_one_filter_and_the_classes_with_the_honest_numbers(app):
    app.query_params.update(model="seed", layer="conv1", filter="3")
    app.run()
    app.button(key="fv_start_filter").click().run()
    run_until(app, lambda app: any("Synthesised for" in caption for caption in captions(app)))
    check_ok(app)
    texts = captions(app)
    synthesised = next(text for text in texts if text.startswith("Synthesised for conv1 filter 3"))
    best = next(text for text in texts if text.startswith("Best test image (test #"))
    value, best_value = (float(text.rsplit(" ", 1)[1]) for text in (synthesised, best))
    [verdict] = verdicts(app, "conv1 filter 3")
    assert f"({value:.3f}" in verdict and f"{best_value:.3f})" in verdict
    assert ("excites conv1 filter 3" in verdict) == (value > best_value)

    app.button(key="fv_start_classes").click().run()
    run_until(app, lambda app: class_table(app) is not None)
    check_ok(app)
    table = class_table(app)
    assert len(table) == 10 and table["class"].tolist()[0] == "airplane"
    assert (table["best test image"].str.startswith("test #")).all()
    assert any(caption.startswith("What each class output wants to see") for caption in
               captions(app))


def test_grid_can_be_stopped_and_started_again(app):
    app.query_params.update(model="seed", layer="conv6", filter="0")
    app.run()
    app.toggle(key="fv_grid").set_value(True).run()
    check_ok(app)
    assert app.button(key="fv_start_grid").label == (
        "Synthesise conv6's grid (the first 64 of its 128 filters, all at once)")
    app.button(key="fv_start_grid").click().run()
    app.button(key="fv_retry_grid_stop").click().run()
    run_until(app, lambda app: any("stopped at" in info.value for info in app.info))
    check_ok(app)
    assert app.button(key="fv_retry_grid").label == "Start again"
    assert not any(caption.startswith("What the first 64") for caption in captions(app))


def panel_on_a_model(model_path, images, labels):
    """The section on its own: a model file and a handful of 'test' images."""
    from cifar_core.backend import keras
    from cifar_core.ui.feature_visualisation_panel import feature_visualisation_section

    model = keras.saving.load_model(model_path)  # the catalogue loads only our architectures
    names = [f"class {index}" for index in range(10)]
    feature_visualisation_section(model, model_path, "conv1", 0, images, labels, names)


def test_a_model_without_convolutions_still_shows_its_classes(tmp_path, monkeypatch):
    from cifar_core.backend import keras

    monkeypatch.setenv("CIFAR10_PATH", str(tmp_path / "missing.tar.gz"))  # no dataset needed
    inputs = keras.Input((32, 32, 3), name="images")
    flat = keras.layers.Flatten(name="flatten")(keras.layers.Rescaling(1 / 255)(inputs))
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(flat)
    path = tmp_path / "dense.keras"
    keras.Model(inputs, outputs, name="dense-only").save(path)
    images = np.random.default_rng(3).integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    app = AppTest.from_function(panel_on_a_model, args=(path, images, np.arange(12) % 10),
                                default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, app.exception
    assert "'dense-only' has no convolution layer" in app.info[0].value
    assert "fv_start_filter" not in [button.key for button in app.button]
    app.button(key="fv_start_classes").click().run()
    run_until(app, lambda app: class_table(app) is not None)
    assert not app.exception, app.exception
    assert class_table(app)["class"].tolist() == [f"class {index}" for index in range(10)]


def test_without_the_dataset_the_page_stops_before_the_section(untrained_models_dir, tmp_path,
                                                               monkeypatch):
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(untrained_models_dir))
    monkeypatch.setenv("CIFAR10_PATH", str(tmp_path / "missing.tar.gz"))
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "empty-cache"))
    app = AppTest.from_file(str(PROJECT_ROOT / "pages" / "layers.py"), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, app.exception
    assert "missing.tar.gz" in app.error[0].value  # the dataset panel says what is missing
    assert HEADER not in [header.value for header in app.header]
    assert "fv_start_classes" not in [button.key for button in app.button]
