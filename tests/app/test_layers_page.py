"""AppTest for the Layers page on the real dataset (skips where it is absent).

The models are untrained copies of the seed, fast and tiny architectures saved to a
temporary models folder, so the page is tested without shipped weights.
"""

import shutil

import pytest

from tests.app.page_helpers import (
    captions,
    check_ok,
    find_top_images,
    headers,
    page_alone,
    png_bytes,
)

TIMEOUT = 90
SECTIONS = ["The image flowing through the network", "One layer in detail",
            "The convolution, step by step (conv1)", "Trained versus untrained"]


@pytest.fixture(scope="module")
def untrained_models_dir(tmp_path_factory):
    from cifar_core.models import architectures, saving

    directory = tmp_path_factory.mktemp("layers-models")
    for architecture in ("seed", "fast", "tiny"):
        model = architectures.build_model(architecture, seed=1)
        path = saving.save_model(model, directory / f"{architecture}.keras")
        saving.write_model_card(path, architecture=architecture, recipe="untrained", epochs=0,
                                test_accuracy=0.1, parameters=model.count_params())
    return directory


def layers_page():
    """The Layers page script on its own, not yet run."""
    return page_alone("layers", TIMEOUT)


@pytest.fixture
def app(real_cifar_path, untrained_models_dir, monkeypatch):
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(untrained_models_dir))
    return layers_page()


@pytest.mark.parametrize("model", ["seed", "fast"])
def test_every_section_renders(app, model):
    app.query_params.update(model=model, split="test", index="7")
    app.run()
    check_ok(app)
    assert headers(app)[:4] == SECTIONS
    assert headers(app)[4] == "Test images that excite conv1 filter 0 most"
    texts = " ".join(captions(app))
    assert "test #7: " in texts and "feature maps of conv1" in texts
    assert "filters of conv1" in texts and "conv1, untrained" in texts
    assert "The model's own activation" in app.success[0].value
    assert [metric.label for metric in app.metric] == ["Output shape", "Parameters",
                                                       "Receptive field"]
    assert len(app.get("plotly_chart")) == 1  # the convolution step


def test_deeper_layer_shows_filters_per_input_channel(app):
    app.query_params.update(model="seed", layer="conv4", filter="9")
    app.run()
    check_ok(app)
    texts = " ".join(captions(app))
    assert "All 64 feature maps of conv4" in texts
    assert "Filter 9 of conv4: one 3 x 3 slice per input channel (64)" in texts
    assert app.metric[0].value == "16 x 16 x 64" and app.metric[2].value == "14 x 14 pixels"


def test_opens_on_the_seed_network_when_the_link_names_no_model(app):
    """The notebook's CNN (3 x 3 filters, ReLU) is what the convolution section explains
    best, so it is the default even where another model comes first in the catalogue."""
    from cifar_core.models import catalog

    assert catalog.available_models()[0].key != "seed"  # the default is a choice, not luck
    app.run()
    check_ok(app)
    assert app.session_state["model"] == "seed" and app.query_params["model"] == "seed"


def test_query_string_round_trips(app):
    app.query_params.update(model="fast", split="train", index="123", layer="conv3", filter="5",
                            row="0", col="30", step_filter="2")
    app.run()
    check_ok(app)
    state = app.session_state
    assert ((state["model"], state["split"], state["index"], state["layer"])
            == ("fast", "train", 123, "conv3"))
    assert (state["filter"], state["row"], state["col"], state["step_filter"]) == (5, 0, 30, 2)
    assert any(caption.startswith("train #123") for caption in captions(app))
    assert "row 0, column 30, filter 2" in app.success[0].value
    app.number_input(key="row").set_value(3).run()
    app.selectbox(key="layer").set_value("conv2").run()
    check_ok(app)
    assert app.query_params["row"] == "3" and app.query_params["layer"] == "conv2"
    assert app.query_params["index"] == "123" and app.query_params["model"] == "fast"


@pytest.mark.parametrize("name, value", [("index", "99999"), ("index", "abc"), ("layer", "conv99"),
                                         ("row", "-4"), ("filter", "1e9"), ("model", "nope")])
def test_bad_links_fall_back_to_defaults(app, name, value):
    app.query_params.update({"model": "tiny", name: value})
    app.run()
    check_ok(app)
    assert headers(app)[:4] == SECTIONS


def test_random_picks_an_image_of_the_chosen_class(app):
    app.query_params.update(model="tiny")
    app.run()
    app.selectbox(key="class").set_value(3).run()
    app.button[0].click().run()
    check_ok(app)
    assert app.query_params["index"] == str(app.session_state["index"])
    assert any(": cat" in caption for caption in captions(app))


def upload_png(color=(200, 30, 30), size=(50, 40)):
    """A one-colour PNG upload: red, 50 x 40 pixels unless told otherwise."""
    return png_bytes(color, size)


def test_upload_handed_over_from_classify(app):
    app.query_params.update(model="tiny")
    app.session_state["layers_upload"] = ("red.png", upload_png())
    app.run()
    check_ok(app)
    assert app.session_state["source"] == "upload"
    assert any(caption.startswith("red.png (shrunk to 32 x 32)") for caption in captions(app))
    assert headers(app)[:4] == SECTIONS


def test_an_upload_is_decoded_once_not_on_every_rerun(app, monkeypatch):
    from cifar_core.data import photos

    decoded = []

    def counted_decode(*arguments, **options):
        decoded.append(arguments[1])
        return real_decode(*arguments, **options)

    real_decode = photos.decode_image
    monkeypatch.setattr(photos, "decode_image", counted_decode)
    app.query_params.update(model="tiny")
    app.session_state["layers_upload"] = ("teal.png", upload_png(color=(10, 160, 150)))
    app.run()
    app.toggle(key="per_map").set_value(True).run()  # a rerun for another widget
    check_ok(app)
    assert decoded == ["teal.png"]


def test_a_broken_upload_shows_a_message(app):
    app.query_params.update(model="tiny")
    app.session_state["layers_upload"] = ("broken.png", upload_png()[:60])
    app.run()
    assert not app.exception
    assert "broken.png" in app.error[0].value


def test_top_activating_images_are_found_with_progress(app):
    app.query_params.update(model="tiny", layer="conv2", filter="4")
    app.run()
    app = find_top_images(app)
    check_ok(app)
    assert headers(app)[4] == "Test images that excite conv2 filter 4 most"


def test_a_card_without_the_architecture_still_compares_with_untrained(
        real_cifar_path, untrained_models_dir, tmp_path, monkeypatch):
    shutil.copy(untrained_models_dir / "tiny.keras", tmp_path / "mine.keras")
    (tmp_path / "mine.json").write_text('{"test_accuracy": 0.1}')  # no "architecture"
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(tmp_path))
    app = layers_page()
    app.run()
    check_ok(app)
    assert any(caption == "conv1 filters, untrained" for caption in captions(app))


def test_a_broken_model_file_shows_a_message(real_cifar_path, tmp_path, monkeypatch):
    (tmp_path / "broken.keras").write_bytes(b"not a zip file")
    (tmp_path / "broken.json").write_text('{"architecture": "seed"}')
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(tmp_path))
    app = layers_page()
    app.run()
    assert not app.exception
    assert "Could not load the model" in app.error[0].value
