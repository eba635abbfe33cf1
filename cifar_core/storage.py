"""How the app writes files: atomically, so a crash or a full disk never leaves half a file.

Everything that writes (run folders, model files and cards, downloads, the decoded
dataset, the evaluation and top-activation caches) goes through ``atomic_path`` or
``write_atomic``: the data goes to a temporary sibling, is flushed to disk, and takes the
real name in one rename. ``save_arrays``/``load_arrays`` are the checked ``.npz`` caches:
a file saved for another key, or damaged, reads as a miss; ``read_json_object`` reads the
JSON files (cards, run configs and statuses) just as forgivingly. NumPy only, no TensorFlow.
"""

import contextlib
import io
import json
import os
import secrets
import shutil
import zipfile
import zlib
from pathlib import Path

import numpy as np

#: The project folder (holding app.py): default home of ``models/`` and ``runs/``.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Names of temporary files and folders start with this; cleaners may remove old ones.
TEMPORARY_PREFIX = ".tmp-"
#: What reading a missing, truncated or tampered ``.npz`` file can raise.
NPZ_READ_ERRORS = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error)
#: The entry of a cache file that says what its arrays were computed from.
KEY_FIELD = "cache_key"


def _fsync_tree(path):
    """Flush ``path`` (a file, or every file in a folder) to disk before it is renamed."""
    files = [path] if path.is_file() else [item for item in path.rglob("*") if item.is_file()]
    for file in files:
        handle = os.open(file, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path, *, directory=False):
    """A temporary sibling of ``path`` for the block to write (a folder if ``directory``).

    When the block ends normally the temporary is flushed and renamed onto ``path`` in
    one step; when it raises (a full disk, a failed check) the temporary is removed and
    ``path`` is untouched. The temporary keeps ``path``'s name at its end, so suffixes
    that writers check (``.keras``) still hold. Renaming a folder onto an existing,
    non-empty folder raises OSError (the caller decides whether that lost race matters).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{TEMPORARY_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-"
                               f"{path.name}")
    if directory:
        temporary.mkdir()
    try:
        yield temporary
        _fsync_tree(temporary)
        os.replace(temporary, path)
    finally:
        if temporary.exists() or temporary.is_symlink():
            _remove(temporary)


def write_atomic(path, data):
    """Write bytes or text to ``path`` through ``atomic_path``."""
    payload = data.encode() if isinstance(data, str) else data
    with atomic_path(path) as temporary:
        temporary.write_bytes(payload)


def save_arrays(path, arrays, *, key=""):
    """Write named NumPy arrays as one ``.npz`` file, atomically, tagged with ``key``.

    ``key`` says what the arrays were computed from (a model file's size and time, the
    dataset); ``load_arrays`` with another key treats the file as stale.
    """
    if KEY_FIELD in arrays:
        raise ValueError(f"{KEY_FIELD!r} is reserved for the cache key; rename that array")
    buffer = io.BytesIO()
    np.savez(buffer, **{KEY_FIELD: np.array(key)}, **arrays)
    write_atomic(path, buffer.getvalue())


def load_arrays(path, *, key=""):
    """The arrays ``save_arrays`` stored at ``path`` under ``key``, or None.

    None means recompute: the file is missing, truncated, tampered with (nothing pickled
    is ever loaded), or was saved for another key.
    """
    try:
        stored = np.load(path, allow_pickle=False)
    except NPZ_READ_ERRORS:
        return None
    if not isinstance(stored, np.lib.npyio.NpzFile):  # a lone .npy array in its place
        return None
    try:
        with stored:
            if KEY_FIELD not in stored.files or str(stored[KEY_FIELD]) != key:
                return None
            return {name: stored[name] for name in stored.files if name != KEY_FIELD}
    except NPZ_READ_ERRORS:
        return None


def read_json_object(path):
    """The JSON object (a dict) in ``path``, or None when it is missing, unreadable or not one.

    Cards and run files are read while another thread or process may be writing them, and
    users copy files in by hand: a reader treats any of that as "no file", never a crash.
    """
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
