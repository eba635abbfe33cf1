"""Parse single CIFAR-10 batch files safely, in both official formats.

The python version stores each batch as a pickle, and unpickling is code execution: a
crafted file can call any importable function. ``RestrictedUnpickler`` therefore resolves
only the few globals that real batches contain (NumPy's array reconstruction and the
latin-1 ``_codecs.encode`` that Python 3's protocol 2 uses for bytes) and refuses
everything else with a ``DatasetError`` that names the file and the refused global.

The binary version is plain records of one label byte then 3072 pixel bytes and needs
no unpickling at all. Both parsers return the same thing: ``rows`` uint8 (N, 3072) in
R, G, B plane order and ``labels`` int64 (N,), already validated.
"""

import io
import pickle

import numpy as np

try:  # NumPy 2 moved the array machinery to numpy._core; NumPy 1 only has numpy.core.
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - NumPy 1
    from numpy.core import multiarray as _multiarray

#: The ten official class names, in label order (label 0 is airplane).
CLASS_NAMES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)

#: Bytes per image: 32 x 32 pixels x 3 colour planes.
PIXELS_PER_IMAGE = 32 * 32 * 3
#: Bytes per binary-format record: one label byte then the pixels.
BINARY_RECORD_SIZE = 1 + PIXELS_PER_IMAGE


class DatasetError(Exception):
    """Anything wrong with a CIFAR-10 source; the message names the file and the fault."""


def _latin1_encode(text, encoding="utf-8"):
    """Stand-in for ``_codecs.encode`` that only does what pickled bytes need."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r}")
    return text.encode("latin-1")


# (module, name) -> the object it may resolve to. Nothing else can be named by a pickle.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class _RefusedGlobal(pickle.UnpicklingError):
    """Raised inside the unpickler; turned into a DatasetError naming the file."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can only build dicts, lists, bytes, str, ints and NumPy arrays."""

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise _RefusedGlobal(f"{module}.{name}") from None


def unpickle(payload, filename):
    """Unpickle ``payload`` (bytes) with the restricted unpickler.

    ``encoding="bytes"`` keeps the Python 2 strings of the official files as bytes, so
    dict keys are ``b"data"``, ``b"labels"`` and so on, whichever Python wrote them.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(payload), encoding="bytes").load()
    except _RefusedGlobal as error:
        raise DatasetError(
            f"{filename}: refused to unpickle global {error} "
            "(not something a CIFAR-10 batch contains; the file may be malicious)"
        ) from None
    except Exception as error:  # noqa: BLE001 - untrusted bytes can fail in any way
        raise DatasetError(f"{filename}: not a valid CIFAR-10 pickle ({error})") from None


def _validated(rows, labels, filename):
    """Check a parsed batch's shapes, dtypes and label range; return (rows, labels int64)."""
    if not isinstance(rows, np.ndarray) or rows.dtype != np.uint8:
        kind = rows.dtype if isinstance(rows, np.ndarray) else type(rows).__name__
        raise DatasetError(f"{filename}: image data must be a uint8 array, got {kind}")
    if rows.ndim != 2 or rows.shape[1] != PIXELS_PER_IMAGE or rows.shape[0] == 0:
        raise DatasetError(
            f"{filename}: wrong shape {rows.shape} for image data, expected (rows, 3072)"
        )
    try:
        labels = np.asarray(labels)
    except (ValueError, TypeError) as error:
        raise DatasetError(f"{filename}: labels are not a list of integers ({error})") from None
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DatasetError(f"{filename}: labels must be a list of integers, got {labels.dtype}")
    if len(labels) != len(rows):
        raise DatasetError(
            f"{filename}: {len(labels)} labels for {len(rows)} images; counts must match"
        )
    if labels.min() < 0 or labels.max() >= len(CLASS_NAMES):
        raise DatasetError(
            f"{filename}: labels out of range: found {labels.min()}..{labels.max()}, "
            "expected 0..9"
        )
    return rows, labels.astype(np.int64)


def parse_python_batch(payload, filename):
    """Parse one python-version batch (``data_batch_N``, ``test_batch``) -> (rows, labels)."""
    batch = unpickle(payload, filename)
    if not isinstance(batch, dict):
        raise DatasetError(f"{filename}: expected a dict, got {type(batch).__name__}")
    missing = [key.decode() for key in (b"data", b"labels") if key not in batch]
    if missing:
        raise DatasetError(f"{filename}: batch has no {', '.join(missing)} entry")
    return _validated(batch[b"data"], batch[b"labels"], filename)


def parse_binary_batch(payload, filename):
    """Parse one binary-version batch (``data_batch_N.bin``) -> (rows, labels)."""
    if len(payload) == 0 or len(payload) % BINARY_RECORD_SIZE:
        raise DatasetError(
            f"{filename}: wrong size {len(payload)} bytes, expected a multiple of "
            f"{BINARY_RECORD_SIZE} (one label byte + 3072 pixel bytes per image)"
        )
    records = np.frombuffer(payload, dtype=np.uint8).reshape(-1, BINARY_RECORD_SIZE)  # (N, 3073)
    return _validated(records[:, 1:], records[:, 0], filename)


def _check_class_names(names, filename):
    if tuple(names) != CLASS_NAMES:
        raise DatasetError(
            f"{filename}: class names {list(names)} are not CIFAR-10's {list(CLASS_NAMES)}"
        )
    return CLASS_NAMES


def parse_python_meta(payload, filename):
    """Parse ``batches.meta`` and check it lists the ten official class names."""
    meta = unpickle(payload, filename)
    if not isinstance(meta, dict) or not isinstance(meta.get(b"label_names"), list):
        raise DatasetError(f"{filename}: no label_names list in the metadata")
    try:
        names = [name.decode("utf-8") for name in meta[b"label_names"]]
    except (AttributeError, UnicodeDecodeError):
        raise DatasetError(f"{filename}: label_names must be byte strings") from None
    return _check_class_names(names, filename)


def parse_binary_meta(payload, filename):
    """Parse ``batches.meta.txt`` (one class name per line) and check the names."""
    try:
        lines = payload.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise DatasetError(f"{filename}: class names are not UTF-8 text") from None
    return _check_class_names([line.strip() for line in lines if line.strip()], filename)


def rows_to_images(rows):
    """(N, 3072) rows of R, G, B planes -> contiguous uint8 images (N, 32, 32, 3)."""
    planes = rows.reshape(-1, 3, 32 * 32)  # (N, channel, pixel)
    images = np.empty((len(rows), 32 * 32, 3), dtype=np.uint8)  # (N, pixel, channel)
    for channel in range(3):  # three plane copies: about 2x faster than one strided transpose
        images[:, :, channel] = planes[:, channel, :]
    return images.reshape(-1, 32, 32, 3)  # (N, height, width, channel)
