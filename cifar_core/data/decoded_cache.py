"""The decoded-dataset cache: parsed CIFAR-10 arrays as memory-mappable ``.npy`` files.

Parsing the archive takes seconds (gzip, unpickling, reordering pixels); memory-mapping
four ``.npy`` files takes milliseconds, and only the pages actually looked at are read.
An entry lives in ``<cache root>/decoded/<key>/`` where the key is a hash of the source's
identity (resolved path, size and modification time of the archive or of each batch
file), so a changed source gets a new entry. An entry is written in a temporary folder
and renamed into place, so readers see a complete entry or none.

``manifest.json`` records each array's shape, dtype, file size and a CRC-32 (of the
whole file for labels, of 64 spread-out 4 KiB blocks for images: cheap, yet it catches
truncation, a damaged header and most damage inside). An entry failing any check is
deleted and ``read`` returns None, so the caller parses the source again.
"""

import hashlib
import json
import os
import shutil
import time
import zlib
from pathlib import Path

import numpy as np

from cifar_core import storage

#: Bump when the files or manifest change meaning: old entries then stop matching.
CACHE_VERSION = 1
ARRAY_NAMES = ("x_train", "y_train", "x_test", "y_test")
_SAMPLED_BLOCKS = 64  # blocks checksummed per large file
_BLOCK_SIZE = 4096
_STALE_TEMPORARY_SECONDS = 3600  # temporary folders older than this come from crashes


def entry_for(source, files, cache_root):
    """The folder where the decoded arrays of ``source`` are (or will be) cached.

    ``files`` are the files whose contents make up the source (the archive itself, or
    an extracted folder's batch files); their sizes and mtimes go into the key.
    """
    identity = [CACHE_VERSION, str(Path(source).resolve()),
                [[Path(file).name, Path(file).stat().st_size, Path(file).stat().st_mtime_ns]
                 for file in files]]
    key = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:24]
    return Path(cache_root) / "decoded" / key


def _crc(path):
    """CRC-32 of the whole file when small, else of evenly spread sample blocks."""
    size = path.stat().st_size
    crc = 0
    with open(path, "rb") as file:
        if size <= 4 * _SAMPLED_BLOCKS * _BLOCK_SIZE:
            return zlib.crc32(file.read())
        for offset in np.linspace(0, size - _BLOCK_SIZE, _SAMPLED_BLOCKS).astype(int):
            file.seek(int(offset))
            crc = zlib.crc32(file.read(_BLOCK_SIZE), crc)
    return crc


class _Corrupt(Exception):
    """An entry failed a check; carries the reason for debugging."""


def _check_and_map(entry):
    """Memory-map an entry's arrays after checking them against its manifest."""
    try:
        manifest = json.loads((entry / "manifest.json").read_text())
    except (OSError, ValueError) as error:
        raise _Corrupt(f"manifest unreadable: {error}") from None
    if manifest.get("version") != CACHE_VERSION:
        raise _Corrupt(f"version {manifest.get('version')!r}")
    arrays = {}
    for name in ARRAY_NAMES:
        path = entry / f"{name}.npy"
        expected = manifest["arrays"][name]
        try:
            if path.stat().st_size != expected["bytes"] or _crc(path) != expected["crc"]:
                raise _Corrupt(f"{path.name}: size or checksum differs")
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as error:
            raise _Corrupt(f"{path.name}: {error}") from None
        if list(array.shape) != expected["shape"] or str(array.dtype) != expected["dtype"]:
            raise _Corrupt(f"{path.name}: shape {array.shape} {array.dtype}")
        arrays[name] = np.asarray(array)  # a plain read-only ndarray view of the map
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if images.shape[1:] != (32, 32, 3) or len(images) != len(labels):
            raise _Corrupt(f"{split}: {images.shape} images for {labels.shape} labels")
        if len(labels) and (labels.min() < 0 or labels.max() > 9):
            raise _Corrupt(f"{split}: labels out of range")
    return arrays


def _remove(folder):
    """Delete a folder, renaming it first so no reader sees it half-deleted."""
    doomed = folder.with_name(f".trash-{folder.name}-{os.getpid()}-{time.monotonic_ns()}")
    try:
        os.replace(folder, doomed)
    except OSError:
        return
    shutil.rmtree(doomed, ignore_errors=True)


def read(entry):
    """Return the cached arrays (read-only memory maps) or None if absent or corrupt.

    A corrupt entry is deleted here so that the next ``write`` can take its place.
    """
    entry = Path(entry)
    if not entry.is_dir():
        return None
    try:
        return _check_and_map(entry)
    except (_Corrupt, KeyError, TypeError):
        _remove(entry)
        return None


def write(entry, arrays, source, progress=None):
    """Write ``arrays`` (dict of the four arrays) as the entry, atomically.

    Also removes older entries for the same source path and temporary folders left by
    crashed writers. If another process wins the race to the same entry, its entry stays.
    """
    entry = Path(entry)
    manifest = {"version": CACHE_VERSION, "source": str(Path(source).resolve()), "arrays": {}}
    try:
        with storage.atomic_path(entry, directory=True) as temporary:
            for done, name in enumerate(ARRAY_NAMES, start=1):
                path = temporary / f"{name}.npy"
                with open(path, "wb") as file:
                    np.save(file, np.ascontiguousarray(arrays[name]), allow_pickle=False)
                manifest["arrays"][name] = {
                    "shape": list(arrays[name].shape), "dtype": str(arrays[name].dtype),
                    "bytes": path.stat().st_size, "crc": _crc(path),
                }
                if progress:
                    progress("cache", done, len(ARRAY_NAMES))
            (temporary / "manifest.json").write_text(json.dumps(manifest, indent=1))
    except OSError:
        if not entry.is_dir():  # not a lost race to the same entry: a real failure
            raise
    _prune(entry, manifest["source"])


def _prune(kept, source):
    """Remove other entries of the same source and stale temporary folders."""
    now = time.time()
    for folder in kept.parent.iterdir():
        if folder == kept or not folder.is_dir():
            continue
        try:
            if folder.name.startswith((storage.TEMPORARY_PREFIX, ".trash-")):
                if now - folder.stat().st_mtime > _STALE_TEMPORARY_SECONDS:
                    shutil.rmtree(folder, ignore_errors=True)
                continue
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError):
            continue
        if manifest.get("source") == source:
            _remove(folder)
