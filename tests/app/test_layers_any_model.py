"""AppTest: Layers, Classify and Evaluate on models of any shape (issue 15).

The models are the tiny builders of tests/unit/inspect/any_models.py (default layer names,
standardised inputs with logits, residual with strided convolutions, depthwise and separable,
dilated, no convolution at all), saved through ``saving.save_model`` with a card into a
temporary CIFAR_MODELS_DIR, so the pages load them as they would a designed or imported
network. The Layers and Evaluate tests need the real dataset and skip without it.
"""


import pytest

from tests.app.page_helpers import (
    app_at,
    captions,
    check_ok,
    find_top_images,
    headers,
    page_alone,
    png_bytes,
)
from tests.app.polling import run_until
from tests.unit.inspect import any_models

TIMEOUT = 90


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    """{builder name: its conv layer names}; the models saved in one folder (``.folder``)."""
    from cifar_core.models import architectures, saving

    directory = tmp_path_factory.mktemp("any-models")
    conv_names = {}
    for name, build in any_models.BUILDERS.items():
        model = build(seed=1)
        path = saving.save_model(model, directory / f"{name}.keras")
        saving.write_model_card(path, architecture=model.name, recipe="untrained", epochs=0,
                                test_accuracy=0.1, parameters=model.count_params())
        conv_names[name] = architectures.conv_layer_names(model)
    return directory, conv_names


def use_models_folder(saved, monkeypatch):
    """Point the app at a saved (folder, {model: conv layer names}) pair; the names."""
    directory, conv_names = saved
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(directory))
    return conv_names


@pytest.fixture
def models_folder(saved_models, monkeypatch):
    """The builders' models as the app's models folder; {name: conv layer names}."""
    return use_models_folder(saved_models, monkeypatch)


def page(name):
    """The page script ``pages/<name>.py`` on its own, not yet run."""
    return page_alone(name, TIMEOUT)


@pytest.mark.parametrize("name", any_models.WITH_CONVOLUTIONS)
def test_layers_page_shows_every_section_for_any_architecture(real_cifar_path, models_folder,
                                                              name):
    first = models_folder[name][0]
    app = page("layers")
    app.query_params.update(model=name, split="test", index="7")
    app.run()
    check_ok(app)
    assert headers(app)[:4] == ["The image flowing through the network", "One layer in detail",
                                f"The convolution, step by step ({first})",
                                "Trained versus untrained"]
    assert app.selectbox(key="layer").options == models_folder[name]
    assert "The model's own activation" in app.success[0].value  # checked against the model
    texts = " ".join(captions(app))
    assert f"feature maps of {first}" in texts and f"{first} filters, untrained" in texts
    assert [metric.label for metric in app.metric] == ["Output shape", "Parameters",
                                                       "Receptive field"]


def test_layers_page_shows_depthwise_and_separable_filters(real_cifar_path, models_folder):
    depthwise, separable = models_folder["mobile"]
    app = page("layers")
    app.query_params.update(model="mobile", layer=depthwise, filter="3")
    app.run()
    check_ok(app)
    assert any("depthwise convolution" in caption and "input channel 1" in caption
               for caption in captions(app))
    assert "Depthwise" in " ".join(markdown.value for markdown in app.markdown)
    app.query_params.update(layer=separable, filter="5")
    app = page("layers")
    app.query_params.update(model="mobile", layer=separable, filter="5")
    app.run()
    check_ok(app)
    texts = " ".join(captions(app))
    assert f"Step 1 of {separable} (separable)" in texts
    assert "filter 5's column is outlined" in texts


def test_residual_receptive_field_is_the_widest_path(real_cifar_path, models_folder):
    last = models_folder["residual"][-1]
    app = page("layers")
    app.query_params.update(model="residual", layer=last)
    app.run()
    check_ok(app)
    assert app.metric[2].value == "19 x 19 pixels"
    step_caption = next(caption.value for caption in app.caption
                        if caption.value.startswith("The first convolution"))
    assert "Conv2D, 3 x 3 kernel, stride 2, 'same' padding, activation linear" in step_caption
    assert "(BatchNormalization)" in step_caption and "(ReLU)" in step_caption


def test_a_model_without_convolutions_says_so(real_cifar_path, models_folder):
    app = page("layers")
    app.query_params.update(model="perceptron")
    app.run()
    check_ok(app)
    assert headers(app) == ["The image flowing through the network", "One layer in detail"]
    assert "nothing convolutional to show" in app.info[0].value
    assert len(app.dataframe) == 2  # the class ranking and the layer table
    assert "Dense" in list(app.dataframe[1].value["type"])


def test_top_activating_images_on_a_residual_network(real_cifar_path, models_folder):
    last = models_folder["residual"][-1]
    app = page("layers")
    app.query_params.update(model="residual", layer=last, filter="2")
    app.run()
    app = find_top_images(app)
    check_ok(app)
    assert headers(app)[4] == f"Test images that excite {last} filter 2 most"


def png(color, size=(40, 40)):
    """A one-colour PNG upload of ``size`` (width, height)."""
    return png_bytes(color, size)


def classify_page_with_upload(model, heat, file_name, color):
    """The Classify page on ``model`` with ``heat`` maps, after uploading a ``color`` PNG."""
    app = page("classify")
    app.query_params.update(model=model, heat=heat)
    app.run()
    app.file_uploader[0].set_value([(file_name, png(color), "image/png")]).run()
    return app


def until_heat_map(app, heat):
    """Rerun ``app`` until it shows the ``heat`` map of the upload; the app."""
    return run_until(app, lambda app: any(caption.startswith(f"{heat} for")
                                          for caption in captions(app)))


@pytest.mark.parametrize("name", ["residual", "mobile", "standardised"])
def test_classify_grad_cam_on_any_convolution(models_folder, name):
    app = classify_page_with_upload(name, "Grad-CAM", "red.png", (200, 30, 30))
    app = until_heat_map(app, "Grad-CAM")
    check_ok(app)
    layer_choice = app.selectbox(key="layer_0")
    assert layer_choice.options == models_folder[name][::-1]


def test_classify_without_convolutions_offers_saliency(models_folder):
    app = classify_page_with_upload("perceptron", "Grad-CAM", "blue.png", (20, 30, 220))
    assert not app.exception
    assert "Grad-CAM needs a convolution layer" in app.warning[0].value
    app.query_params.update(heat="Saliency")
    app = classify_page_with_upload("perceptron", "Saliency", "blue.png", (20, 30, 220))
    app = until_heat_map(app, "Saliency")
    check_ok(app)


@pytest.mark.parametrize("name", ["residual", "perceptron"])
def test_evaluate_page_on_any_architecture(real_cifar_path, models_folder, name):
    app = app_at("pages/evaluate.py", TIMEOUT)
    app.query_params.update(model=name)
    app.run()
    app = run_until(app, lambda app: app.exception or app.error or app.get("image"))
    check_ok(app)
    metrics = {metric.label: metric.value for metric in app.metric}
    accuracy = next(value for label, value in metrics.items() if "ccuracy" in label)
    assert 0 <= float(accuracy.rstrip("%")) <= 100



# --- imported files (tests/unit/models/zoo.py), loaded wrapped through the catalogue -------

@pytest.fixture(scope="module")
def imported_folder(tmp_path_factory):
    """A models folder holding every zoo kind imported; {kind: its conv layer names}."""
    from cifar_core.models import architectures, importing
    from tests.unit.models import zoo

    directory = tmp_path_factory.mktemp("imported-zoo")
    conv_names = {}
    for kind in zoo.KINDS:
        entry = zoo.import_into(directory, kind)
        conv_names[kind] = architectures.conv_layer_names(importing.load_imported(entry.path))
    return directory, conv_names


@pytest.fixture
def imported_models(imported_folder, monkeypatch):
    """The imported zoo as the app's models folder; {kind: conv layer names}."""
    return use_models_folder(imported_folder, monkeypatch)


def test_layers_page_on_every_imported_kind(real_cifar_path, imported_models):
    for kind, conv_names in imported_models.items():
        app = page("layers")
        app.query_params.update(model=kind, split="test", index="3")
        app.run()
        check_ok(app)
        if not conv_names:
            assert "nothing convolutional to show" in app.info[0].value
            continue
        assert headers(app)[2] == f"The convolution, step by step ({conv_names[0]})", kind
        assert "The model's own activation" in app.success[0].value
        assert app.selectbox(key="layer").options == conv_names


def test_classify_and_evaluate_on_an_imported_residual_network(real_cifar_path,
                                                               imported_models):
    app = classify_page_with_upload("residual_strided", "Grad-CAM", "red.png", (200, 30, 30))
    app = until_heat_map(app, "Grad-CAM")
    check_ok(app)
    app = app_at("pages/evaluate.py", TIMEOUT)
    app.query_params.update(model="nested_block")
    app.run()
    app = run_until(app, lambda app: app.exception or app.error or app.get("image"))
    check_ok(app)
