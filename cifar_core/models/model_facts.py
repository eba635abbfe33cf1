"""What the Models page says about one catalogue entry: its card's facts, in words.

A shipped model has a ``NAME.json`` card beside it, a training run its ``config.json`` and
``status.json``, an imported model the card the importer wrote (its input scaling and the
accuracy of every scaling it tried). This module reads those small JSON files only (no
TensorFlow), and turns them into rows a teacher reads: source, architecture, parameters,
test accuracy, input scaling, date.
"""

import datetime
from pathlib import Path

from cifar_core import storage
from cifar_core.models import input_scaling

#: The sources ``catalog`` gives, as the card says them.
SOURCE_WORDS = {"shipped": "shipped with the app", "run": "trained here (a training run)",
                "imported": "imported from a file"}
#: The input scalings an imported model can be given, in the importer's order.
SCALINGS = input_scaling.SCALINGS
#: What our own models (shipped, runs, designed networks) do: a Rescaling layer inside.
BUILT_IN_SCALING = "pixels / 255 (0-1), by the model's own Rescaling layer"


def _read_json(path):
    """The JSON object in ``path``, or {} when it is missing, unreadable or not an object."""
    return storage.read_json_object(path) or {}


def card_path(entry):
    """Where the entry's card is: beside the model file (shipped and imported models)."""
    return Path(entry.path).with_suffix(".json")


def model_card(entry):
    """The entry's card as a dict ({} where it has none); for a training run, its
    ``config.json`` and ``status.json`` merged (status last)."""
    if entry.source == "run":
        folder = Path(entry.path).parent
        return {**_read_json(folder / "config.json"), **_read_json(folder / "status.json")}
    return _read_json(card_path(entry))


def scaling_words(name):
    """A stored scaling name in words (an unknown name is shown as it is)."""
    return input_scaling.DESCRIPTIONS.get(name, str(name))


def scaling_candidates(card):
    """The scalings the importer tried, best accuracy first: [(name, accuracy or None)]."""
    candidates = card.get("scaling_accuracies")
    if not isinstance(candidates, dict):
        return []
    rows = [(str(name), float(accuracy) if isinstance(accuracy, (int, float))
             and not isinstance(accuracy, bool) else None)
            for name, accuracy in candidates.items()]
    return sorted(rows, key=lambda row: 1.0 if row[1] is None else -row[1])  # None last


def _date_text(value):
    """An ISO date string or a Unix time as "2026-11-25 22:20 UTC"; None if neither."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        moment = datetime.datetime.fromtimestamp(value, datetime.UTC)
    elif isinstance(value, str) and value:
        try:
            moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
    else:
        return None
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _scaling_text(entry, card):
    if entry.source != "imported":
        return BUILT_IN_SCALING
    name = card.get("scaling")
    if not name:
        return "not recorded"
    text = scaling_words(name)
    note = card.get("scaling_note")
    return f"{text} ({note})" if isinstance(note, str) and note else text


def card_rows(entry, *, parameters=None):
    """[(fact, text)] for the card: source, architecture, parameters, test accuracy, input
    scaling, date. ``parameters`` (the loaded model's count) wins over the card's."""
    card = model_card(entry)
    if parameters is None and isinstance(card.get("parameters"), int):
        parameters = card["parameters"]
    accuracy = entry.test_accuracy
    if accuracy is None and isinstance(card.get("test_accuracy"), (int, float)):
        accuracy = float(card["test_accuracy"])
    date = next((text for text in map(_date_text, (card.get(key) for key in (
        "date", "imported", "imported_at", "finished", "started"))) if text), None)
    rows = [
        ("source", SOURCE_WORDS.get(entry.source, entry.source)),
        ("architecture", entry.architecture),
        ("parameters", "unknown" if parameters is None else f"{int(parameters):,}"),
        ("test accuracy", "not measured" if accuracy is None else f"{accuracy:.2%}"),
        ("input scaling", _scaling_text(entry, card)),
        ("date", date or "unknown"),
    ]
    if accuracy is not None and isinstance(card.get("test_accuracy_on"), str):
        rows[3] = ("test accuracy", f"{accuracy:.2%} ({card['test_accuracy_on']})")
    if entry.source == "imported":
        if card.get("original_file"):
            rows.insert(1, ("file", str(card["original_file"])))
        if isinstance(card.get("summary"), str):
            rows.insert(3, ("layers", card["summary"]))
        if card.get("output") == "logits":
            rows.append(("output", "logits, turned into probabilities by a softmax added here"))
    return rows
