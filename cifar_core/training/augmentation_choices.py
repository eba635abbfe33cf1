"""The presets grouped by the augmentation they apply, and what it does, in words.

The Dataset page shows what training makes of one image; presets that augment alike (the
same ``augment`` and ``flip``) show the same thing, so the page offers one choice per kind
of augmentation, named with its presets. No TensorFlow here: the page's first paint reads
this; the pictures come from ``input_pipeline.augmented_views`` once asked for.
"""

from dataclasses import dataclass

from cifar_core.training import train_config

#: A choice's name for presets that do not augment; the others are named by their flip.
NO_AUGMENTATION = "none"
#: The choices' names, in the order the page lists them.
NAMES = (*train_config.FLIPS, NO_AUGMENTATION)

_WORDS = {
    "random": "mirrored left-right at random (one epoch in two on average) and shifted by up "
              "to 2 pixels up or down and left or right, the border filled in by reflection",
    "alternating": "mirrored left-right in every other epoch (at random in the first: "
                   "airbench's alternating flips) and shifted by up to 2 pixels up or down "
                   "and left or right, the border filled in by reflection",
    NO_AUGMENTATION: "shown as it is in every epoch: no flips, no shifts",
}


@dataclass(frozen=True)
class AugmentationChoice:
    """One kind of augmentation: ``name`` (a flip or "none") and the presets that use it."""

    name: str
    presets: tuple

    @property
    def flip(self):
        """``input_pipeline.augmented_views``' flip, or None where nothing is augmented."""
        return None if self.name == NO_AUGMENTATION else self.name

    @property
    def label(self):
        """"fast-cosine, seed-fast: random flips" for a chooser."""
        kind = "no augmentation" if self.flip is None else f"{self.name} flips and shifts"
        return f"{', '.join(self.presets)}: {kind}"

    @property
    def recipes(self):
        """"the fast-cosine and seed-fast recipes" for a sentence."""
        names = list(self.presets)
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        return f"the {listed} recipe{'s' * (len(names) > 1)}"

    @property
    def description(self):
        """What training does to each image, for a caption."""
        return f"With {self.recipes}, each training image is {_WORDS[self.name]}."


def choice_name(config):
    """The choice a ``TrainConfig`` falls under: its flip where it augments, else "none"."""
    return config.flip if config.augment else NO_AUGMENTATION


def augmentation_choices(presets=None):
    """``{name: AugmentationChoice}`` over ``presets`` (name -> TrainConfig; default: all the
    presets), in the order of ``NAMES``, only the kinds some preset uses."""
    presets = train_config.PRESETS if presets is None else presets
    grouped = {name: [] for name in NAMES}
    for preset_name, config in presets.items():
        grouped[choice_name(config)].append(preset_name)
    return {name: AugmentationChoice(name, tuple(names))
            for name, names in grouped.items() if names}
