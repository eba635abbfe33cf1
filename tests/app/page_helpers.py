"""What many AppTest modules do alike: open a page, read what it shows, check it ran cleanly.

Kept in one place so that every page's tests open the app and read headers, captions and
errors the same way, and a change to AppTest's element tree is fixed once.
"""

import io
import json

from PIL import Image
from streamlit.testing.v1 import AppTest

from cifar_core.storage import PROJECT_ROOT
from tests.app.polling import run_until
from tests.paths import APP_PATH


def app_at(page_file, timeout):
    """The whole app (its navigation included) switched to ``page_file``, not yet run.

    ``page_file`` is relative to the project, like "pages/dataset.py"; ``timeout`` is
    AppTest's default timeout in seconds (TensorFlow's import alone takes several).
    """
    app = AppTest.from_file(APP_PATH, default_timeout=timeout)
    app.switch_page(page_file)
    return app


def page_alone(name, timeout):
    """The page script ``pages/<name>.py`` on its own, without the app's navigation."""
    return AppTest.from_file(str(PROJECT_ROOT / "pages" / f"{name}.py"), default_timeout=timeout)


def headers(app):
    """The text of every ``st.header`` on the page, in order."""
    return [header.value for header in app.header]


def captions(app):
    """The caption of every picture on the page, in order (one element may hold several)."""
    return [image.caption for element in app.get("image") for image in element.proto.imgs]


def check_ok(app):
    """Fail with the page's own message if it raised or showed an error."""
    assert not app.exception, app.exception
    assert not app.error, [error.value for error in app.error]


def component(app, key):
    """The custom component (``st.components.v2``) mounted with ``key``: AppTest shows it
    as an element it does not know, whose ``proto`` holds the data sent to the browser."""
    found = [element for element in app.get("bidi_component") if element.key == key]
    assert len(found) == 1, f"{len(found)} components with key {key!r}"
    return found[0]


def component_data(app, key):
    """The JSON data the page sent to the component mounted with ``key``."""
    proto = component(app, key).proto
    return json.loads(proto.mixed.json if proto.WhichOneof("data") == "mixed" else proto.json)


def trigger_component(app, key, event, value):
    """Run the page as after the browser's ``setTriggerValue(event, value)`` in the component
    mounted with ``key`` (AppTest has no way to click inside one), keeping every other
    widget's value; returns ``app``.

    The frontend sends a component's triggers as one JSON list under an internal widget id
    derived from the component's; the callbacks named ``on_<event>_change`` run first.
    """
    from streamlit.components.v2.bidi_component.main import _make_trigger_id

    states = app._tree.get_widget_states()
    state = states.widgets.add()
    state.id = _make_trigger_id(component(app, key).proto.id, "events")
    state.json_trigger_value = json.dumps([{"event": event, "value": value}])
    return app._run(states)


def png_bytes(color, size):
    """A PNG file's bytes: one ``color`` (an RGB tuple) over ``size`` (width, height)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def hide_dataset(monkeypatch, tmp_path):
    """Make CIFAR-10 unavailable to the app: no archive path and an empty decoded cache."""
    monkeypatch.delenv("CIFAR10_PATH", raising=False)
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "empty-cache"))


def assert_no_dataset_means_no_section(app, header):
    """A page run without the dataset tells how to get it and leaves out ``header``'s section."""
    assert not app.exception
    assert "could not be loaded" in app.error[0].value
    assert header not in headers(app) and not app.get("image")


def find_top_images(app):
    """Ask the Layers page for its top-activating test images; rerun until they show.

    The button is there only when no earlier run left the images on disk; either way the
    page ends up showing them, ranked by each image's highest peak activation.
    """
    if any(button.key == "find_top" for button in app.button):
        app.button(key="find_top").click().run()
    return run_until(app, lambda app: any("Highest peak activation first" in caption
                                          for caption in captions(app)))
