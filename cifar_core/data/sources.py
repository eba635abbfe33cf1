"""Read a CIFAR-10 source, an archive or an extracted folder in either format, into arrays.

The python version (``cifar-10-batches-py/``: pickled ``data_batch_1..5``, ``test_batch``,
``batches.meta``) and the binary version (``cifar-10-batches-bin/``: ``*.bin`` records,
``batches.meta.txt``) are both read by member name in one pass over the archive, never
extracted to disk. Each batch is parsed and validated by ``cifar_core.batches``; this
module checks that every member is there exactly once, in one format, and assembles the
four arrays: uint8 images (N, 32, 32, 3) and int64 labels (N,).
"""

import gzip
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cifar_core.data.batches import (
    DatasetError,
    parse_binary_batch,
    parse_binary_meta,
    parse_python_batch,
    parse_python_meta,
    rows_to_images,
)

#: Largest batch file we read into memory. Real batches are 31-45 MB; anything far
#: bigger is a damaged or hostile file (e.g. a gzip bomb), refused before reading it.
MAX_BATCH_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class _Layout:
    """The member names of one official format."""

    folder: str
    train: tuple
    test: str
    meta: str
    parse_batch: object
    parse_meta: object

    @property
    def members(self):
        return (*self.train, self.test, self.meta)


_LAYOUTS = (
    _Layout("cifar-10-batches-py", tuple(f"data_batch_{n}" for n in range(1, 6)),
            "test_batch", "batches.meta", parse_python_batch, parse_python_meta),
    _Layout("cifar-10-batches-bin", tuple(f"data_batch_{n}.bin" for n in range(1, 6)),
            "test_batch.bin", "batches.meta.txt", parse_binary_batch, parse_binary_meta),
)


def folder_layout(folder, quiet=False):
    """Return ``(layout, batches folder)`` for an extracted folder (or one level above)."""
    for layout in _LAYOUTS:
        for candidate in (folder, folder / layout.folder):
            if (candidate / layout.test).is_file() or (candidate / layout.train[0]).is_file():
                return layout, candidate
    if quiet:
        return None
    raise DatasetError(
        f"{folder}: no CIFAR-10 batch files (expected data_batch_1..5 and test_batch, "
        "or the .bin versions, in it or in a cifar-10-batches-py subfolder)"
    )


def source_files(source):
    """The files whose contents make up a source: the archive, or the batch files."""
    if not source.is_dir():
        return [source]
    layout, batches = folder_layout(source)
    return [batches / name for name in layout.members if (batches / name).is_file()]


def _check_size(size, label):
    if size > MAX_BATCH_BYTES:
        raise DatasetError(
            f"{label}: {size:,} bytes, far larger than any CIFAR-10 batch; refused"
        )


def _folder_members(folder):
    """Yield ``(layout, member name, label for messages, payload)`` from an extracted folder."""
    layout, batches = folder_layout(folder)
    for name in layout.members:
        file = batches / name
        if not file.is_file():
            raise DatasetError(f"{file}: missing (the folder must hold "
                               f"{', '.join(layout.members)})")
        _check_size(file.stat().st_size, file)
        try:
            payload = file.read_bytes()
        except OSError as error:
            raise DatasetError(f"{file}: cannot be read ({error.strerror})") from None
        yield layout, name, str(file), payload


def _archive_members(archive):
    """Yield ``(layout, member name, label, payload)`` from a tar archive, in one pass.

    Members are read by name as the stream passes them, never extracted to disk, so a
    hostile member name cannot write anywhere. Unknown members are skipped. The stream
    is read to its end, where gzip checks its CRC and length: a truncated or damaged
    archive fails even when the damage lies after the last member we need.
    """
    by_folder = {layout.folder: layout for layout in _LAYOUTS}
    try:
        with _open_decompressed(archive) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                folder, _, name = member.name.removeprefix("./").rpartition("/")
                layout = by_folder.get(folder)
                if layout is None or name not in layout.members:
                    continue
                label = f"{archive} (member {member.name})"
                if not member.isfile():
                    raise DatasetError(f"{label}: not a regular file")
                _check_size(member.size, label)
                yield layout, name, label, tar.extractfile(member).read()
            while stream.read(1 << 20):
                pass
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise DatasetError(
            f"{archive}: truncated or corrupt archive ({error}); download it again"
        ) from None


def _open_decompressed(archive):
    """The archive's tar stream: gunzipped if it starts with gzip's magic bytes."""
    with open(archive, "rb") as file:
        magic = file.read(2)
    return gzip.open(archive, "rb") if magic == b"\x1f\x8b" else open(archive, "rb")


def parse_source(source, *, progress=None, expected_counts=(50000, 10000)):
    """Parse a source (archive or folder) into a dict of the four arrays, validated."""
    source = Path(source)
    members = _folder_members(source) if source.is_dir() else _archive_members(source)
    parsed, layout_used, class_names = {}, None, None
    batch_count = 6  # five training batches and one test batch
    if progress:
        progress("parse", 0, batch_count)
    for layout, name, label, payload in members:
        if layout_used not in (None, layout):
            raise DatasetError(f"{label}: mixes the python and binary formats")
        if name in parsed or (name == layout.meta and class_names is not None):
            raise DatasetError(f"{label}: appears twice")
        layout_used = layout
        if name == layout.meta:
            class_names = layout.parse_meta(payload, label)
            continue
        rows, labels = layout.parse_batch(payload, label)
        parsed[name] = rows_to_images(rows), labels  # reorder now so the rows can be freed
        if progress:
            progress("parse", len(parsed), batch_count)
    if layout_used is None:
        raise DatasetError(
            f"{source}: no CIFAR-10 batches found (expected cifar-10-batches-py/ or "
            "cifar-10-batches-bin/ members)"
        )
    missing = [name for name in layout_used.members
               if name not in parsed and not (name == layout_used.meta and class_names)]
    if missing:
        raise DatasetError(f"{source}: missing {', '.join(missing)}")
    arrays = {
        "x_train": np.concatenate([parsed[name][0] for name in layout_used.train]),
        "y_train": np.concatenate([parsed[name][1] for name in layout_used.train]),
        "x_test": parsed[layout_used.test][0],
        "y_test": parsed[layout_used.test][1],
    }
    check_counts(arrays, expected_counts, source)
    return arrays


def check_counts(arrays, expected_counts, source):
    """Raise DatasetError unless the arrays hold ``expected_counts`` (None: any counts)."""
    if expected_counts is None:
        return
    counts = (len(arrays["y_train"]), len(arrays["y_test"]))
    if counts != tuple(expected_counts):
        raise DatasetError(
            f"{source}: {counts[0]} training and {counts[1]} test images, expected "
            f"{expected_counts[0]} and {expected_counts[1]}"
        )
