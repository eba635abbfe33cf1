"""A model as a TensorFlow Lite file, for a phone app (as Teachable Machine users do).

The model converted is the one every page sees: raw 0..255 pixel values in (its own
``rescaling`` layer does the input scaling, an imported model's inferred scaling
included), softmax probabilities over the ten classes out. So a phone app feeds the
camera's pixels as float32 without knowing how the network was trained.
"""

import warnings

import numpy as np

from cifar_core import background
from cifar_core.backend import keras, tf
from cifar_core.models.contract import IMAGE_SHAPE, NUM_CLASSES


def _check_layout(model):
    """ValueError unless ``model`` takes (None, 32, 32, 3) images and gives 10 outputs."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"expected a keras.Model, got {type(model).__name__}")
    if len(model.inputs) != 1 or tuple(model.inputs[0].shape[1:]) != IMAGE_SHAPE:
        raise ValueError(f"model {model.name!r} must take one input of shape {IMAGE_SHAPE}, "
                         f"takes {[tuple(tensor.shape) for tensor in model.inputs]}")
    if len(model.outputs) != 1 or tuple(model.outputs[0].shape[1:]) != (NUM_CLASSES,):
        raise ValueError(f"model {model.name!r} must give one output of {NUM_CLASSES} "
                         f"classes, gives {[tuple(tensor.shape) for tensor in model.outputs]}")


def to_tflite(model):
    """The ``.tflite`` flatbuffer (bytes) of ``model``: float32 weights, no quantisation, so
    the phone's probabilities match the page's. Takes seconds: call it on a button."""
    _check_layout(model)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    return bytes(converter.convert())


def tflite_task(model, name):
    """A ``background.Task`` whose result is ``to_tflite(model)``: the Models page converts
    on a button, in the background, since it takes seconds (``name`` names the thread)."""
    def work(progress):
        progress("converting", 0, 1)
        return to_tflite(model)

    return background.Task(work, 1, f"TensorFlow Lite {name}")


def _interpreter(tflite_bytes, batch):
    with warnings.catch_warnings():
        # tf.lite.Interpreter warns that it moves to the ai_edge_litert package; it works.
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_content=tflite_bytes)
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, [batch, *IMAGE_SHAPE])
    interpreter.allocate_tensors()
    return interpreter


def tflite_probabilities(tflite_bytes, images):
    """Run a ``to_tflite`` file on uint8 (N, 32, 32, 3) images: (N, 10) float32 outputs.

    What a phone app would compute; used to check an export against the Keras model.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE or len(images) == 0:
        raise ValueError(f"images must have shape (N, 32, 32, 3) with N >= 1, "
                         f"got {images.shape}")
    interpreter = _interpreter(bytes(tflite_bytes), len(images))
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"],
                           images.astype(np.float32))
    interpreter.invoke()
    return np.array(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))
