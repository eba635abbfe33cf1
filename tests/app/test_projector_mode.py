"""AppTest for projector mode: ``?present=1``, the sidebar toggle, page switches, deep links.

Streamlit's frontend drops the query string when the user switches page in the sidebar;
AppTest keeps it, so the tests clear ``app.query_params`` before a switch, as a browser would.
"""

import json

import pytest
from streamlit.testing.v1 import AppTest

from cifar_core.ui import projector
from tests.paths import APP_PATH


def open_app(**query):
    app = AppTest.from_file(APP_PATH, default_timeout=60)
    app.query_params.update(query)
    return app.run()


def projector_styles(app):
    """The style elements projector mode emitted in the last run."""
    return [body for body in (element.proto.body for element in app.html)
            if body.startswith("<style>") and "--projector-zoom" in body]


def is_projecting(app):
    """The toggle, the style and the URL all say projector mode is on."""
    on = app.toggle(key=projector.PARAMETER).value
    assert on == bool(projector_styles(app))
    assert (app.query_params.get("present") == "1") == on
    return on


def switch_page(app, path):
    app.query_params.clear()  # what the browser does on a page switch
    return app.switch_page(path).run()


def test_normal_mode_changes_nothing():
    app = open_app()
    assert not app.exception
    assert not is_projecting(app)
    assert app.toggle(key="present").label == "Projector mode"
    assert "present" not in app.query_params
    assert not projector_styles(app)


def test_present_1_turns_it_on():
    app = open_app(present="1")
    assert not app.exception
    assert is_projecting(app)
    style = projector_styles(app)[0]
    assert "font-size" in style and 'data-testid="stToolbarActions"' in style


def test_it_survives_page_switches_and_keeps_the_link(real_cifar_path):
    app = open_app(present="1")
    switch_page(app, "pages/dataset.py")
    assert not app.exception
    assert is_projecting(app)
    assert app.title[0].value == "The CIFAR-10 dataset"
    assert app.query_params["grid"] == "8"  # the page's own parameters are written too
    switch_page(app, "pages/home.py")
    assert not app.exception
    assert is_projecting(app)


def test_the_toggle_turns_it_off_and_on_again():
    app = open_app(present="1")
    app.toggle(key="present").set_value(False).run()
    assert not app.exception
    assert not is_projecting(app)
    assert "present" not in app.query_params
    switch_page(app, "pages/home.py")
    assert not is_projecting(app)  # off stays off after a page switch

    app.toggle(key="present").set_value(True).run()
    assert not app.exception
    assert is_projecting(app)


def test_present_0_in_a_link_turns_it_off():
    app = open_app(present="1")
    app.query_params["present"] = "0"
    app.run()
    assert not app.exception
    assert not is_projecting(app)
    assert "present" not in app.query_params


@pytest.mark.parametrize("value", ["banana", "", "2", "yes"])
def test_a_malformed_value_means_off(value):
    app = open_app(present=value)
    assert not app.exception
    assert not is_projecting(app)


def test_the_pages_own_parameters_are_untouched(real_cifar_path):
    app = AppTest.from_file(APP_PATH, default_timeout=60)
    app.query_params.update(present="1", split="test", grid="4", index="7")
    app.switch_page("pages/dataset.py").run()  # a deep link into the Dataset page
    assert not app.exception
    assert is_projecting(app)
    assert {name: app.query_params[name] for name in ("split", "grid", "index")} == {
        "split": "test", "grid": "4", "index": "7"}
    assert app.selectbox(key="index").value == 7

    app.selectbox(key="grid").set_value(6).run()  # a page widget still writes its parameter
    assert not app.exception
    assert app.query_params["grid"] == "6" and app.query_params["present"] == "1"


def chart_page():
    """A page with a chart of fixed height, a fixed-size picture and a chart of free height."""
    import plotly.graph_objects as go
    import streamlit as st

    from cifar_core.ui import projector

    st.session_state[projector.STATE] = st.query_params.get("present") == "1"
    chart = go.Figure(go.Bar(x=[1, 2], y=[3, 4]), layout=dict(height=200, margin=dict(t=40)))
    tall = go.Figure(go.Bar(x=[1], y=[1]), layout=dict(height=650))
    picture = go.Figure(layout=dict(width=300, height=300))
    st.plotly_chart(chart, key="chart")
    st.columns(2)[1].plotly_chart(tall, key="tall")  # a container's method is wrapped too
    st.plotly_chart(picture, key="picture")
    st.plotly_chart(go.Figure(go.Bar(x=[1], y=[1])), key="free")
    st.text(f"{chart.layout.height} {chart.layout.margin.t}")  # the page's own figure


def chart_layouts(app):
    return [json.loads(element.proto.spec)["layout"] for element in app.get("plotly_chart")]


@pytest.mark.parametrize("present", ["0", "1"])
def test_charts_get_room_for_larger_text_only_in_projector_mode(present):
    app = AppTest.from_function(chart_page, default_timeout=60)
    app.query_params["present"] = present
    app.run()
    assert not app.exception
    chart, tall, picture, free = chart_layouts(app)
    if present == "1":
        assert (chart["height"], chart["margin"]["t"]) == (260, 52)
        assert tall["height"] == projector.CHART_MAX_HEIGHT
    else:
        assert (chart["height"], chart["margin"]["t"]) == (200, 40)
        assert tall["height"] == 650
    assert (picture["width"], picture["height"]) == (300, 300)
    assert "height" not in free
    assert app.text[0].value == "200 40"  # never the figure the page passed in
