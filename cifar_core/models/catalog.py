"""Which trained models exist: shipped under ``models/``, finished runs, imported files.

Every page that lets the user choose a model asks this module, so a run trained on the
Train page shows up everywhere; the run a teacher pinned as the class model
(``training.class_model``) comes first. Listing reads only small JSON files (no
TensorFlow), so the Home page can report models without paying for the TensorFlow import.
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
    source: str  # "shipped", "run" or "imported"
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


def run_models(directory=None, *, pinned_id=None):
    """Finished (or stopped) training runs that saved a model, newest first.

    The run ``pinned_id`` (the teacher's class model) is labelled "class model: <student
    name or run id>" (``class_model.label_name``: never a name Markdown would change).
    """
    from cifar_core.training import class_model, runs  # Read JSON only; no TensorFlow.

    entries = []
    for record in runs.list_runs(directory):
        if record.state not in ("finished", "stopped") or record.model_path is None:
            continue
        architecture = str(record.config.get("model", "?"))
        accuracy = record.status.get("test_accuracy")
        accuracy = float(accuracy) if isinstance(accuracy, (int, float)) else None
        note = "stopped early" if record.state == "stopped" else None
        name = (f"class model: {class_model.label_name(record)}" if record.id == pinned_id
                else f"run {record.id}")
        entries.append(ModelEntry(record.id, _label(name, architecture, accuracy, note),
                                  record.model_path, architecture, "run", accuracy))
    return entries


#: Subfolder of the models folder holding imported files and their cards (``importing``).
IMPORTED_FOLDER = "imported"


def imported_dir(models_directory=None):
    """Where imported models live: ``imported/`` inside the models folder."""
    directory = Path(models_directory) if models_directory is not None else models_dir()
    return directory / IMPORTED_FOLDER


def read_card(card_path):
    """A model card (JSON dict) at ``card_path``, or None when missing or not a card."""
    return storage.read_json_object(card_path)


def imported_entry(card_path):
    """The ModelEntry of one imported model's card, or None unless card and file are whole.

    A card names its file (``<name>.keras`` or ``<name>.h5`` beside it); ``importing``
    writes the card last, so a file whose import failed has none and is never listed.
    """
    card_path = Path(card_path)
    card = read_card(card_path)
    if card is None or card.get("source") != "imported":
        return None
    file_name = card.get("file")
    if not isinstance(file_name, str) or Path(file_name).name != file_name \
            or Path(file_name).stem != card_path.stem \
            or Path(file_name).suffix not in (".keras", ".h5"):
        return None
    path = card_path.with_name(file_name)
    if not path.is_file():
        return None
    architecture = str(card.get("architecture", "?"))
    accuracy = card.get("test_accuracy")
    accuracy = float(accuracy) if isinstance(accuracy, (int, float)) else None
    measured_on = str(card.get("test_accuracy_on") or "")
    note = "imported" + (f", accuracy on a {measured_on}" if accuracy is not None
                         and measured_on.startswith("sample") else "")
    return ModelEntry(card_path.stem, _label(card_path.stem, architecture, accuracy, note),
                      path, architecture, "imported", accuracy)


def imported_models(models_directory=None):
    """Models imported with ``importing.import_model`` (files with a card), by name."""
    directory = imported_dir(models_directory)
    entries = (imported_entry(path) for path in sorted(directory.glob("*.json")))
    return [entry for entry in entries if entry is not None]


def model_card(entry):
    """The JSON card of a shipped or imported ``entry`` (a dict), None for runs or none."""
    if entry.source == "run":
        return None
    return read_card(Path(entry.path).with_suffix(".json"))


def input_scaling_of(model_path):
    """The input scaling an imported model's card sets (it changes what the model computes),
    or None for our own models, whose scaling is inside the file."""
    if Path(model_path).parent.name != IMPORTED_FOLDER:
        return None  # ours: no card to read on every cache key
    card = read_card(Path(model_path).with_suffix(".json"))
    scaling = card.get("scaling") if card and card.get("source") == "imported" else None
    return str(scaling) if scaling is not None else None


def available_models(models_directory=None, runs_directory=None):
    """The class model (the run a teacher pinned) first, so pages that open on the first
    model open on it; then shipped models, finished runs (newest first), imported models."""
    from cifar_core.training import class_model  # Reads one small JSON file.

    pinned_id = class_model.pinned_id(runs_directory)
    finished_runs = run_models(runs_directory, pinned_id=pinned_id)
    pinned = [entry for entry in finished_runs if entry.key == pinned_id]
    return (pinned + shipped_models(models_directory)
            + [entry for entry in finished_runs if entry.key != pinned_id]
            + imported_models(models_directory))
