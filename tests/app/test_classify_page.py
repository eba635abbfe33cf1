"""AppTest for the Classify page: uploads (good and bad together), charts, URL state.

Uses the tiny untrained model from ``models_dir``; no dataset is needed by this page.
"""

import io
import json

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cifar_core.storage import PROJECT_ROOT

TIMEOUT = 60


def png(color, size=(60, 40)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(color, size=(50, 80)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def app(models_dir):
    return AppTest.from_file(str(PROJECT_ROOT / "pages" / "classify.py"), default_timeout=TIMEOUT)


def bar_labels(app):
    """The class names on each top-k chart, one list per chart."""
    return [json.loads(chart.proto.spec)["data"][0]["y"] for chart in app.get("plotly_chart")]


def test_without_uploads_the_page_asks_for_one(app):
    app.run()
    assert not app.exception
    assert "Upload one or more photos" in app.info[0].value
    assert app.file_uploader[0].accept_multiple_files
    assert {"png", "jpg", "jpeg", "bmp", "gif", "webp"} <= {
        kind.lstrip(".") for kind in app.file_uploader[0].allowed_type}


def test_good_and_bad_files_together(app):
    app.run()
    app.file_uploader[0].set_value([
        ("red.png", png((255, 0, 0)), "image/png"),
        ("notes.png", b"just some text", "image/png"),
        ("empty.jpg", b"", "image/jpeg"),
        ("blue.jpg", jpeg((0, 0, 255)), "image/jpeg"),
    ]).run()
    assert not app.exception
    errors = [error.value for error in app.error]
    assert len(errors) == 2
    assert errors[0].startswith("notes.png") and errors[1].startswith("empty.jpg")
    table = app.dataframe[0].value
    assert table["file"].tolist() == ["red.png", "blue.jpg"]
    assert set(table["top class"]) <= {"airplane", "automobile", "bird", "cat", "deer", "dog",
                                       "frog", "horse", "ship", "truck"}
    assert len(app.get("download_button")) == 1
    assert len(bar_labels(app)) == 1 and len(bar_labels(app)[0]) == 5  # default top-5
    captions = [caption for image in app.image for caption in image.captions]
    assert any("Your picture, 60 x 40" in caption for caption in captions)
    assert any("32 x 32" in caption for caption in captions)
    assert any("Grad-CAM" in caption for caption in captions)
    # Looking closer at the second file changes the preprocessing row.
    app.selectbox(key="chosen").select_index(1).run()
    captions = [caption for image in app.image for caption in image.captions]
    assert any("Your picture, 50 x 80" in caption for caption in captions)


def test_only_bad_files_show_only_errors(app):
    app.run()
    app.file_uploader[0].set_value([("bad.gif", b"GIF89a broken", "image/gif")]).run()
    assert not app.exception
    assert len(app.error) == 1 and "bad.gif" in app.error[0].value
    assert not app.get("plotly_chart")


def test_query_string_sets_the_view(app):
    app.query_params.update(k="3", square="pad", heat="Saliency", compare="true", explain="frog")
    app.run()
    app.file_uploader[0].set_value(("wide.png", png((0, 200, 0), (90, 30)), "image/png")).run()
    assert not app.exception
    assert not app.dataframe  # one file: no table
    labels = bar_labels(app)
    assert len(labels) == 2 and all(len(chart) == 3 for chart in labels)  # two models, top-3
    captions = [caption for image in app.image for caption in image.captions]
    assert any("Square by pad, 90 x 90" in caption for caption in captions)
    assert any("Saliency for “frog”" in caption for caption in captions)


def test_malformed_query_string_falls_back_to_defaults(app):
    app.query_params.update(k="eleven", square="stretch", heat="x", explain="unicorn")
    app.run()
    assert not app.exception
    assert app.session_state["k"] == 5 and app.session_state["square"] == "crop"
    assert app.session_state["explain"] == "top"


def test_layers_button_hands_the_upload_over(app):
    app.run()
    data = png((10, 20, 30))
    app.file_uploader[0].set_value(("mine.png", data, "image/png")).run()
    app.button[0].click().run()
    assert not app.exception
    assert app.session_state["layers_upload"] == ("mine.png", data)


def test_camera_photo_is_classified(app):
    app.run()
    app.toggle(key="camera").set_value(True).run()
    assert not app.file_uploader and len(app.camera_input) == 1
    app.camera_input[0].set_value(("photo.jpg", jpeg((200, 180, 40), (64, 48)), "image/jpeg"))
    app.run()
    assert not app.exception
    assert len(bar_labels(app)) == 1
    assert app.query_params["camera"] in ("true", ["true"])
