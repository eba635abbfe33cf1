"""Arrays and tables to Plotly figures: charts and heat maps.

No I/O and no Streamlit here, so every figure a page shows can be built and checked in a
unit test. Pictures made of pixels (mosaics, colour maps) live in ``cifar_core.pictures``.
"""

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from cifar_core.display.pictures import CHANNEL_NAMES


def class_counts_figure(counts, *, title="Images per class in each split"):
    """Grouped bar chart of images per class; ``counts`` is a DataFrame class x split."""
    figure = go.Figure()
    for split in counts.columns:
        figure.add_bar(name=split, x=list(counts.index), y=counts[split].tolist(),
                       text=counts[split].tolist(), textposition="outside")
    figure.update_layout(barmode="group", height=380, margin=dict(t=50, b=10, l=10, r=10),
                         title=title, yaxis_title="images", legend_title_text="split")
    return figure


def histogram_figure(image, *, title="How often each pixel value occurs, per colour channel"):
    """Histogram of pixel values 0-255 for each RGB channel of one image."""
    figure = go.Figure()
    for channel, name in enumerate(CHANNEL_NAMES):
        counts = np.bincount(np.asarray(image)[:, :, channel].ravel(), minlength=256)
        figure.add_bar(x=np.arange(256), y=counts, name=name, marker_color=name, opacity=0.55)
    figure.update_layout(barmode="overlay", bargap=0, height=290, title=title,
                         margin=dict(t=40, b=10, l=10, r=10),
                         xaxis_title="pixel value (0-255)", yaxis_title="pixels")
    return figure


def pixel_values_figure(values, *, top=0, left=0, decimals=0, title=None):
    """Heat map of a small 2-D block of values with each number written in its cell."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"expected a 2-D block of values, got shape {values.shape}")
    text = np.vectorize(lambda value: f"{value:.{decimals}f}")(values)
    figure = go.Figure(go.Heatmap(
        z=values, x=list(range(left, left + values.shape[1])),
        y=list(range(top, top + values.shape[0])), text=text, texttemplate="%{text}",
        colorscale="Greys", reversescale=True, showscale=False,
    ))
    figure.update_layout(height=60 + 34 * values.shape[0], margin=dict(t=30 if title else 10,
                         b=10, l=10, r=10), title=title,
                         xaxis=dict(title="column", side="top", dtick=1),
                         yaxis=dict(title="row", autorange="reversed", dtick=1))
    return figure


#: Line style of each split in training curves: training solid, validation dashed with dots.
_CURVE_STYLES = {"train": dict(mode="lines", dash="solid"),
                 "validation": dict(mode="lines+markers", dash="dash")}


def training_curves_figure(curves, *, height=360, title="Loss and accuracy, epoch by epoch"):
    """Loss (left) and accuracy (right) against epochs, one colour per run.

    ``curves`` is a DataFrame with columns run, split ("train" or "validation"), epoch
    (fractional: 1.5 is half-way through the second epoch), loss and accuracy (0-1).
    Training points are moving averages of the recent batches (``jobs.Snapshot``).
    """
    from plotly.subplots import make_subplots

    missing = {"run", "split", "epoch", "loss", "accuracy"} - set(curves.columns)
    if missing:
        raise ValueError(f"training curves need columns {sorted(missing)}")
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"),
                           horizontal_spacing=0.08)
    palette = plotly.colors.qualitative.Plotly
    for number, (run, run_curves) in enumerate(curves.groupby("run", sort=False)):
        color = palette[number % len(palette)]
        for split, style in _CURVE_STYLES.items():
            points = run_curves[run_curves["split"] == split].sort_values("epoch")
            if points.empty:
                continue
            for column, metric in enumerate(("loss", "accuracy"), start=1):
                figure.add_trace(go.Scatter(
                    x=points["epoch"], y=points[metric], mode=style["mode"],
                    line=dict(color=color, dash=style["dash"]), name=f"{run} · {split}",
                    legendgroup=f"{run} · {split}", showlegend=column == 1,
                    hovertemplate=f"{split} {metric}: %{{y:.3f}}<br>epoch %{{x:.2f}}"
                                  "<extra>" + str(run) + "</extra>"), row=1, col=column)
    figure.update_xaxes(title_text="epoch", rangemode="tozero")
    figure.update_yaxes(range=[0, 1], tickformat=".0%", row=1, col=2)  # loss: autorange
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=70, b=10), title=title,
                         legend=dict(orientation="h", y=-0.25), uirevision="training-curves")
    return figure


def top_k_figure(classes_and_probabilities, *, title=None, highlight=None):
    """Horizontal bar chart of [(class name, probability), ...], the likeliest on top.

    The bar of class ``highlight`` (e.g. the one a heat map explains) is drawn in orange.
    """
    if not classes_and_probabilities:
        raise ValueError("top_k_figure needs at least one (class, probability) pair")
    names = [name for name, _ in classes_and_probabilities]
    values = [float(probability) for _, probability in classes_and_probabilities]
    colours = ["#f08c00" if name == highlight else "#1f6feb" for name in names]
    figure = go.Figure(go.Bar(
        x=values, y=names, orientation="h", text=[f"{value:.1%}" for value in values],
        textposition="outside", cliponaxis=False, marker_color=colours,
        hovertemplate="%{y}: %{x:.2%}<extra></extra>"))
    figure.update_layout(
        title=title, height=80 + 28 * len(names),
        margin=dict(t=40 if title else 10, b=10, l=10, r=40),
        xaxis=dict(title="probability", range=[0, 1.15], tickformat=".0%"),
        yaxis=dict(autorange="reversed"))
    return figure


def convolution_figure(patch, kernel, products, *, inside=None, channel_names=CHANNEL_NAMES):
    """One figure: rows input patch / kernel / products, one column per input channel.

    Arrays are (kh, kw, channels); each cell shows its number. Cells where ``inside`` is
    False (the kernel hangs over the image border) are marked "pad" (value 0). All blocks
    share one pair of axes (NaN gaps between them): three heat-map traces instead of
    ``make_subplots``, which alone costs ~50 ms, a sixth of a page interaction.
    """
    height, width, channels = patch.shape
    names = (channel_names if channels == len(channel_names)
             else [f"ch {c}" for c in range(channels)])
    blocks = (("input patch (0-1)", patch, "Greys", False), ("kernel", kernel, "RdBu", True),
              ("patch x kernel", products, "RdBu", True))
    grid_shape = (len(blocks) * (height + 1) - 1, channels * (width + 1) - 1)
    figure = go.Figure()
    for number, (title, values, colorscale, signed) in enumerate(blocks):
        z = np.full(grid_shape, np.nan)
        text = np.full(grid_shape, "", dtype=object)
        labels = np.vectorize(lambda value: f"{value:.3f}")(values)  # (kh, kw, channels)
        if inside is not None and number == 0:
            labels = np.where(inside[:, :, None], labels, "pad")
        top = number * (height + 1)
        for channel in range(channels):
            left = channel * (width + 1)
            z[top:top + height, left:left + width] = values[:, :, channel]
            text[top:top + height, left:left + width] = labels[:, :, channel]
            figure.add_annotation(x=left + (width - 1) / 2, y=top - 1.0, showarrow=False,
                                  text=f"{title}: {names[channel]}", font=dict(size=13))
        limit = float(np.abs(values).max()) or 1.0
        figure.add_heatmap(z=z, text=text, texttemplate="%{text}", colorscale=colorscale,
                           zmin=-limit if signed else 0, zmax=limit if signed else 1,
                           reversescale=signed, showscale=False, hoverinfo="skip", xgap=2, ygap=2)
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, autorange="reversed")
    figure.update_layout(height=90 + 62 * grid_shape[0], margin=dict(t=40, b=10, l=10, r=10),
                         plot_bgcolor="rgba(0,0,0,0)")
    return figure


def confusion_matrix_figure(confusion, class_names, *, selected=None, height=640,
                            title="Confusion matrix: true class (rows), predicted (columns)"):
    """Heat map of a confusion matrix (rows true, columns predicted), counts written in cells.

    Hits (the diagonal) are blue and mistakes orange on their own scale, so a mistake of 40
    images stands out next to hits of 900; blue and orange stay apart for colour-blind
    viewers, and the counts in the cells carry the meaning in greyscale too.
    ``selected`` = (true, predicted) gets a thick black frame.
    Plotly heat maps send no selection events to Streamlit (streamlit#8760), so each cell
    also holds an invisible square marker with ``customdata`` [true, predicted, count] that
    a click selects.
    """
    confusion = np.asarray(confusion)
    classes = len(class_names)
    if confusion.shape != (classes, classes):
        raise ValueError(f"confusion must be ({classes}, {classes}), got {confusion.shape}")
    names = list(class_names)
    hits = np.where(np.eye(classes, dtype=bool), confusion, np.nan)
    mistakes = np.where(np.eye(classes, dtype=bool), np.nan, confusion)
    figure = go.Figure()
    for values, colorscale in ((hits, "Blues"), (mistakes, "Oranges")):
        text = np.where(np.isnan(values), "", np.nan_to_num(values).astype(np.int64).astype(str))
        figure.add_trace(go.Heatmap(
            z=values, x=names, y=names, text=text, texttemplate="%{text}",
            colorscale=colorscale, zmin=0, zmax=max(np.nanmax(values), 1) * 1.15,
            showscale=False, hoverinfo="skip", xgap=1, ygap=1))
    true_classes, predicted_classes = np.divmod(np.arange(classes * classes), classes)
    figure.add_trace(go.Scatter(
        x=[names[p] for p in predicted_classes], y=[names[t] for t in true_classes],
        mode="markers", marker=dict(symbol="square", size=34, opacity=0),
        customdata=np.stack([true_classes, predicted_classes, confusion.ravel()], axis=1),
        hovertemplate="true %{y}, predicted %{x}: %{customdata[2]} images<extra></extra>",
        showlegend=False))
    if selected is not None:
        true_class, predicted_class = selected
        figure.add_shape(type="rect", x0=predicted_class - 0.5, x1=predicted_class + 0.5,
                         y0=true_class - 0.5, y1=true_class + 0.5,
                         line=dict(color="black", width=4))
    figure.update_layout(
        # The title sits above the class names and "predicted class" (the x axis is on top).
        height=height, margin=dict(t=140, b=10, l=10, r=10), clickmode="event+select",
        title=dict(text=title, y=0.99, yanchor="top", x=0, xanchor="left"),
        dragmode=False, plot_bgcolor="white",
        xaxis=dict(title="predicted class", side="top", tickangle=-30, fixedrange=True),
        yaxis=dict(title="true class", autorange="reversed", fixedrange=True))
    return figure


def class_accuracy_figure(accuracies, *, title="Accuracy per class (recall)"):
    """Grouped bars of accuracy per class; ``accuracies`` is a DataFrame class x model (0-1)."""
    figure = go.Figure()
    for model in accuracies.columns:
        values = accuracies[model].astype(float)
        figure.add_bar(name=str(model), x=list(accuracies.index), y=values.tolist(),
                       text=[f"{value:.0%}" for value in values], textposition="outside",
                       hovertemplate="%{x}: %{y:.1%}<extra>" + str(model) + "</extra>")
    figure.update_layout(barmode="group", height=400, margin=dict(t=70, b=10, l=10, r=10),
                         title=title,
                         yaxis=dict(title="accuracy (recall)", range=[0, 1.1], tickformat=".0%"),
                         legend=dict(orientation="h", y=1.12))
    return figure
