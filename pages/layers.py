"""Layers: one image through the network, every feature map, filters, one convolution by hand.

Every choice lives in the URL, so a lesson or another page can link to a view, e.g.
``/layers?model=seed&split=test&index=7&layer=conv3&filter=12``.
"""

import numpy as np
import pandas as pd
import streamlit as st

from cifar_core import ui
from cifar_core.inspect import activations, kernels, top_activations
from cifar_core.models import architectures, saving
from cifar_core.ui import convolution_panel, image_picker, task_panel, untrained_panel
from cifar_core.ui.feature_visualisation_panel import feature_visualisation_section


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
if not conv_layers:  # a Dense-only network: no feature maps, filters or receptive fields
    st.info(f"{entry.label} has no convolution layers, so there is nothing convolutional to "
            "show here: no feature maps, filters or receptive fields. Its layers are listed "
            "below; Classify and Evaluate work as for any model.", icon=":material/info:")
    st.dataframe(activations.layer_table(model), hide_index=True)
    st.stop()
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
for picture, caption, alt in kernels.filters_pictures(model, layer, filter_index):
    ui.show_picture(st, picture, caption, alt=alt)
with st.expander("Every layer of this model"):
    st.dataframe(activations.layer_table(model), hide_index=True)

# --- the convolution, step by step (the first convolution, whatever its name) ---------------
convolution_panel.convolution_section(model, image)

# --- trained versus untrained (a re-initialised clone of this architecture) -----------------
untrained_panel.trained_versus_untrained(model, entry.path, image, image_caption, layer, names,
                                         per_map=per_map, by_mean=by_mean)

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
