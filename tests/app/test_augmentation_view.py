"""AppTest for the Dataset page's "What augmentation does" on the real dataset.

The section must not cost the page's first paint the TensorFlow import: it shows the
recipe chooser and a button, and the pipeline's views only once asked for.
"""

import subprocess
import sys

import pytest

from cifar_core.storage import PROJECT_ROOT
from tests.app.page_helpers import app_at, assert_no_dataset_means_no_section, headers, hide_dataset
from tests.paths import APP_PATH

TIMEOUT = 60
HEADER = "What augmentation does"


def dataset_page():
    """The app opened at the Dataset page, not yet run."""
    return app_at("pages/dataset.py", TIMEOUT)


@pytest.fixture
def app(real_cifar_path):
    return dataset_page()


def augmentation_pictures(app):
    """(caption, media URL) of the section's pictures: the original and the views."""
    return [(image.proto.imgs[0].caption, image.proto.imgs[0].url) for image in app.get("image")
            if "the original" in image.proto.imgs[0].caption
            or "show the network" in image.proto.imgs[0].caption]


def test_first_paint_offers_the_recipes_and_a_button_without_tensorflow(real_cifar_path):
    """In a fresh interpreter: the page runs with the section, and TensorFlow stays out."""
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"app = AppTest.from_file({str(APP_PATH)!r}, default_timeout={TIMEOUT})\n"
        "app.switch_page('pages/dataset.py')\n"
        "app.run()\n"
        "assert not app.exception, app.exception\n"
        f"assert {HEADER!r} in [header.value for header in app.header]\n"
        "assert any(button.label == 'Show augmentations' for button in app.button)\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PROJECT_ROOT, timeout=300)


def test_the_recipes_are_chosen_by_augmentation_and_kept_in_the_url(app):
    app.run()
    assert not app.exception
    assert headers(app).index(HEADER) == headers(app).index("Images per class") - 1
    recipe = app.radio(key="augment")
    assert recipe.options == ["fast-cosine, seed-fast: random flips and shifts",
                              "fast, fast-small, minute: alternating flips and shifts",
                              "seed-notebook, demo: no augmentation"]
    assert app.query_params["augment"] == "random"
    assert any("the fast-cosine and seed-fast recipes, each training image is mirrored"
               in caption.value for caption in app.caption)
    assert not augmentation_pictures(app)  # nothing drawn before the button
    recipe.set_value("none").run()
    assert app.query_params["augment"] == "none"
    assert "Nothing to show" in app.info[0].value
    assert not any(button.label == "Show augmentations" for button in app.button)


def test_views_of_the_selected_image_come_on_demand_and_new_draws_change_them(app):
    app.query_params.update(split="test", index="7", augment="alternating")
    app.run()
    next(button for button in app.button if button.label == "Show augmentations").click().run()
    assert not app.exception
    shown = augmentation_pictures(app)
    name = app.selectbox(key="index").format_func(7).split(" · ")[1]
    assert [caption for caption, _ in shown] == [
        f"test image 7, a {name}: the original",
        "What the fast, fast-small and minute recipes show the network in 12 epochs"]
    app.run()  # the same draws on a rerun
    assert augmentation_pictures(app) == shown
    next(button for button in app.button if button.label == "New draws").click().run()
    assert not app.exception
    redrawn = augmentation_pictures(app)
    assert redrawn[0] == shown[0] and redrawn[1][1] != shown[1][1]  # other views, same image


def test_no_dataset_shows_how_to_get_it_and_no_section(tmp_path, monkeypatch):
    hide_dataset(monkeypatch, tmp_path)
    assert_no_dataset_means_no_section(dataset_page().run(), HEADER)
