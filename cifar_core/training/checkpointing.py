"""The Keras side of checkpoints: one written at each complete epoch, and a model restored.

``checkpoints`` owns the file and which runs may continue (no TensorFlow); this module
reads the variables out of a model and its optimizer during ``fit`` and puts them back
into a freshly built model before a resumed ``fit``.
"""

import numpy as np

from cifar_core.backend import keras
from cifar_core.training import checkpoints


def model_state(model):
    """The variables a checkpoint keeps of ``model``: its weights (trainable, then batch
    norm's statistics and the like) and any dropout layer's seed state, in a fixed order.

    Not ``model.variables``: that also lists the compiled metrics' counters, which exist
    only once ``fit`` has begun, so the same model would list a different number.
    """
    weights = list(model.weights)
    known = {id(variable) for variable in weights}
    seeds = [variable for variable in model.variables
             if id(variable) not in known and variable.path.endswith("seed_generator_state")]
    return weights + seeds


def optimizer_state(model):
    """The optimizer's variables (built first if ``fit`` has not built them yet):
    ``iterations``, momentum slots, the weight average of ``ema``."""
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    return list(optimizer.variables)


def _pairs(variables):
    pairs = []
    for variable in variables:
        value = variable.value.numpy()  # its value as the epoch ends
        if value.dtype.kind not in "biuf":  # bfloat16 (ml_dtypes) kept as float32
            value = value.astype(np.float32)
        pairs.append((variable.path, value))
    return pairs


class CheckpointRecorder(keras.callbacks.Callback):
    """Writes ``checkpoint/state.npz`` into the run at the end of each complete epoch.

    An epoch cut short by a stop still ends with ``on_epoch_end`` (Keras), but its
    checkpoint would not match any epoch of an uninterrupted run: it is skipped, so the
    previous complete epoch stays the one to resume from.
    """

    def __init__(self, run, segments=()):
        super().__init__()
        self.run, self.segments = run, tuple(segments)
        self.batches = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches = batch + 1

    def on_epoch_end(self, epoch, logs=None):
        steps = self.params.get("steps")
        if steps and self.batches < steps:
            return
        checkpoints.write(self.run.path, epoch=epoch + 1, model=_pairs(model_state(self.model)),
                          optimizer=_pairs(optimizer_state(self.model)),
                          config=self.run.config, segments=self.segments)


def _assign(variables, arrays, part):
    if len(variables) != len(arrays):
        raise ValueError(f"the checkpoint holds {len(arrays)} {part} variables, the rebuilt "
                         f"model has {len(variables)}")
    for variable, array in zip(variables, arrays):
        if tuple(variable.shape) != tuple(array.shape):
            raise ValueError(f"the checkpoint's {part} variable for {variable.path} has shape "
                             f"{tuple(array.shape)}, the rebuilt model's {tuple(variable.shape)}")
    for variable, array in zip(variables, arrays):
        variable.assign(array)  # Keras casts to the variable's dtype


def restore(model, checkpoint):
    """Put ``checkpoint``'s weights and optimizer state into a compiled ``model`` built from
    the same config (ValueError when they do not fit it)."""
    _assign(model_state(model), checkpoint.model, "model")
    _assign(optimizer_state(model), checkpoint.optimizer, "optimizer")
