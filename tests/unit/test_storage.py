"""Atomic writes and checked .npz caches: a failure never leaves half a file, and a
damaged cache never runs what it carries."""


import numpy as np
import pytest

from cifar_core import storage


def test_failed_atomic_write_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "status.json"
    target.write_text("old")

    def disk_full(*arguments):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        storage.write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["status.json"]


def test_write_atomic_replaces_whole_file(tmp_path):
    path = tmp_path / "nested" / "file.txt"
    storage.write_atomic(path, "first")
    storage.write_atomic(path, b"second")
    assert path.read_text() == "second"
    assert [item.name for item in path.parent.iterdir()] == ["file.txt"]


def test_a_failing_block_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old model")
    with pytest.raises(RuntimeError, match="half-way"):
        with storage.atomic_path(target) as temporary:
            assert temporary.name.endswith("model.keras")  # writers that check suffixes work
            assert temporary.parent == tmp_path and temporary.name.startswith(".tmp-")
            temporary.write_bytes(b"half a new model")
            raise RuntimeError("failed half-way")
    assert target.read_bytes() == b"old model"
    assert [path.name for path in tmp_path.iterdir()] == ["model.keras"]


def test_a_folder_appears_whole_or_not_at_all(tmp_path):
    entry = tmp_path / "decoded" / "entry"
    with pytest.raises(OSError):
        with storage.atomic_path(entry, directory=True) as temporary:
            (temporary / "x_train.npy").write_bytes(b"part")
            raise OSError(28, "No space left on device")
    assert not entry.parent.exists() or list(entry.parent.iterdir()) == []
    with storage.atomic_path(entry, directory=True) as temporary:
        (temporary / "x_train.npy").write_bytes(b"all")
    assert [path.name for path in entry.iterdir()] == ["x_train.npy"]
    assert [path.name for path in entry.parent.iterdir()] == ["entry"]


def test_arrays_come_back_only_for_their_key(tmp_path):
    path = tmp_path / "cache" / "peaks.npz"
    arrays = {"conv1": np.arange(6, dtype=np.float32).reshape(2, 3), "conv2": np.ones(4)}
    storage.save_arrays(path, arrays, key="model.keras:123")
    loaded = storage.load_arrays(path, key="model.keras:123")
    assert sorted(loaded) == ["conv1", "conv2"]
    np.testing.assert_array_equal(loaded["conv1"], arrays["conv1"])
    assert storage.load_arrays(path, key="model.keras:124") is None  # stale: recompute
    assert storage.load_arrays(tmp_path / "missing.npz") is None
    with pytest.raises(ValueError, match="cache_key"):
        storage.save_arrays(path, {"cache_key": np.zeros(1)})


@pytest.mark.parametrize("damage", [
    lambda data: data[: len(data) // 2],  # truncated
    lambda data: b"PK\x03\x04" + bytes(100),  # a zip header and nothing after
    lambda data: b"not a zip file at all",
])
def test_a_damaged_cache_reads_as_a_miss(tmp_path, damage):
    path = tmp_path / "peaks.npz"
    storage.save_arrays(path, {"conv1": np.ones((50, 50))}, key="k")
    path.write_bytes(damage(path.read_bytes()))
    assert storage.load_arrays(path, key="k") is None


class _CreatesAFile:
    """Unpickling this would create ``target``: the payload nothing may run."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_a_cache_carrying_a_pickle_is_refused_without_running_it(tmp_path):
    path = tmp_path / "peaks.npz"
    created = tmp_path / "created-by-the-payload"
    payload = np.empty(1, dtype=object)
    payload[0] = _CreatesAFile(created)
    np.savez(path, cache_key=np.array("k"), conv1=payload)  # object arrays are pickled
    assert storage.load_arrays(path, key="k") is None
    assert not created.exists()


def test_a_lone_npy_array_in_place_of_a_cache_reads_as_a_miss(tmp_path):
    path = tmp_path / "peaks.npz"
    with open(path, "wb") as handle:
        np.save(handle, np.ones(3))  # a .npy, not an .npz archive
    assert storage.load_arrays(path, key="k") is None
