"""Bring your own model: a Keras file checked, kept untouched, listed, and loaded wrapped.

``import_model`` checks an untrusted ``.keras`` or legacy ``.h5`` file (``model_checks``)
before loading it in safe mode, infers how it wants its pixels (``input_scaling``), copies
the file byte for byte to ``$CIFAR_MODELS_DIR/imported/<name>.<keras|h5>`` and writes a
JSON card beside it (source, architecture, parameters, test accuracy, scaling and every
candidate's accuracy, output kind, date, original file name). The copy and the card are
written atomically, card last: a file that fails any step is never listed.
``load_imported`` loads such an entry wrapped into the app's layout (``wrapping``), which
is what every page sees.
"""

import datetime
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from cifar_core import storage
from cifar_core.backend import keras
from cifar_core.models import catalog, input_scaling, model_checks, saving, wrapping
from cifar_core.models.model_checks import ModelError

#: Longest name kept for an imported model (file names and URLs stay short).
MAX_NAME_LENGTH = 48


def sanitise_name(name):
    """``name`` made safe as a file stem and URL key: letters, digits, - and _ only."""
    text = re.sub(r"[^A-Za-z0-9_-]+", "-", str(name or "")).strip("-_")[:MAX_NAME_LENGTH]
    return text.strip("-_") or "imported-model"


def _free_name(directory, name):
    """``name``, or ``name-2``, ``name-3``...: unused in ``directory`` and by shipped models."""
    taken = {entry.key for entry in catalog.shipped_models(directory.parent)}
    taken |= {path.stem for path in directory.glob("*") if path.suffix in (".json", ".keras",
                                                                            ".h5")}
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name[:MAX_NAME_LENGTH - 4]}-{number}"
    return candidate


def _copy_bounded(source, target):
    """Copy ``source`` to ``target`` refusing, mid-copy, a file that grew over the limit."""
    copied = 0
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(1 << 20):
            copied += len(chunk)
            if copied > model_checks.MAX_MODEL_BYTES:
                raise ModelError(f"{Path(source).name}: the file is over the "
                                 f"{model_checks.MAX_MODEL_BYTES // 2**20} MB limit")
            writer.write(chunk)


def _load_checked(path, display_name):
    """The user's model from ``path`` (already inspected), or ModelError naming the file."""
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for corrupt or foreign files.
        reason = " ".join(str(error).split())[:300]
        raise ModelError(f"{display_name}: Keras could not load it ({reason})") from error
    if not isinstance(model, keras.Model):
        raise ModelError(f"{display_name}: it holds a {type(model).__name__}, not a model")
    model_checks.check_classifier(model, display_name)
    return model


@dataclass(frozen=True)
class OpenedModel:
    """A checked file, loaded: the user's model, its wrapper, and the scaling chosen."""

    wrapped: object  # the flat keras.Model every page uses
    user_model: object  # the model as the file holds it (layers shared with ``wrapped``)
    choice: input_scaling.ScalingChoice
    statistics: input_scaling.ChannelStatistics | None
    architecture: str  # the file's top-level class: Sequential, Functional


def open_model(path, *, dataset=None, scaling=None, display_name=None):
    """Check, load and wrap any accepted file in place, without copying it: ``OpenedModel``.

    ``scaling`` overrides the inferred one; without ``dataset`` it is assumed 0-1.
    """
    path = Path(path)
    display_name = display_name or path.name
    facts = model_checks.inspect_file(path, display_name=display_name)
    if path.suffix != f".{facts.format}":
        raise ValueError(f"{path} must end in .{facts.format} for Keras to read it")
    model = _load_checked(path, display_name)
    choice, statistics = _choose_scaling(model, dataset, scaling)
    wrapped = wrapping.wrap(model, choice.scaling, choice.output, statistics,
                            name=sanitise_name(path.stem))
    problem = saving.layout_problem(wrapped)
    assert problem is None, f"the wrapper broke the layout: {problem}"
    return OpenedModel(wrapped, model, choice, statistics, facts.architecture)


_statistics_cache = {}


def _training_statistics(dataset):
    """The training set's channel statistics, computed once per dataset in memory."""
    key = (id(dataset.x_train), len(dataset.x_train))
    if key not in _statistics_cache:
        _statistics_cache.clear()
        _statistics_cache[key] = input_scaling.channel_statistics(dataset.x_train)
    return _statistics_cache[key]


def _choose_scaling(model, dataset, scaling):
    own = input_scaling.has_own_scaling(wrapping.flat_layers(model))
    if scaling is not None and scaling not in input_scaling.SCALINGS:
        raise ValueError(f"unknown input scaling {scaling!r}; choose one of "
                         f"{list(input_scaling.SCALINGS)}")
    if dataset is None:
        choice = input_scaling.assumed_scaling(model, own_scaling=own)
        statistics = None
        if scaling == "standardised":
            raise ValueError("the 'standardised' scaling needs the dataset's statistics")
    else:
        statistics = _training_statistics(dataset)
        images, labels = input_scaling.fixed_sample(dataset.x_test, dataset.y_test)
        choice = input_scaling.infer_scaling(model, images, labels, statistics,
                                             own_scaling=own)
    if scaling is not None and scaling != choice.scaling:
        choice = input_scaling.ScalingChoice(scaling, choice.output, choice.accuracies,
                                             choice.sample_size, "chosen by hand")
    return choice, statistics


def _summary(model):
    """E.g. "9 layers: 3 Conv2D, 2 MaxPooling2D, 2 Dense, 1 Flatten, 1 Dropout"."""
    layers = wrapping.flat_layers(model)
    counts = Counter(type(layer).__name__ for layer in layers)
    return f"{len(layers)} layers: " + ", ".join(f"{n} {kind}" for kind, n in
                                                  counts.most_common())


def _test_accuracy(wrapped, dataset, choice, evaluate):
    """(accuracy, what it was measured on): the full test set, the sample, or nothing."""
    if dataset is None:
        return None, None
    if evaluate:
        from cifar_core.training import trainer

        accuracy = trainer.evaluate_accuracy(wrapped, dataset.x_test, dataset.y_test)
        return round(accuracy, 4), f"test set ({len(dataset.x_test):,} images)"
    accuracy = choice.accuracies.get(choice.scaling)
    return accuracy, f"sample of {choice.sample_size:,} test images"


def imported_dir(models_directory=None):
    """Where imported models live: ``imported/`` in the models folder."""
    return catalog.imported_dir(models_directory)


def import_model(file_path, name=None, *, dataset=None, scaling=None, models_directory=None,
                 original_name=None, evaluate=False):
    """Check, load and add the model file at ``file_path`` to the catalogue; its ModelEntry.

    ``name`` defaults to the file's stem; it is sanitised and made unique. ``dataset`` (a
    ``Cifar10``) enables scaling inference and the test accuracy: on the scoring sample of
    1,000 test images by default (the import stays within seconds), on the full test set
    with ``evaluate`` (as many images again as the scoring 10 times over); the card says
    which in ``test_accuracy_on``. ``original_name`` is the
    uploaded file's name when ``file_path`` is a temporary copy. Raises ModelError (bad
    file) or ValueError (bad scaling); nothing is left behind either way.
    """
    source = Path(file_path)
    display_name = Path(original_name).name if original_name else source.name
    facts = model_checks.inspect_file(source, display_name=display_name)  # size first
    directory = imported_dir(models_directory)
    directory.mkdir(parents=True, exist_ok=True)
    key = _free_name(directory, sanitise_name(name or Path(display_name).stem))
    target = directory / f"{key}.{facts.format}"
    assert target.resolve().parent == directory.resolve(), "a sanitised name left the folder"
    with storage.atomic_path(target) as temporary:
        _copy_bounded(source, temporary)
        opened = open_model(temporary, dataset=dataset, scaling=scaling,
                            display_name=display_name)
        choice, statistics = opened.choice, opened.statistics
        accuracy, measured_on = _test_accuracy(opened.wrapped, dataset, choice, evaluate)
        card = {
            "source": "imported", "name": key, "file": target.name, "format": facts.format,
            "original_file": display_name, "architecture": opened.architecture,
            "summary": _summary(opened.user_model),
            "parameters": int(opened.user_model.count_params()),
            "test_accuracy": accuracy, "test_accuracy_on": measured_on,
            "scaling": choice.scaling, "scaling_note": choice.note,
            "scaling_accuracies": choice.accuracies, "scaling_sample": choice.sample_size,
            "channel_statistics": statistics.to_json() if statistics else None,
            "output": choice.output, "size_bytes": facts.size,
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    storage.write_atomic(target.with_suffix(".json"), json.dumps(card, indent=2) + "\n")
    return catalog.imported_entry(target.with_suffix(".json"))


def read_card(path):
    """The card of the imported model file at ``path``; ModelError if it has none."""
    card = catalog.read_card(Path(path).with_suffix(".json"))
    if card is None or card.get("source") != "imported":
        raise ModelError(f"{Path(path).name}: not an imported model (no card beside it)")
    return card


def is_imported(path):
    """Whether ``path`` is an imported model's file (a card with source "imported")."""
    card = catalog.read_card(Path(path).with_suffix(".json"))
    return card is not None and card.get("source") == "imported"


def load_imported(path):
    """The imported model at ``path`` wrapped into the app's layout, as its card says."""
    path = Path(path)
    card = read_card(path)
    statistics = card.get("channel_statistics")
    statistics = input_scaling.ChannelStatistics.from_json(statistics) if statistics else None
    model_checks.inspect_file(path)  # the file is ours to keep, but check it every load
    model = _load_checked(path, path.name)
    wrapped = wrapping.wrap(model, card.get("scaling", input_scaling.DEFAULT_SCALING),
                            card.get("output", "probabilities"), statistics,
                            name=sanitise_name(path.stem))
    return wrapped


def load_any(path):
    """The model file at ``path`` as every page sees it: an imported file wrapped as its card
    says, our own files (shipped, runs, designed networks) through ``saving.load_model``."""
    return load_imported(path) if is_imported(path) else saving.load_model(path)


def _imported_entry_path(entry):
    """``entry.path``, checked to be an imported model inside the imported folder."""
    path = Path(entry.path)
    if entry.source != "imported" or not is_imported(path):
        raise ValueError(f"{entry.key!r} is not an imported model")
    return path


def set_scaling(entry, scaling, *, dataset=None):
    """Store ``scaling`` as the imported ``entry``'s input scaling; the new ModelEntry.

    The test accuracy becomes the full test set's with ``dataset``, else the candidate's
    accuracy on the scoring sample (when it was scored), else unknown.
    """
    path = _imported_entry_path(entry)
    card = read_card(path)
    statistics = card.get("channel_statistics")
    if scaling not in input_scaling.SCALINGS:
        raise ValueError(f"unknown input scaling {scaling!r}; choose one of "
                         f"{list(input_scaling.SCALINGS)}")
    if scaling == "standardised" and not statistics:
        raise ValueError("the 'standardised' scaling needs the dataset's statistics "
                         "(import the model with the dataset available)")
    card.update(scaling=scaling, scaling_note="chosen by hand")
    if dataset is not None:
        card["channel_statistics"] = card["channel_statistics"] or \
            _training_statistics(dataset).to_json()
        storage.write_atomic(path.with_suffix(".json"), json.dumps(card, indent=2) + "\n")
        from cifar_core.training import trainer

        accuracy = trainer.evaluate_accuracy(load_imported(path), dataset.x_test,
                                             dataset.y_test)
        card.update(test_accuracy=round(accuracy, 4),
                    test_accuracy_on=f"test set ({len(dataset.x_test):,} images)")
    else:
        sampled = card.get("scaling_accuracies", {}).get(scaling)
        card.update(test_accuracy=sampled, test_accuracy_on=(
            f"sample of {card.get('scaling_sample', 0):,} test images" if sampled is not None
            else None))
    storage.write_atomic(path.with_suffix(".json"), json.dumps(card, indent=2) + "\n")
    return catalog.imported_entry(path.with_suffix(".json"))


def delete_imported(entry):
    """Remove the imported ``entry``'s file and card (the card first: unlisted at once)."""
    path = _imported_entry_path(entry)
    path.with_suffix(".json").unlink(missing_ok=True)
    path.unlink(missing_ok=True)

