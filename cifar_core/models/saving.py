"""Our models as ``.keras`` files: save atomically, load safely, and the JSON model card.

Loading uses Keras' ``safe_mode`` and accepts any model with the app's layout (our four
architectures, designed networks, imported models once wrapped): one float32 input of
shape (32, 32, 3) holding raw 0-255 values, a first layer named ``rescaling`` (a
``Rescaling`` or ``Normalization``), a last layer named ``probabilities`` giving 10
probabilities, and no nested sub-models. A foreign or tampered file is refused with a
``ModelError`` naming the file, never run. Files made elsewhere go through
``importing`` instead, which checks them first and wraps them into this layout.
"""

import datetime
import json
import zipfile
from pathlib import Path

from cifar_core import storage
from cifar_core.backend import keras
from cifar_core.models.architectures import ARCHITECTURES
from cifar_core.models.contract import IMAGE_SHAPE, NUM_CLASSES
from cifar_core.models.model_checks import ModelError  # one error type for every model file


def inference_copy(model):
    """A float32, uncompiled copy of ``model`` with the same weights.

    Saving this instead of the training model leaves out the optimizer state (which would
    double or triple the file) and the mixed-precision policy (pages predict in float32).
    Our four architectures are rebuilt by name; any other model (a designed network) is
    cloned layer by layer with a float32 policy, or returned as it is when already float32.
    """
    if model.name in ARCHITECTURES:
        copy = ARCHITECTURES[model.name](dtype="float32")
        copy.set_weights(model.get_weights())
        return copy
    if all(layer.dtype_policy.name == "float32" for layer in model.layers):
        return model

    def float32_layer(layer):
        return type(layer).from_config({**layer.get_config(), "dtype": "float32"})

    copy = keras.models.clone_model(model, clone_function=float32_layer)
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
    """Load a model of the app's layout from a ``.keras`` file with ``safe_mode=True``.

    Raises ModelError when the file is missing, is not a Keras archive, or holds a model
    without the layout (``check_layout``).
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
    check_layout(model, path)
    return model


def layout_problem(model):
    """Why ``model`` lacks the app's layout (see the module docstring), or None."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return f"it has {len(model.inputs)} inputs and {len(model.outputs)} outputs, not 1 and 1"
    if tuple(model.input_shape[1:]) != IMAGE_SHAPE:
        return f"its input shape is {tuple(model.input_shape[1:])}, not {IMAGE_SHAPE}"
    if tuple(model.output_shape[1:]) != (NUM_CLASSES,):
        return f"its output shape is {tuple(model.output_shape[1:])}, not ({NUM_CLASSES},)"
    body = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not body or body[0].name != "rescaling" or not isinstance(
            body[0], (keras.layers.Rescaling, keras.layers.Normalization)):
        return "its first layer is not a Rescaling or Normalization named 'rescaling'"
    if body[-1].name != "probabilities":
        return "its last layer is not named 'probabilities'"
    nested = [layer.name for layer in body if isinstance(layer, keras.Model)]
    if nested:
        return f"it nests sub-models ({', '.join(nested)})"
    return None


def check_layout(model, path):
    """ModelError naming ``path`` and the reason unless ``model`` has the app's layout."""
    problem = layout_problem(model)
    if problem is not None:
        raise ModelError(f"{path} holds model {model.name!r} without the app's layout: {problem}"
                         " (import files made elsewhere with `python -m cifar_core import`)")


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
