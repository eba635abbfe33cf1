"""The class leaderboard's sections, the teacher's box, and deleting a run (Train's too).

Student names are the students' own text: they appear only in ``st.dataframe`` cells and
``st.text``, never in Markdown (headings, captions, messages, button labels), so a name
such as ``**me**`` or ``<img ...>`` shows exactly as typed. The run chooser lists ranks and
run ids only. Who may delete or pin is ``training.permissions``' rule, checked again when
the button is pressed; this module keeps the tab's "unlocked" state (session state, so it
holds on every page of the tab, the Train page's delete included).
"""

import streamlit as st

from cifar_core.training import class_model, leaderboard, permissions, runs

#: Session-state keys: the tab's teacher state, the password field, the chosen run.
UNLOCKED_KEY = "teacher_unlocked"
PASSWORD_KEY = "teacher_password"
REFUSED_KEY = "teacher_refused"
CHOSEN_KEY = "leaderboard_run"


def is_teacher():
    """Whether this tab has entered the teacher's password (and one is still set)."""
    return permissions.counts_as_teacher(st.session_state.get(UNLOCKED_KEY, False))


# --- the board ---------------------------------------------------------------------------
def board(me):
    """Draw every run, best validation accuracy first; return the standings (a list of
    ``leaderboard.Standing``, empty when there is no run yet). ``me``: this tab's token."""
    runs.mark_interrupted()  # a run whose server was killed shows as interrupted
    places = leaderboard.standings(runs.list_runs())
    if not places:
        st.info("No runs yet. Runs started on the **Train** page (or with "
                "`python -m cifar_core train`) are listed here, best first.",
                icon=":material/info:")
        return places
    pinned = class_model.pinned_run()  # also unpins a run deleted by hand
    table = leaderboard.table(places, pinned_id=pinned.id if pinned else None, tab_token=me)
    percent = st.column_config.NumberColumn(format="%.1f %%")
    st.dataframe(table, hide_index=True, key="leaderboard_table", column_config={
        "rank": st.column_config.NumberColumn("rank", format="%d"),
        "student": st.column_config.TextColumn("student", help="The name typed on the Train "
                                               "page, shown exactly as typed"),
        "best validation %": percent, "test %": percent,
        "started": st.column_config.DatetimeColumn("started (UTC)", format="YYYY-MM-DD HH:mm"),
        "class model": st.column_config.CheckboxColumn("class model",
                                                       help="The run the teacher pinned"),
        "yours": st.column_config.CheckboxColumn("yours", help="Started in this browser tab"),
    })
    st.caption("Ranked by the best validation accuracy over each run's epochs; equal "
               "accuracies go to the run that started first. Runs with no finished epoch "
               "yet are listed last, without a rank.")
    return places


def class_model_section():
    """Which run is the class model, the student's name as plain text."""
    record = class_model.pinned_run()
    if record is None:
        st.caption("No class model yet: the teacher pins one run below, and Classify, Layers "
                   "and Evaluate then list it first.")
        return
    st.caption("The run the teacher pinned; Classify, Layers and Evaluate list it first:")
    st.text(_run_text(record))
    if not class_model.usable(record):
        st.warning("The class model is training again; the model choosers list it once "
                   "it has finished.", icon=":material/hourglass_top:")


def _run_text(record):
    """One line about a run for ``st.text`` (the name verbatim: never into Markdown)."""
    name = str(record.config.get("student") or "")
    return f"{name or '(no name)'} · run {record.id} · {record.state}"


# --- the teacher's box -------------------------------------------------------------------
def _unlock():
    """The Unlock button: check the typed password, then forget it (the field empties)."""
    typed = st.session_state.get(PASSWORD_KEY) or ""
    st.session_state[PASSWORD_KEY] = ""
    unlocked = permissions.check_password(typed)
    st.session_state[UNLOCKED_KEY] = unlocked
    st.session_state[REFUSED_KEY] = not unlocked


def _lock():
    st.session_state[UNLOCKED_KEY] = False
    st.session_state[REFUSED_KEY] = False


def teacher_box():
    """The password field in an expander; once it is right, this tab is the teacher's."""
    unlocked = is_teacher()
    with st.expander("Teacher", icon=":material/lock_open:" if unlocked else ":material/lock:",
                     expanded=bool(st.session_state.get(REFUSED_KEY))):
        if not permissions.teacher_password_set():
            st.markdown(f"This server has no teacher's password, so there is no teacher: "
                        f"each tab can delete only the runs it started, and nobody can pin "
                        f"a class model. Start the app with `{permissions.PASSWORD_VARIABLE}` "
                        f"set to turn the teacher's tools on.")
            return
        if unlocked:
            st.success("Unlocked in this tab: you can pin the class model and delete any "
                       "run (here and on the Train page).", icon=":material/lock_open:")
            st.button("Lock", key="teacher_lock", on_click=_lock, icon=":material/lock:")
            return
        with st.form("teacher_unlock", border=False):
            st.text_input("Teacher's password", type="password", key=PASSWORD_KEY,
                          help="The server's CIFAR_TEACHER_PASSWORD")
            st.form_submit_button("Unlock", on_click=_unlock, icon=":material/key:")
        if st.session_state.get(REFUSED_KEY):
            st.error("That is not the teacher's password.", icon=":material/block:")


# --- one run: pin, delete ----------------------------------------------------------------
def run_chooser(places):
    """A selectbox over the runs in board order (rank and run id: no names); the chosen
    run's RunRecord, or None until one is chosen."""
    by_id = {place.record.id: place for place in places}

    def describe(run_id):
        rank = by_id[run_id].rank
        return f"#{rank} · run {run_id}" if rank is not None else f"unranked · run {run_id}"

    chosen = st.selectbox("Run", list(by_id), index=None, key=CHOSEN_KEY,
                          format_func=describe, placeholder="Choose a run to pin or delete")
    if chosen is None:
        return None
    record = by_id[chosen].record
    st.text(_run_text(record))
    return record


def _pin(run_id):
    try:
        permissions.pin_class_model(run_id, is_teacher())
    except (ValueError, OSError) as error:  # NotAllowed is a ValueError
        st.toast(f"Not pinned: {error}", icon=":material/error:")


def _unpin():
    try:
        permissions.unpin_class_model(is_teacher())
    except (ValueError, OSError) as error:
        st.toast(f"Not unpinned: {error}", icon=":material/error:")


def pin_control(record):
    """Pin ``record`` as the class model, or unpin it: the teacher's buttons."""
    if not permissions.may_pin(is_teacher()):
        st.caption("Only the teacher can choose the class model (Teacher, above).")
        return
    if record.id == class_model.pinned_id():
        st.button("Unpin the class model", key="unpin_class_model", on_click=_unpin,
                  icon=":material/keep_off:")
    elif class_model.usable(record):
        st.button("Pin as the class model", key=f"pin_{record.id}", on_click=_pin,
                  args=(record.id,), type="primary", icon=":material/keep:")
    else:
        st.caption("Only a finished or stopped run with a saved model can be the class model.")


def _delete(run_id, me, after_delete):
    """The confirm button: delete if this tab (still) may; a refusal or a run gone
    meanwhile (another tab) is a message."""
    try:
        permissions.delete_run(run_id, me, is_teacher())
    except (ValueError, OSError) as error:  # NotAllowed is a ValueError
        st.toast(f"Run {run_id} was not deleted: {error}", icon=":material/error:")
    st.session_state.pop(f"confirm_delete_{run_id}", None)
    if after_delete is not None:
        after_delete()


def delete_control(record, me, *, container=None, after_delete=None):
    """"Delete this run" with a confirm toggle, for a tab that may delete ``record``.

    The Train page and the leaderboard share it: a tab may delete its own runs, the
    teacher (unlocked) any run; others are told why not. ``container`` is where to draw
    (a column; default the page), ``after_delete`` a callable run after the button.
    """
    container = st if container is None else container
    if record.state == "running":
        return  # stop it first; runs.delete_run refuses a running run
    reason = permissions.refusal(record, me, is_teacher())
    if reason is not None:
        container.caption(reason)
        return
    # Keyed by run, so a "Delete" switched on for one run is not still on for the next chosen.
    if container.toggle("Delete this run", key=f"confirm_delete_{record.id}"):
        container.button(f"Yes, delete run {record.id} for good", type="primary",
                         icon=":material/delete:", on_click=_delete,
                         args=(record.id, me, after_delete))
