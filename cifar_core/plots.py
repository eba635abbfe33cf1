"""Arrays and tables to pictures: mosaics, colour maps and Plotly figures.

No I/O and no Streamlit here, so every picture a page shows can be built and checked
in a unit test. Many small images are tiled into one mosaic array and upscaled with
nearest neighbour, so pixels stay crisp and the browser receives one image.
"""

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
