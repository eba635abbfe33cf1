"""The weights of any convolution-like layer: one filter's kernel, and filters as pictures.

Three kinds of layer convolve (``architectures.CONVOLUTION_TYPES``), and each keeps its
weights differently:

- ``Conv2D``: kernel (kh, kw, in, out); output channel f looks at every input channel.
- ``DepthwiseConv2D``: kernel (kh, kw, in, m) with m the depth multiplier; output channel
  f = c * m + j convolves input channel c alone with the 2-D kernel ``kernel[:, :, c, j]``.
- ``SeparableConv2D``: that depthwise step, then a pointwise 1 x 1 convolution mixing the
  in * m depthwise maps into out channels (a matrix (in * m, out)), then the bias.

In every case one output value is a sum of the input patch times an *effective* kernel
(kh, kw, in): zero outside channel c for a depthwise filter, and
sum_j depthwise[:, :, c, j] * pointwise[c * m + j, f] for a separable one. ``filter_kernel``
returns it, so the convolution by hand (``convolution``) treats all three alike.
"""

import numpy as np

from cifar_core.backend import keras
from cifar_core.display import pictures
from cifar_core.inspect import activations
from cifar_core.models import architectures, layer_graph

KINDS = {keras.layers.Conv2D: "convolution", keras.layers.DepthwiseConv2D: "depthwise",
         keras.layers.SeparableConv2D: "separable"}


def convolution_layer(model, name):
    """The layer ``name`` of ``model``; ValueError if it is missing or not convolution-like."""
    layer = layer_graph.find_layer(model, name)
    if not isinstance(layer, architectures.CONVOLUTION_TYPES):
        raise ValueError(f"layer {name!r} is a {type(layer).__name__}, not a convolution")
    return layer


def kind(layer):
    """"convolution", "depthwise" or "separable" (exact type, not subclass order)."""
    for layer_type, name in KINDS.items():
        if isinstance(layer, layer_type):
            return name
    raise ValueError(f"layer {layer.name!r} is a {type(layer).__name__}, not a convolution")


def _numpy(variable):
    return np.asarray(keras.ops.convert_to_numpy(variable), dtype=np.float32)


def layer_weights(model, name):
    """A dict of the layer's float32 weights: "kind", "bias" (out,), and "kernel"
    (kh, kw, in, out or m) or, for separable layers, "depthwise" (kh, kw, in, m) and
    "pointwise" (in * m, out)."""
    layer = convolution_layer(model, name)
    layer_kind = kind(layer)
    filters = layer_graph.output_of(model, layer).shape[-1]
    bias = _numpy(layer.bias) if layer.use_bias else np.zeros(filters, np.float32)
    if layer_kind == "separable":
        pointwise = _numpy(layer.pointwise_kernel)[0, 0]  # (1, 1, in*m, out) -> (in*m, out)
        return {"kind": layer_kind, "depthwise": _numpy(layer.depthwise_kernel),
                "pointwise": pointwise, "bias": bias}
    return {"kind": layer_kind, "kernel": _numpy(layer.kernel), "bias": bias}


def filter_count(model, name):
    """Output channels of a convolution-like layer (what the page calls its filters)."""
    return int(layer_graph.output_of(model, convolution_layer(model, name)).shape[-1])


def _check_filter(filter_index, count):
    if not (isinstance(filter_index, (int, np.integer)) and 0 <= filter_index < count):
        raise ValueError(f"filter must be an integer in 0..{count - 1}, got {filter_index!r}")
    return int(filter_index)


def filter_kernel(model, name, filter_index):
    """(effective kernel float64 (kh, kw, in), bias float) of output channel ``filter_index``.

    The layer's output there (before its activation) is sum(patch * kernel) + bias.
    """
    weights = layer_weights(model, name)
    return _effective_kernel(weights, _check_filter(filter_index, len(weights["bias"])))


def _effective_kernel(weights, filter_index):
    """``filter_kernel`` from ``layer_weights``' dict (read once for many filters)."""
    bias = float(weights["bias"][filter_index])
    if weights["kind"] == "convolution":
        return weights["kernel"][:, :, :, filter_index].astype(np.float64), bias
    if weights["kind"] == "depthwise":
        depthwise = weights["kernel"]  # (kh, kw, in, m)
        channel, copy = divmod(filter_index, depthwise.shape[3])
        kernel = np.zeros(depthwise.shape[:3], np.float64)  # (kh, kw, in)
        kernel[:, :, channel] = depthwise[:, :, channel, copy]
        return kernel, bias
    depthwise, pointwise = weights["depthwise"], weights["pointwise"]
    rows, columns, inputs, multiplier = depthwise.shape
    mixing = pointwise[:, filter_index].reshape(inputs, multiplier)  # (in*m,) -> (in, m)
    kernel = np.einsum("hwcm,cm->hwc", depthwise.astype(np.float64), mixing.astype(np.float64))
    return kernel, bias


# --- filters as pictures ---------------------------------------------------------------

def _tile_scale(side, tile_pixels=36):
    return max(1, tile_pixels // side)


def _outlined_tile(picture, position, columns, tile_side, gap):
    """``picture`` (a mosaic) with the tile at ``position`` outlined in yellow."""
    row, column = divmod(position, columns)
    step = tile_side + gap
    return pictures.outline(picture, row * step, column * step, tile_side, width=2)


def depthwise_picture(depthwise, filter_index=None, *, tile_pixels=36):
    """Every 2-D kernel of a depthwise step (kh, kw, in, m) as one signed mosaic.

    Tiles run in output-channel order (input channel c, copy j at c * m + j); the chosen
    filter's tile is outlined. Red weights excite, blue inhibit.
    """
    rows, columns_k, inputs, multiplier = depthwise.shape
    slices = depthwise.transpose(2, 3, 0, 1).reshape(inputs * multiplier, rows, columns_k)
    scale = _tile_scale(rows, tile_pixels)
    columns = activations._columns(len(slices))
    gap = 2
    picture = pictures.mosaic(pictures.colorize_signed(slices), columns, gap=gap, scale=scale)
    if filter_index is not None:
        picture = _outlined_tile(picture, filter_index, columns, rows * scale, gap)
    return picture


def pointwise_picture(pointwise, filter_index=None, *, pixels=480):
    """The pointwise mixing matrix (in * m rows, out columns) as a signed heat map.

    Each column is one output filter: how much of each depthwise map it adds (red) or
    subtracts (blue). The chosen filter's column is outlined.
    """
    inputs, outputs = pointwise.shape
    scale = max(1, min(24, pixels // max(inputs, outputs)))
    picture = pictures.upscale(pictures.colorize_signed(pointwise[None])[0], scale)
    if filter_index is not None:
        picture = pictures.outline(picture, 0, filter_index * scale, (inputs * scale,
                                                                      scale), width=1)
    return picture


def filters_pictures(model, name, filter_index):
    """[(picture, caption, alt), ...] showing a layer's filters the way its kind works.

    Conv2D: as ``activations.filters_picture`` (RGB patches on the image, else one slice per
    input channel of the chosen filter). Depthwise: one 2-D kernel per input channel.
    Separable: those depthwise kernels, then the pointwise mixing matrix.
    """
    weights = layer_weights(model, name)
    filter_index = _check_filter(filter_index, len(weights["bias"]))
    if weights["kind"] == "convolution":
        picture, caption = activations.filters_picture(weights["kernel"], filter_index,
                                                       name=name)
        return [(picture, caption, f"The filters of {name}: {caption}")]
    depthwise = weights["kernel"] if weights["kind"] == "depthwise" else weights["depthwise"]
    rows, columns, inputs, multiplier = depthwise.shape
    per_channel = "one" if multiplier == 1 else str(multiplier)
    if weights["kind"] == "depthwise":
        channel = filter_index // multiplier
        caption = (f"{name} is a depthwise convolution: each of its {inputs} input channels "
                   f"has its own {per_channel} {rows} x {columns} kernel(s) and no channel "
                   f"mixing. Filter {filter_index} (outlined) filters input channel {channel} "
                   "only; red excites, blue inhibits")
        return [(depthwise_picture(depthwise, filter_index), caption,
                 f"The {inputs * multiplier} depthwise kernels of {name}, filter "
                 f"{filter_index} outlined")]
    pointwise = weights["pointwise"]
    return [
        (depthwise_picture(depthwise), f"Step 1 of {name} (separable): {per_channel} "
         f"{rows} x {columns} kernel(s) per input channel ({inputs}), each filtering its "
         "channel alone; red excites, blue inhibits",
         f"The {inputs * multiplier} depthwise kernels of {name}"),
        (pointwise_picture(pointwise, filter_index), f"Step 2 of {name}: the pointwise "
         f"mixing, {pointwise.shape[0]} depthwise maps (rows) into {pointwise.shape[1]} "
         f"filters (columns); filter {filter_index}'s column is outlined",
         f"Heat map of {name}'s pointwise weights, {pointwise.shape[0]} by "
         f"{pointwise.shape[1]}"),
    ]


def first_filters_picture(model, name):
    """(picture, how many filters) of a first layer for side-by-side comparison.

    RGB patches where a Conv2D sees the 3 colour channels; otherwise every filter's
    effective kernel, averaged over input channels, as a signed mosaic.
    """
    weights = layer_weights(model, name)
    if weights["kind"] == "convolution" and weights["kernel"].shape[2] == 3:
        patches = pictures.rgb_filter_images(weights["kernel"])
        return pictures.mosaic(patches, 12, gap=3, scale=10), len(patches)
    count = len(weights["bias"])
    kernels = np.stack([_effective_kernel(weights, index)[0].mean(axis=2)
                        for index in range(count)])  # (count, kh, kw, in) -> (count, kh, kw)
    return (pictures.mosaic(pictures.colorize_signed(kernels), 12, gap=3,
                            scale=_tile_scale(kernels.shape[1], 30)), count)


def pre_activation(layer, inputs):
    """A convolution-like layer's output before its activation, for a tensor of its inputs.

    Feature visualisation climbs this (plus the activation) so a filter that a ReLU
    silences everywhere still has a gradient.
    """
    options = {"strides": layer.strides, "padding": layer.padding,
               "dilation_rate": layer.dilation_rate, "data_format": layer.data_format}
    layer_kind = kind(layer)
    if layer_kind == "convolution":
        result = layer.convolution_op(inputs, layer.kernel)
    elif layer_kind == "depthwise":
        result = keras.ops.depthwise_conv(inputs, layer.kernel, **options)
    else:
        result = keras.ops.separable_conv(inputs, layer.depthwise_kernel,
                                          layer.pointwise_kernel, **options)
    return result + layer.bias if layer.use_bias else result  # (N, h, w, C) + (C,)
