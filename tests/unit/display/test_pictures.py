import base64
import io

import numpy as np
import pytest
from PIL import Image

from cifar_core.display import pictures


def test_upscale_repeats_pixels():
    image = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    assert pictures.upscale(image, 2).tolist() == [[1, 1, 2, 2], [1, 1, 2, 2],
                                                   [3, 3, 4, 4], [3, 3, 4, 4]]
    with pytest.raises(ValueError, match="factor"):
        pictures.upscale(image, 0)


def test_mosaic_places_tiles_row_by_row_with_gaps():
    tiles = np.stack([np.full((2, 2, 3), value, np.uint8) for value in (10, 20, 30)])
    canvas = pictures.mosaic(tiles, 2, gap=1, background=0)
    assert canvas.shape == (5, 5, 3)
    assert canvas[0, 0, 0] == 10 and canvas[0, 3, 0] == 20 and canvas[3, 0, 0] == 30
    assert canvas[2, 2, 0] == 0 and canvas[4, 4, 0] == 0  # gap, and the empty last cell


@pytest.mark.parametrize("images", [np.zeros((0, 2, 2)), np.zeros((2, 2))])
def test_mosaic_rejects_bad_shapes(images):
    with pytest.raises(ValueError, match="mosaic"):
        pictures.mosaic(images, 2)


def test_colorize_shared_and_per_map_scales():
    maps = np.stack([np.zeros((2, 2)), np.full((2, 2), 1.0)])
    maps[0, 0, 0] = 0.5
    shared = pictures.colorize(maps)
    per_map = pictures.colorize(maps, per_map=True)
    assert shared.shape == (2, 2, 2, 3) and shared.dtype == np.uint8
    # Shared scale: the weak map's 0.5 is mid-scale; per map it is the map's maximum.
    assert not np.array_equal(shared[0, 0, 0], per_map[0, 0, 0])
    assert np.array_equal(per_map[0, 0, 0], shared[1, 0, 0])


def test_channel_images_keep_one_channel_each():
    image = np.random.default_rng(0).integers(0, 256, (4, 4, 3), dtype=np.uint8)
    tinted = pictures.channel_images(image)
    for channel in range(3):
        assert np.array_equal(tinted[channel, :, :, channel], image[:, :, channel])
        assert tinted[channel].sum() == image[:, :, channel].astype(int).sum()


def test_labelled_mosaic_size_and_caption_count():
    images = np.zeros((5, 32, 32, 3), np.uint8)
    grid = pictures.labelled_mosaic(images, [f"cat #{n}" for n in range(5)], 3, scale=2, gap=4,
                                 caption_height=16)
    assert grid.shape == (2 * (64 + 16) + 4, 3 * 64 + 2 * 4, 3)
    assert (grid[64:80, :64] < 128).any()  # caption text drawn under the first tile
    with pytest.raises(ValueError, match="captions"):
        pictures.labelled_mosaic(images, ["one"], 3)


def test_heat_map_overlay_colours_seen_pixels_and_dims_unseen_ones():
    image = np.full((2, 3, 3), 200, np.uint8)
    heat = np.array([[0.0, 1.0, np.nan], [0.5, 0.5, np.nan]], np.float32)
    overlay = pictures.heat_map_overlay(image, heat, alpha=0.5, dim=0.5)
    assert overlay.shape == (2, 3, 3) and overlay.dtype == np.uint8
    assert (overlay[:, 2] == 100).all()  # unseen: half brightness
    assert overlay[0, 1, 0] > overlay[0, 0, 0]  # hot is red in Jet, cold is blue
    assert overlay[0, 0, 2] > overlay[0, 1, 2]
    with pytest.raises(ValueError, match="heat map"):
        pictures.heat_map_overlay(image, heat[:, :2])


def test_png_data_uri_holds_the_exact_pixels():
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    uri = pictures.png_data_uri(image)
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    decoded = Image.open(io.BytesIO(base64.b64decode(uri.removeprefix(prefix))))
    assert decoded.format == "PNG" and np.array_equal(np.asarray(decoded), image)
