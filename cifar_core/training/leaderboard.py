"""The class leaderboard: every run on the server, best validation accuracy first.

A run's place is its best validation accuracy over its epochs (history.csv), not its last
epoch's: a run that peaked and then wobbled keeps its peak. Equal accuracies go to the run
that started first (it got there first). Runs without a validation accuracy yet (just
started, failed before an epoch) come last, unranked. Names are the students' own text
(``TrainConfig.student``), passed through untouched: ``ui.leaderboard_panel`` shows them
in a dataframe, as plain text. Files only: no TensorFlow, no Streamlit.
"""

import functools
import math
from dataclasses import dataclass

import pandas as pd

from cifar_core.display import text
from cifar_core.training import permissions, recipes, run_history

#: The table's columns, in order ("class model" and "yours" are ticks).
COLUMNS = ("rank", "student", "best validation %", "test %", "recipe", "model", "epochs",
           "training time", "state", "sweep", "started", "run", "class model", "yours")


@dataclass(frozen=True)
class Standing:
    """One run's place: ``rank`` (1 = best; None while it has no validation accuracy)."""

    rank: int | None
    record: object  # a runs.RunRecord
    best_validation_accuracy: float | None
    training_seconds: float | None


def _number(value):
    """A finite float from a status or history value, else None (hand-edited files)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


@functools.lru_cache(maxsize=4096)
def _history_summary(history_path, modification_time, size):
    """(best val_accuracy, summed epoch seconds) of one history.csv; cached per file version
    (the time and size are the key), so 30 tabs re-reading the board read each file once."""
    from cifar_core.training import runs  # the reader lives with the run folders

    rows = runs.RunRecord(history_path.parent, {}, {}).history()
    accuracies = [value for row in rows if (value := _number(row.get("val_accuracy"))) is not None]
    seconds = [value for row in rows if (value := _number(row.get("seconds"))) is not None]
    return (max(accuracies) if accuracies else None, sum(seconds) if seconds else None)


def _summary(record):
    history_path = record.path / "history.csv"
    try:
        stat = history_path.stat()
    except OSError:
        return None, None
    return _history_summary(history_path, stat.st_mtime_ns, stat.st_size)


def best_validation_accuracy(record):
    """The run's best validation accuracy over its epochs (0-1), or None if it has none.

    history.csv is the source; a run without one falls back on status.json's last value.
    """
    best, _ = _summary(record)
    return best if best is not None else _number(record.status.get("val_accuracy"))


def training_seconds(record):
    """Seconds the run spent training: its epochs' times summed (a resumed run's pause is
    not training), else from its start to its end or last heartbeat; None if unknown."""
    _, seconds = _summary(record)
    if seconds is not None:
        return seconds
    started = _number(record.status.get("started"))
    ended = _number(record.status.get("finished")) or _number(record.status.get("updated"))
    return ended - started if started is not None and ended is not None else None


def _started(record):
    started = _number(record.status.get("started"))
    return started if started is not None else math.inf  # unknown start: last among equals


def standings(records):
    """The runs in leaderboard order, each a ``Standing``: best validation accuracy first,
    ties to the earlier start; runs with none yet last, unranked, earlier start first."""
    measured = [(record, best_validation_accuracy(record)) for record in records]
    # No accuracy sorts after every accuracy; then the earlier start, then the id (stable).
    measured.sort(key=lambda pair: (pair[1] is None, -(pair[1] or 0.0), _started(pair[0]),
                                    pair[0].id))
    ranks = iter(range(1, len(measured) + 1))
    return [Standing(None if best is None else next(ranks), record, best,
                     training_seconds(record)) for record, best in measured]


def _started_time(record):
    started = _number(record.status.get("started"))
    return pd.Timestamp(started, unit="s", tz="UTC") if started is not None else pd.NaT


def _epochs(record):
    epoch = _number(record.status.get("epoch"))
    return f"{int(epoch or 0)} of {record.config.get('epochs', '?')}"


def table(places, *, pinned_id=None, tab_token=None):
    """The leaderboard as a DataFrame with ``COLUMNS``, one row per ``Standing``, in order.

    ``pinned_id`` ticks the class model's row; ``tab_token`` ticks the rows this tab
    started. Student names and sweep ids are the config's text, unchanged (None: "").
    """
    rows = []
    for place in places:
        record = place.record
        config = record.config
        rows.append({
            "rank": place.rank, "student": str(config.get("student") or ""),
            "best validation %": run_history.percent(place.best_validation_accuracy),
            "test %": run_history.percent(_number(record.status.get("test_accuracy"))),
            "recipe": recipes.recipe_of(config), "model": str(config.get("model", "?")),
            "epochs": _epochs(record), "training time": text.duration_text(place.training_seconds),
            "state": record.state, "sweep": str(config.get("sweep") or ""),
            "started": _started_time(record), "run": record.id,
            "class model": record.id == pinned_id,
            "yours": permissions.owns(record, tab_token),
        })
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["rank"] = frame["rank"].astype("Int64")  # whole numbers, blank where unranked
    return frame
