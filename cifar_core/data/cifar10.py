"""Find, verify, download, parse and cache CIFAR-10 (NumPy only, no TensorFlow).

``load_cifar10()`` looks for the dataset in this order and uses the first it finds:
1. the ``path`` argument, 2. ``$CIFAR10_PATH``, 3. Keras's caches (``$KERAS_HOME`` or
``~/.keras``, ``datasets/...``), 4. our cache (``cache_dir()``), 5. a download of the
official archive into our cache. A source is a ``.tar.gz`` (python or binary version) or
an extracted ``cifar-10-batches-py`` / ``cifar-10-batches-bin`` folder.

The first load of a source parses it (restricted unpickler, see ``cifar_core.batches``)
and writes the decoded arrays as ``.npy`` files to ``cache_dir()/decoded/<key>/``, where
the key comes from the source's path, size and modification time. Later loads
memory-map those files, which takes milliseconds instead of seconds. A cache entry that
fails its checks (sizes, shapes, sampled CRC) is rebuilt.

Progress callbacks are ``progress(stage, done, total)`` with stage ``"download"``
(bytes; total 0 when the server does not say), ``"parse"`` (batches) or ``"cache"``
(decoded files written).
"""

import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cifar_core.data import decoded_cache, sources
from cifar_core.data.batches import CLASS_NAMES, DatasetError
from cifar_core.data.download import fetch

__all__ = [
    "CLASS_NAMES", "DatasetError", "Cifar10", "OFFICIAL_URL", "OFFICIAL_MD5",
    "load_cifar10", "find_cifar10", "download_cifar10", "cache_dir", "progress_printer",
]

OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
OFFICIAL_MD5 = "c58f30108f718f92721af3b95e74349a"
#: File name of the python-version archive, as downloaded and as looked for in caches.
ARCHIVE_NAME = "cifar-10-python.tar.gz"


@dataclass(frozen=True, eq=False)
class Cifar10:
    """The dataset: uint8 images (N, 32, 32, 3) and int64 labels (N,), all read-only."""

    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    class_names: tuple = CLASS_NAMES
    source: str = ""

    def split(self, name):
        """Return ``(images, labels)`` of the "train" or "test" split."""
        if name == "train":
            return self.x_train, self.y_train
        if name == "test":
            return self.x_test, self.y_test
        raise ValueError(f"split must be 'train' or 'test', got {name!r}")


def cache_dir():
    """Our cache folder: ``$CIFAR10_CACHE_DIR`` or ``~/.cache/cifar10-explorer``."""
    configured = os.environ.get("CIFAR10_CACHE_DIR")
    return (Path(configured).expanduser() if configured
            else Path.home() / ".cache" / "cifar10-explorer")


def progress_printer(stream=None):
    """A ``progress(stage, done, total)`` callback that redraws one line, for the CLI.

    Downloads show megabytes, parsing shows batches; the line ends when a stage is done.
    """
    def progress(stage, done, total):
        out = stream or sys.stderr
        if stage == "download":
            amount = f"{done / 1e6:.1f}" + (f" of {total / 1e6:.1f} MB" if total else " MB")
        else:
            amount = f"{done} of {total}"
        out.write(f"\rCIFAR-10 {stage}: {amount}" + ("\n" if total and done >= total else ""))
        out.flush()

    return progress


def _cache_root(override):
    return Path(override).expanduser() if override is not None else cache_dir()


def _implicit_candidates(cache_root):
    """Places a dataset may already sit without anyone saying so, in search order."""
    keras_home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
    keras_datasets = keras_home / "datasets"
    return [
        keras_datasets / "cifar-10-batches-py-target" / "cifar-10-batches-py",
        keras_datasets / "cifar-10-batches-py",
        keras_datasets / "cifar-10-batches-py-target_archive",  # Keras 3's download
        keras_datasets / "cifar-10-batches-py.tar.gz",  # Keras 2's download
        keras_datasets / ARCHIVE_NAME,
        cache_root / ARCHIVE_NAME,
        cache_root / "cifar-10-binary.tar.gz",
        cache_root / "cifar-10-batches-py",
        cache_root / "cifar-10-batches-bin",
    ]


def _looks_complete(path):
    """A file, or a folder holding batch files (directly or in a cifar-10-batches-* folder)."""
    if path.is_file():
        return True
    return path.is_dir() and sources.folder_layout(path, quiet=True) is not None


def _search(path, cache_root):
    """Return ``(source or None, places looked)``; an explicit path must exist."""
    for explicit, where in ((path, "path argument"),
                            (os.environ.get("CIFAR10_PATH") or None, "CIFAR10_PATH")):
        if explicit is not None:
            explicit = Path(explicit).expanduser()
            if not explicit.exists():
                raise DatasetError(f"{explicit}: does not exist (given as {where})")
            return explicit, [explicit]
    candidates = _implicit_candidates(cache_root)
    for candidate in candidates:
        if _looks_complete(candidate):
            return candidate, candidates
    return None, candidates


def find_cifar10(path=None, *, cache_dir=None):
    """The source ``load_cifar10`` would use, without loading or downloading; None if none.

    Raises DatasetError when ``path`` or ``$CIFAR10_PATH`` names something missing.
    """
    return _search(path, _cache_root(cache_dir))[0]


#: Default of download_cifar10's url and md5: the official values as they are at call time.
_OFFICIAL = object()


def download_cifar10(url=_OFFICIAL, md5=_OFFICIAL, *, cache_dir=None, progress=None):
    """Download the archive at ``url`` into our cache, verify its MD5 and return its path.

    ``url`` and ``md5`` default to OFFICIAL_URL and OFFICIAL_MD5 as they are at call time
    (so a test or a mirror can set them once for the app's Download button too).

    Only a complete download with the right MD5 is moved into place, so a failure
    (wrong checksum, dropped connection) leaves nothing behind. A file already there
    with the right MD5 is reused.
    """
    url = OFFICIAL_URL if url is _OFFICIAL else url
    md5 = OFFICIAL_MD5 if md5 is _OFFICIAL else md5
    name = url.rstrip("/").rsplit("/", 1)[-1]
    file_name = name if name.endswith((".tar.gz", ".tgz")) else ARCHIVE_NAME
    return fetch(url, md5, _cache_root(cache_dir) / file_name, progress=progress)


def load_cifar10(path=None, *, progress=None, cache_dir=None, download=True,
                 expected_counts=(50000, 10000)):
    """Find (or download), verify and load CIFAR-10; see the module docstring for the order.

    ``expected_counts`` is (training images, test images), or None to accept any counts
    (tiny test archives). Returns a ``Cifar10`` whose arrays are read-only.
    """
    if expected_counts is not None and (
            len(expected_counts) != 2 or any(int(n) <= 0 for n in expected_counts)):
        raise ValueError(f"expected_counts must be two positive counts or None, "
                         f"got {expected_counts!r}")
    cache_root = _cache_root(cache_dir)
    source, searched = _search(path, cache_root)
    if source is None:
        if not download:
            places = "\n".join(f"  - {place}" for place in searched)
            raise DatasetError(
                f"CIFAR-10 not found. Looked in:\n{places}\nSet CIFAR10_PATH to the "
                f"archive or folder, put {ARCHIVE_NAME} in {cache_root}, or allow the download."
            )
        source = download_cifar10(cache_dir=cache_root, progress=progress)
    entry = decoded_cache.entry_for(source, sources.source_files(source), cache_root)
    arrays = decoded_cache.read(entry)
    if arrays is None:
        arrays = sources.parse_source(source, progress=progress, expected_counts=expected_counts)
        try:
            decoded_cache.write(entry, arrays, source, progress=progress)
            arrays = decoded_cache.read(entry) or arrays
        except OSError as error:
            warnings.warn(f"{entry}: could not write the decoded cache ({error}); "
                          "the next start will parse the archive again", stacklevel=2)
    sources.check_counts(arrays, expected_counts, source)
    for array in arrays.values():
        array.flags.writeable = False
    return Cifar10(**arrays, class_names=CLASS_NAMES, source=str(source))
