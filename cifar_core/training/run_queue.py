"""The training queue on disk: runs waiting for a training slot, first in, first out.

Each waiting run is one JSON file, ``<runs dir>/.queue/<entry id>.json``, written atomically
(``storage``), so a server killed with ``kill -9`` loses no queued run: the next server reads
the folder back in the same order (a creation time, then a counter for entries made in the
same instant). A file that cannot be read (damaged, hand-edited, from a newer version) is
skipped with a logged warning, never a crash. An entry's file is removed only once its run
folder exists, and the run's status.json names the entry (``queue_id``), so a restart after a
crash between the two drops the entry instead of training it twice (``started_queue_ids``).

``RunQueue`` is the waiting list and its folder; it is not thread-safe on its own (the job
registry holds its lock around every call). Also here: how long a run will take, from the
measured minutes per epoch of its recipe, and how long until a waiting run starts. No
TensorFlow, so the Train page and the leaderboard read the queue at once.
"""

import dataclasses
import itertools
import json
import logging
import time
import uuid
from pathlib import Path

from cifar_core import storage
from cifar_core.training import recipes, runs, train_config

#: The queue's folder inside the runs directory (a hidden name: never taken for a run).
QUEUE_FOLDER = ".queue"
#: The status.json field naming the queue entry a run was started from.
QUEUE_ID_FIELD = "queue_id"
#: Training images that ``train_config.EPOCH_MINUTES`` were measured on (the full set).
REFERENCE_IMAGES = 50_000

_log = logging.getLogger(__name__)
#: Breaks ties between entries created in the same instant by this process.
_sequence = itertools.count()


@dataclasses.dataclass(frozen=True)
class QueueEntry:
    """One run waiting for a slot.

    ``id`` is also the id of the job it becomes (the tab's ``?job=`` link stays valid);
    ``owner`` is the tab that queued it (never shown); ``config`` the ``TrainConfig`` to
    train; ``resume`` a ``{"run": run_id, "more_epochs": n}`` dict or None, handed to the job
    factory unchanged; ``runs_dir`` where its run folder goes (None: the default);
    ``estimated_seconds`` how long it will train once started (None: unknown).
    """

    id: str
    owner: str
    created: float
    sequence: int
    config: train_config.TrainConfig
    resume: dict | None = None
    runs_dir: str | None = None
    estimated_seconds: float | None = None

    @property
    def order(self):
        """Sort key: first created first; entries of one instant in the order they were made."""
        return (self.created, self.sequence, self.id)

    @property
    def submission(self):
        """What the per-tab limit counts: a sweep's entries are one submission."""
        return f"sweep:{self.config.sweep}" if self.config.sweep else self.id

    def to_dict(self):
        """JSON-ready fields, for the entry's file."""
        fields = dataclasses.asdict(self)
        fields["config"] = self.config.to_dict()
        return fields

    @classmethod
    def from_dict(cls, fields):
        """The entry back from ``to_dict``; anything malformed is a ValueError saying what."""
        if not isinstance(fields, dict):
            raise ValueError(f"a queue entry is a JSON object, not {type(fields).__name__}")
        names = {field.name for field in dataclasses.fields(cls)}
        if set(fields) - names or {"id", "owner", "created", "sequence", "config"} - set(fields):
            raise ValueError(f"queue entry fields {sorted(fields)} are not {sorted(names)}")
        if not isinstance(fields["id"], str) or not _safe_id(fields["id"]):
            raise ValueError(f"not a queue entry id: {fields['id']!r}")
        if not isinstance(fields["config"], dict):
            raise ValueError("a queue entry's config is a JSON object")
        resume = fields.get("resume")
        if resume is not None and not isinstance(resume, dict):
            raise ValueError(f"a queue entry's resume is an object or null, not {resume!r}")
        estimate = fields.get("estimated_seconds")
        try:
            return cls(id=fields["id"], owner=str(fields["owner"]),
                       created=float(fields["created"]), sequence=int(fields["sequence"]),
                       config=train_config.TrainConfig.from_dict(fields["config"]),
                       resume=resume, runs_dir=_optional_text(fields.get("runs_dir")),
                       estimated_seconds=None if estimate is None else float(estimate))
        except TypeError as error:  # A field of the wrong kind inside the config.
            raise ValueError(f"malformed queue entry: {error}") from None


def _optional_text(value):
    return None if value is None else str(value)


def _safe_id(name):
    """An id usable as a file name: letters, digits, dashes and underscores only."""
    return 0 < len(name) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in name)


def new_entry(config, owner, *, resume=None, runs_dir=None, estimated_seconds=None):
    """A new entry for ``config`` (a TrainConfig), created now, with a fresh id."""
    if not isinstance(config, train_config.TrainConfig):
        # Rebuilt from its fields: Streamlit reloads edited modules during development, so
        # a page may hand over a TrainConfig of a newer copy of train_config.
        if not hasattr(config, "to_dict"):
            raise ValueError(f"config must be a TrainConfig, not {type(config).__name__}")
        config = train_config.TrainConfig.from_dict(config.to_dict())
    if resume is not None and not isinstance(resume, dict):
        raise ValueError(f"resume must be a dict like {{'run': id, 'more_epochs': 0}}, "
                         f"not {resume!r}")
    return QueueEntry(id=uuid.uuid4().hex[:10], owner=str(owner), created=time.time(),
                      sequence=next(_sequence), config=config,
                      resume=None if resume is None else dict(resume),
                      runs_dir=None if runs_dir is None else str(runs_dir),
                      estimated_seconds=estimated_seconds)


def queue_directory(runs_directory=None):
    """The queue's folder: ``<runs dir>/.queue``."""
    return runs.runs_dir(runs_directory) / QUEUE_FOLDER


def read_entries(directory):
    """Every readable entry in ``directory``, in queue order; unreadable files are skipped."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    entries = []
    for path in sorted(directory.glob("*.json")):
        if path.name.startswith("."):  # A temporary of storage.atomic_path.
            continue
        fields = storage.read_json_object(path)
        try:
            entry = QueueEntry.from_dict(fields)
            if entry.id != path.stem:
                raise ValueError(f"the file holds entry {entry.id!r}")
        except ValueError as error:
            _log.warning("Skipping the unreadable queue entry %s: %s", path,
                         "not a JSON object" if fields is None else error)
            continue
        entries.append(entry)
    return sorted(entries, key=lambda entry: entry.order)


def started_queue_ids(runs_directory=None):
    """Ids of queue entries that already have a run folder (its status names the entry)."""
    return {record.status[QUEUE_ID_FIELD] for record in runs.list_runs(runs_directory)
            if isinstance(record.status.get(QUEUE_ID_FIELD), str)}


class RunQueue:
    """The waiting entries, in order, mirrored in ``directory`` (one file per entry).

    ``add`` writes an entry's file; ``take`` removes an entry from the waiting list when it
    starts but keeps its file until ``discard`` (called once its run folder exists, or when
    it is cancelled or fails), so a crash in between loses nothing.
    """

    def __init__(self, directory):
        self.directory = Path(directory)
        self._waiting = {}  # id -> QueueEntry
        self._files = set()  # ids whose file is on disk

    def restore(self):
        """Read the folder back after a restart: entries already started are dropped.

        Returns the entries now waiting, in order.
        """
        entries = read_entries(self.directory)
        started = set()
        for folder in {entry.runs_dir for entry in entries}:
            started |= started_queue_ids(folder)
        for entry in entries:
            self._files.add(entry.id)
            if entry.id in started:
                self.discard(entry.id)
            else:
                self._waiting[entry.id] = entry
        return self.entries()

    def add(self, entry):
        """Queue ``entry``: its file first, so a waiting entry always has one."""
        if entry.id in self._waiting or entry.id in self._files:
            raise ValueError(f"queue entry {entry.id!r} is already queued")
        storage.write_atomic(self.directory / f"{entry.id}.json",
                             json.dumps(entry.to_dict(), indent=2))
        self._files.add(entry.id)
        self._waiting[entry.id] = entry

    def entries(self):
        """The waiting entries, first in line first."""
        return sorted(self._waiting.values(), key=lambda entry: entry.order)

    def get(self, entry_id):
        """The waiting entry ``entry_id``, or None."""
        return self._waiting.get(entry_id)

    def take(self, entry_id):
        """The entry leaves the waiting list (it is starting); its file stays. The entry."""
        return self._waiting.pop(entry_id)

    def put_back(self, entry):
        """An entry taken but not started (no data, a lost race) waits again in its place."""
        self._waiting[entry.id] = entry

    def has_file(self, entry_id):
        return entry_id in self._files

    def discard(self, entry_id):
        """Forget the entry and delete its file (cancelled, failed, or its run folder exists)."""
        self._waiting.pop(entry_id, None)
        self._files.discard(entry_id)
        (self.directory / f"{entry_id}.json").unlink(missing_ok=True)


def epochs_to_train(config, resume=None, runs_directory=None):
    """How many epochs a queued run will train: all of them, or what a resume adds."""
    if not resume:
        return config.epochs
    more = resume.get("more_epochs") or 0
    if isinstance(more, int) and more > 0:
        return more
    run_id = resume.get("run")
    record = runs.read_run(runs.runs_dir(runs_directory) / run_id) \
        if isinstance(run_id, str) and _safe_id(run_id) else None
    done = record.status.get("epoch", 0) if record is not None else 0
    done = done if isinstance(done, int) else 0
    return max(config.epochs - done, 0)


def estimate_seconds(config, training_images, *, epochs=None):
    """Seconds ``config`` will train on the reference machine, or None when unmeasured.

    From ``train_config.EPOCH_MINUTES`` of the preset the config comes from (unchanged, or
    with the form's fields changed but the same network), scaled by the images it trains
    on: ``train_size``, or ``training_images`` (the dataset's training set) when that is
    None. A network or recipe never measured is None: "unknown", not a guess.
    """
    recipe = recipes.recipe_of(config.to_dict()).removesuffix(" (changed)")
    minutes = train_config.EPOCH_MINUTES.get(recipe)
    if minutes is None or train_config.PRESETS[recipe].model != config.model:
        return None
    images = config.train_size or training_images
    epochs = config.epochs if epochs is None else epochs
    return epochs * minutes * 60 * images / REFERENCE_IMAGES


def estimate_wait(slot_seconds, durations_ahead):
    """Seconds until the next run after ``durations_ahead`` starts, or None when unknown.

    ``slot_seconds`` holds, for every training slot, the seconds until it is free (0: free
    now; None: busy for an unknown time); ``durations_ahead`` the estimated seconds of each
    run ahead in the queue (None: unknown), first in line first. Each run takes the slot
    that frees first, as the dispatcher does.
    """
    if not slot_seconds:
        raise ValueError("there is at least one training slot")
    unknown = float("inf")
    slots = sorted(unknown if seconds is None else float(seconds) for seconds in slot_seconds)
    for duration in durations_ahead:
        start = slots.pop(0)
        slots.append(unknown if duration is None else start + duration)
        slots.sort()
    return None if slots[0] == unknown else slots[0]
