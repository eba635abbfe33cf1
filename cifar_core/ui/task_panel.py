"""Background tasks on a page: one server-wide registry, a polled progress bar, Try again.

The Layers page (top-activating images) and the Evaluate page (test-set evaluation)
start seconds of work once per model file; whoever asks first starts it, everyone sees
its progress, and a failure offers "Try again" instead of a traceback (``background``).
"""

import streamlit as st

from cifar_core import background


@st.cache_resource(show_spinner=False)
def server_tasks():
    """The server's tasks; keys start with the kind of work, e.g. ("evaluation", ...)."""
    return background.TaskRegistry()


def task_result(task, *, progress_text, failure_text, retry_key):
    """The finished task's result, or None after drawing its progress or its failure.

    While it runs, a fragment polls it and reruns the page when it ends; a failed task
    shows ``failure_text`` with the error and a "Try again" button (``retry_key``).
    """
    snapshot = task.snapshot()
    if snapshot.state == "finished":
        return task.result
    if snapshot.state == "failed":
        st.error(f"{failure_text} {snapshot.error}", icon=":material/error:")
        st.button("Try again", icon=":material/refresh:", key=retry_key, on_click=task.start)
    else:
        _progress(task, progress_text)
    return None


@st.fragment(run_every=0.5)
def _progress(task, text):
    snapshot = task.snapshot()
    if snapshot.done:
        st.rerun(scope="app")
    st.progress(snapshot.fraction,
                text=f"{text}: {snapshot.completed:,} / {snapshot.total:,} images")
