"""Background tasks on a page: one server-wide registry, a polled progress bar, Try again.

The Layers page (top-activating images) and the Evaluate page (test-set evaluation)
start seconds of work once per model file; whoever asks first starts it, everyone sees
its progress (with a Stop button), and a failure offers "Try again" instead of a traceback
(``background``). A stopped task says so and offers to start again.
"""

import streamlit as st

from cifar_core import background


@st.cache_resource(show_spinner=False)
def server_tasks():
    """The server's tasks; keys start with the kind of work, e.g. ("evaluation", ...)."""
    return background.TaskRegistry()


def task_result(task, *, progress_text, failure_text, retry_key, unit="images"):
    """The finished task's result, or None after drawing its progress or its failure.

    While it runs, a fragment polls it (``completed / total unit``) beside a Stop button
    and reruns the page when it ends; a failed task shows ``failure_text`` with the error
    and a "Try again" button (``retry_key``); a stopped one, a "Start again" button.
    """
    snapshot = task.snapshot()
    if snapshot.state == "finished":
        return task.result
    if snapshot.state == "failed":
        st.error(f"{failure_text} {snapshot.error}", icon=":material/error:")
        st.button("Try again", icon=":material/refresh:", key=retry_key, on_click=task.start)
    elif snapshot.state == "stopped":
        st.info(f"{progress_text}: stopped at {snapshot.completed:,} of {snapshot.total:,} "
                f"{unit}.", icon=":material/stop_circle:")
        st.button("Start again", icon=":material/play_arrow:", key=retry_key,
                  on_click=task.start)
    else:
        _progress(task, progress_text, unit, f"{retry_key}_stop")
    return None


@st.fragment(run_every=0.5)
def _progress(task, text, unit, stop_key):
    snapshot = task.snapshot()
    if snapshot.done:
        st.rerun(scope="app")
    bar, stop = st.columns([5, 1], vertical_alignment="bottom")
    bar.progress(snapshot.fraction,
                 text=f"{text}: {snapshot.completed:,} / {snapshot.total:,} {unit}")
    stop.button("Stop", icon=":material/stop:", key=stop_key, on_click=task.stop)
