"""One output value of a convolution, computed by hand and checked against the model.

A conv layer slides each filter over its input; at output position (row, column) it
multiplies the kh x kw x channels patch under the filter element-wise with the kernel,
sums the products, adds the bias and applies the activation (ReLU in the seed CNN, GELU,
linear, ... whatever the layer has). Stride, 'same' or 'valid' padding and dilation decide
which input pixels the patch takes. A depthwise or separable filter is the same sum with
its effective kernel (``kernels.filter_kernel``).
``explain`` does exactly that in float64 NumPy and returns every intermediate, plus
the value the model itself computed there, so a page can show that they agree.
"""

from dataclasses import dataclass

import numpy as np

from cifar_core.backend import keras
from cifar_core.display import pictures
from cifar_core.inspect import activations, kernels, receptive_fields
from cifar_core.models import architectures


@dataclass(frozen=True)
class ConvolutionStep:
    """Every number that goes into one output value of a conv layer."""

    layer: str
    row: int
    column: int
    filter_index: int
    top: int  # input row under the kernel's top-left cell (negative at a padded border)
    left: int  # input column under the kernel's top-left cell
    patch: np.ndarray  # (kh, kw, channels) input values under the kernel, 0 where padded
    inside: np.ndarray  # (kh, kw) bool: False where the kernel hangs over the border
    kernel: np.ndarray  # (kh, kw, channels) this filter's weights
    products: np.ndarray  # (kh, kw, channels) patch * kernel
    total: float  # sum of the products
    bias: float
    pre_activation: float  # total + bias
    activation_name: str  # "relu", "linear", ...
    activation: float  # the activation applied to pre_activation: our answer
    model_value: float  # the model's own output at (row, column, filter_index)
    dilation: int = 1  # input pixels between neighbouring kernel cells (rows)
    stride: int = 1
    kind: str = "convolution"  # or "depthwise", "separable" (kernels.kind)

    @property
    def span(self):
        """Input pixels the kernel covers along one side: (kh - 1) * dilation + 1."""
        return (self.kernel.shape[0] - 1) * self.dilation + 1

    @property
    def difference(self):
        return abs(self.activation - self.model_value)

    @property
    def matches(self):
        """True when our sum equals the model's value to float32 precision."""
        scale = float(np.abs(self.products).sum()) + abs(self.bias) + 1.0
        return self.difference <= 1e-5 * scale

    def arithmetic(self):
        """The sum, bias and activation as one Markdown sentence."""
        kernel_words = {"depthwise": "Depthwise: the filter sees one input channel, so the "
                        "kernel is zero on the others. ",
                        "separable": "Separable: the kernel shown is the depthwise kernels "
                        "mixed by this filter's pointwise weights (the same sum in one step). "
                        }.get(self.kind, "")
        return (f"{kernel_words}Sum of the {self.products.size} products = "
                f"**{self.total:.6f}**; plus bias {self.bias:+.6f} = "
                f"**{self.pre_activation:.6f}**; {self.activation_name}"
                f"({self.pre_activation:.6f}) = **{self.activation:.6f}**.")


def _activate(name, value, layer):
    if name == "linear":
        return value
    if name == "relu":
        return max(value, 0.0)
    result = layer.activation(keras.ops.convert_to_tensor(np.float32([value])))
    return float(keras.ops.convert_to_numpy(result)[0])


def first_convolution(model):
    """Name of the model's first convolution-like layer, or None when it has none."""
    names = architectures.conv_layer_names(model)
    return names[0] if names else None


def explain(model, image, row, column, filter_index, layer=None):
    """The step-by-step computation of ``layer``'s output at (row, column, filter_index).

    ``layer`` defaults to the first convolution-like layer. ``image`` is one raw uint8
    image (H, W, 3); the layer's input (for the first convolution the image as the
    model's own scaling leaves it) comes from the model itself, so the check covers every
    layer.
    """
    layer = first_convolution(model) if layer is None else layer
    conv = model.get_layer(layer) if layer in architectures.conv_layer_names(model) else None
    if conv is None:
        raise ValueError(f"{layer!r} is not a conv layer of model {model.name!r}")
    outputs = activations.extractor(model)(image)
    inputs = outputs[f"{layer}.input"][0]  # (1, H, W, C) -> (H, W, C)
    result = outputs[layer][0]  # (1, OH, OW, F) -> (OH, OW, F)
    out_rows, out_columns, filters = result.shape
    for name, value, limit in (("row", row, out_rows), ("column", column, out_columns),
                               ("filter", filter_index, filters)):
        if not (isinstance(value, (int, np.integer)) and 0 <= value < limit):
            raise ValueError(f"{name} must be an integer in 0..{limit - 1}, got {value!r}")
    kernel, bias = kernels.filter_kernel(model, layer, int(filter_index))  # (kh, kw, C)
    stride_y, stride_x = receptive_fields.pair(conv.strides)
    dilation_y, dilation_x = receptive_fields.pair(conv.dilation_rate)
    top = row * stride_y - receptive_fields.padding_before(conv, inputs.shape[0], 0)
    left = column * stride_x - receptive_fields.padding_before(conv, inputs.shape[1], 1)
    input_rows = top + dilation_y * np.arange(kernel.shape[0])  # (kh,)
    input_columns = left + dilation_x * np.arange(kernel.shape[1])  # (kw,)
    inside = ((input_rows >= 0) & (input_rows < inputs.shape[0]))[:, None] \
        & ((input_columns >= 0) & (input_columns < inputs.shape[1]))[None, :]  # (kh, kw)
    patch = np.zeros(kernel.shape, np.float64)
    rows, columns = np.nonzero(inside)
    patch[rows, columns] = inputs[input_rows[rows], input_columns[columns]]
    products = patch * kernel.astype(np.float64)
    total = float(products.sum())
    activation_name = getattr(conv.activation, "__name__", "linear")
    return ConvolutionStep(
        layer=layer, row=int(row), column=int(column), filter_index=int(filter_index),
        top=int(top), left=int(left), patch=patch, inside=inside,
        kernel=kernel.astype(np.float64), products=products, total=total, bias=bias,
        pre_activation=total + bias, activation_name=activation_name,
        activation=_activate(activation_name, total + bias, conv),
        model_value=float(result[row, column, filter_index]), dilation=int(dilation_y),
        stride=int(stride_y), kind=kernels.kind(conv),
    )


def patch_picture(image, step, scale=8):
    """The input image upscaled, with the patch under the kernel outlined in yellow.

    Where the kernel hangs over the border, the image gets a black frame: the zeros
    that 'same' padding adds. Returns (picture uint8 RGB, padding in input pixels).
    """
    overhang = [step.top + step.span - image.shape[0], step.left + step.span - image.shape[1]]
    padding = max(0, -step.top, -step.left, *overhang)
    framed = np.pad(image, ((padding, padding), (padding, padding), (0, 0)))  # (H+2p, W+2p, 3)
    size = step.span  # a dilated kernel spreads over more pixels than it has cells
    picture = pictures.outline(pictures.upscale(framed, scale), (step.top + padding) * scale,
                            (step.left + padding) * scale, size * scale, width=2)
    return picture, padding
