"""A user's model wrapped into the app's layout, flat, without copying its weights.

Every page expects what our own models are (``saving``'s layout): raw 0-255 pixels in, a
first layer named ``rescaling`` doing the input scaling, probabilities out of a last layer
named ``probabilities``, and every layer in one flat graph (Layers lists them, Grad-CAM
picks a convolution by name). ``wrap`` re-applies the user's layers in a new outer graph:
nested sub-models (a ``Sequential`` block used as a layer) are opened up and their layers
applied one by one, so weights are shared, not copied, and the user's file is untouched.
"""

from cifar_core.backend import keras
from cifar_core.models import input_scaling
from cifar_core.models.contract import IMAGE_SHAPE


def _apply(model, inputs):
    """``model``'s layers applied to ``inputs`` in the caller's graph, sub-models opened."""
    if isinstance(model, keras.Sequential):
        tensor = inputs
        for layer in model.layers:  # Sequential.layers leaves out its InputLayer
            tensor = _apply(layer, tensor) if isinstance(layer, keras.Model) else layer(tensor)
        return tensor

    def operation(op):
        if isinstance(op, keras.Model):
            return lambda *arguments, **keywords: _apply(op, arguments[0])
        return op

    # Functional models: walk the graph node by node, as Functional.call does.
    outputs = model._run_through_graph([inputs], operation_fn=operation)
    return outputs[0] if isinstance(outputs, (list, tuple)) else outputs


def flat_layers(model):
    """Every layer of ``model`` in order, nested sub-models opened (InputLayers left out)."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(flat_layers(layer))
        elif not isinstance(layer, keras.layers.InputLayer):
            found.append(layer)
    return found


def _free_name(layers, name):
    """Rename the layer called ``name`` (if any) so the wrapper can use ``name`` itself."""
    names = {layer.name for layer in layers}
    for layer in layers:
        if layer.name == name:
            suffix = 1
            while f"{name}_original{'' if suffix == 1 else suffix}" in names:
                suffix += 1
            layer.name = f"{name}_original{'' if suffix == 1 else suffix}"


def _unique_names(layers):
    """Give repeated names (a sub-model's layer named like an outer one) a numbered suffix."""
    seen = set()
    for layer in layers:
        if layer.name in seen:
            number = 2
            while f"{layer.name}_{number}" in seen:
                number += 1
            layer.name = f"{layer.name}_{number}"
        seen.add(layer.name)


def wrap(model, scaling, output, statistics=None, *, name=None):
    """The flat functional model pages use, around the loaded user ``model``.

    ``scaling`` is one of ``input_scaling.SCALINGS`` ("0-255" reuses the model's own
    Rescaling/Normalization front layer where it has one); ``output`` is "probabilities"
    (its last layer is renamed ``probabilities``) or "logits" (a softmax ``Activation``
    named ``probabilities`` is appended). ``model``'s layers are renamed in place where
    needed, so load a fresh copy per wrapper.
    """
    if output not in ("probabilities", "logits"):
        raise ValueError(f"output must be 'probabilities' or 'logits', got {output!r}")
    layers = flat_layers(model)
    if not layers:
        raise ValueError(f"model {model.name!r} has no layers to wrap")
    _unique_names(layers)
    own_front = input_scaling.has_own_scaling(layers) and scaling == "0-255"
    if own_front:
        if layers[0].name != "rescaling":
            _free_name(layers, "rescaling")
            layers[0].name = "rescaling"
    else:
        _free_name(layers, "rescaling")
    last = layers[-1]
    if output == "probabilities" and last.name != "probabilities":
        _free_name(layers, "probabilities")
        last.name = "probabilities"
    elif output == "logits":
        _free_name(layers, "probabilities")

    images = keras.Input(IMAGE_SHAPE, name="images")  # raw 0-255 values, float32
    tensor = images if own_front else \
        input_scaling.scaling_layer(scaling, statistics, name="rescaling")(images)
    tensor = _apply(model, tensor)
    if output == "logits":
        tensor = keras.layers.Activation("softmax", name="probabilities", dtype="float32")(tensor)
    return keras.Model(images, tensor, name=name or model.name)
