"""The Train page's current run: progress, live curves and Stop, polled while it trains.

A Streamlit component like ``task_panel``: the server's one ``JobRegistry`` (its
semaphore limits training jobs across all sessions) and the panel of one job, which a
fragment redraws every second until the job ends and then reruns the whole page.
"""

import streamlit as st

from cifar_core.display import plots
from cifar_core.training import job_registry, jobs, recipes


@st.cache_resource(show_spinner=False)
def server_jobs():
    """One registry per server, shared by every session."""
    return job_registry.JobRegistry()


def show_job(job_id, named, me):
    """Progress, live curves and the Stop button of one job; True once it is done.

    ``me`` is this browser tab's id. Only a tab that ``named`` the job (it started it, or
    its URL names it) may take it over from a tab that went quiet; any other tab watches.
    """
    registry = server_jobs()
    job = registry.get(job_id)
    # controls() also tells the registry that this tab still watches.
    mine = registry.controls(job_id, me) if named else registry.owner(job_id) == me
    snapshot = job.snapshot()
    run_name = snapshot.run_dir.rsplit("/", 1)[-1] if snapshot.run_dir else "starting"
    st.markdown(f"**{snapshot.config.model}** model · "
                f"{recipes.recipe_of(snapshot.config.to_dict())}"
                f" recipe · run `{run_name}`")
    st.progress(snapshot.fraction, text=jobs.progress_text(snapshot))
    if snapshot.training or snapshot.validation:
        st.plotly_chart(plots.training_curves_figure(jobs.curves_frame(snapshot)), key="live")
    if not snapshot.done:
        if mine:
            st.button("Stop (keeps the model trained so far)", icon=":material/stop_circle:",
                      on_click=job.stop, disabled=job.stop_requested, key="stop")
        else:
            st.info("Someone else started this run: you are watching it.",
                    icon=":material/visibility:")
    elif snapshot.state == "failed":
        st.error(f"The run failed: {snapshot.error}", icon=":material/error:")
    else:
        st.success(f"Run {snapshot.state}: its model is saved, listed below and offered by "
                   "the other pages.", icon=":material/check_circle:")
    return snapshot.done


@st.fragment(run_every=1.0)
def _live_job(job_id, named, me):
    if show_job(job_id, named, me):
        st.rerun()  # The whole page: the history gains the run and polling stops.


def job_section(job_id, named, me):
    """The job's panel: polled every second while it runs, drawn once when it is done."""
    done = server_jobs().get(job_id).snapshot().done
    (show_job if done else _live_job)(job_id, named, me)
