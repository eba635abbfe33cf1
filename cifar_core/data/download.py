"""Download one file over HTTP(S) atomically, checking its MD5 on the way.

The bytes go to a temporary file next to the target; only a complete download whose
MD5 matches takes the target's name (``storage.atomic_path``). A wrong checksum, a dropped
connection or an HTTP error raises ``DatasetError`` and leaves no file behind, so a
half-downloaded archive can never be mistaken for the dataset.
"""

import hashlib
import urllib.error
import urllib.request
from pathlib import Path

from cifar_core import storage
from cifar_core.data.batches import DatasetError

_CHUNK = 1 << 20  # bytes per read, and the progress granularity
_TIMEOUT_SECONDS = 60  # per connect and per read, not for the whole download


def md5_of(path):
    """Hex MD5 of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(url, md5, target, *, progress=None):
    """Download ``url`` to ``target`` (a Path) if it is not already there with ``md5``.

    ``progress("download", bytes done, bytes total)`` is called per chunk; total is 0
    when the server sends no Content-Length. Returns ``target``.
    """
    if (not isinstance(md5, str) or len(md5) != 32
            or any(c not in "0123456789abcdefABCDEF" for c in md5)):
        raise ValueError(f"md5 must be 32 hex digits, got {md5!r}")
    md5, target = md5.lower(), Path(target)
    if target.is_file() and md5_of(target) == md5:
        return target
    with storage.atomic_path(target) as temporary:
        digest = hashlib.md5()
        with open(temporary, "wb") as file:
            done, total = _stream(url, file, digest, progress)
        if total and done != total:
            raise DatasetError(f"{url}: connection dropped after {done} of {total} bytes; "
                               f"try again")
        if digest.hexdigest() != md5:
            raise DatasetError(
                f"{url}: wrong checksum: MD5 {digest.hexdigest()}, expected {md5} "
                f"({done} bytes received); the download was discarded"
            )
    return target


def _stream(url, file, digest, progress):
    """Copy the response body to ``file``; return ``(bytes received, Content-Length or 0)``."""
    done = total = 0
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response:
            total = int(response.headers.get("Content-Length") or 0)
            if progress:
                progress("download", 0, total)
            while chunk := response.read(_CHUNK):
                file.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress("download", done, total)
    except urllib.error.HTTPError as error:
        raise DatasetError(f"{url}: download failed: HTTP {error.code} {error.reason}") from None
    except Exception as error:  # noqa: BLE001 - URLError, OSError, http.client.IncompleteRead...
        reason = getattr(error, "reason", None) or repr(error)
        raise DatasetError(
            f"{url}: download failed after {done} of {total or 'unknown'} bytes: {reason}"
        ) from None
    return done, total
