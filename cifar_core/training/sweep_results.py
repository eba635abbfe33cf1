"""A sweep read back from disk: its grid points, their runs, states and accuracies.

``sweeps.launch`` left the plan (the swept fields, the grid in queue order, the queue's
ids) in ``<runs dir>/.sweeps/``; the runs carry the sweep id in their config's ``sweep``
label. ``read_sweep`` joins the two into one row per grid point (a point still queued has
no run folder yet: the registry tells its state), and ``sweep_curves`` names each run's
curves by its swept values. Files only: no TensorFlow.
"""

import dataclasses
import json

import pandas as pd

from cifar_core import storage
from cifar_core.training import run_history, runs, sweeps

#: Columns of ``read_sweep``'s frame after the swept fields' own (named by their labels).
FRAME_COLUMNS = ("run label", "state", "epochs done", "best validation accuracy",
                 "final validation accuracy", "test accuracy", "run", "job")
#: States of a grid point that will not change any more (a run's end, or never started).
SETTLED_STATES = ("finished", "stopped", "failed", "interrupted", "not started")


@dataclasses.dataclass(frozen=True)
class SweepResults:
    """A sweep as read back: one ``frame`` row (and one ``records`` entry) per grid point.

    ``frame`` has a column per swept field (named by its label, holding the raw values:
    None is "all" training images) then ``FRAME_COLUMNS``; accuracies are 0-1, None before
    the first validation. ``records`` holds each row's ``runs.RunRecord``, None for a
    point not started yet.
    """

    id: str
    fields: tuple
    frame: pd.DataFrame
    records: tuple

    @property
    def labels(self):
        """The swept fields in words, as the frame's first columns name them."""
        return [sweeps.SWEEP_FIELDS[name].label for name in self.fields]

    @property
    def settled(self):
        """True when no point is queued or training any more."""
        return all(state in SETTLED_STATES for state in self.frame["state"])


def sweep_ids(runs_directory=None, records=None):
    """Every sweep with a plan or a run on disk, newest first.

    ``records`` (default: ``runs.list_runs``) saves a second read of the run folders.
    """
    started = {}
    for record in runs.list_runs(runs_directory) if records is None else records:
        sweep_id = record.config.get("sweep")
        if isinstance(sweep_id, str) and sweep_id:
            started[sweep_id] = max(started.get(sweep_id, 0.0), _started(record.status))
    folder = runs.runs_dir(runs_directory) / sweeps.PLANS_FOLDER
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        plan = storage.read_json_object(path)
        if plan is not None and plan.get("sweep") == path.stem:
            started[path.stem] = max(started.get(path.stem, 0.0), _started(plan, "created"))
    return sorted(started, key=lambda sweep_id: (started[sweep_id], sweep_id), reverse=True)


def _started(fields, key="started"):
    """A start time from a JSON object; a hand-edited, non-numeric one counts as 0."""
    value = fields.get(key, 0)
    return float(value) if isinstance(value, (int, float)) else 0.0


def _point_key(values, fields):
    return tuple(json.dumps(values.get(name)) for name in fields)


def _queue_state(registry, job_id):
    """A point's state from the registry: "queued", its job's state, or "not started"."""
    if registry is None or job_id is None:
        return "not started"
    if registry.queued(job_id) is not None:
        return "queued"
    job = registry.get(job_id)
    return "not started" if job is None else job.snapshot().state


def _grid(sweep_id, plan, members, runs_directory):
    """(fields, points, queue ids) from the plan, or from the runs of a sweep without one."""
    fields = plan.get("fields") if plan else None
    known = isinstance(fields, list) and fields and all(
        isinstance(name, str) and name in sweeps.SWEEP_FIELDS for name in fields)
    if known and isinstance(plan.get("points"), list) and isinstance(plan.get("jobs"), list) \
            and all(isinstance(point, dict) for point in plan["points"]):
        jobs = list(plan["jobs"]) + [None] * (len(plan["points"]) - len(plan["jobs"]))
        return fields, plan["points"], jobs
    if not members:
        raise ValueError(f"no sweep {sweep_id!r} in {runs.runs_dir(runs_directory)}")
    fields = sweeps.swept_fields([record.config for record in members])
    return fields, [], []


def read_sweep(sweep_id, runs_directory=None, *, registry=None, records=None):
    """The sweep ``sweep_id`` from its plan and run folders, as ``SweepResults``.

    A point without a run folder takes its state from ``registry`` (queued, starting) when
    given; without one, or once the queue has forgotten it (cancelled), "not started".
    Runs of the sweep outside its plan (or of a sweep made without one) follow, oldest
    first. A point trained twice shows its latest run. ValueError names a sweep that has
    neither plan nor runs.
    """
    plan = sweeps.read_plan(sweep_id, runs_directory)
    records = runs.list_runs(runs_directory) if records is None else records
    members = [record for record in records if record.config.get("sweep") == sweep_id]
    fields, points, jobs = _grid(sweep_id, plan, members, runs_directory)
    latest = {}
    for record in members:  # newest first
        latest.setdefault(_point_key(record.config, fields), record)
    planned = {_point_key(point, fields) for point in points}
    rows = [(point, job, latest.get(_point_key(point, fields)))
            for point, job in zip(points, jobs, strict=False)]
    rows += [({name: record.config.get(name) for name in fields}, None, record)
             for key, record in reversed(latest.items()) if key not in planned]
    table = [_row(point, job, record, fields, registry) for point, job, record in rows]
    columns = [sweeps.SWEEP_FIELDS[name].label for name in fields] + list(FRAME_COLUMNS)
    frame = pd.DataFrame(table, columns=columns)
    for column in [*(sweeps.SWEEP_FIELDS[name].label for name in fields), "run", "job"]:
        # The raw values as typed (1000 stays an int beside None, "all"), not pandas' floats.
        frame[column] = pd.Series([row.get(column) for row in table], dtype=object)
    return SweepResults(sweep_id, tuple(fields), frame, tuple(record for *_, record in rows))


def _row(point, job, record, fields, registry):
    """One grid point's row of the frame."""
    row = {sweeps.SWEEP_FIELDS[name].label: point.get(name) for name in fields}
    row["run label"] = sweeps.run_label({name: point.get(name) for name in fields})
    if record is None:
        return {**row, "state": _queue_state(registry, job), "epochs done": "-", "run": None,
                "job": job}
    validation = [epoch["val_accuracy"] for epoch in record.history() if "val_accuracy" in epoch]
    return {**row, "state": record.state, "run": record.id, "job": job,
            "epochs done": f"{int(record.status.get('epoch', 0))} of {record.config.get('epochs')}",
            "best validation accuracy": max(validation, default=None),
            "final validation accuracy": validation[-1] if validation else None,
            "test accuracy": record.status.get("test_accuracy")}


def sweep_curves(results):
    """The sweep's per-epoch curves for ``plots.training_curves_figure``, each run named by
    its swept values ("learning rate 0.01 · batch size 64"; its id when nothing was swept)."""
    frames = [run_history.runs_curves([record]).assign(run=label or record.id)
              for label, record in zip(results.frame["run label"], results.records, strict=True)
              if record is not None]
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else run_history.runs_curves([])
