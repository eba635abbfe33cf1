"""How the app runs under Streamlit: through app.py's navigation, with Keras state kept.

Two Streamlit behaviours we work around (docs/architecture.md): a deep link as the
server's first request would run a page file alone, without app.py; and once Keras is
imported, Streamlit would clear its session after every script run. Importing this
module (``cifar_core.ui`` does) applies the second fix; pages call ``use_app_navigation``
through the loaders every page starts with.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


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
