"""AppTest for the Dataset page on the real dataset (skips where it is absent)."""

import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from cifar_core.storage import PROJECT_ROOT
from tests.app.page_helpers import app_at, captions, component_data, hide_dataset, trigger_component
from tests.app.polling import run_until
from tests.paths import APP_PATH

TIMEOUT = 60


def dataset_page():
    """The app opened at the Dataset page, not yet run."""
    return app_at("pages/dataset.py", TIMEOUT)


@pytest.fixture
def app(real_cifar_path):
    return dataset_page()


def grid_caption(app):
    return next(caption.value for caption in app.caption if "images match" in caption.value)


def grid_drawn(app):
    """What the browser reports once the grid's pictures are painted."""
    return trigger_component(app, "grid_tiles", "drawn", True)


def test_grid_shows_the_chosen_class_and_the_detail_view(app):
    app.query_params["split"] = "test"
    app.query_params["classes"] = "3"
    app.run()
    assert not app.exception
    assert "1,000 test images match" in grid_caption(app)
    tiles = app.selectbox(key="index")
    assert len(tiles.options) == 64  # 8 x 8 grid by default
    assert all("cat" in option for option in tiles.options)
    # Nothing that makes the browser load Plotly.js or the code highlighter comes before
    # the grid is drawn; the grid is no Plotly chart itself.
    assert not app.get("plotly_chart") and not app.code
    assert component_data(app, "grid_tiles")["report_drawn"] is True
    grid_drawn(app)
    assert not app.exception
    markdown = " ".join(code.value for code in app.code)
    assert "(32, 32, 3)" in markdown and "/ 255.0" in markdown
    # Stored and scaled pixel values, histogram, class counts.
    assert len(app.get("plotly_chart")) == 4
    grid = component_data(app, "grid_tiles")
    assert grid["report_drawn"] is False  # once per tab
    assert grid["columns"] == 8 and grid["label"].startswith("Grid of CIFAR-10 images")
    # The same images in the same order as the chooser below, each with its caption.
    assert [f"#{tile['index']} · {tile['caption'].split(' #')[0]}" for tile in grid["tiles"]] \
        == tiles.options
    assert all(tile["src"].startswith("data:image/png;base64,") for tile in grid["tiles"])
    assert grid["selected"] == tiles.value == grid["tiles"][0]["index"]


def test_the_run_before_the_grid_is_drawn_imports_no_pandas(real_cifar_path):
    """In a fresh interpreter: the first run, which the first grid waits for, leaves out
    pandas and pyarrow (0.2-0.4 s to import here); the run with the charts needs them."""
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "from tests.app.page_helpers import trigger_component\n"
        f"app = AppTest.from_file({str(APP_PATH)!r}, default_timeout={TIMEOUT})\n"
        "app.switch_page('pages/dataset.py')\n"
        "app.run()\n"
        "assert not app.exception, app.exception\n"
        "assert 'pandas' not in sys.modules and 'pyarrow' not in sys.modules\n"
        "trigger_component(app, 'grid_tiles', 'drawn', True)\n"
        "assert not app.exception and len(app.get('plotly_chart')) == 4\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PROJECT_ROOT, timeout=300)


def test_clicking_a_tile_selects_its_image(app):
    app.query_params.update(split="test", grid="4")
    app.run()
    shown = [tile["index"] for tile in component_data(app, "grid_tiles")["tiles"]]
    trigger_component(app, "grid_tiles", "clicked", shown[6])
    assert not app.exception
    assert app.selectbox(key="index").value == shown[6]
    assert app.query_params["index"] == str(shown[6])
    assert component_data(app, "grid_tiles")["selected"] == shown[6]  # the tile is marked
    assert captions(app)[0].startswith(f"#{shown[6]}: ")  # the zoomed image

    # Chosen elsewhere, then the same tile clicked again: a click is an event, not a value
    # that must change, so it selects the tile once more.
    app.selectbox(key="index").select_index(2).run()
    assert component_data(app, "grid_tiles")["selected"] == shown[2]
    trigger_component(app, "grid_tiles", "clicked", shown[6])
    assert app.selectbox(key="index").value == shown[6]
    assert app.query_params["index"] == str(shown[6])


@pytest.mark.parametrize("value", [9999, -1, "6", None, 6.5, True])
def test_a_click_on_no_tile_of_the_grid_changes_nothing(app, value):
    app.query_params.update(split="test", grid="4", index="3")
    app.run()
    trigger_component(app, "grid_tiles", "clicked", value)
    assert not app.exception
    assert app.selectbox(key="index").value == 3 and app.query_params["index"] == "3"


def test_query_string_round_trips(app):
    app.query_params.update(split="train", classes="1,9", grid="4", page="3", seed="42")
    app.run()
    assert not app.exception
    assert app.session_state["split"] == "train"
    assert app.session_state["classes"] == [1, 9]
    assert app.session_state["grid"] == 4 and app.session_state["page"] == 3
    assert "page 3 of" in grid_caption(app)
    chosen = app.selectbox(key="index").options[5]
    app.selectbox(key="index").select_index(5).run()
    assert app.query_params["index"] == chosen.split(" ")[0].lstrip("#")
    assert app.query_params["classes"] == "1,9" and app.query_params["seed"] == "42"


def test_changing_widgets_updates_the_url(app):
    app.run()
    app.multiselect(key="classes").select(0).run()
    app.selectbox(key="grid").set_value(10).run()
    assert not app.exception
    assert app.query_params["classes"] == "0" and app.query_params["grid"] == "10"
    assert len(app.selectbox(key="index").options) == 100
    assert all("airplane" in option for option in app.selectbox(key="index").options)


@pytest.mark.parametrize("name, value", [("split", "nope"), ("classes", "1,99"), ("grid", "7"),
                                         ("page", "-3"), ("seed", "abc"), ("index", "999999")])
def test_malformed_links_fall_back_to_defaults(app, name, value):
    app.query_params[name] = value
    app.run()
    assert not app.exception
    assert len(app.selectbox(key="index").options) >= 64


def test_missing_dataset_shows_the_three_fixes(tmp_path, monkeypatch):
    hide_dataset(monkeypatch, tmp_path)
    app = dataset_page().run()
    assert not app.exception
    assert "could not be loaded" in app.error[0].value
    steps = app.markdown[0].value
    assert "CIFAR10_PATH" in steps and str(tmp_path / "empty-cache") in steps
    assert app.button(key="download_cifar10").label == "Download CIFAR-10"
    assert not app.get("plotly_chart")  # nothing of the page ran past the panel
    assert not app.get("bidi_component")


def test_wrong_dataset_path_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_PATH", str(tmp_path / "typo.tar.gz"))
    app = dataset_page().run()
    assert not app.exception
    assert "typo.tar.gz" in app.error[0].value
    assert "looks only there" in app.info[0].value


def test_download_button_fetches_the_archive_with_progress(archive_server, tmp_path, monkeypatch):
    """The Download button against a local server: the archive lands in the cache and loads.

    The tiny archive has 100 training images, so loading it then fails the 50,000-image
    check: the panel says so, which shows the downloaded file was really read.
    """
    from cifar_core.data import cifar10

    monkeypatch.delenv("CIFAR10_PATH", raising=False)
    cache = tmp_path / "download-cache"
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(cache))
    monkeypatch.setattr(cifar10, "OFFICIAL_URL", f"{archive_server['base']}/cifar-10-python.tar.gz")
    monkeypatch.setattr(cifar10, "OFFICIAL_MD5", archive_server["md5"])
    app = dataset_page().run()
    app.button(key="download_cifar10").click().run()
    run_until(app, lambda app: (cache / "cifar-10-python.tar.gz").exists()
              and bool(app.error) and "expected 50000" in app.error[0].value, seconds=20)
    assert not app.exception
    assert (cache / "cifar-10-python.tar.gz").read_bytes() == archive_server["httpd"].payload
    assert "cifar-10-python.tar.gz" in app.error[0].value and "expected 50000" in app.error[0].value


def test_the_split_chosen_on_layers_stays_chosen_on_dataset(real_cifar_path, models_dir):
    """Both pages keep the split under the key "split": coming from Layers, the Dataset
    page shows that split chosen and uses it (it had shown neither pill chosen)."""
    app = AppTest.from_file(APP_PATH, default_timeout=TIMEOUT)
    app.switch_page("pages/layers.py")
    app.query_params.update(model="tiny", split="test")
    app.run()
    assert not app.exception and app.session_state["split"] == "test"
    app.switch_page("pages/dataset.py")
    app.run()
    assert not app.exception
    assert app.button_group(key="split").value == "test"
    assert "10,000 test images match" in grid_caption(app)


def test_a_drawn_grid_is_remembered_across_page_switches(app):
    """The browser has Plotly.js once it has drawn a grid: coming back to the page, the
    charts come with the grid, in the first run."""
    grid_drawn(app.run())
    app.switch_page("pages/home.py").run()
    app.switch_page("pages/dataset.py").run()
    assert not app.exception
    assert len(app.get("plotly_chart")) == 4
    assert component_data(app, "grid_tiles")["report_drawn"] is False
