"""What a ``.keras`` file says about its layers, read without TensorFlow.

A lesson that links to ``layers?model=seed&layer=conv3`` must name a conv layer the seed
model has; checking that must not cost the seconds of a TensorFlow import, so this module
reads the file as what it is: a zip archive whose ``config.json`` lists every layer with
its class and settings. A file that is not such an archive raises ``ModelFileError``, and
the caller says it "cannot check the layer" instead of failing.
"""

import functools
import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cifar_core.models import contract

#: The member of a ``.keras`` archive that describes the model (Keras 3's file format).
CONFIG_MEMBER = "config.json"
#: Our config files are tens of kilobytes; anything far larger is not one of our models (and
#: is not decompressed into memory).
MAX_CONFIG_BYTES = 10 * 1024 * 1024


class ModelFileError(Exception):
    """A model file whose layers cannot be read; the message names the file and the fault."""


#: Convolution-like layer classes: the Layers page offers these (``architectures``' rule).
CONVOLUTION_KINDS = contract.CONVOLUTION_CLASS_NAMES


@dataclass(frozen=True)
class LayerInfo:
    """One layer as the file's config describes it.

    ``kind`` is the Keras class name (``Conv2D``, ``MaxPooling2D``, ...); ``filters``,
    ``kernel_size``, ``strides`` and ``padding`` are set for convolutions, else None.
    """

    name: str
    kind: str
    filters: int | None = None
    kernel_size: tuple[int, int] | None = None
    strides: tuple[int, int] | None = None
    padding: str | None = None
    dilation: tuple[int, int] = (1, 1)

    @property
    def is_conv(self):
        """Whether the Layers page offers this layer (its convolution-like layers)."""
        return self.kind in CONVOLUTION_KINDS


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _pair(value):
    """(2, 2) from 2 or [2, 2] (sizes and strides: at least 1); None for anything else."""
    if _positive_int(value):
        return (value, value)
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(map(_positive_int, value)):
        return tuple(value)
    return None


def _layer_info(entry):
    """A ``LayerInfo`` from one entry of the config's layer list; None if it is malformed."""
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        return None
    settings = entry["config"]
    name, kind = settings.get("name"), entry.get("class_name")
    if not isinstance(name, str) or not isinstance(kind, str):
        return None
    if kind not in CONVOLUTION_KINDS:
        return LayerInfo(name, kind)
    filters = settings.get("filters")  # None for a depthwise layer: it depends on its input
    return LayerInfo(name, kind,
                     filters=filters if isinstance(filters, int) and filters > 0 else None,
                     kernel_size=_pair(settings.get("kernel_size")),
                     strides=_pair(settings.get("strides")),
                     padding=settings.get("padding") if isinstance(settings.get("padding"),
                                                                   str) else None,
                     dilation=_pair(settings.get("dilation_rate", 1)) or (1, 1))


@functools.lru_cache(maxsize=32)
def _cached_layers(path_text, modification_time, size):
    """``read_layers``' work, once per file version (path, modification time and size)."""
    path = Path(path_text)
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                member = archive.getinfo(CONFIG_MEMBER)
            except KeyError:
                raise ModelFileError(f"{path} has no {CONFIG_MEMBER}: not a Keras 3 model "
                                     "file") from None
            if member.file_size > MAX_CONFIG_BYTES:
                raise ModelFileError(f"{path}: its {CONFIG_MEMBER} is {member.file_size:,} "
                                     "bytes, too large for a model description")
            config = json.loads(archive.read(member).decode("utf-8"))
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, ValueError,
            RecursionError) as error:  # RecursionError: JSON nested thousands deep
        # A truncated or tampered archive, a file that is not a zip, config.json not JSON.
        raise ModelFileError(f"{path} is not a readable .keras file: {error}") from None
    inner = config.get("config") if isinstance(config, dict) else None
    entries = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ModelFileError(f"{path}: {CONFIG_MEMBER} lists no layers (not a functional "
                             "Keras model)")
    layers = [_layer_info(entry) for entry in entries]
    if any(layer is None for layer in layers):
        raise ModelFileError(f"{path}: {CONFIG_MEMBER} has a layer without a name or class")
    return tuple(layers)


def read_layers(path):
    """Every layer of the model saved at ``path``, in order, as ``LayerInfo``s.

    Reads only the archive's ``config.json`` (no weights, no TensorFlow); cached until the
    file changes. Raises ``ModelFileError`` naming the file for a missing file, a file
    that is not a ``.keras`` archive, or a config that lists no layers.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as error:
        raise ModelFileError(f"{path} cannot be read: {error.strerror or error}") from None
    return _cached_layers(str(path), stat.st_mtime_ns, stat.st_size)


def conv_layers(path):
    """The Conv2D layers of the model at ``path`` (what the Layers page offers), in order."""
    return [layer for layer in read_layers(path) if layer.is_conv]


def output_size(layer, input_size=contract.IMAGE_SHAPE[0]):
    """Rows (= columns) of a conv layer's output for a square input of ``input_size``.

    TensorFlow's rule: ``ceil(n / stride)`` with "same" padding, ``floor((n - kernel) /
    stride) + 1`` with "valid". The Layers page's convolution by hand offers exactly these
    rows and columns of ``conv1``. None when the config lacks the settings to say.
    """
    if not layer.is_conv or layer.kernel_size is None or layer.strides is None:
        return None
    kernel = (layer.kernel_size[0] - 1) * layer.dilation[0] + 1  # a dilated kernel's span
    stride = layer.strides[0]
    if layer.padding == "same":
        return math.ceil(input_size / stride)
    if layer.padding == "valid":
        return (input_size - kernel) // stride + 1
    return None
