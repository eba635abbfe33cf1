"""The Train page's current run: the queue it waits in, then its progress, curves and Stop.

A Streamlit component like ``task_panel``: the server's one ``JobRegistry`` (its queue
feeds the training slots of all sessions) and the panel of one run, which a fragment
redraws every two seconds: while the run waits, its place in line, the estimated start and
Cancel; once it trains (same id, same ``?job=`` link), progress, live curves and Stop; when
it ends, the whole page reruns. Names students typed are shown as plain text only.
"""

import pandas as pd
import streamlit as st

from cifar_core.display import plots, text
from cifar_core.training import backends, job_registry, jobs, recipes
from cifar_core.ui import shared_cache, tab_identity

#: Seconds between redraws of a waiting or training run: every tab of a class polls, so
#: each poll costs the server (bench/bench_classroom.py); an epoch takes tens of seconds.
POLL_SECONDS = 2.0


@st.cache_resource(show_spinner=False)
def server_jobs():
    """One registry per server, shared by every session; runs train where ``backends``
    says (in a child process, or on a Ray cluster when ``$CIFAR_RAY_ADDRESS`` is set)."""
    return job_registry.JobRegistry(job_factory=backends.job_factory())


def _label_line(config):
    """The model and recipe of a config, for the panel's first line (no user text)."""
    return f"**{config.model}** model · {recipes.recipe_of(config.to_dict())} recipe"


def _student(config):
    if config.student:
        st.text(f"Student: {config.student}")  # typed by a student: plain text, never markdown


def show_job(job_id, named, me):
    """Progress, live curves and the Stop button of one job; True once it is done.

    ``me`` is this browser tab's id. Only a tab that ``named`` the job (it started it, or
    its URL names it) may take it over from a tab that went quiet; any other tab watches.
    """
    registry = server_jobs()
    job = registry.get(job_id)
    # controls() also tells the registry that this tab still watches.
    mine = registry.controls(job_id, me, owner_connected=tab_identity.tab_connected) if named \
        else registry.owner(job_id) == me
    snapshot = job.snapshot()
    run_name = snapshot.run_dir.rsplit("/", 1)[-1] if snapshot.run_dir else "starting"
    st.markdown(f"{_label_line(snapshot.config)} · run `{run_name}`")
    _student(snapshot.config)
    st.progress(snapshot.fraction, text=jobs.progress_text(snapshot))
    if snapshot.training or snapshot.validation:
        # Built once per server for each new point: every watching tab draws the same curves.
        st.plotly_chart(shared_cache.figure(plots.training_curves_figure,
                                            jobs.curves_frame(snapshot)), key="live")
    if not snapshot.done:
        if mine:
            st.button("Stop (keeps the model trained so far)", icon=":material/stop_circle:",
                      on_click=job.stop, disabled=job.stop_requested, key="stop")
        else:
            st.info("Someone else started this run: you are watching it.",
                    icon=":material/visibility:")
    elif snapshot.state == "failed":
        st.error("The run failed:", icon=":material/error:")
        st.code(snapshot.error, language=None, wrap_lines=True)  # as written, not Markdown
    else:
        st.success(f"Run {snapshot.state}: its model is saved, listed below and offered by "
                   "the other pages.", icon=":material/check_circle:")
    return snapshot.done


def waiting_text(place, seconds):
    """"Queued: number 2 in line, starts in about 3 min 10 s" (or an unknown start)."""
    if seconds is None:
        when = "start time unknown (a run ahead has no time estimate yet)"
    elif seconds < 1:
        when = "starts in a moment"
    else:
        when = f"starts in about {text.duration_text(seconds)}"
    return f"Queued: number {place} in line, {when}."


def cancel(entry_id, me):
    """Cancel a waiting run of this tab (a button's callback); it is no longer this tab's run."""
    try:
        if not server_jobs().cancel(entry_id, me):
            st.toast("That run had already started or was gone.", icon=":material/info:")
    except ValueError as error:
        st.toast(str(error), icon=":material/error:")
    if st.session_state.get("train_job") == entry_id:
        del st.session_state["train_job"]
        if st.query_params.get("job") == entry_id:
            del st.query_params["job"]


def show_queued(entry_id, named, me):
    """A waiting run: its place in line, the estimated start, and Cancel for its tab."""
    registry = server_jobs()
    entry = registry.queued(entry_id)
    mine = registry.controls(entry_id, me, owner_connected=tab_identity.tab_connected) \
        if named else registry.owner(entry_id) == me
    st.markdown(_label_line(entry.config))
    _student(entry.config)
    place, seconds = registry.position(entry_id) or (None, None)
    if place is None:  # Its job is being made (or it was cancelled): the next poll shows it.
        st.progress(0.0, text="Starting: its turn has come...")
        return
    st.info(waiting_text(place, seconds) + " This panel turns into the live run when its "
            "turn comes; leaving the page does not lose its place.",
            icon=":material/hourglass_top:")
    if mine:
        st.button("Cancel (take it out of the queue)", icon=":material/cancel:", key="cancel",
                  on_click=cancel, args=(entry_id, me))
    else:
        st.caption("Another tab queued this run: you are watching it.")


def queue_table(registry, me):
    """The queue as the page shows it: place, model, recipe, student, epochs, whose."""
    rows = [{"place": place, "model": entry.config.model,
             "recipe": recipes.recipe_of(entry.config.to_dict()),
             "student": entry.config.student, "epochs": entry.config.epochs,
             "yours": "yes" if registry.owner(entry.id) == me else ""}
            for place, entry in enumerate(registry.queue(), start=1)]
    return pd.DataFrame(rows, columns=["place", "model", "recipe", "student", "epochs", "yours"])


def _training_now(registry):
    """" Training now: the tiny model (demo recipe), epoch 12 of 40." for the runs holding
    the slots, so a tab whose own run waits still sees what it waits for (no user text)."""
    snapshots = [job.snapshot() for job in registry.running()]
    described = [f"the {snapshot.config.model} model "
                 f"({recipes.recipe_of(snapshot.config.to_dict())} recipe), "
                 f"epoch {max(snapshot.epoch, 1)} of {snapshot.epochs}" for snapshot in snapshots]
    return f" Training now: {'; '.join(described)}." if described else ""


def queue_section(me, shown=None, header=st.subheader):
    """The runs waiting for a slot (never their tabs' tokens), with Cancel for this tab's own.

    ``shown`` is the run the panel above already offers to cancel; ``header`` draws the
    section's heading (``st.header`` where no "Current run" heading comes before it).
    """
    registry = server_jobs()
    entries = registry.queue()
    if not entries:
        return
    header("Queue")
    st.caption(f"{len(entries)} run{'s' * (len(entries) != 1)} waiting for "
               f"{'a training slot' if registry.max_jobs == 1 else 'training slots'}, "
               "first come, first served." + _training_now(registry))
    st.dataframe(queue_table(registry, me), hide_index=True, key="queue_table")
    for place, entry in enumerate(entries, start=1):
        if entry.id != shown and registry.owner(entry.id) == me:
            st.button(f"Cancel number {place} ({entry.config.model}, "
                      f"{recipes.recipe_of(entry.config.to_dict())})",
                      icon=":material/cancel:", key=f"cancel_{entry.id}",
                      on_click=cancel, args=(entry.id, me))


def _draw(job_id, named, me):
    """The run's panel and the queue; True when the whole page should rerun."""
    registry = server_jobs()
    if registry.queued(job_id) is not None:
        show_queued(job_id, named, me)
        done = False
    elif registry.get(job_id) is not None:
        done = show_job(job_id, named, me)
    else:
        return True  # Cancelled (here or by a refreshed tab of its owner)
    queue_section(me, shown=job_id)
    return done


@st.fragment(run_every=POLL_SECONDS)
def _live_job(job_id, named, me):
    if _draw(job_id, named, me):
        st.rerun()  # The whole page: the history gains the run and polling stops.


def job_section(job_id, named, me):
    """The run's panel: polled every second while it waits or trains, drawn once when done."""
    registry = server_jobs()
    job = registry.get(job_id)
    if job is not None and job.snapshot().done:
        show_job(job_id, named, me)
        queue_section(me)
    else:
        _live_job(job_id, named, me)
