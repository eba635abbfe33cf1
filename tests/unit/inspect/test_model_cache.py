"""The per-model-file disk cache: keyed by the file and extra parts, computed once."""

import os

import numpy as np
import pytest

from cifar_core.inspect import model_cache


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "net.keras"
    path.write_bytes(b"weights")
    return path


def test_results_are_computed_once_then_read_back(model_file):
    calls = []

    def compute():
        calls.append(1)
        return {"points": np.arange(6, dtype=np.float32).reshape(3, 2)}

    first = model_cache.cached_arrays("maps", model_file, compute, "layer=conv1")
    again = model_cache.cached_arrays("maps", model_file, compute, "layer=conv1")
    assert len(calls) == 1
    np.testing.assert_array_equal(first["points"], again["points"])
    model_cache.cached_arrays("maps", model_file, compute, "layer=conv2")  # another part
    assert len(calls) == 2


def test_the_file_name_changes_with_the_model_file_and_the_parts(model_file):
    path = model_cache.cache_file("maps", model_file, "a")
    assert path.parent.name == "maps" and path.name.startswith("net-")
    assert model_cache.cache_file("maps", model_file, "b") != path
    model_file.write_bytes(b"retrained weights")
    os.utime(model_file, ns=(1, 1))
    assert model_cache.cache_file("maps", model_file, "a") != path


def test_a_damaged_file_is_recomputed_and_bad_kinds_are_refused(model_file):
    path = model_cache.cache_file("maps", model_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04 half a zip")
    result = model_cache.cached_arrays("maps", model_file, lambda: {"x": np.ones(2)})
    np.testing.assert_array_equal(result["x"], np.ones(2))
    for kind in ("", "../escape", ".hidden"):
        with pytest.raises(ValueError, match="kind"):
            model_cache.cache_file(kind, model_file)


def test_images_key_tells_arrays_apart():
    images = np.zeros((4, 32, 32, 3), np.uint8)
    other = images.copy()
    other[0, 0, 0, 0] = 1
    assert model_cache.images_key(images) == model_cache.images_key(images.copy())
    assert model_cache.images_key(images) != model_cache.images_key(other)
    assert model_cache.images_key(images) != model_cache.images_key(images[:3])


def test_an_imported_models_scaling_is_part_of_the_key(tmp_path):
    """Changing an imported model's input scaling (its card) must not reuse old results."""
    model_file = tmp_path / "imported" / "net.keras"  # where importing keeps them
    model_file.parent.mkdir()
    model_file.write_bytes(b"weights")
    card = model_file.with_suffix(".json")
    card.write_text('{"source": "imported", "file": "net.keras", "scaling": "0-1"}')
    zero_one = model_cache.cache_file("maps", model_file)
    card.write_text('{"source": "imported", "file": "net.keras", "scaling": "0-255"}')
    assert model_cache.cache_file("maps", model_file) != zero_one
    card.unlink()
    without_card = model_cache.cache_file("maps", model_file)
    card.write_text('{"architecture": "seed"}')  # our own model's card: no scaling in the key
    assert model_cache.cache_file("maps", model_file) == without_card
