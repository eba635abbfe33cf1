"""The Models page's "Bring your own model": upload a .keras or .h5 file, import it.

The file is saved to a private temporary folder (``model_uploads``), then imported in a
server-wide background task with a progress bar and a Stop button: loading it and scoring
its input scalings on test images takes seconds. A refused file gets one message naming
the file and the reason, and nothing is listed; an accepted one appears in every model
chooser at once (the catalogue is read on every run).
"""

import streamlit as st

from cifar_core.models import import_tasks, model_uploads
from cifar_core.ui import task_panel
from cifar_core.ui.url_state import set_query

#: Streamlit's per-widget cap for this uploader, in MB (image uploaders keep 10 MB).
UPLOAD_LIMIT_MB = model_uploads.MAX_MODEL_BYTES // 2**20


def dataset_if_present():
    """The server's dataset where CIFAR-10 is on this machine, else None (no panel, no stop):
    the import then assumes 0-1 inputs and says so."""
    from cifar_core import ui

    found, _ = ui.dataset_status()
    return ui.dataset() if found else None


def _start_import():
    """Button callback: save the upload, start its import task, remember it for this tab."""
    st.session_state.pop("model_upload_error", None)
    upload = st.session_state.get("model_upload")
    name = st.session_state.get("model_upload_name") or ""
    if upload is None:
        st.session_state["model_upload_error"] = "Choose a .keras or .h5 file first."
        return
    upload.seek(0)
    try:
        path = model_uploads.save_upload(upload, upload.name, upload.size)
    except model_uploads.UploadError as error:
        st.session_state["model_upload_error"] = str(error)
        return
    key = ("import", upload.file_id)
    dataset = dataset_if_present()
    task_panel.server_tasks().start(key, lambda: import_tasks.import_task(
        path, name.strip() or None, dataset=dataset, original_name=upload.name))
    st.session_state["model_import_key"] = key
    st.session_state["model_import_without_data"] = dataset is None


def _reason(error):
    """"ModelError: x.h5: a Lambda layer ..." -> "x.h5: a Lambda layer ..." (one message)."""
    kind, separator, message = (error or "").partition(": ")
    return message if separator and kind.isidentifier() else (error or "unknown error")


def _show_import(key, task):
    """The running import's progress, or what came of it (the new model shown below)."""
    snapshot = task.snapshot()
    if snapshot.state == "failed":
        st.error(f"Not imported. {_reason(snapshot.error)}", icon=":material/error:")
        return
    if snapshot.state == "stopped":
        st.info("The import was stopped; nothing was added.", icon=":material/stop_circle:")
        return
    entry = task_panel.task_result(task, progress_text="Importing and checking the model",
                                   failure_text="Not imported.", retry_key="import_retry",
                                   unit="steps")
    if entry is None:
        return
    if st.session_state.get("model_import_listed") != key:
        # The catalogue above was read before the import ended: read it again, and show
        # the new model up close.
        st.session_state["model_import_listed"] = key
        set_query(model=entry.key)
        st.rerun()
    st.success(f"Imported **{entry.key}**: it is now in every model chooser.",
               icon=":material/check_circle:")
    if st.session_state.get("model_import_without_data"):
        st.warning("CIFAR-10 is not on this machine, so its input scaling could not be "
                   "checked: pixels / 255 (0-1) was assumed. Change it below if needed.",
                   icon=":material/warning:")


def upload_section():
    """The uploader, an optional name, the Import button, and the import's state."""
    st.header("Bring your own model")
    st.markdown(
        "A Keras image classifier for CIFAR-10: a `.keras` file (Keras 3) or a legacy `.h5` "
        "file, one input of 32 x 32 x 3 and ten outputs in CIFAR-10's order (softmax or "
        "logits). Its input scaling (0-255, 0-1, -1..1 or standardised) is found by "
        f"scoring each on test images. Up to {UPLOAD_LIMIT_MB} MB; the file is kept "
        "as it is, and files that would run code are refused without running it.")
    upload = st.file_uploader("Model file (.keras or .h5)", type=model_uploads.UPLOAD_TYPES,
                              key="model_upload", max_upload_size=UPLOAD_LIMIT_MB)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.text_input("Name in the app (optional)", key="model_upload_name",
                    placeholder="from the file name",
                    help="Letters, digits, - and _; made unique if taken.")
    right.button("Import", icon=":material/upload:", key="model_import", type="primary",
                 on_click=_start_import, disabled=upload is None)
    if "model_upload_error" in st.session_state:
        st.error(f"Not imported. {st.session_state['model_upload_error']}",
                 icon=":material/error:")
    key = st.session_state.get("model_import_key")
    task = None if key is None else task_panel.server_tasks().get(key)
    if task is not None:
        _show_import(key, task)
