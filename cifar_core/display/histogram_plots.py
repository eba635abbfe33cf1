"""Plotly figures of how a layer's values are spread: histograms and their spread over epochs.

The Train page's "What training changed": one layer's weight and activation histograms
at a chosen epoch over the first epoch's in grey, and the range, mean and spread of each
of them epoch by epoch (TensorBoard's Distributions, simplified). Figures take plain
arrays (``HistogramPanel``, ``SpreadPanel``); ``training.histograms`` builds them from a
run's files. No I/O, no Streamlit.
"""

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

#: The chosen epoch in blue, the first epoch in grey behind it (readable in greyscale too).
CURRENT_COLOR, BASELINE_COLOR = "#1f63b4", "#9a9a9a"
PANEL_COLUMNS = 3
#: The legend along the figure's bottom edge, clear of the panels' titles.
_LEGEND = dict(orientation="h", yref="container", y=0.0, yanchor="bottom", x=0.0)


@dataclass(frozen=True)
class HistogramPanel:
    """One histogram to draw: ``edges`` (bins + 1,), ``heights`` (bins,), optionally a
    baseline histogram (its own edges and heights) drawn behind it in grey."""

    title: str
    edges: np.ndarray
    heights: np.ndarray
    baseline_edges: np.ndarray = None
    baseline_heights: np.ndarray = None


@dataclass(frozen=True)
class SpreadPanel:
    """One array's statistics epoch by epoch: each field is a sequence, one per epoch."""

    title: str
    epochs: tuple
    means: tuple
    stds: tuple
    lows: tuple
    highs: tuple


def _grid(count):
    columns = max(1, min(PANEL_COLUMNS, count))
    return math.ceil(count / columns), columns


def _panel_grid(panels, empty_message):
    """An empty grid of subplots, one titled cell a panel: (figure, rows, cells).

    ``cells`` lists (number, panel, row, column) with Plotly's 1-based row and column. Both
    figures lay their panels out through here, so a layer's histograms and its spreads sit
    in the same places; ``empty_message`` is the ``ValueError`` for no panels at all.
    """
    from plotly.subplots import make_subplots

    if not panels:
        raise ValueError(empty_message)
    rows, columns = _grid(len(panels))
    figure = make_subplots(rows=rows, cols=columns,
                           subplot_titles=[panel.title for panel in panels],
                           horizontal_spacing=0.07, vertical_spacing=0.5 / max(rows, 2))
    cells = [(number, panel, number // columns + 1, number % columns + 1)
             for number, panel in enumerate(panels)]
    return figure, rows, cells


def _finish_layout(figure, *, rows, height_per_row, **layout):
    """Size ``figure`` to its ``rows``, with the shared margins and legend, plus ``layout``."""
    figure.update_layout(height=height_per_row * rows + 140,
                         margin=dict(l=10, r=10, t=80, b=70), legend=_LEGEND, **layout)


def _bars(edges, heights, name, color, opacity, show_legend):
    edges = np.asarray(edges, dtype=np.float64)
    heights = np.asarray(heights, dtype=np.float64)
    if edges.shape != (len(heights) + 1,):
        raise ValueError(f"a histogram needs one more edge than bars: {edges.shape} edges "
                         f"for {heights.shape} bars")
    return go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=heights, width=np.diff(edges),
                  marker=dict(color=color, line=dict(width=0)), opacity=opacity, name=name,
                  legendgroup=name, showlegend=show_legend,
                  hovertemplate="%{x:.4g}: %{y:.4g}<extra>" + name + "</extra>")


def histograms_figure(panels, *, current_name, baseline_name=None, title, log_y=False,
                      height_per_row=260):
    """One bar histogram per panel in a grid, each over its baseline (if any) in grey.

    ``current_name`` and ``baseline_name`` label the two in the legend ("after epoch 2",
    "before training"); ``log_y`` puts the heights on a log axis (a ReLU layer's spike
    at 0 otherwise flattens everything else).
    """
    figure, rows, cells = _panel_grid(panels, "no histograms to draw")
    for number, panel, row, column in cells:
        if panel.baseline_edges is not None and baseline_name is not None:
            figure.add_trace(_bars(panel.baseline_edges, panel.baseline_heights, baseline_name,
                                   BASELINE_COLOR, 0.55, number == 0), row=row, col=column)
        figure.add_trace(_bars(panel.edges, panel.heights, current_name, CURRENT_COLOR, 0.7,
                               number == 0), row=row, col=column)
    figure.update_yaxes(type="log" if log_y else "linear")
    figure.update_yaxes(title_text="density", col=1)
    figure.update_xaxes(title_text="value", row=rows)
    _finish_layout(figure, rows=rows, height_per_row=height_per_row, barmode="overlay",
                   bargap=0, title=title)
    return figure


def spread_figure(panels, *, title, epoch=None, height_per_row=240):
    """Each panel's minimum-maximum range (light band), mean +- one standard deviation
    (darker band) and mean (line) against epochs; a dotted line marks ``epoch``."""
    figure, rows, cells = _panel_grid(panels, "no statistics to draw")
    for number, panel, row, column in cells:
        epochs = list(panel.epochs)
        means, stds = np.asarray(panel.means, float), np.asarray(panel.stds, float)
        bands = (("minimum to maximum", panel.lows, panel.highs, 0.15),
                 ("mean ± 1 std", means - stds, means + stds, 0.35))
        for name, lows, highs, opacity in bands:
            figure.add_trace(go.Scatter(
                x=epochs + epochs[::-1], y=list(highs) + list(lows)[::-1], fill="toself",
                mode="lines", line=dict(width=0), fillcolor=f"rgba(31, 99, 180, {opacity})",
                name=name, legendgroup=name, showlegend=number == 0, hoverinfo="skip"),
                row=row, col=column)
        figure.add_trace(go.Scatter(
            x=epochs, y=means, mode="lines+markers", line=dict(color=CURRENT_COLOR),
            name="mean", legendgroup="mean", showlegend=number == 0,
            hovertemplate="epoch %{x}: mean %{y:.4g}<extra></extra>"), row=row, col=column)
        if epoch is not None:
            figure.add_vline(x=epoch, line=dict(color="#444", dash="dot", width=1),
                             row=row, col=column)
    figure.update_xaxes(title_text="epoch", row=rows)
    few = max((len(panel.epochs) for panel in panels), default=0) <= 12
    figure.update_xaxes(dtick=1 if few else None)  # whole epochs, not 0.5 steps
    _finish_layout(figure, rows=rows, height_per_row=height_per_row, title=title)
    return figure
