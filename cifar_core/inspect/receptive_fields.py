"""Receptive fields: which input pixels one output value of a conv or pool layer can see.

Each spatial layer with kernel k, stride s and dilation d widens the field by
(k - 1) * d input steps and multiplies the step between neighbouring outputs by s;
'same' padding shifts where the field starts. Depthwise and separable convolutions count
like any convolution; branches (residual networks) take the widest path. The Layers page
shows the field's size and boxes it on the top-activating images; ``convolution`` uses
the padding rule.
"""

from cifar_core.backend import keras
from cifar_core.models import layer_graph
from cifar_core.models.architectures import CONVOLUTION_TYPES

#: Layer types that keep a spatial grid and so get feature maps and a receptive field.
CONV_TYPES = CONVOLUTION_TYPES
POOL_TYPES = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)


def pair(value):
    """A layer's size setting as (rows, columns): Keras gives 3 or (3, 3) alike."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def effective_kernel(layer, axis=0):
    """A conv layer's kernel size along ``axis`` counting dilation: (k - 1) * d + 1."""
    return (pair(layer.kernel_size)[axis] - 1) * pair(layer.dilation_rate)[axis] + 1


def padding_before(layer, input_size, axis=0):
    """Zero rows (axis 0) or columns (axis 1) TensorFlow adds before a conv layer's input."""
    if layer.padding == "valid":
        return 0
    return same_padding_before(effective_kernel(layer, axis), pair(layer.strides)[axis],
                               input_size)


def same_padding_before(kernel, stride, input_size):
    """Zeros TensorFlow's 'same' padding adds before the input along one axis.

    It pads so the output has ceil(input / stride) positions and puts the odd pixel,
    if any, after the input. ``kernel`` is the effective size, (k - 1) * dilation + 1.
    """
    outputs = -(-input_size // stride)
    return max((outputs - 1) * stride + kernel - input_size, 0) // 2


def _kernel_and_stride(layer):
    """(effective kernel, stride, zeros added before) along rows for a spatial layer."""
    if isinstance(layer, CONV_TYPES):
        return effective_kernel(layer), pair(layer.strides)[0], None
    if isinstance(layer, POOL_TYPES):
        return pair(layer.pool_size)[0], pair(layer.strides or layer.pool_size)[0], None
    if isinstance(layer, keras.layers.ZeroPadding2D):
        return 1, 1, layer.padding[0][0]  # ((top, bottom), (left, right))
    if isinstance(layer, keras.layers.Cropping2D):
        return 1, 1, -layer.cropping[0][0]
    return 1, 1, 0  # element-wise layers (rescaling, batch norm, activations, Add)


def field_geometry(model):
    """(size, jump, start) in input pixels of every spatial layer, by name.

    ``size`` is how many input pixels (along one side) can influence one output value;
    ``jump`` is how far apart in input pixels two neighbouring outputs are; ``start`` is
    the input coordinate of the centre of output 0's field, so output p is centred on
    start + p * jump. Each layer with kernel k, stride s and dilation d grows the field
    by (k - 1) * d * jump_in. Layers that keep the grid (rescaling, batch norm,
    activations) pass it through. The walk follows the graph, not the list of layers:
    where branches join (a residual ``Add``, ``Concatenate``) the field is the largest
    over the paths. Flatten, Dense and global pooling end it (they see the whole image).
    """
    geometry_of = {id(tensor): (1, 1, 0.0) for tensor in layer_graph.flat(model.inputs)}
    geometry = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        layer_inputs = layer_graph.flat(layer_graph.input_of(model, layer))
        inputs = [geometry_of[id(tensor)] for tensor in layer_inputs
                  if id(tensor) in geometry_of]  # a gate from a Dense branch adds no field
        outputs = layer_graph.flat(layer_graph.output_of(model, layer))
        if not inputs or any(len(tensor.shape) != 4 for tensor in outputs):
            continue  # not on a spatial path from the image
        size, jump, start = max(inputs, key=lambda field: (field[0], field[1]))
        kernel, stride, before = _kernel_and_stride(layer)
        if before is None:  # a convolution or pooling: its own padding rule
            before = (same_padding_before(kernel, stride, layer_inputs[0].shape[1])
                      if getattr(layer, "padding", "valid") == "same" else 0)
        start += ((kernel - 1) / 2 - before) * jump
        size += (kernel - 1) * jump
        jump *= stride
        for tensor in outputs:
            geometry_of[id(tensor)] = (size, jump, start)
        geometry[layer.name] = (size, jump, start)
    return geometry


def receptive_fields(model):
    """Receptive field (size, jump) in input pixels of every spatial layer (field_geometry)."""
    return {name: (size, jump) for name, (size, jump, _) in field_geometry(model).items()}


def field_box(geometry, row, column, image_side):
    """(top, left, bottom, right), inclusive, of the input pixels output (row, column) sees."""
    size, jump, start = geometry
    half = (size - 1) / 2
    top, left = (int(round(start + position * jump - half)) for position in (row, column))
    return (max(top, 0), max(left, 0), min(top + size - 1, image_side - 1),
            min(left + size - 1, image_side - 1))
