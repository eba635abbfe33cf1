"""An untrained copy of any model: the same architecture with fresh random weights.

The Layers page compares a trained network with the one training started from. Rebuilding
by architecture name only works for our own four; ``keras.models.clone_model`` rebuilds
any functional model (designed or imported) layer by layer from its config, so every
layer draws new weights from its own initialiser. The input scaling (the ``rescaling``
layer: a ``Rescaling`` or an adapted ``Normalization``) is data preparation, not
something learnt, so the copy keeps it: both networks then see the same input.
"""

from cifar_core.backend import keras

#: Layers whose weights describe the data, not what the network learnt.
_INPUT_SCALING = (keras.layers.Rescaling, keras.layers.Normalization)


def untrained_copy(model, seed=0):
    """A re-initialised clone of ``model`` (same layers and names), weights drawn with ``seed``.

    Raises ValueError naming the model when it is not a Keras model.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"expected a Keras model, got {type(model).__name__}: {model!r}")
    keras.utils.set_random_seed(int(seed))
    copy = keras.models.clone_model(model)
    for original in model.layers:
        if isinstance(original, _INPUT_SCALING) and original.weights:
            copy.get_layer(original.name).set_weights(original.get_weights())
    return copy
