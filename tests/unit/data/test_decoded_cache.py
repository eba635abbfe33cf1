"""Unit tests for cifar_core.decoded_cache through load_cifar10: reuse, corruption, atomicity."""

import json
import os
import threading

import numpy as np
import pytest

from cifar_core import data
from cifar_core.data import decoded_cache, sources
from tests import cifar_fixtures


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


@pytest.fixture
def parse_calls(monkeypatch):
    """Count how often load_cifar10 parses a source (instead of using the decoded cache)."""
    calls = []
    original = sources.parse_source

    def counting_parse(source, **options):
        calls.append(source)
        return original(source, **options)

    monkeypatch.setattr(sources, "parse_source", counting_parse)
    return calls


def _load(path, cache):
    return data.load_cifar10(path, cache_dir=cache, expected_counts=None)


def _entry(cache):
    (entry,) = [path for path in (cache / "decoded").iterdir() if not path.name.startswith(".")]
    return entry


def test_second_load_uses_the_decoded_cache(tiny_archive, cache, parse_calls):
    path, (x_train, *_) = tiny_archive
    _load(path, cache)
    dataset = _load(path, cache)
    assert len(parse_calls) == 1
    np.testing.assert_array_equal(dataset.x_train, x_train)
    manifest = json.loads((_entry(cache) / "manifest.json").read_text())
    assert manifest["arrays"]["x_train"]["shape"] == [100, 32, 32, 3]
    assert manifest["source"] == str(path.resolve())


def _truncate(entry):
    file = entry / "x_train.npy"
    file.write_bytes(file.read_bytes()[:1000])


def _flip_byte(entry):
    file = entry / "x_test.npy"
    payload = bytearray(file.read_bytes())
    payload[len(payload) // 2] ^= 0x55
    file.write_bytes(bytes(payload))


def _break_header(entry):
    file = entry / "y_train.npy"
    payload = bytearray(file.read_bytes())
    payload[:6] = b"NOTNPY"
    file.write_bytes(bytes(payload))


def _garbage_manifest(entry):
    (entry / "manifest.json").write_text("{not json")


def _wrong_manifest_shape(entry):
    manifest = json.loads((entry / "manifest.json").read_text())
    manifest["arrays"]["y_test"]["shape"] = [7]
    (entry / "manifest.json").write_text(json.dumps(manifest))


def _delete_labels(entry):
    (entry / "y_test.npy").unlink()


@pytest.mark.parametrize("damage", [
    _truncate, _flip_byte, _break_header, _garbage_manifest, _wrong_manifest_shape, _delete_labels,
])
def test_corrupt_cache_is_detected_and_rebuilt(tiny_archive, cache, parse_calls, damage):
    path, (x_train, y_train, x_test, y_test) = tiny_archive
    _load(path, cache)
    damage(_entry(cache))
    dataset = _load(path, cache)
    assert len(parse_calls) == 2, "the damaged entry must not be used"
    np.testing.assert_array_equal(dataset.x_test, x_test)
    np.testing.assert_array_equal(dataset.y_train, y_train)
    _load(path, cache)
    assert len(parse_calls) == 2, "the rebuilt entry is used again"


def test_changed_source_gets_a_new_entry_and_the_old_one_is_removed(tmp_path, cache, parse_calls):
    path = tmp_path / "cifar.tar.gz"
    cifar_fixtures.write_archive(path, seed=1)
    _load(path, cache)
    old_entry = _entry(cache)
    _, _, _, new_labels = cifar_fixtures.write_archive(path, seed=2, test_count=30)
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse file systems
    dataset = _load(path, cache)
    assert len(parse_calls) == 2
    np.testing.assert_array_equal(dataset.y_test, new_labels)
    assert not old_entry.exists() and _entry(cache) != old_entry


def test_no_temporary_folders_are_left_behind(tiny_archive, cache):
    _load(tiny_archive[0], cache)
    assert [path.name for path in (cache / "decoded").iterdir()] == [_entry(cache).name]
    assert sorted(path.name for path in _entry(cache).iterdir()) == [
        "manifest.json", "x_test.npy", "x_train.npy", "y_test.npy", "y_train.npy"]


def test_failed_write_leaves_no_entry(tiny_archive, cache, monkeypatch):
    def failing_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", failing_save)
    with pytest.warns(UserWarning, match="could not write the decoded cache"):
        dataset = _load(tiny_archive[0], cache)
    assert not dataset.x_train.flags.writeable
    assert list((cache / "decoded").iterdir()) == []


def test_unwritable_cache_still_loads_from_the_source(tiny_archive, tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.warns(UserWarning, match="could not write the decoded cache"):
        dataset = _load(tiny_archive[0], not_a_folder)
    np.testing.assert_array_equal(dataset.y_test, tiny_archive[1][3])


def test_entry_key_depends_on_path_size_and_mtime(tiny_archive, cache):
    path = tiny_archive[0]
    first = decoded_cache.entry_for(path, [path], cache)
    assert decoded_cache.entry_for(path, [path], cache) == first
    os.utime(path, ns=(5, 5))
    assert decoded_cache.entry_for(path, [path], cache) != first


def test_sampled_checksum_of_large_files_catches_damage_in_a_sampled_block(
        tiny_archive, cache, parse_calls, monkeypatch):
    # Shrink the blocks so the tiny x_train.npy takes the large-file (sampled) path.
    monkeypatch.setattr(decoded_cache, "_BLOCK_SIZE", 16)
    monkeypatch.setattr(decoded_cache, "_SAMPLED_BLOCKS", 4)
    path, _ = tiny_archive
    _load(path, cache)
    file = _entry(cache) / "x_train.npy"
    payload = bytearray(file.read_bytes())
    payload[-1] ^= 0xFF  # the last sampled block ends at the last byte
    file.write_bytes(bytes(payload))
    _load(path, cache)
    assert len(parse_calls) == 2


def test_concurrent_first_loads_all_succeed_and_leave_one_entry(tiny_archive, cache):
    path, (_, y_train, _, _) = tiny_archive
    results, errors = [], []

    def load():
        try:
            results.append(_load(path, cache))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(results) == 4
    for dataset in results:
        np.testing.assert_array_equal(dataset.y_train, y_train)
    assert [folder.name for folder in (cache / "decoded").iterdir()] == [_entry(cache).name]
