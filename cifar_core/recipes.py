"""Recipes as the Train page edits them: a preset plus the form's fields, and back.

The form shows a preset's ``FORM_FIELDS``; ``config_from_form`` applies what the user
typed and reports every bad field at once, in ``TrainConfig``'s own words;
``recipe_of`` tells which preset a run folder's config came from, for the history table.
"""

import dataclasses

from cifar_core import training

#: Fields the Train page's form may change on top of a preset (all TrainConfig fields).
FORM_FIELDS = ("model", "epochs", "batch_size", "optimizer", "learning_rate", "augment",
               "train_size")


def form_values(preset_name):
    """The form's fields filled from a preset; the form writes "all images" as 0."""
    fields = training.preset(preset_name).to_dict()  # ValueError naming an unknown preset
    return {name: 0 if fields[name] is None else fields[name] for name in FORM_FIELDS}


def config_from_form(preset_name, fields):
    """(config, errors): the preset with the form's ``fields`` applied, or None and why.

    ``errors`` maps each bad field to TrainConfig's own message, so the page can show
    every problem next to its field at once (TrainConfig alone stops at the first).
    A ``train_size`` of 0 means all training images.
    """
    base = training.preset(preset_name)  # ValueError naming an unknown preset
    unknown = set(fields) - set(FORM_FIELDS)
    if unknown:
        raise ValueError(f"not form fields: {sorted(unknown)}")
    fields = dict(fields)
    if fields.get("train_size") == 0:
        fields["train_size"] = None
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
    preset it started from.
    """
    # A field missing from a run written before the field existed had its default value.
    config = {**training.TrainConfig().to_dict(), **config}
    for name, preset in training.PRESETS.items():
        fields = preset.to_dict()
        if all(config.get(key) == value for key, value in fields.items()
               if key not in FORM_FIELDS):
            same = all(config.get(key) == fields[key] for key in FORM_FIELDS)
            return name if same else f"{name} (changed)"
    return "custom"


#: Minutes an epoch of a preset takes on the full training set on this 2-core CPU, where
#: measured: the notebook's fit at 297 images/s (bench_training), the shipped fast model's
#: run (26 epochs in 65 minutes), fast-small at about 1,400 images/s.
EPOCH_MINUTES = {"seed-notebook": 2.8, "fast": 2.5, "fast-small": 0.6}

#: What each preset is for (one per preset; a test keeps them in step with PRESETS).
PURPOSES = {"seed-notebook": "the seed notebook's recipe",
            "seed-fast": "the seed network with our recipe (the shipped seed model)",
            "fast": "the shipped fast model's recipe",
            "fast-small": "the fast recipe at a quarter of the width, about 80% test accuracy",
            "demo": "the tiny net on 10,000 images, progress within seconds"}


def describe(preset_name):
    """One line on what a preset is for and how long it trains, from the preset itself."""
    config = training.preset(preset_name)  # ValueError naming an unknown preset
    length = f"{config.epochs} epochs"
    if preset_name in EPOCH_MINUTES:
        minutes = config.epochs * EPOCH_MINUTES[preset_name]
        length += f", about {max(1, round(minutes))} minutes on 2 CPU cores"
    return f"{preset_name}: {PURPOSES[preset_name]} ({length})"


#: How each TrainConfig.flip mirrors images, in words.
FLIP_WORDS = {"random": "each image at random",
              "alternating": "each image in every other epoch, airbench's alternating flips"}


def augment_help(preset_name):
    """The Augment toggle's help: what augmentation does, with the preset's way of flipping."""
    flip = training.preset(preset_name).flip  # ValueError naming an unknown preset
    return (f"Images are mirrored left-right ({preset_name} recipe: {FLIP_WORDS[flip]}) "
            "and shifted at random by up to 2 pixels, so each epoch the network sees new "
            "variants of them.")
