import base64
import io

import numpy as np
import pytest
from PIL import Image

from cifar_core.ui import tile_grid


def test_tiles_carry_each_image_its_index_and_caption_in_order():
    images = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    tiles = tile_grid.tiles(images, (70, 5, np.int64(12)), ["cat #70", "dog #5", "frog #12"])
    assert [(tile["index"], tile["caption"], tile["size"]) for tile in tiles] == [
        (70, "cat #70", 32), (5, "dog #5", 32), (12, "frog #12", 32)]
    assert type(tiles[2]["index"]) is int  # JSON-ready, not a NumPy integer
    for tile, image in zip(tiles, images, strict=True):
        png = base64.b64decode(tile["src"].removeprefix("data:image/png;base64,"))
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), image)


@pytest.mark.parametrize("count, indices, captions", [
    (2, [1], ["a", "b"]), (2, [1, 2], ["a"]), (1, [1, 2], ["a", "b"])])
def test_tiles_need_one_index_and_one_caption_per_image(count, indices, captions):
    with pytest.raises(ValueError, match="one of each per tile"):
        tile_grid.tiles(np.zeros((count, 32, 32, 3), np.uint8), indices, captions)
