"""Pictures as NumPy arrays: mosaics, nearest-neighbour upscaling, colour maps, overlays.

Many small images (dataset tiles, feature maps, filters) are tiled into one mosaic array
and upscaled with nearest neighbour, so pixels stay crisp and the browser receives one
image. No I/O and no Streamlit, so every picture can be checked in a unit test.
"""

import base64
import io

import numpy as np
import plotly.colors
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
        raise ValueError(f"mosaic expects a non-empty (N, H, W[, 3]) array, "
                         f"got shape {images.shape}")
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


def _colormap(name):
    """The cached (256, 3) lookup table of a Plotly colour scale."""
    if name not in _COLORMAPS:
        _COLORMAPS[name] = _colormap_table(name)
    return _COLORMAPS[name]


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
    return _colormap(colormap)[indices]


def channel_images(image):
    """The three channels of an RGB image as tinted images (3, H, W, 3): red, green, blue."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {image.shape}")
    tinted = np.zeros((3,) + image.shape, dtype=np.uint8)
    for channel in range(3):
        tinted[channel, :, :, channel] = image[:, :, channel]
    return tinted


def rgb_filter_images(kernel):
    """First-layer filters (kh, kw, 3, out) as RGB patches (out, kh, kw, 3) uint8.

    Each filter is stretched to its own min..max, so its colour pattern is visible
    regardless of its size; grey means "weights about equal".
    """
    if kernel.ndim != 4 or kernel.shape[2] != 3:
        raise ValueError(f"expected a (kh, kw, 3, filters) kernel, got shape {kernel.shape}")
    filters = kernel.transpose(3, 0, 1, 2)  # (out, kh, kw, 3)
    low = filters.min(axis=(1, 2, 3), keepdims=True)
    high = filters.max(axis=(1, 2, 3), keepdims=True)
    return np.round((filters - low) / np.maximum(high - low, 1e-12) * 255).astype(np.uint8)


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
    """A copy of an RGB image with a rectangle drawn around a region.

    ``size`` is the region's side, or its (height, width); lines ``width`` pixels thick
    grow outwards from the region's border.
    """
    height, region_width = (size, size) if np.isscalar(size) else size
    canvas = np.array(image, dtype=np.uint8, copy=True)
    bottom, right = top + height - 1, left + region_width - 1
    for offset in range(width):
        canvas[max(top - offset, 0), left:right + 1] = color
        canvas[min(bottom + offset, canvas.shape[0] - 1), left:right + 1] = color
        canvas[top:bottom + 1, max(left - offset, 0)] = color
        canvas[top:bottom + 1, min(right + offset, canvas.shape[1] - 1)] = color
    return canvas


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
    return _colormap(colormap)[indices]


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
    colours = _colormap(colormap)[levels].astype(np.float32)  # (H, W, 3)
    blended = (1 - alpha) * image + alpha * colours
    blended[unseen] = image[unseen] * dim
    return blended.round().astype(np.uint8)


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


def png_data_uri(image):
    """An RGB uint8 image as a ``data:image/png;base64,...`` URI, for HTML that carries its
    pictures inline (the Dataset grid's tiles) instead of fetching them."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")
