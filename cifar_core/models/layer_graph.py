"""Where a layer sits in one model's graph: its input and output tensors there.

``layer.output`` is the output of the layer's *first* call. A layer called in two graphs
has two: an imported model's layers are re-applied by ``wrapping.wrap`` into the app's
layout with their weights shared, and their first call belongs to the user's own model,
not to the one the pages get, so ``keras.Model(model.input, layer.output)`` would be "not
connected". These helpers pick the call that belongs to ``model`` (for our own models,
whose layers are called once, they give exactly ``layer.input`` and ``layer.output``).
"""

from cifar_core.backend import keras


def find_layer(model, layer):
    """``layer`` itself, or the layer of ``model`` named ``layer``: a ValueError naming the
    model and the name when there is none."""
    if isinstance(layer, str):
        try:
            return model.get_layer(layer)
        except ValueError:
            raise ValueError(f"model {model.name!r} has no layer named {layer!r}") from None
    return layer


def node(model, layer):
    """The call (Keras ``Node``) of ``layer`` (a layer or its name) inside ``model``."""
    layer = find_layer(model, layer)
    calls = layer._inbound_nodes
    in_model = getattr(model, "_nodes", None)  # keys f"{id(layer)}_ib-{call index}"
    if len(calls) == 1 or in_model is None:
        return calls[0]
    for index, call in enumerate(calls):
        if f"{id(layer)}_ib-{index}" in in_model:
            return call
    raise ValueError(f"layer {layer.name!r} is not called in model {model.name!r}")


def _single(tensors):
    """One tensor bare, several as a list (as ``layer.input`` and ``layer.output`` give)."""
    tensors = list(tensors)
    return tensors[0] if len(tensors) == 1 else tensors


def output_of(model, layer):
    """The output tensor of ``layer`` (a layer or its name) in ``model``'s graph."""
    return _single(node(model, layer).output_tensors)


def input_of(model, layer):
    """The input tensor(s) of ``layer`` (a layer or its name) in ``model``'s graph."""
    return _single(node(model, layer).input_tensors)


def flat(tensors):
    """A tensor or a list of them as a list."""
    return list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]


def consumers(model):
    """id(tensor) -> the layers of ``model`` that take that tensor as an input, in order."""
    found = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        for tensor in flat(input_of(model, layer)):
            found.setdefault(id(tensor), []).append(layer)
    return found
