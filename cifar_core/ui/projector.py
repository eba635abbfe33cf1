"""Projector mode: every page readable from the back row of a classroom.

A toggle in the sidebar, or ``?present=1`` in any link, turns it on; ``?present=0`` or the
toggle turns it off. It lives in ``st.session_state``, so it survives page switches (which
clear the query string), and each run writes ``present=1`` back into the URL, so the
address bar stays a link to exactly what is on the screen. app.py calls
``projector_mode()`` once per run, before the page: no page needs to know about it.

Most of it is style (``PROJECTOR_CSS``): Streamlit sizes text, spacing, widgets and its
Plotly and table themes in ``rem``, so one root font size scales them together; the rest
folds the sidebar away, hides the toolbar, trims padding, darkens grey text and zooms
pictures. One thing CSS cannot do is give a Plotly chart of fixed height room for its
larger text: ``st.plotly_chart`` is wrapped so that, in this mode only, such charts are
drawn taller, with wider margins (``CHART_SCALE``).
"""

import functools
import types

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from cifar_core.ui.url_state import set_query

#: The query parameter that turns the mode on (``1``) or off, also the sidebar toggle's key.
PARAMETER = "present"
#: Where the session keeps the mode: a plain key, not the toggle's, since Streamlit may
#: forget a widget's state when the page changes around it.
STATE = "projector_mode"

#: How much taller a Plotly chart with a fixed height is drawn in projector mode, and how
#: much wider its margins (where its titles sit). Its text grows with the root font (1.4x
#: at 1024 x 768, 1.8x at 1920 x 1080) while its pixels would not: the plot would shrink,
#: Plotly would drop tick labels (Classify's top-k bars lost every other class name) and
#: titles would run into axis labels. The server does not know the screen's size, so one
#: factor serves both, and no chart is made taller than ``CHART_MAX_HEIGHT`` pixels, what
#: a 1024 x 768 screen shows at once.
CHART_SCALE = 1.3
CHART_MAX_HEIGHT = 700

#: The style of projector mode. A projector shows every resolution at the same size on the
#: wall, so sizes follow the viewport: the root font (Streamlit's is 16 px) is 22 px up to
#: 1024 x 768 (a 46th of the width) and grows to 28 px at 1920 x 1080; pictures are zoomed
#: by about the same factor (``--projector-zoom``), within their column and the screen.
PROJECTOR_CSS = """
html {
  font-size: clamp(22px, calc(14px + 0.75vw), 30px);
  --projector-zoom: 1.35;
}
@media (min-width: 1280px) { html { --projector-zoom: 1.5; } }
@media (min-width: 1600px) { html { --projector-zoom: 1.65; } }
@media (min-width: 1900px) { html { --projector-zoom: 1.75; } }

/* Of the Streamlit chrome only the button that opens the sidebar stays; the header lets
   clicks through to the page around it. */
[data-testid="stToolbarActions"], [data-testid="stMainMenu"], [data-testid="stAppDeployButton"],
[data-testid="stStatusWidget"], [data-testid="stDecoration"] {
  display: none;
}
[data-testid="stHeader"] { background: transparent; pointer-events: none; }
[data-testid="stExpandSidebarButton"] { pointer-events: auto; }

/* Content edge to edge: no centred column, little padding. */
[data-testid="stMainBlockContainer"] {
  max-width: none;
  padding: 2.75rem 1.25rem 2rem;
}

/* Rows of widgets wrap instead of squeezing each label and value to a few letters, and a
   column holding just a button keeps its whole label. */
[data-testid="stColumn"]:has([data-testid="stWidgetLabel"]) {
  min-width: min(100%, 10rem);
}
[data-testid="stColumn"]:has(> [data-testid="stVerticalBlock"]:only-child
                             > [data-testid="stElementContainer"]:only-child
                             > [data-testid="stButton"]) {
  min-width: max-content;
}

/* Captions and labels at the text colour (Streamlit fades captions to grey) and near body
   size: small grey text does not survive a projector. */
[data-testid="stCaptionContainer"], [data-testid="stImageCaption"],
[data-testid="stWidgetLabel"] p, [data-testid="stMetricLabel"] p {
  color: inherit;
  opacity: 1;
  font-size: 0.95rem;
}
/* Links to pages read like the text around them. */
[data-testid="stPageLink-NavLink"] p { font-size: 1rem; }

/* Chart text in the text colour too: axes, and whatever else Streamlit's Plotly theme
   draws in its grey (under 4:1 on white), such as subplot titles and bar values. The text
   itself grows with the root font, since the theme sizes it in rem. */
.stPlotlyChart :is(.xtick, .ytick, .g-xtitle, .g-ytitle, .g-x2title, .g-y2title, .cbaxis,
                   .cbtitle) text,
.stPlotlyChart text[style*="fill: rgb(128, 132, 149)"] {
  fill: currentColor !important;
}

/* Pictures zoomed like the text, within their column and 85% of the screen's height. */
[data-testid="stImage"] img {
  zoom: var(--projector-zoom);
  max-height: calc(85vh / var(--projector-zoom));
  object-fit: contain;
}
"""


def _parse(raw):
    """The mode a query value asks for: ``1`` is on; ``0`` and anything malformed are off."""
    return raw == "1"


def _toggled():
    """The toggle's ``on_change``: the session and the URL follow the toggle before the
    script reruns, so the old ``present=1`` in the URL cannot switch it back on."""
    st.session_state[STATE] = st.session_state[PARAMETER]
    set_query(**{PARAMETER: "1" if st.session_state[STATE] else None})


def projector_mode():
    """The sidebar toggle and, when the mode is on, its style; whether it is on.

    Call once per script run, before the page runs. A ``present`` value in the URL wins
    (someone followed a link); otherwise the mode kept in the session stands. Only the
    ``present`` parameter is ever written: the pages' own parameters are theirs.
    """
    raw = st.query_params.get(PARAMETER)
    if raw is not None:
        st.session_state[STATE] = _parse(raw)
    on = st.session_state.setdefault(STATE, False)
    st.session_state[PARAMETER] = on  # the toggle shows the mode, whichever page it is on
    st.sidebar.toggle("Projector mode", key=PARAMETER, on_change=_toggled,
                      help="Large text and pictures for a projector or a big screen; the "
                           "sidebar folds away (open it again with the arrow at the top "
                           "left). Any link with `?present=1` opens this way.")
    set_query(**{PARAMETER: "1" if on else None})
    if on:
        st.set_page_config(initial_sidebar_state="collapsed")
        st.html(f"<style>{PROJECTOR_CSS}</style>")
    return on


def chart_for_projector(figure):
    """``figure`` as projector mode draws it: while the mode is on, a Plotly figure of fixed
    height (and free width) comes back as a copy with room for larger text; anything else
    unchanged.

    Figures of fixed width keep their size: they are pictures (the Dataset grid), drawn
    pixel for pixel. The figure itself is never changed: pages share cached figures.
    """
    layout = getattr(figure, "layout", None)
    if (layout is None or not getattr(layout, "height", None) or layout.width
            or not st.session_state.get(STATE)):
        return figure
    height = max(layout.height, min(round(layout.height * CHART_SCALE), CHART_MAX_HEIGHT))
    margin = {side: round(getattr(layout.margin, side) * CHART_SCALE)
              for side in ("t", "b", "l", "r") if getattr(layout.margin, side) is not None}
    return type(figure)(figure).update_layout(height=height, margin=margin)


def _wrap_plotly_chart():
    """Route every ``st.plotly_chart`` and ``container.plotly_chart`` through
    ``chart_for_projector``, once per process. ``st.plotly_chart`` is bound to the main
    container when Streamlit is imported, so it is wrapped as well as the method."""
    method = DeltaGenerator.plotly_chart
    if getattr(method, "fits_projector", False):
        return

    @functools.wraps(method)
    def plotly_chart(self, figure_or_data, *args, **kwargs):
        return method(self, chart_for_projector(figure_or_data), *args, **kwargs)

    plotly_chart.fits_projector = True
    DeltaGenerator.plotly_chart = plotly_chart
    st.plotly_chart = types.MethodType(plotly_chart, st.plotly_chart.__self__)


_wrap_plotly_chart()
