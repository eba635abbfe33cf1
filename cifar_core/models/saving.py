"""Our models as ``.keras`` files: save atomically, load safely, and the JSON model card.

Loading uses Keras' ``safe_mode`` and accepts only our architectures with the contract's
input and output (``contract``), so a foreign or tampered file is refused with a
``ModelError`` naming the file, never run.
"""

import datetime
import json
import zipfile
from pathlib import Path

from cifar_core import storage
from cifar_core.backend import keras
from cifar_core.models.architectures import ARCHITECTURES
from cifar_core.models.contract import IMAGE_SHAPE, NUM_CLASSES


class ModelError(Exception):
    """A file that is not a model, or a model that is not one of our architectures."""


def inference_copy(model):
    """A float32, uncompiled copy of one of our models with the same weights.

    Saving this instead of the training model leaves out the optimizer state (which would
    double or triple the file) and the mixed-precision policy (pages predict in float32).
    """
    if model.name not in ARCHITECTURES:
        return model
    copy = ARCHITECTURES[model.name](dtype="float32")
    copy.set_weights(model.get_weights())
    return copy


def save_model(model, path):
    """Write ``model`` (as ``inference_copy``) to ``path`` (.keras) atomically."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"model path must end in .keras: {path}")
    model = inference_copy(model)
    with storage.atomic_path(path) as temporary:
        model.save(temporary)
    return path


def load_model(path):
    """Load one of our models from a ``.keras`` file with ``safe_mode=True``.

    Raises ModelError when the file is missing, is not a Keras archive, or holds a model
    that is not one of ``ARCHITECTURES`` with the contract's input and output.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"no model file at {path}")
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise ModelError(f"{path} is not a .keras model file")
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for corrupt or foreign files.
        raise ModelError(f"could not load {path}: {error}") from error
    _check_ours(model, path)
    return model


def _check_ours(model, path):
    """ModelError unless ``model`` has our name, input shape, and probabilities output."""
    if model.name not in ARCHITECTURES:
        raise ModelError(f"{path} holds model {model.name!r}, not one of {sorted(ARCHITECTURES)}")
    names = {layer.name for layer in model.layers}
    if tuple(model.input_shape[1:]) != IMAGE_SHAPE or "rescaling" not in names \
            or model.layers[-1].name != "probabilities" \
            or tuple(model.output_shape[1:]) != (NUM_CLASSES,):
        raise ModelError(f"{path} holds a {model.name!r} model without our input/output layout")


def write_model_card(model_path, *, recipe, epochs, test_accuracy, architecture, parameters,
                     date=None):
    """Write the JSON card ``NAME.json`` beside ``NAME.keras`` that ``catalog`` reads.

    Fields: architecture, recipe (the command that trained it), epochs, test_accuracy
    (a 0-1 float), date (ISO, UTC) and parameters (count of weights).
    """
    card = {
        "architecture": architecture,
        "recipe": recipe,
        "epochs": int(epochs),
        "test_accuracy": None if test_accuracy is None else round(float(test_accuracy), 4),
        "date": date or datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "parameters": int(parameters),
    }
    card_path = Path(model_path).with_suffix(".json")
    storage.write_atomic(card_path, json.dumps(card, indent=2) + "\n")
    return card_path
