"""A run folder reopened to continue in place: the checks, then its files rolled back to
the checkpoint's epoch (no TensorFlow).

``recording.train_run(..., resume=...)`` calls ``reopen`` before training: the run must be
able to continue (``checkpoints.resume_problem``); config.json then gains the extra epochs
of "train N more epochs" (the schedule's new segment starts at the old number, kept in
status.json as ``segments`` and ``epochs_before``), history.csv and the filter and
histogram files keep the epochs the checkpoint has (a cut-short epoch is redone), and
status.json says "running" for this process again.
"""

import csv
import io
import json
import os
import socket
import threading
import time
from dataclasses import dataclass

from cifar_core import storage
from cifar_core.training import checkpoints, runs, train_config


@dataclass(frozen=True)
class Resumption:
    """A run reopened to continue: the open run, its (extended) config, the checkpoint,
    and the epochs at which "train more" segments of its schedule begin."""

    run: runs.Run
    config: train_config.TrainConfig
    checkpoint: checkpoints.Checkpoint
    segments: tuple


_reopening = threading.Lock()  # two tabs resuming one run: the second sees "running"


def _keep_epochs(run_path, epoch):
    """history.csv and the per-epoch files of ``run_path`` up to ``epoch``; the rows kept."""
    rows = runs.read_run(run_path).history()[:epoch]
    rows = [{**row, "epoch": int(row["epoch"])} for row in rows]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, runs.HISTORY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    storage.write_atomic(run_path / "history.csv", buffer.getvalue())
    for folder, suffix in (("filters", ".npy"), ("histograms", ".npz")):
        for path in (run_path / folder).glob(f"epoch_*{suffix}"):
            number = path.stem.split("_")[-1]
            if number.isdigit() and int(number) > epoch:  # a cut-short epoch's, redone
                path.unlink(missing_ok=True)
    return rows


def reopen(resume, runs_directory=None, *, owner=None, queue_id=None):
    """Reopen the run that ``resume`` names to continue it in place; a ``Resumption``.

    Refuses (ValueError naming the run) a running run, one without a usable checkpoint,
    or one whose config cannot be rebuilt, before changing anything. Then: config.json
    gains the extra epochs, history.csv and the filter and histogram files keep what the
    checkpoint's epoch had, and status.json says "running" for this process again, naming
    ``queue_id`` (the queue entry it comes from) in that same write.
    """
    resume = checkpoints.request(resume)
    directory = runs.runs_dir(runs_directory)
    more = resume["more_epochs"]
    with _reopening:
        runs.mark_interrupted(directory)  # a run whose process died is resumable
        record = runs.read_run(directory / resume["run"])
        if record is None:
            raise ValueError(f"no run {resume['run']!r} in {directory}")
        problem = checkpoints.resume_problem(record, more)
        if problem is not None:
            raise ValueError(problem)
        try:
            checkpoint = checkpoints.read(record.path)
        except checkpoints.CheckpointError as error:
            raise ValueError(f"Run {record.id}: {error}") from error
        config = train_config.TrainConfig.from_dict(record.config)
        status = dict(record.status)
        # A bound at or past the config's epochs is the trace of a "train more" killed
        # between its two writes below (status first): dropped, the run is whole again.
        segments = tuple(bound for bound in status.get("segments") or ()
                         if isinstance(bound, int) and 0 < bound < config.epochs)
        if more:
            segments += (config.epochs,)
            status["epochs_before"] = config.epochs
            config = train_config.TrainConfig.from_dict({**config.to_dict(),
                                                         "epochs": config.epochs + more})
        rows = _keep_epochs(record.path, checkpoint.epoch)
        for stale in ("error", "finished", "test_accuracy", "phase", "batch"):
            status.pop(stale, None)
        status.update(state="running", pid=os.getpid(), host=socket.gethostname(),
                      process_start=runs._process_start(os.getpid()), epoch=checkpoint.epoch,
                      segments=list(segments),
                      resumed=[*status.get("resumed", []), [time.time(), checkpoint.epoch]],
                      **({} if owner is None else {"resumed_by": str(owner)}),
                      **({} if queue_id is None else {"queue_id": str(queue_id)}))
        run = runs.Run(record.path, config.to_dict(), status, rows)
        run.update()
        if more:
            storage.write_atomic(record.path / "config.json",
                                 json.dumps(config.to_dict(), indent=2))
    return Resumption(run, config, checkpoint, segments)


def earlier_curves(history):
    """(training, validation) curve points of the epochs a resumed run already has, as a
    job's snapshot holds them: (epoch, loss, accuracy) at each epoch's end."""
    training = [(row["epoch"], row["loss"], row["accuracy"]) for row in history
                if "loss" in row and "accuracy" in row]
    validation = [(row["epoch"], row["val_loss"], row["val_accuracy"]) for row in history
                  if "val_loss" in row and "val_accuracy" in row]
    return training, validation
