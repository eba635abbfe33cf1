"""Train: continue the run chosen in the Run history: resume a stopped or interrupted run
from its last checkpoint, or train a finished one for more epochs.

The buttons submit through the server's ``JobRegistry`` (its queue), so a resumed run
waits its turn like any new one; the run's folder, curves and files continue in place
(``recording.train_run``). Which runs can continue, and why not, is ``checkpoints``';
who may continue one (the tab that started it, or the teacher) is ``permissions``' rule
for changing a run, checked again when the button is pressed. A run that a resume already
waits for, starts or trains (``registry.resuming``) shows no buttons: no double start.
"""

import streamlit as st

from cifar_core import ui
from cifar_core.training import checkpoints, job_registry, permissions, runs, train_config
from cifar_core.ui import leaderboard_panel

#: The "More epochs" field starts here.
DEFAULT_MORE_EPOCHS = 2
#: Most epochs the field offers at once (``checkpoints.MAX_MORE_EPOCHS`` is the hard limit).
MOST_MORE_EPOCHS = 100


def _submit(record, more_epochs, registry, data, me):
    """Queue the continuation of ``record``; then show it as this tab's current run."""
    current = runs.read_run(record.path)  # as it is now: deleted, pinned meanwhile?
    if current is None:
        st.error(f"Run {record.id} no longer exists.", icon=":material/error:")
        return
    reason = permissions.continue_refusal(current, me, leaderboard_panel.is_teacher())
    if reason is not None:
        st.error(reason, icon=":material/lock:")
        return
    try:
        config = train_config.TrainConfig.from_dict(record.config)
        [job_id] = registry.submit(config, data, owner=me,
                                   resume={"run": record.id, "more_epochs": more_epochs})
    except job_registry.TrainerBusy as busy:  # QueueFull, or AlreadyResuming (another tab)
        st.warning(str(busy), icon=":material/hourglass_top:")
        return
    except ValueError as error:  # the run changed meanwhile (another tab resumed it)
        st.error(str(error), icon=":material/error:")
        return
    st.session_state.train_job = job_id
    ui.set_query(job=job_id)
    st.rerun()


def resume_section(record, registry, data, me):
    """Resume or "train more" controls for ``record`` (a ``runs.RunRecord``), or a line on
    why it cannot continue. ``me`` is this tab's id: it owns the job it submits."""
    if record.state == "running":
        return
    if any((entry.resume or {}).get("run") == record.id for entry in registry.queue()):
        st.info("This run waits in the queue to continue (see the queue above).",
                icon=":material/hourglass_top:")
        return
    if registry.resuming(record.id):  # its job is starting (TensorFlow loads) or training
        st.info("A resume of this run is already queued or training.",
                icon=":material/hourglass_top:")
        return
    continuable = checkpoints.can_resume(record) or checkpoints.can_train_more(record)
    reason = permissions.continue_refusal(record, me, leaderboard_panel.is_teacher())
    if continuable and reason is not None:
        st.caption(reason)
        return
    if checkpoints.can_resume(record):
        st.info(checkpoints.resume_summary(record), icon=":material/restart_alt:")
        if st.button("Resume training", key=f"resume_{record.id}", icon=":material/play_arrow:",
                     help="Continues this run in place: same folder, its curves go on."):
            _submit(record, 0, registry, data, me)
        return
    if checkpoints.can_train_more(record):
        epochs = record.config.get("epochs")
        field, button = st.columns([1, 2], vertical_alignment="bottom")
        more = field.number_input(
            "More epochs", min_value=1, max_value=MOST_MORE_EPOCHS, value=DEFAULT_MORE_EPOCHS,
            step=1, key=f"more_epochs_{record.id}",
            help=f"Trains this finished run further, from its weights after epoch {epochs}. "
                 "With a warmup-cosine schedule the extra epochs follow a fresh, shorter "
                 "cosine that starts at a quarter of the peak learning rate.")
        if button.button(f"Train {int(more)} more epochs", key=f"train_more_{record.id}",
                         icon=":material/add_circle:"):
            _submit(record, int(more), registry, data, me)
        return
    problem = checkpoints.resume_problem(record, 1 if record.state == "finished" else 0)
    if problem is not None:
        st.caption(f"Cannot continue: {problem}")
