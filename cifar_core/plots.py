"""Arrays and tables to pictures: mosaics, colour maps and Plotly figures.

No I/O and no Streamlit here, so every picture a page shows can be built and checked
in a unit test. Many small images are tiled into one mosaic array and upscaled with
nearest neighbour, so pixels stay crisp and the browser receives one image.
"""

import base64
import io

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageFont

#: Channel order of CIFAR-10 images and the colours used to draw each channel.
CHANNEL_NAMES = ("red", "green", "blue")


def upscale(image, factor):
    """Repeat every pixel ``factor`` times in both directions (nearest neighbour)."""
    if int(factor) != factor or factor < 1:
        raise ValueError(f"upscale factor must be a positive integer, got {factor!r}")
    factor = int(factor)
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def mosaic(images, columns, *, gap=1, background=255, scale=1):
    """Tile ``images`` (N, H, W) or (N, H, W, 3) into one uint8 image, row by row.

    Tiles are ``scale`` times upscaled and separated by ``gap`` pixels of ``background``.
    Empty cells at the end of the last row stay background.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(f"mosaic expects a non-empty (N, H, W[, 3]) array, got shape {images.shape}")
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns!r}")
    count, height, width = images.shape[:3]
    rows = -(-count // columns)
    tile_height, tile_width = height * scale + gap, width * scale + gap
    shape = (rows * tile_height - gap, columns * tile_width - gap) + images.shape[3:]
    canvas = np.full(shape, background, dtype=np.uint8)
    for position, image in enumerate(images):
        row, column = divmod(position, columns)
        top, left = row * tile_height, column * tile_width
        canvas[top:top + height * scale, left:left + width * scale] = upscale(image, scale)
    return canvas


def _colormap_table(name="Viridis"):
    """A (256, 3) uint8 lookup table sampled from a Plotly colour scale."""
    scale = plotly.colors.get_colorscale(name)
    samples = plotly.colors.sample_colorscale(scale, np.linspace(0, 1, 256).tolist(),
                                              colortype="tuple")
    return np.round(np.array(samples) * 255).astype(np.uint8)


_COLORMAPS = {}


def colorize(maps, *, per_map=False, colormap="Viridis"):
    """Map float arrays (N, H, W) to RGB uint8 (N, H, W, 3) through a colour map.

    With ``per_map`` each map is stretched to its own min..max (shows every map's
    pattern); otherwise one scale is shared, so strong and weak maps compare honestly.
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3:
        raise ValueError(f"colorize expects (N, H, W) maps, got shape {maps.shape}")
    axes = (1, 2) if per_map else None
    low = maps.min(axis=axes, keepdims=True)
    high = maps.max(axis=axes, keepdims=True)
    span = np.where(high > low, high - low, 1.0)
    indices = np.clip((maps - low) / span * 255, 0, 255).astype(np.uint8)
    if colormap not in _COLORMAPS:
        _COLORMAPS[colormap] = _colormap_table(colormap)
    return _COLORMAPS[colormap][indices]


def channel_images(image):
    """The three channels of an RGB image as tinted images (3, H, W, 3): red, green, blue."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {image.shape}")
    tinted = np.zeros((3,) + image.shape, dtype=np.uint8)
    for channel in range(3):
        tinted[channel, :, :, channel] = image[:, :, channel]
    return tinted


def _font(size):
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow built without FreeType
        return ImageFont.load_default()


def labelled_mosaic(images, captions, columns, *, scale=3, gap=4, caption_height=16):
    """A mosaic with a caption strip under each tile (e.g. "cat #123"), as one RGB image."""
    images = np.asarray(images)
    if len(captions) != len(images):
        raise ValueError(f"{len(captions)} captions for {len(images)} images")
    if images.ndim != 4 or images.shape[3] != 3:
        raise ValueError(f"labelled_mosaic expects (N, H, W, 3) images, got shape {images.shape}")
    count, height, width = images.shape[:3]
    framed = np.full((count, height * scale + caption_height, width * scale, 3), 255, np.uint8)
    framed[:, :height * scale] = upscale(images.transpose(1, 2, 0, 3), scale).transpose(2, 0, 1, 3)
    canvas = Image.fromarray(mosaic(framed, columns, gap=gap))
    draw = ImageDraw.Draw(canvas)
    font = _font(caption_height - 4)
    tile_width, tile_height = width * scale + gap, framed.shape[1] + gap
    for position, caption in enumerate(captions):
        row, column = divmod(position, columns)
        left = column * tile_width + 2
        top = row * tile_height + height * scale + 1
        draw.text((left, top), caption, fill=(30, 30, 30), font=font)
    return np.asarray(canvas)


def labelled_tile_centres(count, columns, *, size=32, scale=3, gap=4, caption_height=16):
    """(x, y) pixel centres of the image part of each tile of ``labelled_mosaic``."""
    positions = np.arange(count)
    rows, cols = np.divmod(positions, columns)
    x = cols * (size * scale + gap) + size * scale / 2
    y = rows * (size * scale + caption_height + gap) + size * scale / 2
    return x, y


def clickable_image_figure(image, x, y, customdata, hover, *, marker_size=40):
    """One image with invisible markers at (x, y) that report ``customdata`` when clicked.

    The image is sent PNG-encoded once; the markers turn a click on a tile into a
    Streamlit selection event.
    """
    height, width = image.shape[:2]
    figure = go.Figure(go.Image(source=_png_data_uri(image), hoverinfo="skip"))
    figure.add_scatter(x=x, y=y, mode="markers", customdata=customdata, hovertext=hover,
                       hoverinfo="text", showlegend=False,
                       marker=dict(size=marker_size, symbol="square", opacity=0.01))
    figure.update_layout(width=width, height=height, margin=dict(t=0, b=0, l=0, r=0),
                         clickmode="event+select", hovermode="closest",
                         xaxis=dict(visible=False, range=[0, width]),
                         yaxis=dict(visible=False, range=[height, 0], scaleanchor="x"))
    return figure


def _png_data_uri(image):
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def outline(image, top, left, size, *, color=(255, 220, 0), width=1):
    """A copy of an RGB image with a rectangle drawn around a size x size region."""
    canvas = np.array(image, dtype=np.uint8, copy=True)
    bottom, right = top + size - 1, left + size - 1
    for offset in range(width):
        canvas[max(top - offset, 0), left:right + 1] = color
        canvas[min(bottom + offset, canvas.shape[0] - 1), left:right + 1] = color
        canvas[top:bottom + 1, max(left - offset, 0)] = color
        canvas[top:bottom + 1, min(right + offset, canvas.shape[1] - 1)] = color
    return canvas


def class_counts_figure(counts):
    """Grouped bar chart of images per class; ``counts`` is a DataFrame class x split."""
    figure = go.Figure()
    for split in counts.columns:
        figure.add_bar(name=split, x=list(counts.index), y=counts[split].tolist(),
                       text=counts[split].tolist(), textposition="outside")
    figure.update_layout(barmode="group", height=380, margin=dict(t=30, b=10, l=10, r=10),
                         yaxis_title="images", legend_title_text="split")
    return figure


def histogram_figure(image):
    """Histogram of pixel values 0-255 for each RGB channel of one image."""
    figure = go.Figure()
    for channel, name in enumerate(CHANNEL_NAMES):
        counts = np.bincount(np.asarray(image)[:, :, channel].ravel(), minlength=256)
        figure.add_bar(x=np.arange(256), y=counts, name=name, marker_color=name, opacity=0.55)
    figure.update_layout(barmode="overlay", bargap=0, height=260,
                         margin=dict(t=10, b=10, l=10, r=10),
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


def colorize_signed(values, *, colormap="RdBu_r"):
    """Map signed float arrays (N, H, W) to RGB uint8 (N, H, W, 3), zero at the centre.

    One symmetric scale -max|v|..+max|v| for all arrays, so with the default map positive
    weights are red, negative blue and zero white (for filters, where the sign matters).
    """
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 3:
        raise ValueError(f"colorize_signed expects (N, H, W) arrays, got shape {values.shape}")
    limit = float(np.abs(values).max()) or 1.0
    indices = np.clip((values / limit + 1) / 2 * 255, 0, 255).round().astype(np.uint8)
    if colormap not in _COLORMAPS:
        _COLORMAPS[colormap] = _colormap_table(colormap)
    return _COLORMAPS[colormap][indices]


#: Line style of each split in training curves: training solid, validation dashed with dots.
_CURVE_STYLES = {"train": dict(mode="lines", dash="solid"),
                 "validation": dict(mode="lines+markers", dash="dash")}


def training_curves_figure(curves, *, height=340):
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
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10),
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
        title=title, height=80 + 28 * len(names), margin=dict(t=40 if title else 10, b=10, l=10, r=40),
        xaxis=dict(title="probability", range=[0, 1.15], tickformat=".0%"),
        yaxis=dict(autorange="reversed"))
    return figure


def heat_map_overlay(image, heat_map, *, alpha=0.5, colormap="Jet", dim=0.35):
    """Blend a heat map (H, W) in 0..1 over an RGB image (H, W, 3), as uint8 (H, W, 3).

    Pixels where the heat map is NaN (the model never saw them, e.g. outside a centre
    crop) are dimmed to ``dim`` of their brightness instead of coloured.
    """
    image = np.asarray(image, dtype=np.float32)
    heat_map = np.asarray(heat_map, dtype=np.float32)
    if image.ndim != 3 or image.shape[2] != 3 or heat_map.shape != image.shape[:2]:
        raise ValueError(f"expected an (H, W, 3) image and an (H, W) heat map, "
                         f"got {image.shape} and {heat_map.shape}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    unseen = np.isnan(heat_map)
    levels = np.clip(np.nan_to_num(heat_map, nan=0.0) * 255, 0, 255).round().astype(np.uint8)
    if colormap not in _COLORMAPS:
        _COLORMAPS[colormap] = _colormap_table(colormap)
    colours = _COLORMAPS[colormap][levels].astype(np.float32)  # (H, W, 3)
    blended = (1 - alpha) * image + alpha * colours
    blended[unseen] = image[unseen] * dim
    return blended.round().astype(np.uint8)


def convolution_figure(patch, kernel, products, *, inside=None, channel_names=CHANNEL_NAMES):
    """One figure: rows input patch / kernel / products, one column per input channel.

    Arrays are (kh, kw, channels); each cell shows its number. Cells where ``inside`` is
    False (the kernel hangs over the image border) are marked "pad" (value 0). All blocks
    share one pair of axes (NaN gaps between them): three heat-map traces instead of
    ``make_subplots``, which alone costs ~50 ms, a sixth of a page interaction.
    """
    height, width, channels = patch.shape
    names = channel_names if channels == len(channel_names) else [f"ch {c}" for c in range(channels)]
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


def confusion_matrix_figure(confusion, class_names, *, selected=None, height=560):
    """Heat map of a confusion matrix (rows true, columns predicted), counts written in cells.

    Hits (the diagonal) are green and mistakes red on their own scale, so a mistake of 40
    images stands out next to hits of 900. ``selected`` = (true, predicted) gets a frame.
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
    for values, colorscale in ((hits, "Greens"), (mistakes, "Reds")):
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
                         line=dict(color="#1f6feb", width=4))
    figure.update_layout(
        height=height, margin=dict(t=10, b=10, l=10, r=10), clickmode="event+select",
        dragmode=False, plot_bgcolor="white",
        xaxis=dict(title="predicted class", side="top", tickangle=-30, fixedrange=True),
        yaxis=dict(title="true class", autorange="reversed", fixedrange=True))
    return figure


def class_accuracy_figure(accuracies):
    """Grouped bars of accuracy per class; ``accuracies`` is a DataFrame class x model (0-1)."""
    figure = go.Figure()
    for model in accuracies.columns:
        values = accuracies[model].astype(float)
        figure.add_bar(name=str(model), x=list(accuracies.index), y=values.tolist(),
                       text=[f"{value:.0%}" for value in values], textposition="outside",
                       hovertemplate="%{x}: %{y:.1%}<extra>" + str(model) + "</extra>")
    figure.update_layout(barmode="group", height=380, margin=dict(t=30, b=10, l=10, r=10),
                         yaxis=dict(title="accuracy (recall)", range=[0, 1.1], tickformat=".0%"),
                         legend=dict(orientation="h", y=1.12))
    return figure


def png_bytes(image, *, compress_level=1):
    """An RGB uint8 image as PNG bytes, compressed lightly for speed.

    ``st.image`` encodes NumPy arrays at Pillow's default level 6, ~50 ms for a
    800x400 mosaic on these CPUs; level 1 takes a third of that for files barely
    larger. Streamlit passes bytes through without encoding again.
    """
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG",
                                                            compress_level=compress_level)
    return buffer.getvalue()
