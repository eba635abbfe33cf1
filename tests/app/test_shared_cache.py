"""The server-wide cache of figures and PNGs every tab shares (cifar_core/ui/shared_cache)."""

import io

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import streamlit as st
from PIL import Image

from cifar_core.display import plots
from cifar_core.ui import shared_cache


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_content_key_tells_apart_arrays_that_differ_in_one_pixel_of_a_large_picture():
    # Streamlit's own hashing samples arrays of 500,000 elements or more: not ours.
    picture = np.zeros((400, 800, 3), dtype=np.uint8)  # 960,000 elements
    changed = picture.copy()
    changed[123, 456, 2] = 1
    assert shared_cache.content_key(picture) != shared_cache.content_key(changed)
    assert shared_cache.content_key(picture) == shared_cache.content_key(picture.copy())


@pytest.mark.parametrize("first, second", [
    (np.zeros((2, 3)), np.zeros((3, 2))),  # same bytes, another shape
    (np.zeros(4, dtype=np.uint8), np.zeros(4, dtype=np.int8)),  # another dtype
    ((1, 2), [1, 2]),
    (1, 1.0),
    (1, "1"),
    (None, "None"),
    ({"a": 1}, {"a": 2}),
    (pd.DataFrame({"x": [1, 2]}), pd.DataFrame({"x": [1, 3]})),
    (pd.DataFrame({"x": [1, 2]}), pd.DataFrame({"y": [1, 2]})),
])
def test_content_key_differs_for_different_contents(first, second):
    assert shared_cache.content_key(first) != shared_cache.content_key(second)


def test_content_key_is_the_same_for_equal_contents_and_dict_order():
    assert (shared_cache.content_key({"a": 1, "b": np.arange(3)}, "x")
            == shared_cache.content_key({"b": np.arange(3), "a": 1}, "x"))
    assert shared_cache.content_key(np.int64(3)) == shared_cache.content_key(3)


@pytest.mark.parametrize("value", [object(), go.Figure(), {1, 2}])
def test_content_key_refuses_what_it_cannot_read(value):
    with pytest.raises(TypeError, match="cannot key"):
        shared_cache.content_key(value)


def test_figure_is_built_once_for_equal_arguments_and_anew_for_others():
    calls = []

    def bars(values, *, title):
        calls.append(title)
        return go.Figure(go.Bar(y=values), layout={"title": title})

    first = shared_cache.figure(bars, np.array([1, 2, 3]), title="a")
    again = shared_cache.figure(bars, np.array([1, 2, 3]), title="a")
    other = shared_cache.figure(bars, np.array([1, 2, 4]), title="a")
    assert first is again and other is not first
    assert calls == ["a", "a"]
    assert list(other.data[0].y) == [1, 2, 4]


def test_figure_equals_the_builders_own():
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    shared = shared_cache.figure(plots.histogram_figure, image)
    assert shared.to_json() == plots.histogram_figure(image).to_json()


def test_png_decodes_to_the_picture_and_is_encoded_once():
    picture = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    encoded = shared_cache.png(picture)
    assert shared_cache.png(picture.copy()) is encoded
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(encoded))), picture)
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(shared_cache.png(grey)))),
                                  grey)


def test_png_cache_drops_the_least_recently_used_beyond_its_count_or_bytes():
    cache = shared_cache._PngCache(kept=2, bytes_kept=10)
    cache.put("a", b"1234")
    cache.put("b", b"5678")
    assert cache.get("a") == b"1234"  # now b is the least recently used
    cache.put("c", b"9")
    assert cache.get("b") is None and cache.get("a") == b"1234" and cache.get("c") == b"9"
    cache.put("d", b"0123456789")  # 15 bytes in all: a and c go
    assert cache.get("a") is None and cache.get("c") is None and cache.get("d") is not None
    assert cache.size == 10
