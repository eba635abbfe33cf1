"""Run folders on disk: one folder per training run, written so a crash loses nothing earlier.

Layout of ``<runs dir>/<run id>/`` (runs dir: ``$CIFAR_RUNS_DIR`` or ``<project>/runs``):
    config.json          the TrainConfig fields
    status.json          state (running/finished/stopped/failed/interrupted), pid, host,
                         started/updated/finished times, epoch, accuracies, error
    history.csv          one row per finished epoch (loss, accuracy, val_*, learning rate, time)
    model.keras          the model when the run ended (finished or stopped)
    filters/epoch_NNN.npy  the first convolution's kernel after epoch NNN (000 = before
                           training); none for a network without convolutions
    histograms/epoch_NNN.npz  weight and activation histograms then (``histograms``)
    tensorboard/         TensorBoard logs: ``tensorboard --logdir runs``
Every file is written to a temporary name and renamed into place, so a reader or a
killed process never leaves half a file. A run whose status says "running" but whose
process is gone (or silent too long) is marked "interrupted" by ``mark_interrupted``.
This module reads and writes files only: no TensorFlow, so listing runs is cheap.
"""

import csv
import io
import json
import os
import secrets
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cifar_core import storage

STATES = ("running", "finished", "stopped", "failed", "interrupted")
#: A running run on another host whose heartbeat is older than this is taken as dead.
STALE_AFTER_SECONDS = 15 * 60
HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate",
                   "seconds")


def runs_dir(directory=None):
    """The runs directory: ``directory``, else ``$CIFAR_RUNS_DIR``, else ``<project>/runs``."""
    if directory is not None:
        return Path(directory)
    return Path(os.environ.get("CIFAR_RUNS_DIR") or storage.PROJECT_ROOT / "runs")


def _process_start(pid):
    """The process's start time in clock ticks since boot (Linux), or None if unknown/gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[19])  # Field 22 of stat; 2 fields precede the split point.
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid, start):
    """Whether process ``pid`` still exists and is the same process (not a reused pid)."""
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError, OverflowError):
        return False
    except PermissionError:
        return True
    current = _process_start(pid)
    return start is None or current is None or current == start


@dataclass
class Run:
    """An open run folder that this process is writing."""

    path: Path
    config: dict
    status: dict = field(default_factory=dict)
    history: list = field(default_factory=list)

    @property
    def id(self):
        return self.path.name

    def update(self, **fields):
        """Merge ``fields`` into status.json (with a fresh heartbeat) and write it atomically."""
        self.status.update(fields, updated=time.time())
        storage.write_atomic(self.path / "status.json", json.dumps(self.status, indent=2))

    def record_epoch(self, epoch, logs, seconds):
        """Append one epoch's metrics to history.csv and the status."""
        row = {"epoch": epoch, "seconds": round(seconds, 2)}
        row.update({key: float(logs[key]) for key in HISTORY_COLUMNS[1:-1] if key in logs})
        self.history.append(row)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, HISTORY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.history)
        storage.write_atomic(self.path / "history.csv", buffer.getvalue())
        self.update(epoch=epoch, **{key: row[key] for key in row if key != "epoch"})

    def save_filters(self, epoch, kernel):
        """Store a conv kernel (kh, kw, in, out) as filters/epoch_NNN.npy."""
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(kernel, dtype=np.float32))
        storage.write_atomic(self.path / "filters" / f"epoch_{epoch:03d}.npy", buffer.getvalue())

    def finish(self, state, model=None, *, test_accuracy=None, error=None):
        """End the run: save ``model`` (if given) as model.keras, then the final status."""
        if state not in STATES or state == "running":
            raise ValueError(f"final state must be one of {STATES[1:]}, not {state!r}")
        if model is not None:
            from cifar_core.models import saving  # Keras only when there is a model to save.

            saving.save_model(model, self.path / "model.keras")
        fields = {"state": state, "finished": time.time()}
        if test_accuracy is not None:
            fields["test_accuracy"] = float(test_accuracy)
        if error is not None:
            fields["error"] = str(error)
        self.update(**fields)


def start_run(config, runs_directory=None, *, name=None, owner=None, queue_id=None):
    """Create a run folder for ``config`` (a TrainConfig or dict) with status "running".

    ``owner`` names the browser tab that asked for the run (the app's own token, never
    shown): without a teacher's password a tab may delete only the runs it owns.
    ``queue_id`` names the queue entry the run comes from, in the same first status write
    as "running": a server killed right after it drops the entry instead of training twice.
    """
    fields = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    directory = runs_dir(runs_directory)
    directory.mkdir(parents=True, exist_ok=True)
    mark_interrupted(directory)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    run_id = name or f"{stamp}-{fields.get('model', 'model')}-{secrets.token_hex(2)}"
    path = directory / run_id
    path.mkdir()  # Raises if it exists: a run folder is never reused.
    storage.write_atomic(path / "config.json", json.dumps(fields, indent=2))
    run = Run(path, fields)
    now = time.time()
    run.update(state="running", pid=os.getpid(), process_start=_process_start(os.getpid()),
               host=socket.gethostname(), started=now, epoch=0,
               **({} if owner is None else {"owner": str(owner)}),
               **({} if queue_id is None else {"queue_id": str(queue_id)}))
    return run


@dataclass(frozen=True)
class RunRecord:
    """A run folder as read from disk (any state)."""

    path: Path
    config: dict
    status: dict

    @property
    def id(self):
        return self.path.name

    @property
    def state(self):
        return self.status.get("state", "unknown")

    @property
    def owner(self):
        """The token of the tab that started the run (None: the command line, older runs)."""
        return self.status.get("owner")

    @property
    def model_path(self):
        path = self.path / "model.keras"
        return path if path.is_file() else None

    def history(self):
        """history.csv as a list of dicts of floats (empty if none yet)."""
        try:
            with open(self.path / "history.csv", newline="") as handle:
                return [{key: float(value) for key, value in row.items() if value not in ("", None)}
                        for row in csv.DictReader(handle)]
        except (OSError, ValueError):
            return []

    def filter_epochs(self):
        """Epoch numbers that have a filters/epoch_NNN.npy snapshot, in order."""
        return sorted(int(path.stem.split("_")[1])
                      for path in (self.path / "filters").glob("epoch_*.npy")
                      if path.stem.split("_")[1].isdigit())


def read_run(path):
    """The RunRecord of one folder, or None if it is not a readable run."""
    path = Path(path)
    config = storage.read_json_object(path / "config.json")
    status = storage.read_json_object(path / "status.json")
    if config is None or status is None:
        return None
    return RunRecord(path, config, status)


def list_runs(runs_directory=None):
    """Every readable run, newest first."""
    directory = runs_dir(runs_directory)
    if not directory.is_dir():
        return []
    records = [read_run(path) for path in directory.iterdir()
               if path.is_dir() and not path.name.startswith(".")]
    records = [record for record in records if record is not None]
    return sorted(records, key=_start_time, reverse=True)


def _start_time(record):
    """When a run started, for ordering; a hand-edited, non-numeric value sorts last."""
    started = record.status.get("started", 0)
    return float(started) if isinstance(started, (int, float)) else 0.0


def _is_dead(status, now):
    if status.get("host") == socket.gethostname():
        return not _alive(status.get("pid"), status.get("process_start"))
    return now - float(status.get("updated", 0)) > STALE_AFTER_SECONDS


def mark_interrupted(runs_directory=None):
    """Mark "running" runs whose process is gone as "interrupted"; returns their ids."""
    now, marked = time.time(), []
    for record in list_runs(runs_directory):
        if record.state == "running" and _is_dead(record.status, now):
            status = dict(record.status, state="interrupted", updated=now,
                          error="the training process ended without finishing the run")
            storage.write_atomic(record.path / "status.json", json.dumps(status, indent=2))
            marked.append(record.id)
    return marked


def delete_run(run_id, runs_directory=None):
    """Delete the folder of run ``run_id``; a running run or a non-run name is a ValueError.

    The folder is first renamed to a hidden name (atomic), so a crash half-way through the
    removal never leaves half a run in the list.
    """
    directory = runs_dir(runs_directory)
    if not isinstance(run_id, str) or run_id in ("", ".", "..") or Path(run_id).name != run_id \
            or run_id.startswith("."):
        raise ValueError(f"not a run id: {run_id!r}")
    record = read_run(directory / run_id)
    if record is None:
        raise ValueError(f"no run {run_id!r} in {directory}")
    if record.state == "running":
        raise ValueError(f"run {run_id!r} is still running; stop it before deleting it")
    hidden = directory / f".deleted-{secrets.token_hex(4)}-{run_id}"
    os.replace(record.path, hidden)
    shutil.rmtree(hidden, ignore_errors=True)
