"""Results computed from one model file, kept on disk until that file changes.

The inspect views that take seconds (peak activations, feature visualisations, the
embedding map, label issues) store their arrays under the cache folder, one file per
model file and whatever else they depend on. A file's name holds a digest of the model
file's path, size and modification time (and an imported model's input scaling) and of
the extra parts, so a retrained model, another scaling or other images make a new name
and stale files are never read. NumPy only, no TensorFlow.
"""

import hashlib
import zlib
from pathlib import Path

import numpy as np

from cifar_core import data, storage
from cifar_core.models import catalog

_IMAGE_KEYS = {}


def images_key(images):
    """Shape and CRC-32 of an image array, remembered per array (30 MB take ~20 ms to hash)."""
    remembered = _IMAGE_KEYS.get(id(images))
    if remembered is None or remembered[0] is not images:
        remembered = (images, f"{images.shape}:{zlib.crc32(np.ascontiguousarray(images)):08x}")
        if len(_IMAGE_KEYS) > 8:
            _IMAGE_KEYS.clear()
        _IMAGE_KEYS[id(images)] = remembered
    return remembered[1]


def cache_file(kind, model_path, *parts):
    """Where ``kind`` results of the model at ``model_path`` (and ``parts``) are stored.

    ``kind`` names the cache's folder (``"top-activations"``); ``parts`` are anything else
    the result depends on, as text (``images_key(images)``, a layer name, a setting).
    """
    if not kind or "/" in kind or kind.startswith("."):
        raise ValueError(f"kind must be a plain folder name, got {kind!r}")
    model_path = Path(model_path).resolve()
    status = model_path.stat()
    scaling = catalog.input_scaling_of(model_path)  # an imported model's override
    key = ":".join([str(model_path), str(status.st_size), str(status.st_mtime_ns),
                    *([f"scaling={scaling}"] if scaling is not None else []), *map(str, parts)])
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    return data.cache_dir() / kind / f"{model_path.stem}-{digest}.npz"


def cached_arrays(kind, model_path, compute, *parts):
    """The arrays stored for these arguments, or ``compute()``'s dict of arrays, saved.

    A missing or damaged file reads as a miss and is recomputed; a read-only cache folder
    only costs recomputation next time.
    """
    path = cache_file(kind, model_path, *parts)
    found = storage.load_arrays(path)
    if found is not None:
        return found
    arrays = compute()
    try:
        storage.save_arrays(path, arrays)
    except OSError:
        pass
    return arrays
