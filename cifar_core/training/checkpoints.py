"""Epoch checkpoints inside a run folder, and which runs can continue (no TensorFlow).

A run folder (``runs``) gains ``checkpoint/state.npz``: one ``.npz`` written at the end of
every completed epoch through ``storage.write_atomic`` (a temporary sibling renamed into
place), so it always holds the latest complete epoch and a run killed mid-write keeps the
previous one; leftover temporaries (``.tmp-*``) are never read and are cleared at the next
write. It holds, as plain arrays (read with ``allow_pickle=False``: nothing is unpickled):
    model_NNNN       the model's weights (batch norm's statistics and dropout's seed state
                     too), in ``model.weights`` order
    optimizer_NNNN   the optimizer's variables: ``iterations`` (the position in the
                     learning-rate schedule), momentum slots, the weight average
    meta             JSON text: the epoch, the run's config, the variables' paths and shapes,
                     the schedule's segments and the shuffles' state
The shuffles and augmentations of an epoch are drawn from (config.seed, epoch) alone
(``input_pipeline.make_dataset``), so their random state is the next epoch's number.
A model of the fast net is about 8 MB of weights plus as much momentum; no second
``model.keras`` is kept (``RunRecorder`` writes that one).

"Train N more epochs" grows the run's config.epochs by N; its schedule is the original
one up to the old number of epochs, then a new segment (``trainer``): the boundaries sit
in status.json as ``segments``, the last old value as ``epochs_before``.
The Keras side (writing during ``fit``, restoring a model) is ``checkpointing``; reopening
a run folder to continue it is ``resuming``.
"""

import io
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cifar_core import storage
from cifar_core.training import train_config

FOLDER = "checkpoint"
STATE_FILE = "state.npz"
FORMAT = 1
#: States a run resumes from; a finished run may only train more epochs.
RESUMABLE = ("stopped", "interrupted")
#: Most extra epochs one "train more" may add.
MAX_MORE_EPOCHS = 1000


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message names the file and the fault."""


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint as read: the completed epoch, the arrays in order, the meta fields."""

    epoch: int
    model: tuple  # NumPy arrays, model.weights order
    optimizer: tuple  # NumPy arrays, optimizer.variables order
    meta: dict


def state_path(run_path):
    return Path(run_path) / FOLDER / STATE_FILE


def write(run_path, *, epoch, model, optimizer, config, segments=()):
    """Replace the run's checkpoint with epoch ``epoch``'s (atomically).

    ``model`` and ``optimizer`` are lists of (variable path, array) pairs.
    """
    folder = Path(run_path) / FOLDER
    folder.mkdir(exist_ok=True)
    for leftover in folder.glob(f"{storage.TEMPORARY_PREFIX}*"):  # a writer killed earlier
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    arrays, described = {}, {}
    for part, pairs in (("model", model), ("optimizer", optimizer)):
        described[part] = []
        for index, (path, value) in enumerate(pairs):
            value = np.asarray(value)
            if value.dtype.kind not in "biuf":
                raise ValueError(f"variable {path} has dtype {value.dtype}: not a number array")
            arrays[f"{part}_{index:04d}"] = value
            described[part].append({"path": str(path), "shape": list(value.shape),
                                    "dtype": str(value.dtype)})
    meta = {"format": FORMAT, "epoch": int(epoch), "config": dict(config),
            "segments": [int(bound) for bound in segments],
            "shuffle": {"seed": int(config["seed"]), "next_epoch": int(epoch)},
            "saved": time.time(), **described}
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array(json.dumps(meta)), **arrays)
    storage.write_atomic(folder / STATE_FILE, buffer.getvalue())


def _open(path):
    try:
        stored = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        return None
    except storage.NPZ_READ_ERRORS as error:
        raise CheckpointError(f"checkpoint {path} is damaged: {error}") from error
    if not isinstance(stored, np.lib.npyio.NpzFile):
        raise CheckpointError(f"checkpoint {path} is not an .npz archive")
    return stored


def _meta(stored, path):
    try:
        meta = stored["meta"] if "meta" in stored.files else None
        if meta is None or meta.dtype.kind != "U" or meta.shape != ():
            raise CheckpointError(f"checkpoint {path} has no meta text")
        meta = json.loads(str(meta))
    except (*storage.NPZ_READ_ERRORS, json.JSONDecodeError) as error:
        raise CheckpointError(f"checkpoint {path} is damaged: {error}") from error
    epoch = meta.get("epoch") if isinstance(meta, dict) else None
    if meta.get("format") != FORMAT or isinstance(epoch, bool) or not isinstance(epoch, int) \
            or epoch < 0 or not isinstance(meta.get("config"), dict) \
            or not all(isinstance(meta.get(part), list) for part in ("model", "optimizer")):
        raise CheckpointError(f"checkpoint {path} has a meta of another format")
    _check_members(stored, path, meta)
    return meta


def _check_members(stored, path, meta):
    """Every array the meta lists is there and holds numbers: read from the arrays'
    headers only (no data), so a button can ask cheaply; an object array is refused."""
    for part in ("model", "optimizer"):
        for index in range(len(meta[part])):
            name = f"{part}_{index:04d}"
            try:
                with stored.zip.open(f"{name}.npy") as member:
                    version = np.lib.format.read_magic(member)
                    read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                                   (2, 0): np.lib.format.read_array_header_2_0}[version]
                    _, _, dtype = read_header(member)
            except (*storage.NPZ_READ_ERRORS, SyntaxError) as error:
                raise CheckpointError(f"checkpoint {path} lacks a readable {name}: "
                                      f"{error}") from error
            if dtype.hasobject or dtype.kind not in "biuf":
                raise CheckpointError(f"checkpoint {path}: {name} is not a number array "
                                      f"({dtype}); it is not loaded")


def read_meta(run_path):
    """The checkpoint's meta fields (a dict with its ``epoch``), or None when there is none.

    Reads one small member of the archive, not the arrays. CheckpointError if damaged.
    """
    path = state_path(run_path)
    stored = _open(path)
    if stored is None:
        return None
    with stored:
        return _meta(stored, path)


def read(run_path):
    """The run's latest checkpoint, or None when it has none; CheckpointError if damaged.

    Every member is loaded with ``allow_pickle=False``: an object array (which would run
    code when unpickled) is refused, not loaded.
    """
    path = state_path(run_path)
    stored = _open(path)
    if stored is None:
        return None
    with stored:
        meta = _meta(stored, path)
        parts = {}
        try:
            for part in ("model", "optimizer"):
                parts[part] = tuple(stored[f"{part}_{index:04d}"]
                                    for index in range(len(meta.get(part, ()))))
        except storage.NPZ_READ_ERRORS as error:  # object arrays raise ValueError here
            raise CheckpointError(f"checkpoint {path} is damaged or unsafe: {error}") from error
    for part, arrays in parts.items():
        if any(array.dtype.kind not in "biuf" for array in arrays):
            raise CheckpointError(f"checkpoint {path} holds a non-number {part} array")
    return Checkpoint(meta["epoch"], parts["model"], parts["optimizer"], meta)


# --- which runs continue ------------------------------------------------------------------

def _recipe(fields):
    """Config fields that must match between a run and its checkpoint (not the epochs)."""
    return {key: value for key, value in fields.items()
            if key not in ("epochs", *train_config.LABEL_FIELDS)}


def resume_problem(record, more_epochs=0):
    """Why ``record`` (a ``runs.RunRecord``) cannot continue, as a sentence naming the run,
    or None when it can: resume (``more_epochs=0``) or train ``more_epochs`` more."""
    if isinstance(more_epochs, bool) or not isinstance(more_epochs, int) \
            or not 0 <= more_epochs <= MAX_MORE_EPOCHS:
        return f"more epochs must be a whole number from 0 to {MAX_MORE_EPOCHS}, " \
               f"not {more_epochs!r}"
    name, state = f"Run {record.id}", record.state
    if state == "running":
        return f"{name} is still running: stop it first, or wait for it to end."
    if state == "finished" and more_epochs == 0:
        return f"{name} has finished all its epochs: ask for more epochs to train it further."
    if state not in (*RESUMABLE, "finished"):
        return f"{name} {state}: only a stopped or interrupted run resumes, and only a " \
               f"finished one trains more epochs."
    try:
        config = train_config.TrainConfig.from_dict(record.config)
    except (TypeError, ValueError) as error:
        return f"{name}: its config cannot be rebuilt, so it cannot continue ({error})."
    try:
        meta = read_meta(record.path)
    except CheckpointError as error:
        return f"{name}: {error}."
    if meta is None:
        return f"{name} has no checkpoint: it ended before its first epoch did, or was " \
               f"trained before runs kept checkpoints."
    if meta["epoch"] > config.epochs or _recipe(meta["config"]) != _recipe(config.to_dict()):
        return f"{name}: its checkpoint does not belong to its config.json."
    return None


def can_resume(record):
    """Whether a stopped or interrupted run can continue from its checkpoint (buttons)."""
    return record.state in RESUMABLE and resume_problem(record) is None


def can_train_more(record):
    """Whether a finished run can train more epochs from its checkpoint (buttons)."""
    return record.state == "finished" and resume_problem(record, 1) is None


def resume_summary(record):
    """In words, where a resumable run picks up (the UI says it before the button)."""
    try:
        meta = read_meta(record.path) or {}
    except CheckpointError:
        meta = {}
    epoch, total = meta.get("epoch", 0), record.config.get("epochs")
    text = f"It continues from its checkpoint at the end of epoch {epoch} of {total}."
    reached = record.status.get("epoch", epoch)
    cut_short = (record.state == "stopped" and isinstance(reached, int) and reached > epoch) \
        or (record.state == "interrupted" and isinstance(total, int) and epoch < total)
    if cut_short:
        text += (f" Epoch {epoch + 1} was cut short, so it is trained again from its start "
                 f"(a checkpoint is kept only at the end of a complete epoch).")
    return text


def request(resume):
    """``resume`` checked: ``{"run": run id, "more_epochs": int}`` (ValueError otherwise)."""
    if not isinstance(resume, dict) or not isinstance(resume.get("run"), str) \
            or set(resume) - {"run", "more_epochs"}:
        raise ValueError(f"resume must be {{'run': run id, 'more_epochs': n}}, not {resume!r}")
    run_id, more = resume["run"], resume.get("more_epochs", 0)
    if run_id in ("", ".", "..") or Path(run_id).name != run_id or run_id.startswith("."):
        raise ValueError(f"not a run id: {run_id!r}")
    most = MAX_MORE_EPOCHS
    if isinstance(more, bool) or not isinstance(more, int) or not 0 <= more <= most:
        raise ValueError(f"run {run_id}: more_epochs must be a whole number from 0 to "
                         f"{most}, not {more!r}")
    return {"run": run_id, "more_epochs": more}
