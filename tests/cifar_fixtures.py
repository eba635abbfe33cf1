"""Tiny CIFAR-10 archives in the official formats, generated for tests.

The real dataset is never copied into the tests: these archives hold random pixels in
the exact layout of the official files (python pickles or binary records), so the
loader's real code paths run on them.
"""

import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np

CLASS_NAMES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]


def random_batch(count, seed):
    """Return (rows, labels): uint8 (count, 3072) in R, G, B plane order, and int labels."""
    generator = np.random.default_rng(seed)
    rows = generator.integers(0, 256, size=(count, 3072), dtype=np.uint8)
    labels = [int(label) for label in np.arange(count) % 10]
    return rows, labels


def python_batch_bytes(rows, labels, batch_label="training batch"):
    """Pickle one batch exactly as the official python-version files do."""
    batch = {
        b"batch_label": batch_label.encode(),
        b"labels": list(labels),
        b"data": rows,
        b"filenames": [f"image_{index}.png".encode() for index in range(len(labels))],
    }
    return pickle.dumps(batch, protocol=2)


def binary_batch_bytes(rows, labels):
    """One label byte then 3072 pixel bytes per image, as in the binary version."""
    records = np.concatenate(
        [np.asarray(labels, dtype=np.uint8)[:, None], rows], axis=1
    )  # (count, 3073)
    return records.tobytes()


def _add(tar, name, payload):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def write_archive(path, *, per_batch=20, test_count=20, fmt="python", seed=0,
                  skip=(), overrides=None):
    """Write a tiny CIFAR-10 ``.tar.gz`` at ``path`` and return the arrays it holds.

    ``skip`` names members to leave out (e.g. ``"test_batch"``); ``overrides`` maps a
    member name to raw bytes to store instead (e.g. a malicious pickle).
    Returns ``(x_train, y_train, x_test, y_test)`` as the loader should decode them.
    """
    overrides = overrides or {}
    path = Path(path)
    folder = "cifar-10-batches-py" if fmt == "python" else "cifar-10-batches-bin"
    members = {}
    train_rows, train_labels = [], []
    for number in range(1, 6):
        rows, labels = random_batch(per_batch, seed + number)
        train_rows.append(rows)
        train_labels += labels
        name = f"data_batch_{number}" if fmt == "python" else f"data_batch_{number}.bin"
        members[name] = rows, labels
    test_rows, test_labels = random_batch(test_count, seed + 100)
    members["test_batch" if fmt == "python" else "test_batch.bin"] = test_rows, test_labels

    with tarfile.open(path, "w:gz") as tar:
        for name, (rows, labels) in members.items():
            if name in skip:
                continue
            if name in overrides:
                payload = overrides[name]
            elif fmt == "python":
                payload = python_batch_bytes(rows, labels)
            else:
                payload = binary_batch_bytes(rows, labels)
            _add(tar, f"{folder}/{name}", payload)
        if fmt == "python" and "batches.meta" not in skip:
            meta = {b"label_names": [name.encode() for name in CLASS_NAMES],
                    b"num_cases_per_batch": per_batch, b"num_vis": 3072}
            _add(tar, f"{folder}/batches.meta",
                 overrides.get("batches.meta", pickle.dumps(meta, protocol=2)))
        if fmt == "binary" and "batches.meta.txt" not in skip:
            _add(tar, f"{folder}/batches.meta.txt", ("\n".join(CLASS_NAMES) + "\n").encode())

    def to_images(rows):
        return np.concatenate(rows).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # (N, 32, 32, 3)

    return (to_images(train_rows), np.array(train_labels),
            to_images([test_rows]), np.array(test_labels))


def pickle_calling(module, name, argument):
    """Raw pickle bytes (protocol 0) that call ``module.name(argument)`` when unpickled.

    Used to prove the loader's restricted unpickler refuses such a call: with the plain
    ``pickle.loads`` these bytes would run it. Built by hand so that nothing is imported
    or called while writing them.
    """
    return f"c{module}\n{name}\n(V{argument}\ntR.".encode()


def batch_calling(module, name, argument):
    """A python-format batch dict whose ``b"data"`` entry is a call to ``module.name``."""
    call = pickle_calling(module, name, argument)[:-1]  # drop STOP: the call is a value
    return b"(dp0\nVdata\np1\n" + call + b"s."


def extract_archive(archive, destination):
    """Extract a test-made archive into ``destination``; return its batches folder."""
    with tarfile.open(archive) as tar:
        tar.extractall(destination, filter="data")
    return next(Path(destination).glob("cifar-10-batches-*"))


def _py2_string(payload):
    """A Python 2 ``str`` as protocol 2 writes it (SHORT_BINSTRING or BINSTRING)."""
    if len(payload) < 256:
        return b"U" + bytes([len(payload)]) + payload
    return b"T" + struct.pack("<I", len(payload)) + payload


def _int(number):
    return b"J" + struct.pack("<i", number)  # BININT


def python2_batch_bytes(rows, labels):
    """A batch pickled the way the official archive's Python 2 + NumPy 1 files are.

    Python 3 never writes these opcodes (its bytes go through ``_codecs.encode``), so
    this is how the tests cover the official files' layout: ``numpy.core.multiarray``
    globals and raw Python 2 strings that ``encoding="bytes"`` turns into bytes.
    """
    count = len(rows)
    dtype = (b"cnumpy\ndtype\n" + _py2_string(b"u1") + _int(0) + _int(1) + b"\x87R"
             + b"(" + _int(3) + _py2_string(b"|") + b"NNN" + _int(-1) + _int(-1) + _int(0) + b"tb")
    array = (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + _int(0) + b"\x85"
             + _py2_string(b"b") + b"\x87R"
             + b"(" + _int(1) + _int(count) + _int(3072) + b"\x86" + dtype + b"\x89"
             + _py2_string(np.ascontiguousarray(rows, dtype=np.uint8).tobytes()) + b"tb")
    label_list = b"](" + b"".join(_int(int(label)) for label in labels) + b"e"
    return (b"\x80\x02}(" + _py2_string(b"batch_label") + _py2_string(b"training batch 1 of 5")
            + _py2_string(b"data") + array + _py2_string(b"labels") + label_list + b"u.")
