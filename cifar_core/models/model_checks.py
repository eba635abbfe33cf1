"""An untrusted model file inspected before anything loads it (no TensorFlow).

A file someone uploads or names on the command line may be huge, damaged, not a model at
all, or a model that runs code when it loads: a ``Lambda`` layer in a legacy ``.h5`` file
carries marshalled Python bytecode that Keras would execute. ``inspect_file`` reads only
the file's size, its first bytes and its model config (the JSON inside a ``.keras`` zip,
or the ``model_config`` attribute of an HDF5 file) and refuses, with one ``ModelError``
naming the file and the reason, anything that is not a plain image classifier made of
Keras' own layers. Nothing in the file is executed or unpickled here; what passes is then
loaded with ``safe_mode=True`` and checked again as a model (``importing``).
"""

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cifar_core.models.contract import IMAGE_SHAPE, NUM_CLASSES


class ModelError(Exception):
    """A file that is not a model the app can use; the message names the file and why."""


#: Model files larger than this are refused before being read (checked with stat).
MAX_MODEL_BYTES = 200 * 1024 * 1024
#: A .keras archive may not unpack to more than this (a zip bomb is refused unread).
MAX_UNPACKED_BYTES = 2 * MAX_MODEL_BYTES
#: The JSON config of a model: kilobytes for real models, capped so it is never a bomb.
MAX_CONFIG_BYTES = 10 * 1024 * 1024

ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

#: Container classes whose config lists further layers (nested sub-models).
MODEL_CLASSES = {"Sequential", "Functional", "Model"}
#: Keras' own layers an image classifier is made of; anything else is refused unloaded.
KNOWN_LAYER_CLASSES = MODEL_CLASSES | {
    "InputLayer", "Conv2D", "Convolution2D", "DepthwiseConv2D", "SeparableConv2D",
    "SeparableConvolution2D", "Conv2DTranspose", "Dense", "Flatten", "Reshape", "Permute",
    "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D", "GlobalAveragePooling2D",
    "GlobalAvgPool2D", "GlobalMaxPooling2D", "GlobalMaxPool2D", "ZeroPadding2D", "Cropping2D",
    "UpSampling2D", "BatchNormalization", "LayerNormalization", "GroupNormalization",
    "UnitNormalization", "Dropout", "SpatialDropout2D", "GaussianDropout", "GaussianNoise",
    "AlphaDropout", "ActivityRegularization", "Activation", "ReLU", "LeakyReLU", "PReLU",
    "ELU", "Softmax", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
    "Concatenate", "Identity", "Rescaling", "Normalization", "CenterCrop", "Resizing",
    "RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom", "RandomCrop",
    "RandomContrast", "RandomBrightness",
}


@dataclass(frozen=True)
class ModelFileFacts:
    """What the file says before loading: ``format`` is "keras" or "h5"."""

    path: Path
    format: str
    size: int
    architecture: str  # the top-level class: Sequential, Functional
    layer_classes: tuple[str, ...]  # every layer's class, nested ones included, in order


def _refuse(path, reason):
    raise ModelError(f"{Path(path).name}: {reason}")


def file_format(path, *, display_name=None):
    """ "keras" (a zip archive) or "h5" (HDF5) from the first bytes; ModelError otherwise."""
    with open(path, "rb") as file:
        head = file.read(8)
    if head.startswith(ZIP_MAGIC):
        return "keras"
    if head == HDF5_MAGIC:
        return "h5"
    _refuse(display_name or path, "not a Keras model file (neither a .keras archive nor an "
                                  "HDF5 .h5 file)")


def _keras_config(path, name):
    """The JSON config inside a .keras zip, with the archive's sizes checked first."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            if "config.json" not in members:
                _refuse(name, "a zip archive but not a Keras model (it has no config.json)")
            if sum(info.file_size for info in members.values()) > MAX_UNPACKED_BYTES:
                _refuse(name, "the archive unpacks to more than "
                              f"{MAX_UNPACKED_BYTES // 2**20} MB")
            if members["config.json"].file_size > MAX_CONFIG_BYTES:
                _refuse(name, "its config.json is implausibly large for a model")
            if "model.weights.h5" not in members:
                _refuse(name, "a Keras archive without weights (no model.weights.h5)")
            text = archive.read("config.json")
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        _refuse(name, f"the file is damaged or truncated ({error})")
    return _parse(name, text)


def _h5_config(path, name):
    """The ``model_config`` attribute of a legacy Keras HDF5 file (read as text, not run)."""
    import h5py  # Keras needs it for .h5 files anyway; imported only for them.

    try:
        with h5py.File(path, "r") as file:
            if "model_config" not in file.attrs:
                _refuse(name, "an HDF5 file but not a whole Keras model (no model_config: "
                              "weights only, or other data)")
            text = file.attrs["model_config"]
    except OSError as error:
        _refuse(name, f"the file is damaged or truncated ({error})")
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if len(text) > MAX_CONFIG_BYTES:
        _refuse(name, "its model_config is implausibly large for a model")
    return _parse(name, text)


def _parse(name, text):
    try:
        config = json.loads(text)
    except ValueError:
        _refuse(name, "its model config is not valid JSON")
    if not isinstance(config, dict) or "class_name" not in config:
        _refuse(name, "its config does not describe a Keras model")
    return config


def _layers_of(entry):
    """The layer entries listed by a model entry's config (empty for anything else)."""
    config = entry.get("config")
    layers = config.get("layers") if isinstance(config, dict) else None
    return [layer for layer in layers or [] if isinstance(layer, dict)]


def _foreign_module(value):
    """A serialised object anywhere in the config that comes from outside Keras, or None."""
    if isinstance(value, dict):
        module = value.get("module")
        if isinstance(module, str) and module != "keras" and not module.startswith("keras."):
            return f"{value.get('class_name')} from module {module!r}"
        if value.get("class_name") in ("__lambda__", "Lambda"):
            return "a Python lambda"
        for item in value.values():
            found = _foreign_module(item)
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _foreign_module(item)
            if found:
                return found
    return None


def check_config(path, config):
    """Every layer class in ``config`` (nested too), or ModelError for code or unknown ones."""
    if config.get("class_name") not in MODEL_CLASSES:
        _refuse(path, f"it holds a {config.get('class_name')!r}, not a Keras model")
    classes = []
    pending = [config]
    while pending:
        entry = pending.pop(0)
        for layer in _layers_of(entry):
            kind = str(layer.get("class_name"))
            name = (layer.get("config") or {}).get("name", "?") \
                if isinstance(layer.get("config"), dict) else "?"
            if kind == "Lambda":
                _refuse(path, f"layer {name!r} is a Lambda layer, which holds Python code; "
                              "the app never runs code from a model file")
            if kind not in KNOWN_LAYER_CLASSES:
                _refuse(path, f"layer {name!r} is of class {kind!r}, a custom or unsupported "
                              "layer the app does not know (it loads Keras' own layers only)")
            classes.append(kind)
            if kind in MODEL_CLASSES:
                pending.append(layer)
    foreign = _foreign_module(config)
    if foreign:
        _refuse(path, f"its config refers to {foreign}, which the app will not load")
    if not classes:
        _refuse(path, "its config lists no layers")
    return tuple(classes)


def check_size(path, *, display_name=None):
    """The file's size in bytes, or ModelError if missing, empty or over the limit (stat only)."""
    path = Path(path)
    name = display_name or path.name
    if not path.is_file():
        raise ModelError(f"{name}: no model file at {path}")
    size = path.stat().st_size
    if size > MAX_MODEL_BYTES:
        _refuse(name, f"the file is {size / 2**20:.0f} MB, over the "
                      f"{MAX_MODEL_BYTES // 2**20} MB limit for model files")
    if size == 0:
        _refuse(name, "the file is empty")
    return size


def read_config(path, *, display_name=None):
    """(format, config dict) of a model file, by its magic bytes; not checked further."""
    name = display_name or Path(path).name
    kind = file_format(path, display_name=name)
    return kind, (_keras_config(path, name) if kind == "keras" else _h5_config(path, name))


def inspect_file(path, *, display_name=None):
    """``ModelFileFacts`` for a file that may be loaded, or ModelError saying why not.

    Checks, in order: it exists; its size (before reading it); its format by magic bytes;
    its config: Keras' own layers only, no Lambda, nothing from other modules. Messages
    name ``display_name`` (an upload's own name) or the file's name.
    """
    name = display_name or Path(path).name
    size = check_size(path, display_name=name)
    kind, config = read_config(path, display_name=name)
    classes = check_config(name, config)
    return ModelFileFacts(Path(path), kind, size, str(config.get("class_name")), classes)


def check_classifier(model, path):
    """ModelError unless the loaded ``model`` is a CIFAR-10 classifier: one (32, 32, 3) input
    (or (None, None, 3)) and one output of 10 classes."""
    if len(model.inputs) != 1:
        _refuse(path, f"the model has {len(model.inputs)} inputs; the app needs one image input")
    if len(model.outputs) != 1:
        _refuse(path, f"the model has {len(model.outputs)} outputs; the app needs one")
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or shape[2] != IMAGE_SHAPE[2] or any(
            size not in (None, wanted) for size, wanted in zip(shape[:2], IMAGE_SHAPE[:2])):
        _refuse(path, f"its input shape is {shape}; the app needs CIFAR-10 images "
                      f"{IMAGE_SHAPE} (or (None, None, 3))")
    output = tuple(model.outputs[0].shape[1:])
    if output != (NUM_CLASSES,):
        _refuse(path, f"its output shape is {output}; the app needs {NUM_CLASSES} classes "
                      "in CIFAR-10's order")
