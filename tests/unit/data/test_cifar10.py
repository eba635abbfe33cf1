"""Unit tests for cifar_core.data: search order, loading both formats, read-only arrays.

Everything runs on tiny generated archives except the one test that loads the real
dataset (skipped where it is absent). conftest sets $CIFAR10_PATH to the real dataset and
$KERAS_HOME to an empty temporary folder, so tests about the search order unset or
override them.
"""

import io

import numpy as np
import pytest

from cifar_core.data import CLASS_NAMES, DatasetError, cifar10
from tests import cifar_fixtures


def _load(path, tmp_path, **options):
    return cifar10.load_cifar10(path, cache_dir=tmp_path / "cache", expected_counts=None, **options)


@pytest.mark.parametrize("fmt", ["python", "binary"])
@pytest.mark.parametrize("as_folder", [False, True], ids=["archive", "folder"])
def test_loads_both_formats_from_archive_or_folder(tmp_path, fmt, as_folder):
    archive = tmp_path / f"cifar-10-{fmt}.tar.gz"
    x_train, y_train, x_test, y_test = cifar_fixtures.write_archive(archive, fmt=fmt, seed=3)
    source = (cifar_fixtures.extract_archive(archive, tmp_path / "extracted") if as_folder
              else archive)
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


def test_counts_are_checked_against_expected_counts(tiny_archive, tmp_path):
    with pytest.raises(DatasetError,
                       match="100 training and 20 test images, expected 50000 and 10000"):
        cifar10.load_cifar10(tiny_archive[0], cache_dir=tmp_path / "cache")
    dataset = cifar10.load_cifar10(tiny_archive[0], cache_dir=tmp_path / "cache",
                                expected_counts=(100, 20))
    assert len(dataset.y_test) == 20
    with pytest.raises(ValueError, match="expected_counts"):
        cifar10.load_cifar10(tiny_archive[0], expected_counts=(100,))


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
    assert cifar10.find_cifar10() == first
    assert cifar10.find_cifar10(second) == second


def test_environment_variable_beats_keras_cache(tmp_path, keras_datasets, monkeypatch):
    _extract_to_keras(tmp_path, keras_datasets / "cifar-10-batches-py-target")
    archive = tmp_path / "mine.tar.gz"
    cifar_fixtures.write_archive(archive)
    monkeypatch.setenv("CIFAR10_PATH", str(archive))
    assert cifar10.find_cifar10() == archive


def _extract_to_keras(tmp_path, destination):
    archive = tmp_path / "for-keras.tar.gz"
    arrays = cifar_fixtures.write_archive(archive, seed=7)
    return cifar_fixtures.extract_archive(archive, destination), arrays


def test_keras_target_folder_is_found_and_loaded(tmp_path, keras_datasets):
    folder, (x_train, *_) = _extract_to_keras(tmp_path,
                                              keras_datasets / "cifar-10-batches-py-target")
    _extract_to_keras(tmp_path, keras_datasets)  # the older layout exists too but ranks lower
    assert cifar10.find_cifar10(cache_dir=tmp_path / "cache") == folder
    np.testing.assert_array_equal(_load(None, tmp_path).x_train, x_train)


@pytest.mark.parametrize("name", [
    "cifar-10-batches-py-target_archive", "cifar-10-batches-py.tar.gz", "cifar-10-python.tar.gz",
])
def test_keras_downloaded_archives_are_found(tmp_path, keras_datasets, name):
    cifar_fixtures.write_archive(keras_datasets / name)
    assert cifar10.find_cifar10(cache_dir=tmp_path / "cache") == keras_datasets / name


def test_incomplete_keras_folder_is_skipped_for_our_cache(tmp_path, keras_datasets):
    (keras_datasets / "cifar-10-batches-py").mkdir()  # an interrupted Keras extraction
    cache = tmp_path / "cache"
    cache.mkdir()
    cifar_fixtures.write_archive(cache / cifar10.ARCHIVE_NAME)
    assert cifar10.find_cifar10(cache_dir=cache) == cache / cifar10.ARCHIVE_NAME


def test_cache_dir_defaults_to_environment_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "mine"))
    assert cifar10.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("CIFAR10_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cifar10.cache_dir() == tmp_path / ".cache" / "cifar10-explorer"


def test_nothing_found_without_download_lists_where_it_looked(tmp_path, keras_datasets):
    cache = tmp_path / "empty-cache"
    assert cifar10.find_cifar10(cache_dir=cache) is None
    with pytest.raises(DatasetError, match="CIFAR-10 not found") as error:
        cifar10.load_cifar10(cache_dir=cache, download=False)
    assert str(keras_datasets / "cifar-10-batches-py") in str(error.value)
    assert str(cache / cifar10.ARCHIVE_NAME) in str(error.value)
    assert "CIFAR10_PATH" in str(error.value)


@pytest.mark.parametrize("where", ["argument", "environment"])
def test_explicit_path_that_does_not_exist_is_an_error(tmp_path, monkeypatch, where):
    missing = tmp_path / "nope.tar.gz"
    if where == "environment":
        monkeypatch.setenv("CIFAR10_PATH", str(missing))
    with pytest.raises(DatasetError, match=rf"{missing}: does not exist"):
        cifar10.find_cifar10(missing if where == "argument" else None)


def test_real_dataset_loads_with_official_shapes_and_balanced_test_set(real_cifar_path):
    dataset = cifar10.load_cifar10(real_cifar_path)
    assert dataset.x_train.shape == (50000, 32, 32, 3) and dataset.x_train.dtype == np.uint8
    assert dataset.x_test.shape == (10000, 32, 32, 3)
    assert dataset.y_train.shape == (50000,) and dataset.y_test.shape == (10000,)
    assert np.bincount(dataset.y_test, minlength=10).tolist() == [1000] * 10
    assert np.bincount(dataset.y_train, minlength=10).tolist() == [5000] * 10
    assert dataset.class_names == CLASS_NAMES == (
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
    assert not dataset.x_train.flags.writeable


def test_bad_source_leaves_no_decoded_cache(tmp_path):
    archive = tmp_path / "broken.tar.gz"
    cifar_fixtures.write_archive(archive, skip=("test_batch",))
    with pytest.raises(DatasetError, match="missing test_batch"):
        _load(archive, tmp_path)
    assert not list((tmp_path / "cache").rglob("*.npy"))


def test_progress_printer_redraws_one_line_per_stage():
    stream = io.StringIO()
    progress = cifar10.progress_printer(stream)
    progress("download", 0, 2_000_000)
    progress("download", 2_000_000, 2_000_000)
    progress("parse", 3, 6)
    assert stream.getvalue() == ("\rCIFAR-10 download: 0.0 of 2.0 MB"
                                 "\rCIFAR-10 download: 2.0 of 2.0 MB\n"
                                 "\rCIFAR-10 parse: 3 of 6")
