"""Classify: your own photos or the camera, the top-k classes, and where the model looked."""

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from cifar_core import ui
from cifar_core.data import CLASS_NAMES, photos
from cifar_core.display import pictures, plots
from cifar_core.inspect import inference
from cifar_core.models import saving
from cifar_core.ui import attribution_panel

TOP_PREDICTION = "top"  # "explain whichever class the model ranks first"
EXPLAIN_CHOICES = (TOP_PREDICTION,) + CLASS_NAMES
HEAT_MAPS = ("Grad-CAM", "Saliency", "Occlusion", "SmoothGrad", "Integrated Gradients")


@st.cache_resource(max_entries=4, ttl=900, show_spinner="Decoding your images...")
def prepared(file_ids, mode, _files):
    """Decoded and preprocessed uploads, once per set of files and square mode.

    Streamlit gives every upload a fresh id, so ids are a cheap, exact key; reruns for a
    slider or a chart then skip decoding (about 40 ms of CPU per phone photo here) and
    copying the bytes out of the uploads. Few entries, dropped after 15 minutes: they
    hold the uploaded bytes.
    """
    return photos.prepare_uploads([(file.name, file.getvalue()) for file in _files], mode)


st.title("Classify your own images")
st.caption("A CIFAR-10 model has only ever seen 32 x 32 photos of ten classes: watch your "
           "picture shrink to that, then see what the model thinks and where it looked.")

# --- controls (all kept in the URL, so a view can be shared) --------------------------
controls = st.columns([3, 3, 2, 3])
with controls[0]:
    entries = [ui.model_picker("Model", key="model")]
    if st.toggle("Compare with a second model", key="compare",
                 on_change=ui.url_flag("compare")):
        entries.append(ui.model_picker("Second model", key="model2"))
mode = controls[1].segmented_control(
    "Make it square", photos.SQUARE_MODES, key="square",
    format_func={"crop": "crop centre", "pad": "pad sides"}.get,
    on_change=ui.url_state("square", "crop", options=photos.SQUARE_MODES)) or "crop"
k = controls[2].slider("Classes to show", 1, len(CLASS_NAMES), key="k",
                       on_change=ui.url_state("k", 5, options=range(1, 11), cast=int))
method = controls[3].selectbox(
    "Heat map", HEAT_MAPS, key="heat",
    on_change=ui.url_state("heat", HEAT_MAPS[0], options=HEAT_MAPS))
method_options = attribution_panel.method_controls(controls[3], method)
sanity = attribution_panel.sanity_toggle(controls[3])
explain = controls[3].selectbox(
    "Explain the class", EXPLAIN_CHOICES, key="explain",
    format_func=lambda choice: "its top prediction" if choice == TOP_PREDICTION else choice,
    on_change=ui.url_state("explain", TOP_PREDICTION, options=EXPLAIN_CHOICES))

# --- input: files or the camera ------------------------------------------------------
if st.toggle("Use the camera", key="camera",
             on_change=ui.url_flag("camera")):
    shot = st.camera_input("Take a photo")
    files = [shot] if shot is not None else []
else:
    files = st.file_uploader("Images (PNG, JPEG, BMP, GIF or WebP)", key="uploads",
                             type=list(photos.UPLOAD_TYPES), accept_multiple_files=True,
                             max_upload_size=photos.UPLOAD_LIMIT_MB) or []
if not files:
    st.info("Upload one or more photos of airplanes, cars, birds, cats, deer, dogs, frogs, "
            "horses, ships or trucks.", icon=":material/upload:")
    st.stop()

uploads, errors = prepared(tuple(file.file_id for file in files), mode, files)
for error in errors:
    st.error(str(error), icon=":material/broken_image:")
if not uploads:
    st.stop()

try:
    loaded = [ui.model(entry.path) for entry in entries]
except (saving.ModelError, OSError) as error:
    st.error(f"The model could not be loaded: {error}", icon=":material/error:")
    st.stop()
batch = np.stack([upload.steps.model_input for upload in uploads])  # (N, 32, 32, 3)
probabilities = [inference.predict(model, batch) for model in loaded]  # each (N, 10)

# --- many files: one row each, downloadable ------------------------------------------
chosen = 0
if len(uploads) > 1:
    table = inference.results_table([upload.name for upload in uploads], probabilities[0],
                                    CLASS_NAMES)
    st.header(f"{len(uploads)} images classified by {entries[0].label}")
    confidence = st.column_config.ProgressColumn("confidence", format="percent",
                                                 min_value=0.0, max_value=1.0)
    st.dataframe(table, hide_index=True, column_config={"confidence": confidence})
    st.download_button("Download the table (CSV)", table.to_csv(index=False),
                       file_name="classify-results.csv", mime="text/csv",
                       icon=":material/download:")
    chosen = st.selectbox("Look closer at", range(len(uploads)), key="chosen",
                          format_func=lambda index: uploads[index].name)
upload = uploads[chosen]
steps = upload.steps

# --- what the model is given ---------------------------------------------------------
st.header(f"From your picture to what the model sees: {upload.name}")
original, square, small = st.columns(3)
original.image(steps.original, caption=f"Your picture, {steps.original.width} x "
               f"{steps.original.height}", width="stretch", alt=f"{upload.name} as uploaded")
square.image(steps.square, caption=f"Square by {mode}, {steps.square.width} x "
             f"{steps.square.height}", width="stretch", alt=f"{upload.name} made square")
small.image(pictures.upscale(steps.model_input, 8), width="stretch",
            caption="32 x 32: what the model sees (each square is one pixel)",
            alt=f"{upload.name} shrunk to 32 x 32 pixels")

# --- what each model thinks, and where it looked: one row per model ----------------------
st.header("What the model thinks, and where it looked")
for position, (entry, model, model_probabilities) in enumerate(zip(entries, loaded, probabilities)):
    scores = model_probabilities[chosen]  # (10,)
    class_index = int(scores.argmax()) if explain == TOP_PREDICTION else CLASS_NAMES.index(explain)
    chart, seen, photo = st.columns([4, 3, 3], vertical_alignment="bottom")
    with chart:
        st.plotly_chart(plots.top_k_figure(inference.top_k(scores, k, CLASS_NAMES),
                                           title=entry.label, highlight=CLASS_NAMES[class_index]),
                        key=f"top_k_{position}")
        options = attribution_panel.layer_options(model, method, method_options, position)
        heat = None if options is None else attribution_panel.result(
            "map", model, entry.path, steps.model_input, class_index, method, options,
            position=position)
    if heat is None:
        continue
    seen.image(pictures.heat_map_overlay(pictures.upscale(steps.model_input, 8),
                                      photos.map_to_original(heat, (256, 256))),
               caption=f"{method} for “{CLASS_NAMES[class_index]}” on the 32 x 32 input "
               "(red: most evidence)", width="stretch",
               alt=f"{method} heat map of {entry.label} for {CLASS_NAMES[class_index]}")
    photo.image(pictures.heat_map_overlay(np.asarray(steps.original),
                                       photos.map_to_original(heat, steps.original.size, mode)),
                caption="The same over your picture (dimmed: cropped away)", width="stretch",
                alt=f"The same heat map over {upload.name}")
    if sanity:
        attribution_panel.sanity_row(model, entry.label, entry.path, steps.model_input,
                                     class_index, method, options, position=position,
                                     trained=heat)

# --- deeper: the Layers page takes the upload through session state ---------------------
if st.button("Open this image in the Layers page", icon=":material/layers:"):
    st.session_state["layers_upload"] = (upload.name, upload.data)
    try:
        st.switch_page("pages/layers.py")
    except StreamlitAPIException:
        st.warning("The Layers page is not available in this version of the app.")
