"""Choosing and loading a model on a page: one selectbox over the catalogue, models cached.

Shipped models, training runs and imported files (loaded wrapped, ``importing``) alike.

Keras is imported only inside the loader, on first use, so pages that show no model
(Home, Dataset) never pay for TensorFlow.
"""

from pathlib import Path

import streamlit as st

from cifar_core.models import catalog
from cifar_core.ui.runtime import use_app_navigation
from cifar_core.ui.url_state import url_state


@st.cache_resource(show_spinner="Loading the model...", max_entries=8)
def _load_model(path, modification_time, card_modification_time=None):
    # The times are the cache key only. TensorFlow is imported here, on first use only.
    from cifar_core.models import importing

    return importing.load_any(path)  # an imported file wrapped as its card says


def model(path):
    """The loaded Keras model at ``path``, cached once per server until the file changes.

    An imported model (a file under the models folder's ``imported/`` with its card) is
    loaded wrapped into the app's layout; its cache key includes the card's time too, so
    a new input scaling chosen on the Models page takes effect at once.
    """
    path = Path(path)
    card = path.with_suffix(".json")
    card_time = card.stat().st_mtime_ns \
        if path.parent.name == catalog.IMPORTED_FOLDER and card.is_file() else None
    return _load_model(str(path), path.stat().st_mtime_ns, card_time)


def model_picker(label="Model", *, key="model", default=None):
    """A selectbox over every available model, kept in the query string under ``key``.

    It starts on the model named ``default`` where that one exists (the Layers page opens
    on ``seed``, whose 3 x 3 ReLU convolutions the page explains best), else on the first.
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
    on_change = url_state(key, default if default in by_key else keys[0], options=keys)
    chosen = st.selectbox(label, keys, key=key, format_func=lambda k: by_key[k].label,
                          on_change=on_change)
    return by_key[chosen]
