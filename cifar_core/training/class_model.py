"""The class model: the one run a teacher pins for the whole class to explore.

The pin is ``<runs dir>/.class_model.json`` (``{"run": <run id>, "pinned": <time>}``),
written atomically, so every tab and every page of the server agrees on it; a hidden name,
so ``runs.list_runs`` never takes it for a run. A pinned run that is deleted (here or by
hand) unpins: ``pinned_run`` finds the folder gone and removes the pin. The model choosers
list the class model first (``models.catalog``), labelled with ``label_name``: the student's
name only where it is plain words, since labels end up in headings and messages that
Streamlit renders as Markdown. Files only: no TensorFlow, no Streamlit.
"""

import json
import time
import unicodedata

from cifar_core import storage
from cifar_core.training import runs

#: The pin's file name inside the runs directory.
PIN_FILE = ".class_model.json"
#: Run states whose saved model the class may use: the catalogue lists exactly these.
PINNABLE_STATES = ("finished", "stopped")
#: Characters besides letters, digits and spaces that a name may hold and still be shown in a
#: model label (none of them means anything to Markdown in the middle of a line).
PLAIN_PUNCTUATION = frozenset("-'.,")


def pin_path(runs_directory=None):
    """Where the pin lives: ``<runs dir>/.class_model.json``."""
    return runs.runs_dir(runs_directory) / PIN_FILE


def check_run_id(run_id):
    """Raise ValueError naming ``run_id`` unless it can name a run folder (a plain name,
    not hidden): it is joined to the runs directory, so "../x" must never pass."""
    if not isinstance(run_id, str) or run_id in ("", ".", "..") or run_id.startswith(".") \
            or "/" in run_id or "\\" in run_id or "\0" in run_id:
        raise ValueError(f"not a run id: {run_id!r}")


def pin(run_id, runs_directory=None):
    """Pin run ``run_id`` as the class model; returns its RunRecord.

    Only a finished or stopped run with a saved model can be the class model (what the
    model choosers can open); anything else is a ValueError naming the run.
    """
    directory = runs.runs_dir(runs_directory)
    check_run_id(run_id)
    record = runs.read_run(directory / run_id)
    if record is None:
        raise ValueError(f"no run {run_id!r} in {directory}")
    if record.state not in PINNABLE_STATES or record.model_path is None:
        raise ValueError(f"run {run_id!r} is {record.state} without a saved model to share; "
                         "pin a finished or stopped run")
    storage.write_atomic(pin_path(directory),
                         json.dumps({"run": run_id, "pinned": time.time()}, indent=2))
    return record


def unpin(runs_directory=None):
    """Remove the pin (nothing pinned is fine); returns whether there was one."""
    try:
        pin_path(runs_directory).unlink()
    except FileNotFoundError:
        return False
    return True


def pinned_id(runs_directory=None):
    """The id the pin names, or None (no pin, or a damaged one); the run may be gone."""
    fields = storage.read_json_object(pin_path(runs_directory))
    run_id = fields.get("run") if fields else None
    try:
        check_run_id(run_id)
    except ValueError:
        return None  # a hand-edited pin naming no run folder
    return run_id


def pinned_run(runs_directory=None):
    """The pinned run's RunRecord, or None. A pin whose run folder is gone is removed."""
    directory = runs.runs_dir(runs_directory)
    run_id = pinned_id(directory)
    if run_id is None:
        return None
    record = runs.read_run(directory / run_id)
    if record is None and not (directory / run_id).exists():
        forget(run_id, directory)  # deleted: the class model is no more
    return record


def forget(run_id, runs_directory=None):
    """Unpin if ``run_id`` is the pinned run (called when a run is deleted)."""
    if pinned_id(runs_directory) == run_id:
        unpin(runs_directory)


def usable(record):
    """Whether a pinned run's model can be opened now (a resumed run trains again first)."""
    return record is not None and record.state in PINNABLE_STATES \
        and record.model_path is not None


def label_name(record):
    """The name to write in the class model's label: the student's, or the run id.

    The student's name is used only where it is plain words (letters with their accents,
    digits, spaces and ``- ' . ,``), because pages put model labels into headings and
    messages that render Markdown; a name with any other character falls back to the run
    id. The leaderboard shows every name verbatim, as plain text.
    """
    name = str(record.config.get("student") or "").strip()
    if name and all(character == " " or character in PLAIN_PUNCTUATION
                    or unicodedata.category(character)[0] in "LMN" for character in name):
        return name
    return record.id
