"""The dataset for every page: loaded once per server, or the panel that says how to get it.

``dataset()`` returns the cached ``Cifar10``; where none is found it shows the three ways to
get CIFAR-10 (a path, the cache, a download started from the page) and stops the page.
The download runs once per server as a ``background.Task``, whoever pressed the button.
"""

import os
import threading

import streamlit as st

from cifar_core import background, data
from cifar_core.ui.runtime import use_app_navigation


@st.cache_resource(show_spinner=False)
def _dataset_holder(source_setting):
    """Server-wide slot for the dataset, shared read-only by every session.

    The load itself happens outside the cached function so it can draw a progress bar;
    ``source_setting`` ($CIFAR10_PATH) is the key, so a changed setting loads anew.
    """
    return {"lock": threading.Lock(), "dataset": None}


def dataset():
    """The cached dataset; where none can be found, the fix-it panel and ``st.stop()``."""
    use_app_navigation()
    holder = _dataset_holder(os.environ.get("CIFAR10_PATH", ""))
    if holder["dataset"] is not None:
        return holder["dataset"]
    bar = st.empty()

    def progress(stage, done, total):
        fraction = min(done / total, 1.0) if total else 0.0
        bar.progress(fraction, text=f"Preparing CIFAR-10 ({stage}): {done:,} of {total:,}")

    with holder["lock"]:
        try:
            if holder["dataset"] is None:
                holder["dataset"] = data.load_cifar10(progress=progress, download=False)
        except data.DatasetError as error:
            bar.empty()
            dataset_missing_panel(error)
            st.stop()
    bar.empty()
    return holder["dataset"]


def dataset_status():
    """(found, message) for the Home page, without loading anything."""
    use_app_navigation()
    try:
        path = data.find_cifar10()
    except data.DatasetError as error:
        return False, str(error)
    if path is None:
        return False, "CIFAR-10 was not found on this machine."
    return True, f"CIFAR-10 found at `{path}`."


@st.cache_resource(show_spinner=False)
def _downloads():
    """Server-wide: the download task, one for the whole server whoever starts it."""
    return {"lock": threading.Lock(), "task": None}


def _start_download():
    """One download for the whole server, however many users press the button; pressing
    it after a failed or finished download starts another (a finished one is only
    checked against its MD5 again)."""
    downloads = _downloads()
    with downloads["lock"]:
        task = downloads["task"]
        if task is None or task.snapshot().state == "finished":
            downloads["task"] = task = background.Task(
                lambda progress: data.download_cifar10(progress=progress), total=0,
                name="download")
        task.start()


def dataset_missing_panel(error):
    """The three ways to get CIFAR-10, shown instead of any page that needs it."""
    st.error(f"**CIFAR-10 could not be loaded.** {error}", icon=":material/error:")
    st.markdown(
        "Fix it one of three ways, then reload the page:\n"
        "1. **Point at a copy you have:** start the app with "
        "`CIFAR10_PATH=/path/to/cifar-10-python.tar.gz streamlit run app.py` "
        "(an extracted `cifar-10-batches-py` folder or the binary version work too).\n"
        f"2. **Put the archive in the cache:** copy `cifar-10-python.tar.gz` into "
        f"`{data.cache_dir()}` (or use the Keras cache, `~/.keras/datasets`).\n"
        "3. **Download it** (163 MB from the University of Toronto, checked against its "
        "official checksum)."
    )
    if os.environ.get("CIFAR10_PATH"):
        st.info("`CIFAR10_PATH` is set, so the app looks only there: fix the path, or "
                "start the app without it to use the cache or a download.")
        return
    st.button("Download CIFAR-10", icon=":material/download:", key="download_cifar10",
              on_click=_start_download)
    task = _downloads()["task"]
    snapshot = None if task is None else task.snapshot()
    if snapshot is not None and snapshot.state == "failed":
        reason = snapshot.error.split(": ", 1)[-1]  # without the error's type
        st.error(f"Download failed: {reason}")
    elif snapshot is not None and snapshot.state == "running":
        _download_progress(task)


@st.fragment(run_every=1.0)
def _download_progress(task):
    """Polls the download; when it ends, reruns the whole page, which then loads the data."""
    snapshot = task.snapshot()
    if snapshot.done:
        st.rerun(scope="app")
    total = snapshot.total
    st.progress(snapshot.fraction, text=f"Downloading: {snapshot.completed / 1e6:.1f} MB"
                + (f" of {total / 1e6:.1f} MB" if total else ""))
