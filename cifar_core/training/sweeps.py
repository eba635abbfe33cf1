"""Sweeps: one recipe trained over a small grid of values of one or two of its fields.

A teacher types the values to compare ("0.01, 0.03, 0.1" learning rates, "64, 256" batch
sizes); ``parse_values`` reads them and checks each one in TrainConfig's own words;
``grid`` makes one config per combination (at most ``MAX_RUNS``), every one labelled with
the same new sweep id in its ``sweep`` field; ``launch`` hands them to the job registry's
queue as one submission and keeps the plan in ``<runs dir>/.sweeps/<sweep id>.json`` (a
hidden name: never a run), so the view knows the grid before any run has started
(``sweep_results`` reads a sweep back). No TensorFlow here.
"""

import dataclasses
import itertools
import json
import math
import re
import secrets
import time

from cifar_core import storage
from cifar_core.training import run_queue, runs, train_config


@dataclasses.dataclass(frozen=True)
class SweepField:
    """A TrainConfig field a sweep may vary: its name, in words, and its kind of value."""

    name: str  # the TrainConfig field
    label: str  # how the page, tables and charts name it
    kind: type  # float, int or bool


#: The fields a teacher would sweep, in the order the form offers them.
SWEEP_FIELDS = {field.name: field for field in (
    SweepField("learning_rate", "learning rate", float),
    SweepField("batch_size", "batch size", int),
    SweepField("epochs", "epochs", int),
    SweepField("weight_decay", "weight decay", float),
    SweepField("label_smoothing", "label smoothing", float),
    SweepField("momentum", "momentum", float),
    SweepField("train_size", "training images", int),  # "all" (or 0) = the whole training set
    SweepField("augment", "augmentation", bool),
)}
#: Most runs one sweep may queue (a 2-core classroom server trains them one after another).
MAX_RUNS = 12
#: Where ``launch`` keeps each sweep's plan, inside the runs directory (hidden: not a run).
PLANS_FOLDER = ".sweeps"

_TRUE, _FALSE = ("on", "true", "yes", "1"), ("off", "false", "no", "0")


def sweep_field(name):
    """The ``SweepField`` called ``name``; ValueError naming it if it cannot be swept."""
    if name not in SWEEP_FIELDS:
        raise ValueError(f"cannot sweep {name!r}; choose one of {list(SWEEP_FIELDS)}")
    return SWEEP_FIELDS[name]


def value_text(value):
    """A swept value as the page writes it: 0.01, 64, "all" (None), "on"/"off"."""
    if value is None:
        return "all"
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def run_label(values):
    """A run named by its swept ``values`` (field -> value): "learning rate 0.01 · batch size 64".
    """
    return " · ".join(f"{sweep_field(name).label} {value_text(value)}"
                      for name, value in values.items())


def _read_token(field, token):
    """One typed value of ``field`` as a Python value; ValueError naming the token."""
    word = token.lower()
    if field.kind is bool:
        if word in _TRUE + _FALSE:
            return word in _TRUE
        raise ValueError(f"{field.label}: {token!r} is not on or off")
    if field.name == "train_size" and word in ("all", "0"):
        return None  # as the Train page's form: 0 means every training image
    try:
        number = float(token)
    except ValueError:
        raise ValueError(f"{field.label}: {token!r} is not a number") from None
    if field.kind is float:
        return number
    if not math.isfinite(number) or not number.is_integer():
        raise ValueError(f"{field.label}: {token!r} is not a whole number")
    return int(number)


def parse_values(name, text, base=None):
    """The values of field ``name`` typed as ``text`` ("0.01, 0.03, 0.1"), in typed order.

    Commas, semicolons or spaces separate values. Each value is checked by TrainConfig on
    ``base`` (default: ``TrainConfig()``), so a bad one is a ValueError in its words, named
    by field and value ("learning rate 0: must be greater than 0"); so are a token that is
    not a value, a value typed twice, nothing at all and more than ``MAX_RUNS`` values.
    """
    field = sweep_field(name)
    if not isinstance(text, str):
        raise ValueError(f"{field.label}: expected typed text, not {text!r}")
    tokens = [token for token in re.split(r"[,;\s]+", text.strip()) if token]
    if not tokens:
        raise ValueError(f"{field.label}: type the values to compare, separated by commas")
    if len(tokens) > MAX_RUNS:
        raise ValueError(f"{field.label}: {len(tokens)} values are more than a sweep's "
                         f"{MAX_RUNS} runs")
    base = base if base is not None else train_config.TrainConfig()
    values = []
    for token in tokens:
        value = _read_token(field, token)
        try:
            dataclasses.replace(base, **{field.name: value})
        except ValueError as error:  # TrainConfig's words, after its "TrainConfig.x = v: "
            raise ValueError(f"{field.label} {value_text(value)}: "
                             f"{str(error).split(': ', 1)[-1]}") from None
        if value in values:
            raise ValueError(f"{field.label} {value_text(value)} is typed twice")
        values.append(value)
    return values


def suggested_text(name, base):
    """Values worth comparing around ``base``'s own, as the form first shows them."""
    field, value = sweep_field(name), getattr(base, name)
    if field.kind is bool:
        return "off, on"
    if name == "train_size":
        return "1000, 5000, all"
    if name == "learning_rate":
        candidates = (value / 10, value / 3, value, value * 3)
    elif name in ("batch_size", "epochs"):
        candidates = (max(1, value // 2), value, value * 2)
    elif name == "momentum":
        candidates = (0.0, 0.5, 0.9)
    elif name == "label_smoothing":
        candidates = (0.0, 0.1, 0.2)
    else:  # weight decay
        candidates = (0.0, 5e-4, 5e-3) if value == 0 else (0.0, value, value * 3)
    return ", ".join(dict.fromkeys(f"{number:.2g}" if field.kind is float else str(number)
                                   for number in candidates))


def new_sweep_id():
    """A fresh sweep id: "sweep-<UTC time>-<4 hex>", short enough for TrainConfig's label."""
    return f"sweep-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(2)}"


def grid(base, axes, *, sweep_id=None):
    """One TrainConfig per combination of ``axes`` on top of ``base``, all in one sweep.

    ``axes`` maps one or two sweepable field names to their values (``parse_values``),
    each at least two values. The first field varies fastest, so the first runs the
    queue trains already span its values. Every config carries ``sweep_id`` (default: a
    new one) in its ``sweep`` label. More than ``MAX_RUNS`` combinations is a ValueError
    naming the count.
    """
    axes = dict(axes)
    if not 1 <= len(axes) <= 2:
        raise ValueError(f"a sweep varies one or two fields, not {len(axes)}: {list(axes)}")
    for name, values in axes.items():
        field = sweep_field(name)
        if len(values) < 2:
            raise ValueError(f"{field.label}: type at least 2 values to compare, got "
                             f"{len(values)} (one value belongs in the recipe itself)")
    count = math.prod(len(values) for values in axes.values())
    if count > MAX_RUNS:
        sizes = " x ".join(str(len(values)) for values in axes.values())
        raise ValueError(f"a sweep of {count} runs ({sizes}) is more than {MAX_RUNS}: "
                         "type fewer values")
    sweep_id = new_sweep_id() if sweep_id is None else sweep_id
    names = list(axes)
    configs = []
    for combination in itertools.product(*(axes[name] for name in reversed(names))):
        values = dict(zip(reversed(names), combination, strict=True))
        configs.append(dataclasses.replace(base, sweep=sweep_id, **values))
    return configs


def swept_fields(configs):
    """The sweepable fields whose values differ between ``configs``, in form order."""
    dicts = [config.to_dict() if hasattr(config, "to_dict") else config for config in configs]
    return [name for name in SWEEP_FIELDS
            if len({json.dumps(fields.get(name)) for fields in dicts}) > 1]


def estimated_seconds(configs, training_images=run_queue.REFERENCE_IMAGES):
    """About how long ``configs`` train in all, one after another, in seconds.

    The queue's own estimate of each run (``run_queue.estimate_seconds``: measured minutes
    per epoch of its recipe, scaled to the images it trains on), so the form and the
    queue's waiting times agree; None when any run's recipe was never measured.
    """
    seconds = [run_queue.estimate_seconds(config, training_images) for config in configs]
    return None if None in seconds else sum(seconds)


# --- launching and the plan on disk ------------------------------------------------------
def plan_path(sweep_id, runs_directory=None):
    """``<runs dir>/.sweeps/<sweep id>.json``; ValueError for an id that is not a plain name."""
    if not isinstance(sweep_id, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", sweep_id):
        raise ValueError(f"not a sweep id: {sweep_id!r}")
    return runs.runs_dir(runs_directory) / PLANS_FOLDER / f"{sweep_id}.json"


def _write_plan(configs, runs_directory, jobs=None):
    sweep_id, fields = configs[0].sweep, swept_fields(configs)
    plan = {"sweep": sweep_id, "fields": fields, "created": time.time(),
            "student": configs[0].student, "base": configs[0].to_dict(),
            "points": [{name: getattr(config, name) for name in fields} for config in configs],
            "jobs": list(jobs) if jobs is not None else [None] * len(configs)}
    storage.write_atomic(plan_path(sweep_id, runs_directory), json.dumps(plan, indent=2))


def launch(registry, configs, data, *, owner, runs_directory=None):
    """Queue ``configs`` (from ``grid``) as one submission; returns the queue's ids.

    The plan is written first, so a run the dispatcher starts at once already belongs to
    a known grid; a refused submission (the registry's ``QueueFull``) removes it again.
    """
    configs = list(configs)
    if not configs or not all(config.sweep == configs[0].sweep != "" for config in configs):
        raise ValueError("a sweep's configs must all carry the same, non-empty sweep id")
    _write_plan(configs, runs_directory)
    try:
        ids = registry.submit(configs, data, owner=owner, runs_dir=runs_directory)
    except BaseException:
        plan_path(configs[0].sweep, runs_directory).unlink(missing_ok=True)
        raise
    _write_plan(configs, runs_directory, jobs=ids)
    return ids


def read_plan(sweep_id, runs_directory=None):
    """The plan ``launch`` wrote (a dict), or None when there is none or it is unreadable.

    A sweep label no plan could have (a run labelled by hand: "Ada's sweep") has none.
    """
    try:
        path = plan_path(sweep_id, runs_directory)
    except ValueError:
        return None
    return storage.read_json_object(path)

