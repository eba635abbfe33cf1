"""A model file uploaded on the Models page, saved to disk for the importer.

The browser sends the file to the server's memory; this module writes it to a private
temporary folder under the user's own file name (so an error message names the file the
user chose, not a temporary name), refusing a file over ``MAX_MODEL_BYTES`` before
reading it all. ``import_tasks`` then imports it in the background. No TensorFlow here.
"""

import re
import shutil
import tempfile
from pathlib import Path

from cifar_core.models.model_checks import MAX_MODEL_BYTES  # also config.toml's maxUploadSize

#: Model file types the uploader offers: Keras 3 archives and legacy Keras 2 HDF5 files.
UPLOAD_TYPES = ("keras", "h5")
#: Bytes copied at a time from the upload to disk.
_CHUNK = 4 * 1024 * 1024


class UploadError(ValueError):
    """An upload refused before import; the message names the file and the reason."""


def safe_file_name(name):
    """The last part of ``name`` with only letters, digits, ``.``, ``-`` and ``_`` kept:
    an uploaded name cannot reach outside the folder it is saved in."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(str(name).replace("\\", "/")).name)
    base = base.lstrip(".") or "model"
    return base[:120]


def save_upload(stream, name, size, directory=None):
    """Copy an uploaded file (a binary ``stream`` of ``size`` bytes) to a new private folder.

    Returns the saved path, named after ``name`` (made safe). Raises UploadError when the
    type is not one of ``UPLOAD_TYPES``, the file is empty, or it is larger than
    ``MAX_MODEL_BYTES`` (checked from ``size`` and again while copying, before it is all
    read). ``directory`` is where the private folder is made (the system's temp folder).
    """
    file_name = safe_file_name(name)
    suffix = Path(file_name).suffix.lower().lstrip(".")
    if suffix not in UPLOAD_TYPES:
        raise UploadError(f"{name}: not a model file type this app reads "
                          f"({', '.join('.' + kind for kind in UPLOAD_TYPES)}).")
    if size is None or size < 0:
        raise ValueError(f"size must be a byte count, got {size!r}")
    too_big = UploadError(f"{name}: the file is larger than the "
                          f"{MAX_MODEL_BYTES / 2**20:g} MB limit for model files.")
    if size > MAX_MODEL_BYTES:
        raise too_big
    if size == 0:
        raise UploadError(f"{name}: the file is empty (0 bytes).")
    folder = Path(tempfile.mkdtemp(prefix="model-upload-", dir=directory))
    path = folder / file_name
    try:
        written = 0
        with open(path, "wb") as target:
            while chunk := stream.read(_CHUNK):
                written += len(chunk)
                if written > MAX_MODEL_BYTES:
                    raise too_big
                target.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path


def discard_upload(path):
    """Remove the private folder ``save_upload`` made for ``path`` (nothing else)."""
    folder = Path(path).parent
    if folder.name.startswith("model-upload-"):
        shutil.rmtree(folder, ignore_errors=True)

