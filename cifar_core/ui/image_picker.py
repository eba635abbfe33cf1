"""The Layers page's image chooser: a dataset image by index or at random, or an upload.

A Streamlit component like ``ui.model_picker``: it draws its widgets into the columns it
is given, keeps the dataset choice in the URL, takes over an image the Classify page
hands over (``st.session_state["layers_upload"]``), and stops the page with a message
when there is no usable image yet.
"""

import numpy as np
import streamlit as st

from cifar_core import ui
from cifar_core.data import photos


@st.cache_data(max_entries=4, show_spinner=False)
def _upload_input(name, data):
    """An uploaded image as the 32 x 32 model input, decoded once per file instead of on
    every rerun (a large PNG costs ~150 ms of CPU); ImageError for an unusable file."""
    return photos.to_model_input(photos.decode_image(data, name, max_side=256))


def _pick_random(labels, wanted):
    pool = np.flatnonzero(labels == wanted) if wanted >= 0 else np.arange(len(labels))
    st.session_state.index = int(np.random.default_rng().choice(pool))
    ui.set_query(index=st.session_state.index)


def _uploaded_image():
    """(image, caption) of the upload in this session; stops the page without one."""
    file = st.file_uploader("Image (PNG, JPEG, BMP, GIF, WebP)", type=photos.UPLOAD_TYPES,
                            max_upload_size=photos.UPLOAD_LIMIT_MB)
    if file is not None and st.session_state.get("upload_id") != file.file_id:
        # Copy the bytes once per new file, not on every rerun; an image handed over by
        # Classify later is then not overwritten by the file still in the uploader.
        st.session_state.update(upload=(file.name, file.getvalue()), upload_id=file.file_id)
    if "upload" not in st.session_state:
        st.info("Upload a photo to see what the network does with it.", icon=":material/upload:")
        st.stop()
    name, data = st.session_state.upload
    try:
        image = _upload_input(name, data)
    except photos.ImageError as error:
        st.error(str(error), icon=":material/broken_image:")
        st.stop()
    return image, f"{name} (shrunk to 32 x 32)"


def pick_image(data, columns):
    """(image, caption): the image the page shows, chosen with widgets in five ``columns``.

    ``image`` is uint8 (32, 32, 3); ``columns`` hold the source switch, the split, the
    index, the class for "Random" and the button; for an upload the last four stay empty
    and the file uploader spans the page below them.
    """
    handed = st.session_state.pop("layers_upload", None)
    if handed is not None:
        st.session_state.update(upload=handed, source="upload")
    st.session_state.setdefault("source", "dataset")
    source = columns[0].segmented_control("Image from", ["dataset", "upload"], key="source",
                                          required=True)
    if source == "upload":
        return _uploaded_image()
    split = columns[1].segmented_control("Split", ["test", "train"], key="split", required=True,
                                         on_change=ui.url_state("split", "test",
                                                                options=["test", "train"]))
    split_images, labels = data.split(split)
    index = ui.url_number("Index", "index", len(split_images), container=columns[2])
    names = data.class_names
    wanted = columns[3].selectbox("Random from", range(-1, len(names)), key="class",
                                  format_func=lambda c: "any class" if c < 0 else names[c])
    columns[4].button("Random", icon=":material/shuffle:", on_click=_pick_random,
                      args=(labels, wanted))
    return split_images[index], f"{split} #{index}: {names[labels[index]]}"
