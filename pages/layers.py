"""Layers: one image through the network, every feature map, filters, one convolution by hand.

Every choice lives in the URL, so a lesson or another page can link to a view, e.g.
``/layers?model=seed&split=test&index=7&layer=conv3&filter=12``.
"""

import numpy as np
import pandas as pd
import streamlit as st

from cifar_core import ui
from cifar_core.display import pictures, plots
from cifar_core.inspect import activations, convolution, top_activations
from cifar_core.models import architectures, saving
from cifar_core.ui import image_picker, task_panel
from cifar_core.ui.feature_visualisation_panel import feature_visualisation_section


@st.cache_resource(show_spinner="Building an untrained copy of the network...")
def untrained_model(architecture):
    return architectures.build_model(architecture, seed=0)


def start_top_task(key, model, path, test_images):
    """The server-wide task for this model file, started if new (a button callback)."""
    return task_panel.server_tasks().start(
        key, lambda: top_activations.peak_task(model, path, test_images))


st.title("Inside the network, layer by layer")
data = ui.dataset()
names = data.class_names
top = st.columns([2.4, 1.9, 1.5, 1.6, 1.6, 1.3], vertical_alignment="bottom")
with top[0]:
    entry = ui.model_picker(default="seed")  # the notebook's CNN: 3 x 3 filters, ReLU
try:
    model = ui.model(entry.path)
except (saving.ModelError, OSError) as error:
    st.error(f"Could not load the model {entry.label}: {error}", icon=":material/error:")
    st.stop()

image, image_caption = image_picker.pick_image(data, top[1:])  # or Classify's upload

outputs = activations.extractor(model)(image)
probabilities = outputs["probabilities"][0]

# --- overview: the image flowing through every stage ---------------------------------------
st.header("The image flowing through the network")
stages = activations.stage_layer_names(model)
strip, shown = activations.overview_strip(image, outputs, stages)
best = int(np.argmax(probabilities))
ui.show_picture(st, strip, f"{image_caption}. Each tile shows the strongest feature "
                f"map of that layer (yellow = high activation); the network says {names[best]}.",
                alt=f"{image_caption} and, after it, the strongest feature map of each of "
                f"{len(shown)} layers")
ranking = pd.DataFrame({"class": names, "probability": probabilities}).sort_values(
    "probability", ascending=False)
st.dataframe(ranking, hide_index=True, width=480, column_config={
    "probability": st.column_config.ProgressColumn("probability", format="percent",
                                                   min_value=0.0, max_value=1.0)})

# --- one conv layer in detail ------------------------------------------------------------
st.header("One layer in detail")
conv_layers = architectures.conv_layer_names(model)
controls = st.columns(4, vertical_alignment="bottom")
layer = controls[0].selectbox("Conv layer", conv_layers, key="layer",
                              on_change=ui.url_state("layer", conv_layers[0], options=conv_layers))
maps = outputs[layer][0]  # (1, H, W, C) -> (H, W, C)
filter_index = ui.url_number("Filter", "filter", maps.shape[-1], container=controls[1])
per_map = controls[2].toggle("Colour scale per map", key="per_map",
                             help="Off: one scale for all maps, so weak maps look dark.")
by_mean = controls[3].toggle("Sort by mean activation", value=True, key="by_mean")
facts = activations.layer_facts(model, layer)
stats = st.columns(3)
stats[0].metric("Output shape", " x ".join(map(str, facts["output_shape"])))
stats[1].metric("Parameters", f"{facts['parameters']:,}")
field = facts["receptive_field"]
stats[2].metric("Receptive field", f"{field} x {field} pixels")
picture, order = activations.feature_map_mosaic(maps, per_map=per_map, sort_by_mean=by_mean)
strongest = ", ".join(map(str, order[:6]))
ui.show_picture(st, picture, f"All {maps.shape[-1]} feature maps of {layer}"
                + (f" (strongest first: {strongest}, ...)" if by_mean else ""),
                alt=f"Mosaic of the {maps.shape[-1]} feature maps of {layer} for {image_caption}")
kernel, _ = activations.kernel_and_bias(model, layer)
picture, caption = activations.filters_picture(kernel, filter_index, name=layer)
ui.show_picture(st, picture, caption)
with st.expander("Every layer of this model"):
    st.dataframe(activations.layer_table(model), hide_index=True)

# --- the convolution, step by step ---------------------------------------------------------
@st.fragment
def convolution_section(model, image):
    """A fragment: moving the position or filter reruns only this section (~30 ms)."""
    st.header("The convolution, step by step (conv1)")
    rows, columns, filters = model.get_layer("conv1").output.shape[1:]
    controls = st.columns(3)
    row = ui.url_number("Row", "row", rows, 12, container=controls[0])
    column = ui.url_number("Column", "col", columns, 12, container=controls[1])
    step_filter = ui.url_number("conv1 filter", "step_filter", filters, container=controls[2])
    step = convolution.explain(model, image, row, column, step_filter)
    picture, padding = convolution.patch_picture(image, step)
    left, right = st.columns([1, 3])
    ui.show_picture(left, picture, "The patch under the filter (yellow)"
                    + (", black = zero padding" if padding else ""),
                    alt=f"The image with the patch at row {row}, column {column} outlined")
    right.plotly_chart(plots.convolution_figure(step.patch, step.kernel, step.products,
                                                inside=step.inside), key="convolution")
    st.markdown(step.arithmetic())
    verdict = st.success if step.matches else st.error
    verdict(f"The model's own activation at row {row}, column {column}, filter {step_filter}: "
            f"**{step.model_value:.6f}** (difference {step.difference:.1e}).",
            icon=":material/check_circle:" if step.matches else ":material/error:")


convolution_section(model, image)

# --- trained versus untrained --------------------------------------------------------------
st.header("Trained versus untrained")
st.caption("The same image through the same architecture with fresh random weights (seed 0), "
           "the kind training starts from. The feature maps show what training changed; "
           "first-layer filters often move only subtly in a few epochs.")
untrained = untrained_model(model.name)  # the loaded model's own architecture, not its card's word
sides = st.columns(2)
for side, name, network in ((sides[0], "trained", model), (sides[1], "untrained", untrained)):
    result = activations.extractor(network)(image)
    picture, _ = activations.feature_map_mosaic(result[layer][0], per_map=per_map,
                                                sort_by_mean=by_mean, tile_pixels=64)
    chance = result["probabilities"][0]
    ui.show_picture(side, picture,
                    f"{layer}, {name}: says {names[int(np.argmax(chance))]} ({chance.max():.0%})",
                    alt=f"The {layer} feature maps of the {name} network for {image_caption}")
    first_filters = pictures.rgb_filter_images(activations.kernel_and_bias(network, "conv1")[0])
    ui.show_picture(side, pictures.mosaic(first_filters, 12, gap=3, scale=10),
                    f"conv1 filters, {name}",
                    alt=f"The {len(first_filters)} conv1 filters of the {name} network, as colours")

# --- top-activating test images ------------------------------------------------------------
st.header(f"Test images that excite {layer} filter {filter_index} most")
test_images, test_labels = data.split("test")
task_key = ("top images", str(entry.path), entry.path.stat().st_mtime_ns)
task = task_panel.server_tasks().get(task_key)
if task is None and top_activations.cache_path(entry.path, test_images).exists():
    # Reading the disk cache is quick.
    task = start_top_task(task_key, model, entry.path, test_images)
elif task is None:
    st.button(f"Find them ({len(test_images):,} test images, once per model)", key="find_top",
              icon=":material/search:", on_click=start_top_task,
              args=(task_key, model, entry.path, test_images))
peaks = None if task is None else task_panel.task_result(
    task, progress_text="Peak activations", failure_text="Could not compute the top images:",
    retry_key="retry_top")
if peaks is not None:
    picture = top_activations.top_images_picture(model, layer, peaks[layer], filter_index,
                                                 test_images, test_labels, names)
    ui.show_picture(st, picture, "Highest peak activation first (the number is the peak); the "
                    "yellow box is the part of the image the filter sees where it fires most",
                    alt=f"The test images that excite {layer} filter {filter_index} most")

# --- what a filter wants to see -----------------------------------------------------------
feature_visualisation_section(model, entry.path, layer, filter_index, test_images, test_labels,
                              names)
