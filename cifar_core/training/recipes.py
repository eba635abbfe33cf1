"""Recipes as the Train page edits them: a preset plus the form's fields, and back.

The form shows a preset's ``FORM_FIELDS``; ``config_from_form`` applies what the user
typed and reports every bad field at once, in ``TrainConfig``'s own words;
``recipe_of`` tells which preset a run folder's config came from, for the history table.
"""

import dataclasses

from cifar_core.training import train_config

#: Fields the Train page's form may change on top of a preset (all TrainConfig fields;
#: ``student``, the name typed, is a label: it never changes which recipe a run is).
FORM_FIELDS = ("model", "epochs", "batch_size", "optimizer", "learning_rate", "augment",
               "train_size", "student")


def form_values(preset_name):
    """The form's fields filled from a preset; the form writes "all images" as 0."""
    fields = train_config.preset(preset_name).to_dict()  # ValueError naming an unknown preset
    return {name: 0 if fields[name] is None else fields[name] for name in FORM_FIELDS}


def config_from_form(preset_name, fields, design=None):
    """(config, errors): the preset with the form's ``fields`` applied, or None and why.

    A ``model`` of "designed" trains ``design`` (the Train page's designed network, a
    ``models.design`` definition, or None when there is none or it is impossible).

    ``errors`` maps each bad field to TrainConfig's own message, so the page can show
    every problem next to its field at once (TrainConfig alone stops at the first).
    A ``train_size`` of 0 means all training images.
    """
    base = train_config.preset(preset_name)  # ValueError naming an unknown preset
    unknown = set(fields) - set(FORM_FIELDS)
    if unknown:
        raise ValueError(f"not form fields: {sorted(unknown)}")
    fields = dict(fields)
    if fields.get("model") == train_config.network_design.DESIGNED:
        if design is None:
            return None, {"model": "design a possible network first (Design a network)"}
        try:
            base = dataclasses.replace(base, model=fields["model"], design=design)
        except ValueError as error:
            return None, {"model": str(error).split(": ", 1)[-1]}
    if fields.get("train_size") == 0:
        fields["train_size"] = None
    if fields.get("optimizer", base.optimizer) != "nesterov-l2":
        # airbench's fields belong to its optimizer: another one trains without them.
        base = dataclasses.replace(base, **train_config.AIRBENCH_FIELDS)
    errors = {}
    for name, value in fields.items():
        try:
            dataclasses.replace(base, **{name: value})
        except ValueError as error:
            errors[name] = str(error).split(": ", 1)[-1]
    if errors:
        return None, errors
    try:
        return dataclasses.replace(base, **fields), {}
    except ValueError as error:  # Fields fine alone but not together.
        return None, {"form": str(error)}


def recipe_of(config):
    """The preset a run's config (a dict) came from: "demo", "fast (changed)" or "custom".

    The Train page's form changes only ``FORM_FIELDS``, so the other fields identify the
    preset it started from. Presets that differ only in form fields (``minute`` is
    ``fast-small`` with fewer epochs) are told apart by an exact match first.
    """
    # A field missing from a run written before the field existed had its default value.
    config = {**train_config.TrainConfig().to_dict(), **config}
    labels = train_config.LABEL_FIELDS  # who trained it and its sweep say nothing of the recipe
    for name, preset in train_config.PRESETS.items():
        if all(config.get(key) == value for key, value in preset.to_dict().items()
               if key not in labels):
            return name
    for name, preset in train_config.PRESETS.items():
        if all(config.get(key) == value for key, value in preset.to_dict().items()
               if key not in FORM_FIELDS + ("design",) + labels):
            return f"{name} (changed)"
    return "custom"
