"""Unit tests for cifar_core.data: search order, both formats, validation, read-only arrays.

Everything runs on tiny generated archives except the one test that loads the real
dataset (skipped where it is absent). conftest sets $CIFAR10_PATH to the real dataset and
$KERAS_HOME to an empty temporary folder, so tests about the search order unset or
override them.
"""

import gzip
import io
import tarfile

import numpy as np
import pytest

from cifar_core import data, sources
from cifar_core.data import CLASS_NAMES, DatasetError
from tests import cifar_fixtures


def _load(path, tmp_path, **options):
    return data.load_cifar10(path, cache_dir=tmp_path / "cache", expected_counts=None, **options)


def _extract(archive, destination):
    """Extract a (trusted, test-made) archive into ``destination``; return the batches folder."""
    with tarfile.open(archive) as tar:
        tar.extractall(destination, filter="data")
    return next(destination.glob("cifar-10-batches-*"))


@pytest.mark.parametrize("fmt", ["python", "binary"])
@pytest.mark.parametrize("as_folder", [False, True], ids=["archive", "folder"])
def test_loads_both_formats_from_archive_or_folder(tmp_path, fmt, as_folder):
    archive = tmp_path / f"cifar-10-{fmt}.tar.gz"
    x_train, y_train, x_test, y_test = cifar_fixtures.write_archive(archive, fmt=fmt, seed=3)
    source = _extract(archive, tmp_path / "extracted") if as_folder else archive
    dataset = _load(source, tmp_path)
    np.testing.assert_array_equal(dataset.x_train, x_train)
    np.testing.assert_array_equal(dataset.y_train, y_train)
    np.testing.assert_array_equal(dataset.x_test, x_test)
    np.testing.assert_array_equal(dataset.y_test, y_test)
    assert dataset.x_train.dtype == np.uint8 and dataset.x_train.shape == (100, 32, 32, 3)
    assert dataset.y_train.dtype == np.int64
    assert dataset.class_names == CLASS_NAMES
    assert dataset.source == str(source)


@pytest.mark.parametrize("cached", [False, True], ids=["first-parse", "from-cache"])
def test_arrays_are_read_only(tiny_archive, tmp_path, cached):
    path, _ = tiny_archive
    if cached:
        _load(path, tmp_path)
    dataset = _load(path, tmp_path)
    for name in ("x_train", "y_train", "x_test", "y_test"):
        array = getattr(dataset, name)
        assert type(array) is np.ndarray and not array.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0


def test_split_returns_images_and_labels_and_rejects_other_names(tiny_archive, tmp_path):
    dataset = _load(tiny_archive[0], tmp_path)
    assert dataset.split("train")[0] is dataset.x_train
    assert dataset.split("test")[1] is dataset.y_test
    with pytest.raises(ValueError, match="'validation'"):
        dataset.split("validation")


def test_progress_reports_every_batch_parsed(tiny_archive, tmp_path):
    calls = []
    _load(tiny_archive[0], tmp_path, progress=lambda *call: calls.append(call))
    parse_calls = [call for call in calls if call[0] == "parse"]
    assert parse_calls == [("parse", done, 6) for done in range(7)]


def _truncated(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _not_gzip(path):
    path.write_bytes(b"this is not an archive")


def _crc_damaged(path):
    # Rewrite with a valid gzip stream whose CRC trailer is wrong.
    payload = bytearray(gzip.compress(gzip.decompress(path.read_bytes())))
    payload[-8] ^= 0xFF
    path.write_bytes(bytes(payload))


def _bad_rows(count=20, columns=3072, label=0):
    rows = np.zeros((count, columns), dtype=np.uint8)
    return rows, [label] * count


@pytest.mark.parametrize("fmt, options, damage, message", [
    ("python", {"skip": ("test_batch",)}, None, "missing test_batch"),
    ("python", {"skip": ("data_batch_4",)}, None, "missing data_batch_4"),
    ("python", {"skip": ("batches.meta",)}, None, "missing batches.meta"),
    ("binary", {"skip": ("test_batch.bin",)}, None, "missing test_batch.bin"),
    ("python", {"overrides": {"data_batch_2": cifar_fixtures.python_batch_bytes(*_bad_rows(columns=3000))}},
     None, r"member cifar-10-batches-py/data_batch_2\): wrong shape \(20, 3000\)"),
    ("python", {"overrides": {"test_batch": cifar_fixtures.python_batch_bytes(*_bad_rows(label=10))}},
     None, r"member cifar-10-batches-py/test_batch\): labels out of range"),
    ("binary", {"overrides": {"data_batch_1.bin": b"\x00" * 3072}},
     None, r"data_batch_1\.bin\): wrong size 3072 bytes"),
    ("binary", {"overrides": {"test_batch.bin": cifar_fixtures.binary_batch_bytes(*_bad_rows(label=11))}},
     None, r"test_batch\.bin\): labels out of range"),
    ("python", {}, _truncated, "truncated or corrupt archive"),
    ("binary", {}, _truncated, "truncated or corrupt archive"),
    ("python", {}, _not_gzip, "truncated or corrupt archive"),
    ("python", {}, _crc_damaged, "truncated or corrupt archive"),
], ids=["no-test-batch", "no-data-batch-4", "no-meta", "bin-no-test-batch", "shape",
        "labels-range", "bin-size", "bin-labels-range", "truncated", "bin-truncated",
        "not-gzip", "gzip-crc"])
def test_broken_archives_raise_dataset_error_naming_file_and_fault(
        tmp_path, fmt, options, damage, message):
    archive = tmp_path / "broken.tar.gz"
    cifar_fixtures.write_archive(archive, fmt=fmt, **options)
    if damage:
        damage(archive)
    with pytest.raises(DatasetError, match=rf"{tmp_path}.*{message}"):
        _load(archive, tmp_path)
    assert not list((tmp_path / "cache").glob("decoded/*/*.npy")), "no cache for a bad source"


def test_malicious_pickle_in_archive_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    archive = tmp_path / "evil.tar.gz"
    evil = cifar_fixtures.batch_calling("posix", "system", f"touch {marker}")
    cifar_fixtures.write_archive(archive, overrides={"data_batch_1": evil})
    with pytest.raises(DatasetError, match=r"data_batch_1\): refused to unpickle global posix.system"):
        _load(archive, tmp_path)
    assert not marker.exists()


def test_folder_missing_a_batch_names_the_missing_file(tmp_path):
    archive = tmp_path / "cifar.tar.gz"
    cifar_fixtures.write_archive(archive)
    folder = _extract(archive, tmp_path / "extracted")
    (folder / "data_batch_5").unlink()
    with pytest.raises(DatasetError, match=rf"{folder / 'data_batch_5'}: missing"):
        _load(folder, tmp_path)


def test_counts_are_checked_against_expected_counts(tiny_archive, tmp_path):
    with pytest.raises(DatasetError, match="100 training and 20 test images, expected 50000 and 10000"):
        data.load_cifar10(tiny_archive[0], cache_dir=tmp_path / "cache")
    dataset = data.load_cifar10(tiny_archive[0], cache_dir=tmp_path / "cache",
                                expected_counts=(100, 20))
    assert len(dataset.y_test) == 20
    with pytest.raises(ValueError, match="expected_counts"):
        data.load_cifar10(tiny_archive[0], expected_counts=(100,))


# --- search order -------------------------------------------------------------------

@pytest.fixture
def keras_datasets(tmp_path, monkeypatch):
    """$KERAS_HOME/datasets, with $CIFAR10_PATH unset so the implicit search runs."""
    monkeypatch.delenv("CIFAR10_PATH", raising=False)
    folder = tmp_path / "keras-home" / "datasets"
    folder.mkdir(parents=True)
    return folder


def test_path_argument_beats_environment_variable(tmp_path, monkeypatch):
    first, second = tmp_path / "first.tar.gz", tmp_path / "second.tar.gz"
    cifar_fixtures.write_archive(first)
    cifar_fixtures.write_archive(second)
    monkeypatch.setenv("CIFAR10_PATH", str(first))
    assert data.find_cifar10() == first
    assert data.find_cifar10(second) == second


def test_environment_variable_beats_keras_cache(tmp_path, keras_datasets, monkeypatch):
    _extract_to_keras(tmp_path, keras_datasets / "cifar-10-batches-py-target")
    archive = tmp_path / "mine.tar.gz"
    cifar_fixtures.write_archive(archive)
    monkeypatch.setenv("CIFAR10_PATH", str(archive))
    assert data.find_cifar10() == archive


def _extract_to_keras(tmp_path, destination):
    archive = tmp_path / "for-keras.tar.gz"
    arrays = cifar_fixtures.write_archive(archive, seed=7)
    return _extract(archive, destination), arrays


def test_keras_target_folder_is_found_and_loaded(tmp_path, keras_datasets):
    folder, (x_train, *_) = _extract_to_keras(tmp_path, keras_datasets / "cifar-10-batches-py-target")
    _extract_to_keras(tmp_path, keras_datasets)  # the older layout exists too but ranks lower
    assert data.find_cifar10(cache_dir=tmp_path / "cache") == folder
    np.testing.assert_array_equal(_load(None, tmp_path).x_train, x_train)


@pytest.mark.parametrize("name", [
    "cifar-10-batches-py-target_archive", "cifar-10-batches-py.tar.gz", "cifar-10-python.tar.gz",
])
def test_keras_downloaded_archives_are_found(tmp_path, keras_datasets, name):
    cifar_fixtures.write_archive(keras_datasets / name)
    assert data.find_cifar10(cache_dir=tmp_path / "cache") == keras_datasets / name


def test_incomplete_keras_folder_is_skipped_for_our_cache(tmp_path, keras_datasets):
    (keras_datasets / "cifar-10-batches-py").mkdir()  # an interrupted Keras extraction
    cache = tmp_path / "cache"
    cache.mkdir()
    cifar_fixtures.write_archive(cache / data.ARCHIVE_NAME)
    assert data.find_cifar10(cache_dir=cache) == cache / data.ARCHIVE_NAME


def test_cache_dir_defaults_to_environment_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "mine"))
    assert data.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("CIFAR10_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.cache_dir() == tmp_path / ".cache" / "cifar10-explorer"


def test_nothing_found_without_download_lists_where_it_looked(tmp_path, keras_datasets):
    cache = tmp_path / "empty-cache"
    assert data.find_cifar10(cache_dir=cache) is None
    with pytest.raises(DatasetError, match="CIFAR-10 not found") as error:
        data.load_cifar10(cache_dir=cache, download=False)
    assert str(keras_datasets / "cifar-10-batches-py") in str(error.value)
    assert str(cache / data.ARCHIVE_NAME) in str(error.value)
    assert "CIFAR10_PATH" in str(error.value)


@pytest.mark.parametrize("where", ["argument", "environment"])
def test_explicit_path_that_does_not_exist_is_an_error(tmp_path, monkeypatch, where):
    missing = tmp_path / "nope.tar.gz"
    if where == "environment":
        monkeypatch.setenv("CIFAR10_PATH", str(missing))
    with pytest.raises(DatasetError, match=rf"{missing}: does not exist"):
        data.find_cifar10(missing if where == "argument" else None)


def test_real_dataset_loads_with_official_shapes_and_balanced_test_set(real_cifar_path):
    dataset = data.load_cifar10(real_cifar_path)
    assert dataset.x_train.shape == (50000, 32, 32, 3) and dataset.x_train.dtype == np.uint8
    assert dataset.x_test.shape == (10000, 32, 32, 3)
    assert dataset.y_train.shape == (50000,) and dataset.y_test.shape == (10000,)
    assert np.bincount(dataset.y_test, minlength=10).tolist() == [1000] * 10
    assert np.bincount(dataset.y_train, minlength=10).tolist() == [5000] * 10
    assert dataset.class_names == CLASS_NAMES == (
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
    assert not dataset.x_train.flags.writeable


# --- archive members ------------------------------------------------------------------

def _add_member(archive, name, payload=b"", kind=tarfile.REGTYPE, link=""):
    """Append one member to a gzip'd tar by rewriting it (test archives are tiny)."""
    with tarfile.open(archive) as tar:
        members = [(member, tar.extractfile(member).read()) for member in tar.getmembers()]
    with tarfile.open(archive, "w:gz") as tar:
        for member, content in members:
            tar.addfile(member, io.BytesIO(content))
        extra = tarfile.TarInfo(name)
        extra.type, extra.linkname, extra.size = kind, link, len(payload)
        tar.addfile(extra, io.BytesIO(payload) if kind == tarfile.REGTYPE else None)


@pytest.mark.parametrize("name, message", [
    ("cifar-10-batches-py/data_batch_1", "data_batch_1\\): appears twice"),
    ("cifar-10-batches-bin/test_batch.bin", "mixes the python and binary"),
], ids=["duplicate", "mixed-formats"])
def test_suspicious_members_are_refused(tmp_path, name, message):
    archive = tmp_path / "odd.tar.gz"
    cifar_fixtures.write_archive(archive)
    _add_member(archive, name, cifar_fixtures.binary_batch_bytes(*cifar_fixtures.random_batch(2, 0)))
    with pytest.raises(DatasetError, match=message):
        _load(archive, tmp_path)


def test_symlink_member_in_place_of_a_batch_is_refused(tmp_path):
    archive = tmp_path / "link.tar.gz"
    cifar_fixtures.write_archive(archive, skip=("test_batch",))
    _add_member(archive, "cifar-10-batches-py/test_batch", kind=tarfile.SYMTYPE, link="/etc/passwd")
    with pytest.raises(DatasetError, match=r"test_batch\): not a regular file"):
        _load(archive, tmp_path)


def test_members_outside_the_batches_folder_are_ignored_not_written(tmp_path):
    archive = tmp_path / "traversal.tar.gz"
    x_train, *_ = cifar_fixtures.write_archive(archive)
    _add_member(archive, "../../escaped", b"should never be written")
    _add_member(archive, "cifar-10-batches-py/../data_batch_1", b"not a batch")
    dataset = _load(archive, tmp_path)
    np.testing.assert_array_equal(dataset.x_train, x_train)
    assert not (tmp_path.parent / "escaped").exists()


def test_folder_above_the_batches_folder_is_accepted(tmp_path):
    archive = tmp_path / "cifar.tar.gz"
    _, y_train, _, _ = cifar_fixtures.write_archive(archive, fmt="binary")
    _extract(archive, tmp_path / "extracted")
    np.testing.assert_array_equal(_load(tmp_path / "extracted", tmp_path).y_train, y_train)


def test_folder_without_batches_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=rf"{tmp_path / 'empty'}: no CIFAR-10 batch files"):
        _load(tmp_path / "empty", tmp_path)


def test_oversized_member_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_BATCH_BYTES", 1000)
    archive = tmp_path / "big.tar.gz"
    cifar_fixtures.write_archive(archive)
    with pytest.raises(DatasetError, match=r"data_batch_1\): [\d,]+ bytes, far larger"):
        _load(archive, tmp_path)
    folder = _extract(archive, tmp_path / "extracted")
    with pytest.raises(DatasetError, match=rf"{folder / 'data_batch_1'}: [\d,]+ bytes"):
        _load(folder, tmp_path)
