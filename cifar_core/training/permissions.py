"""Who may change a run (delete it, resume it, train it more) or pin the class model: a
tab its own runs, the teacher any.

The classroom has no accounts. A run belongs to the browser tab that started it (its
``owner`` token in status.json, ``ui.tab_id()``); a tab may delete or continue only its own
runs. A teacher is whoever types ``$CIFAR_TEACHER_PASSWORD`` (compared in constant time): with it
set and entered, any run may be deleted and one run pinned as the class model
(``class_model``), which then only the teacher may delete, even its student. Without a
password set, nobody is the teacher: no pins, own runs only.
Files and the environment only: no TensorFlow, no Streamlit (``ui.leaderboard_panel``
keeps a tab's "unlocked" state).
"""

import hmac
import os

from cifar_core.training import class_model, runs

#: The environment variable holding the teacher's password (unset or empty: no teacher).
PASSWORD_VARIABLE = "CIFAR_TEACHER_PASSWORD"


class NotAllowed(ValueError):
    """An action this tab may not take; the message says why, in a student's words."""


def teacher_password_set():
    """Whether the server has a teacher's password (a non-empty ``$CIFAR_TEACHER_PASSWORD``)."""
    return bool(os.environ.get(PASSWORD_VARIABLE))


def check_password(typed):
    """Whether ``typed`` is the teacher's password; always False where none is set.

    Compared with ``hmac.compare_digest`` on UTF-8 bytes, so the time taken says nothing
    about how much of a guess was right. ``typed`` must be text (ValueError otherwise).
    """
    if not isinstance(typed, str):
        raise ValueError(f"a password is text, not {type(typed).__name__}")
    password = os.environ.get(PASSWORD_VARIABLE) or ""
    if not password:
        return False
    return hmac.compare_digest(typed.encode("utf-8"), password.encode("utf-8"))


def counts_as_teacher(unlocked):
    """Whether a tab that says it is ``unlocked`` counts as the teacher: only while a
    password is set (a server restarted without one takes the teacher's rights away)."""
    return bool(unlocked) and teacher_password_set()


def owns(record, tab_token):
    """Whether the tab ``tab_token`` started ``record`` (command-line runs have no owner)."""
    owner = record.owner
    if not owner or not tab_token:
        return False
    return hmac.compare_digest(str(owner).encode("utf-8"), str(tab_token).encode("utf-8"))


def is_class_model(record):
    """Whether ``record`` is the pinned class model (the pin beside it in its runs folder)."""
    return class_model.pinned_id(record.path.parent) == record.id


def may_change(record, tab_token, is_teacher):
    """Whether the tab ``tab_token`` may change run ``record`` (a ``runs.RunRecord``):
    delete it, resume it or train it more.

    The teacher (``is_teacher`` true while a password is set) may change any run; anyone
    else only the runs their tab started, except the class model the teacher pinned. Whether
    the run can be deleted or continued now (not while it trains) is another question.
    """
    if counts_as_teacher(is_teacher):
        return True
    if teacher_password_set() and is_class_model(record):
        return False  # only the teacher changes the class model
    return owns(record, tab_token)


def may_delete(record, tab_token, is_teacher):
    """Whether the tab ``tab_token`` may delete run ``record``: ``may_change``'s rule."""
    return may_change(record, tab_token, is_teacher)


def may_pin(is_teacher):
    """Whether a tab may pin or unpin the class model: the teacher only."""
    return counts_as_teacher(is_teacher)


def _refusal(record, tab_token, is_teacher, verb):
    """Why this tab may not ``verb`` ("delete", "continue") ``record``, or None when it may."""
    if may_change(record, tab_token, is_teacher):
        return None
    if teacher_password_set() and is_class_model(record):
        return f"This run is the class model: only the teacher can {verb} it."
    if teacher_password_set():
        return f"Only the tab that started this run, or the teacher, can {verb} it."
    return (f"Only the tab that started this run can {verb} it (the server has no teacher's "
            f"password: set {PASSWORD_VARIABLE} to let a teacher {verb} any run).")


def refusal(record, tab_token, is_teacher):
    """Why this tab may not delete ``record`` (a sentence), or None when it may."""
    return _refusal(record, tab_token, is_teacher, "delete")


def continue_refusal(record, tab_token, is_teacher):
    """Why this tab may not resume ``record`` or train it more (a sentence), or None."""
    return _refusal(record, tab_token, is_teacher, "continue")


def delete_run(run_id, tab_token, is_teacher, runs_directory=None):
    """Delete run ``run_id`` if this tab may, and unpin it if it was the class model.

    The permission is checked here, at the moment of deleting, not when the button was
    drawn. ``NotAllowed`` says why a tab may not; ValueError (from ``runs.delete_run``)
    covers a run already gone or training again.
    """
    directory = runs.runs_dir(runs_directory)
    class_model.check_run_id(run_id)
    record = runs.read_run(directory / run_id)
    if record is None:
        raise ValueError(f"no run {run_id!r} in {directory}")
    reason = refusal(record, tab_token, is_teacher)
    if reason is not None:
        raise NotAllowed(reason)
    runs.delete_run(run_id, directory)
    class_model.forget(run_id, directory)


def pin_class_model(run_id, is_teacher, runs_directory=None):
    """Pin ``run_id`` as the class model, for the teacher only (``NotAllowed`` otherwise)."""
    if not may_pin(is_teacher):
        raise NotAllowed("Only the teacher can choose the class model.")
    return class_model.pin(run_id, runs_directory)


def unpin_class_model(is_teacher, runs_directory=None):
    """Unpin the class model, for the teacher only (``NotAllowed`` otherwise)."""
    if not may_pin(is_teacher):
        raise NotAllowed("Only the teacher can change the class model.")
    return class_model.unpin(runs_directory)
