"""Layers: the first convolution computed by hand, whatever the model calls or makes it.

The section follows the model's first convolution-like layer (``convolution.
first_convolution``): its name, stride, padding, dilation and activation come from the
layer itself, and the sum is checked against the value the model computed. A fragment,
so moving the position or the filter reruns only this section (~30 ms).
"""

import streamlit as st

from cifar_core.display import plots
from cifar_core.inspect import convolution, inference, receptive_fields
from cifar_core.models import layer_graph
from cifar_core.ui import shared_cache
from cifar_core.ui.picture_display import show_picture
from cifar_core.ui.url_state import url_number


def settings_text(layer):
    """The layer's kernel, stride, padding, dilation and activation in words."""
    rows, columns = receptive_fields.pair(layer.kernel_size)
    stride = receptive_fields.pair(layer.strides)
    dilation = receptive_fields.pair(layer.dilation_rate)
    activation = getattr(layer.activation, "__name__", "linear")
    words = [f"{type(layer).__name__}, {rows} x {columns} kernel",
             f"stride {stride[0]}" + ("" if stride[0] == stride[1] else f" x {stride[1]}"),
             f"'{layer.padding}' padding"]
    if dilation != (1, 1):
        words.append(f"dilation {dilation[0]} (the kernel spans "
                     f"{receptive_fields.effective_kernel(layer)} pixels)")
    words.append(f"activation {activation}")
    return ", ".join(words)


@st.fragment
def convolution_section(model, image):
    """The header, position and filter inputs (in the URL), the patch, the sum, the check."""
    name = convolution.first_convolution(model)
    if name is None:
        return
    layer = model.get_layer(name)
    st.header(f"The convolution, step by step ({name})")
    following = [model.get_layer(after) for after in inference.activation_chain(model, name)[1:]
                 if type(model.get_layer(after)).__name__ != "Dropout"]  # idle at inference
    then = "; ".join(f"{after.name} ({type(after).__name__}"
                     + (f" {after.activation.__name__}" if hasattr(after, "activation") else "")
                     + ")" for after in following)
    st.caption(f"The first convolution of this network: {settings_text(layer)}."
               + (f" The network then passes its output through {then}, not shown here."
                  if then else ""))
    rows, columns, filters = layer_graph.output_of(model, layer).shape[1:]
    controls = st.columns(3)
    row = url_number("Row", "row", rows, 12, container=controls[0])
    column = url_number("Column", "col", columns, 12, container=controls[1])
    step_filter = url_number(f"{name} filter", "step_filter", filters, container=controls[2])
    step = convolution.explain(model, image, row, column, step_filter, layer=name)
    picture, padding = convolution.patch_picture(image, step)
    left, right = st.columns([1, 3])
    spread = f" (dilated: every {step.dilation}th pixel)" if step.dilation > 1 else ""
    show_picture(left, picture, f"The patch under the filter (yellow){spread}"
                 + (", black = zero padding" if padding else ""),
                 alt=f"The image with the patch at row {row}, column {column} outlined")
    right.plotly_chart(shared_cache.figure(plots.convolution_figure, step.patch, step.kernel,
                                           step.products, inside=step.inside),
                       key="convolution")
    st.markdown(step.arithmetic())
    verdict = st.success if step.matches else st.error
    verdict(f"The model's own activation at row {row}, column {column}, filter {step_filter}: "
            f"**{step.model_value:.6f}** (difference {step.difference:.1e}).",
            icon=":material/check_circle:" if step.matches else ":material/error:")
