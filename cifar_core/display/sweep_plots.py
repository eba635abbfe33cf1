"""Plotly figures of a sweep: accuracy against the swept values, as lines or a heat map.

The frame is ``training.sweep_results``' (one row per run, a column per swept field named
by its label, holding the raw values: None or NaN is "all" training images, True/False
augmentation on/off). Numbers go on a numeric axis, logarithmic when they are all positive
and span a decade or more (learning rates 0.001-0.1 spread evenly); anything else is a
category in its natural order. The overlaid curves are ``plots.training_curves_figure``.
No I/O, no Streamlit.
"""

import math
import numbers

import plotly.colors
import plotly.graph_objects as go

#: The metric a sweep's charts show unless told otherwise (a frame column, 0-1).
DEFAULT_METRIC = "final validation accuracy"


def _missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not _missing(value)


def value_text(value):
    """A swept value as a label: 0.01, 64, "all" (None), "on"/"off"."""
    if _missing(value):
        return "all"
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, numbers.Real) else str(value)


def _ordered(values):
    """Distinct values in their natural order: off before on, numbers up, "all" last."""
    distinct = {}
    for value in values:
        distinct.setdefault(value_text(value), value)
    return sorted(distinct.values(), key=_order_key)


def _order_key(value):
    if _missing(value):
        return (2, "")
    if isinstance(value, numbers.Real):  # numbers up; False (off) before True (on)
        return (0, float(value))
    return (1, str(value))


def _x_axis(values):
    """(x of each value, axis settings): numeric (log when it spans a decade) or categories."""
    if values and all(_is_number(value) for value in values):
        positive = all(value > 0 for value in values)
        log = positive and max(values) / min(values) >= 10
        ticks = _ordered(values)  # a tick at each swept value, written as typed
        return [float(value) for value in values], dict(
            type="log" if log else "linear", tickmode="array",
            tickvals=[float(value) for value in ticks], ticktext=list(map(value_text, ticks)))
    order = [value_text(value) for value in _ordered(values)]
    return [value_text(value) for value in values], dict(type="category",
                                                         categoryorder="array",
                                                         categoryarray=order)


def _check(frame, columns):
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"the sweep frame has no column {missing[0]!r}; it has "
                         f"{list(frame.columns)}")


def accuracy_figure(frame, x, *, lines=None, metric=DEFAULT_METRIC, title=None, height=380):
    """``metric`` against the swept field ``x``: one line, or one per value of ``lines``.

    Rows without a ``metric`` (runs not finished) are left out; ``x`` and ``lines`` are
    the frame's column names (the fields' labels).
    """
    _check(frame, [x, metric] + ([lines] if lines else []))
    rows = frame[frame[metric].notna()]
    palette = plotly.colors.qualitative.Plotly
    groups = [(None, rows)] if lines is None else [
        (value, rows[[value_text(other) == value_text(value) for other in rows[lines]]])
        for value in _ordered(list(rows[lines]))]
    positions_of_all, axis = _x_axis(list(rows[x]))
    position = dict(zip(map(value_text, rows[x]), positions_of_all, strict=True))
    figure = go.Figure()
    for number, (value, group) in enumerate(groups):
        by_text = {value_text(swept): (swept, float(accuracy))
                   for swept, accuracy in zip(group[x], group[metric], strict=True)}
        ordered = [by_text[value_text(swept)] for swept in _ordered(list(group[x]))]
        positions = [position[value_text(pair[0])] for pair in ordered]
        name = metric if value is None else f"{lines} {value_text(value)}"
        figure.add_scatter(
            x=positions, y=[float(pair[1]) for pair in ordered], mode="lines+markers",
            name=name, line=dict(color=palette[number % len(palette)]), marker=dict(size=9),
            text=[value_text(pair[0]) for pair in ordered],
            hovertemplate=f"{x} %{{text}}<br>{metric}: %{{y:.1%}}<extra>{name}</extra>")
    if groups and lines is None:
        figure.update_layout(showlegend=False)
    figure.update_xaxes(title_text=x + (" (log scale)" if axis.get("type") == "log" else ""),
                        **axis)
    figure.update_yaxes(title_text=metric, tickformat=".0%")
    default = f"{metric.capitalize()} against {x}" + (f", a line per {lines}" if lines else "")
    figure.update_layout(title=title or default, height=height,
                         margin=dict(l=10, r=10, t=60, b=10), legend_title_text=lines)
    return figure


def accuracy_heatmap(frame, x, y, *, metric=DEFAULT_METRIC, title=None, height=380):
    """``metric`` of each (``x``, ``y``) pair as a heat map with the percentage in each cell.

    A pair without a ``metric`` (not finished) is an empty cell.
    """
    _check(frame, [x, y, metric])
    columns, rows = _ordered(list(frame[x])), _ordered(list(frame[y]))
    grid = [[None] * len(columns) for _ in rows]  # (len(rows), len(columns)), y by x
    column_of = {value_text(value): index for index, value in enumerate(columns)}
    row_of = {value_text(value): index for index, value in enumerate(rows)}
    for x_value, y_value, accuracy in zip(frame[x], frame[y], frame[metric], strict=True):
        if not _missing(accuracy):
            grid[row_of[value_text(y_value)]][column_of[value_text(x_value)]] = float(accuracy)
    text = [["" if cell is None else f"{cell:.1%}" for cell in row] for row in grid]
    figure = go.Figure(go.Heatmap(
        z=grid, x=[value_text(value) for value in columns], y=[value_text(value) for value in rows],
        text=text, texttemplate="%{text}", colorscale="Blues", hoverongaps=False,
        colorbar=dict(title=dict(text="accuracy"), tickformat=".0%"),
        hovertemplate=f"{x} %{{x}}<br>{y} %{{y}}<br>{metric}: %{{z:.1%}}<extra></extra>"))
    figure.update_xaxes(title_text=x, type="category")
    figure.update_yaxes(title_text=y, type="category")
    figure.update_layout(title=title or f"{metric.capitalize()} for each {x} and {y}",
                         height=height, margin=dict(l=10, r=10, t=60, b=10))
    return figure
