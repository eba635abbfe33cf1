"""Which trained models exist: the ones shipped under ``models/`` and finished runs.

Every page that lets the user choose a model asks this module, so a run trained on the
Train page shows up everywhere. Listing reads only small JSON files (no TensorFlow), so
the Home page can report models without paying for the TensorFlow import.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from cifar_core import storage


@dataclass(frozen=True)
class ModelEntry:
    """One loadable model: ``key`` is stable and short, for URLs and selectors."""

    key: str
    label: str
    path: Path
    architecture: str
    source: str  # "shipped" or "run"
    test_accuracy: float | None = None


def models_dir():
    """Where shipped models live: ``$CIFAR_MODELS_DIR`` or the project's ``models/``."""
    return Path(os.environ.get("CIFAR_MODELS_DIR") or storage.PROJECT_ROOT / "models")


def _label(name, architecture, test_accuracy, note=None):
    """E.g. "fast (fast, 91.2% test)": what a teacher needs to pick a model."""
    details = [architecture]
    if test_accuracy is not None:
        details.append(f"{test_accuracy:.1%} test")
    if note:
        details.append(note)
    return f"{name} ({', '.join(details)})"


def shipped_models(directory=None):
    """Models in the models folder: each ``NAME.keras`` described by a ``NAME.json`` card."""
    directory = Path(directory) if directory is not None else models_dir()
    entries = []
    for path in sorted(directory.glob("*.keras")):
        card_path = path.with_suffix(".json")
        try:
            card = json.loads(card_path.read_text())
        except (OSError, ValueError):
            continue  # A model without a readable card is not one we ship.
        if not isinstance(card, dict):
            continue  # Valid JSON but not a card (a list, a string): not one we ship either.
        architecture = str(card.get("architecture", path.stem))
        accuracy = card.get("test_accuracy")
        accuracy = float(accuracy) if isinstance(accuracy, (int, float)) else None
        entries.append(ModelEntry(path.stem, _label(path.stem, architecture, accuracy), path,
                                  architecture, "shipped", accuracy))
    return entries


def run_models(directory=None):
    """Finished (or stopped) training runs that saved a model, newest first."""
    from cifar_core.training import runs  # Reads JSON only; no TensorFlow.

    entries = []
    for record in runs.list_runs(directory):
        if record.state not in ("finished", "stopped") or record.model_path is None:
            continue
        architecture = str(record.config.get("model", "?"))
        accuracy = record.status.get("test_accuracy")
        accuracy = float(accuracy) if isinstance(accuracy, (int, float)) else None
        note = "stopped early" if record.state == "stopped" else None
        entries.append(ModelEntry(record.id,
                                  _label(f"run {record.id}", architecture, accuracy, note),
                                  record.model_path, architecture, "run", accuracy))
    return entries


def available_models(models_directory=None, runs_directory=None):
    """Shipped models first, then finished runs, newest run first."""
    return shipped_models(models_directory) + run_models(runs_directory)
