"""Unit tests for cifar_core.batches: the restricted unpickler and both batch formats."""

import pickle
import pickletools
import warnings

import numpy as np
import pytest

from cifar_core.data import batches
from cifar_core.data.batches import DatasetError
from tests import cifar_fixtures


@pytest.mark.parametrize("to_bytes, parse, filename", [
    (cifar_fixtures.python_batch_bytes, batches.parse_python_batch, "data_batch_1"),
    (cifar_fixtures.binary_batch_bytes, batches.parse_binary_batch, "data_batch_1.bin"),
], ids=["python", "binary"])
def test_batch_round_trip_gives_rows_and_int64_labels(to_bytes, parse, filename):
    rows, labels = cifar_fixtures.random_batch(12, seed=1)
    parsed_rows, parsed_labels = parse(to_bytes(rows, labels), filename)
    np.testing.assert_array_equal(parsed_rows, rows)
    np.testing.assert_array_equal(parsed_labels, labels)
    assert parsed_rows.dtype == np.uint8 and parsed_labels.dtype == np.int64


@pytest.mark.parametrize("to_bytes", [
    cifar_fixtures.python_batch_bytes, cifar_fixtures.python2_batch_bytes,
], ids=["python3-pickle", "python2-pickle-as-official"])
def test_restricted_unpickler_matches_plain_pickle_on_trusted_batches(to_bytes):
    rows, labels = cifar_fixtures.random_batch(7, seed=4)
    payload = to_bytes(rows, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # numpy.core, in the reference only
        reference = pickle.loads(payload, encoding="bytes")  # trusted: we just wrote it
    restricted = batches.unpickle(payload, "data_batch_1")
    assert restricted.keys() == reference.keys()
    np.testing.assert_array_equal(restricted[b"data"], reference[b"data"])
    assert restricted[b"labels"] == reference[b"labels"] == labels
    parsed_rows, _ = batches.parse_python_batch(payload, "data_batch_1")
    np.testing.assert_array_equal(parsed_rows, rows)


def test_rows_to_images_puts_red_green_blue_planes_last():
    rows = np.zeros((1, 3072), dtype=np.uint8)
    rows[0, 0], rows[0, 1024], rows[0, 2048 + 33] = 10, 20, 30  # R(0,0), G(0,0), B(1,1)
    images = batches.rows_to_images(rows)
    assert images.shape == (1, 32, 32, 3) and images.flags.c_contiguous
    assert tuple(images[0, 0, 0]) == (10, 20, 0)
    assert images[0, 1, 1, 2] == 30


@pytest.mark.parametrize("module, name", [
    ("posix", "system"),
    ("os", "system"),
    ("builtins", "eval"),
    ("subprocess", "check_output"),
    ("numpy", "load"),
    ("numpy.core.multiarray", "scalar"),
])
def test_malicious_pickle_runs_nothing_and_is_refused(tmp_path, module, name):
    marker = tmp_path / "pwned"
    payload = cifar_fixtures.batch_calling(module, name, f"touch {marker}")
    # The payload really names the dangerous global (plain pickle.loads would call it).
    assert any(op.name == "GLOBAL" and arg == f"{module} {name}"
               for op, arg, _ in pickletools.genops(payload))
    with pytest.raises(DatasetError, match=rf"data_batch_3: refused .*{module}\.{name}"):
        batches.parse_python_batch(payload, "data_batch_3")
    assert not marker.exists()


def test_codecs_encode_is_allowed_only_for_latin1():
    sneaky = b"c_codecs\nencode\n(Vabc\nVrot13\ntR."
    with pytest.raises(DatasetError, match="test_batch: not a valid CIFAR-10 pickle"):
        batches.unpickle(sneaky, "test_batch")
    latin1 = b"c_codecs\nencode\n(Vabc\nVlatin1\ntR."
    assert batches.unpickle(latin1, "test_batch") == b"abc"


def _python_batch(rows, labels):
    return pickle.dumps({b"data": rows, b"labels": labels}, protocol=2)


@pytest.mark.parametrize("payload, message", [
    (_python_batch(np.zeros((4, 3000), np.uint8), [0] * 4), r"wrong shape \(4, 3000\)"),
    (_python_batch(np.zeros((4, 3072), np.float32), [0] * 4), "must be a uint8 array, got float32"),
    (_python_batch([[0] * 3072], [0]), "must be a uint8 array, got list"),
    (_python_batch(np.zeros((4, 3072), np.uint8), [0, 1, 2, 10]),
     r"labels out of range: found 0\.\.10"),
    (_python_batch(np.zeros((4, 3072), np.uint8), [0, -1, 2, 3]), "labels out of range"),
    (_python_batch(np.zeros((4, 3072), np.uint8), [0, 1, 2]), "3 labels for 4 images"),
    (_python_batch(np.zeros((4, 3072), np.uint8), ["a"] * 4), "labels must be a list of integers"),
    (pickle.dumps({b"labels": [0]}, protocol=2), "batch has no data entry"),
    (pickle.dumps([1, 2], protocol=2), "expected a dict, got list"),
    (b"\x80\x02}q\x00(X", "not a valid CIFAR-10 pickle"),
    (b"", "not a valid CIFAR-10 pickle"),
], ids=["shape", "float", "list-data", "label-10", "label-negative", "count", "label-str",
        "no-data", "not-dict", "truncated", "empty"])
def test_bad_python_batches_name_the_file_and_the_fault(payload, message):
    with pytest.raises(DatasetError, match=rf"^data_batch_2: .*{message}"):
        batches.parse_python_batch(payload, "data_batch_2")


@pytest.mark.parametrize("payload, message", [
    (b"", "wrong size 0 bytes"),
    (b"\x00" * 3072, "wrong size 3072 bytes, expected a multiple of 3073"),
    (bytes([10]) + b"\x00" * 3072, r"labels out of range: found 10\.\.10"),
])
def test_bad_binary_batches_name_the_file_and_the_fault(payload, message):
    with pytest.raises(DatasetError, match=rf"^test_batch\.bin: {message}"):
        batches.parse_binary_batch(payload, "test_batch.bin")


def test_meta_files_must_list_the_official_class_names():
    good = pickle.dumps({b"label_names": [n.encode() for n in batches.CLASS_NAMES]}, protocol=2)
    assert batches.parse_python_meta(good, "batches.meta") == batches.CLASS_NAMES
    assert batches.parse_binary_meta(
        ("\n".join(batches.CLASS_NAMES) + "\n\n").encode(),
        "batches.meta.txt") == batches.CLASS_NAMES
    swapped = pickle.dumps({b"label_names": [b"cat", b"airplane"]}, protocol=2)
    with pytest.raises(DatasetError, match="batches.meta: class names"):
        batches.parse_python_meta(swapped, "batches.meta")
    with pytest.raises(DatasetError, match="batches.meta: no label_names"):
        batches.parse_python_meta(pickle.dumps({}, protocol=2), "batches.meta")
    with pytest.raises(DatasetError, match="batches.meta.txt: class names"):
        batches.parse_binary_meta(b"cat\ndog\n", "batches.meta.txt")
