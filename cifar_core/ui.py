"""Streamlit helpers the pages share: cached loaders, the model picker, URL state.

Keras is imported only inside the model loader, so pages that show no model (Home,
Dataset) never pay for TensorFlow.
"""

import os
import threading
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from cifar_core import catalog, data


def use_app_navigation():
    """Make a deep link (e.g. /dataset as the server's first request) go through app.py.

    Streamlit treats an app with a ``pages/`` folder as an old-style multipage app until
    ``st.navigation`` first runs, and in that mode it runs a linked page's file alone,
    without app.py's page setup and menu. Switching the mode off and rerunning sends the
    run through app.py's ``st.navigation``. Called by the helpers every page starts with.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def _keep_keras_state_between_runs():
    """Stop Streamlit calling ``keras.backend.clear_session()`` after every script run.

    Once Keras is imported, Streamlit's script runner does that after each run of every
    session (``script_runner._clean_problem_modules``): a full garbage collection that
    costs 0.5-1.5 s of CPU per click with TensorFlow loaded (bench/bench_evaluate.py), and
    a reset of Keras' global state under running training threads. Our models live in
    ``st.cache_resource`` and need no clearing; we do not use pyplot, its other clean-up.
    """
    from streamlit.runtime.scriptrunner import script_runner

    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = lambda: None


_keep_keras_state_between_runs()


# --- URL query string ---------------------------------------------------------------

def query_value(name, default, *, options=None, cast=str):
    """A query-string value parsed with ``cast``; anything malformed gives ``default``.

    A shared link with a typo must show a sensible view, never a traceback.
    """
    raw = st.query_params.get(name)
    if raw is None:
        return default
    try:
        value = cast(raw)
    except (TypeError, ValueError):
        return default
    if options is not None and value not in options:
        return default
    return value


def set_query(**values):
    """Write values into the query string (None removes a key)."""
    for name, value in values.items():
        if value is None:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get(name) != str(value):
            st.query_params[name] = str(value)


def _store_in_query(key, to_text):
    set_query(**{key: to_text(st.session_state[key])})


def url_state(key, default, *, options=None, cast=str, to_text=str):
    """Tie the widget with ``key`` to the query parameter of the same name.

    Returns the ``on_change`` callback to give the widget. The URL wins when it names a
    value the widget does not hold (someone followed a shared link); otherwise the
    widget's value stands and every change is written back to the URL.
    """
    wanted = query_value(key, default, options=options, cast=cast)
    stale = options is not None and st.session_state.get(key) not in options
    if key not in st.session_state or stale or (
            key in st.query_params and st.session_state[key] != wanted):
        st.session_state[key] = wanted
    set_query(**{key: to_text(st.session_state[key])})
    return lambda: _store_in_query(key, to_text)


def url_number(label, key, count, default=0, container=st):
    """A number input 0..count-1 kept in the URL under ``key``; the label shows the range."""
    on_change = url_state(key, min(default, count - 1), options=range(count), cast=int)
    return int(container.number_input(f"{label} (0-{count - 1})", 0, count - 1, step=1, key=key,
                                      on_change=on_change))


def show_picture(container, picture, caption):
    """One NumPy picture as a lossless PNG: st.image's "auto" would send JPEG, which
    smears the one-pixel gaps and colours of mosaics and filters."""
    from cifar_core import pictures  # Pillow is imported by the pages that draw, not at start-up.

    container.image(pictures.png_bytes(picture), caption=caption, output_format="PNG")


# --- dataset --------------------------------------------------------------------------

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
    """Server-wide download state: one download at a time, whoever started it."""
    return {"lock": threading.Lock(), "thread": None, "done": 0, "total": 0, "error": None}


def _start_download():
    """One download for the whole server, however many users press the button."""
    downloads = _downloads()
    with downloads["lock"]:
        thread = downloads["thread"]
        if thread is None or not thread.is_alive():
            downloads.update(done=0, total=0, error=None)
            downloads["thread"] = threading.Thread(
                target=_download_worker, args=(downloads,), daemon=True)
            downloads["thread"].start()


def _download_worker(state):
    def progress(stage, done, total):
        state["done"], state["total"] = done, total

    try:
        data.download_cifar10(progress=progress)
    except (data.DatasetError, OSError) as error:
        state["error"] = str(error)


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
    downloads = _downloads()
    st.button("Download CIFAR-10", icon=":material/download:", key="download_cifar10",
              on_click=_start_download)
    thread = downloads["thread"]
    if downloads["error"]:
        st.error(f"Download failed: {downloads['error']}")
    elif thread is not None and thread.is_alive():
        _download_progress()


@st.fragment(run_every=1.0)
def _download_progress():
    """Polls the download; when it ends, reruns the whole page, which then loads the data."""
    downloads = _downloads()
    if downloads["thread"].is_alive():
        total = downloads["total"]
        fraction = downloads["done"] / total if total else 0.0
        st.progress(fraction, text=f"Downloading: {downloads['done'] / 1e6:.1f} MB"
                    + (f" of {total / 1e6:.1f} MB" if total else ""))
    else:
        st.rerun(scope="app")


# --- models ---------------------------------------------------------------------------

@st.cache_resource(show_spinner="Loading the model...", max_entries=8)
def _load_model(path, modification_time):
    from cifar_core import models  # TensorFlow is imported here, on first use only.

    return models.load_model(path)


def model(path):
    """The loaded Keras model at ``path``, cached until the file changes."""
    path = Path(path)
    return _load_model(str(path), path.stat().st_mtime_ns)


def model_picker(label="Model", *, key="model"):
    """A selectbox over every available model, kept in the query string under ``key``.

    Where no model exists yet, explains how to get one and stops the page.
    """
    use_app_navigation()
    entries = catalog.available_models()
    if not entries:
        st.info("No trained model is available yet. Train one on the **Train** page, or "
                "run `python -m cifar_core train --preset demo`.", icon=":material/info:")
        st.stop()
    keys = [entry.key for entry in entries]
    by_key = {entry.key: entry for entry in entries}
    on_change = url_state(key, keys[0], options=keys)
    chosen = st.selectbox(label, keys, key=key, format_func=lambda k: by_key[k].label,
                          on_change=on_change)
    return by_key[chosen]
