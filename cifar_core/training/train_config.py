"""The training configuration: one frozen ``TrainConfig``, the named presets, and what
each preset is for, in words.

No TensorFlow here: the command line's ``--help``, the Train page's form and the run
history read configs at once. Every hyperparameter sits in ``TrainConfig`` with a comment
on what it means; the presets are the seed notebook's recipe and our CPU recipes.
Measured figures (accuracies, minutes) live in README and the model cards, not here.
"""

import dataclasses
import math
import unicodedata
from dataclasses import dataclass

from cifar_core.models import contract
from cifar_core.models import design as network_design

OPTIMIZERS = ("sgd", "nesterov", "adam")
SCHEDULES = ("constant", "time-decay", "warmup-cosine")
#: How ``augment`` may flip images (see ``TrainConfig.flip``).
FLIPS = ("random", "alternating")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run.

    Validated on creation (ValueError names the field).
    """

    # architecture name in contract.ARCHITECTURE_NAMES, or "designed" (built from ``design``)
    model: str = "tiny"
    epochs: int = 1
    batch_size: int = 128
    optimizer: str = "nesterov"  # "sgd" (momentum), "nesterov" (SGD + Nesterov momentum), "adam"
    learning_rate: float = 0.05  # peak learning rate
    # "constant"; "time-decay": lr / (1 + (lr / epochs) * step), the notebook's Keras-2 decay;
    # "warmup-cosine": linear warmup over warmup_epochs, then cosine down to 0.
    schedule: str = "warmup-cosine"
    weight_decay: float = 0.0  # decoupled: each step w -= learning_rate * weight_decay * w
    label_smoothing: float = 0.0  # share of each target spread evenly over the 10 classes
    augment: bool = False  # horizontal flip + random translation by up to 2 pixels
    # How augment flips: "random": each image mirrored with probability 1/2 every epoch;
    # "alternating" (airbench): random in the first epoch, then each image mirrored in
    # every other epoch, so no image is seen the same way round twice in a row.
    flip: str = "random"
    train_size: int | None = None  # training images used (a seeded random subset); None = all
    # test images evaluated after each epoch (as the notebook); 0 = none
    validation_size: int = 1000
    seed: int = 0  # initial weights, subset, shuffling and augmentation
    momentum: float = 0.9  # for "sgd" and "nesterov"
    warmup_epochs: float = 0.0  # for "warmup-cosine"
    ema: bool = False  # keep an exponential moving average of the weights and end on it
    # "mixed_bfloat16": compute in bfloat16, keep float32 weights: about 2x faster for the
    # seed net on CPUs with AVX512-BF16 (README's benchmarks); "auto": that where the
    # hardware has native bfloat16 (a GPU, AVX512-BF16, AMX), else "float32".
    precision: str = "float32"
    # The network drawn on the Train page (a models.design definition, JSON-ready) when
    # model is "designed"; stored in the run's config.json, so the run can be rebuilt.
    design: dict | None = None
    # Labels, not hyperparameters (``LABEL_FIELDS``): the name the student typed (plain
    # text, shown as typed on the leaderboard) and the id of the sweep the run belongs to.
    student: str = ""
    sweep: str = ""

    def __post_init__(self):
        def fail(field, why):
            raise ValueError(f"TrainConfig.{field} = {getattr(self, field)!r}: {why}")

        if self.model not in MODELS:
            fail("model", f"choose one of {sorted(MODELS)}")
        # A design is long: its messages name the block, not the whole value.
        if self.model == network_design.DESIGNED:
            if self.design is None:
                raise ValueError("TrainConfig.design: a designed model needs its design")
            try:  # Checked in plain Python: no TensorFlow, so the CLI answers at once.
                object.__setattr__(self, "design", network_design.validate(self.design))
            except ValueError as error:
                raise ValueError(f"TrainConfig.design: {error}") from error
        elif self.design is not None:
            raise ValueError(f"TrainConfig.design: only a {network_design.DESIGNED!r} model "
                             f"has a design, not {self.model!r}")
        for field, low in (("epochs", 1), ("batch_size", 1), ("validation_size", 0), ("seed", 0)):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                fail(field, f"must be an integer >= {low}")
        if self.batch_size > 8192:
            fail("batch_size", "must be at most 8192")
        if self.train_size is not None and (isinstance(self.train_size, bool)
                                            or not isinstance(self.train_size, int)
                                            or self.train_size < 1):
            fail("train_size", "must be None (all) or an integer >= 1")
        if self.optimizer not in OPTIMIZERS:
            fail("optimizer", f"choose one of {list(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            fail("schedule", f"choose one of {list(SCHEDULES)}")
        if self.flip not in FLIPS:
            fail("flip", f"choose one of {list(FLIPS)}")
        for field, low, high in (("learning_rate", 0.0, 100.0), ("weight_decay", 0.0, 1.0),
                                 ("label_smoothing", 0.0, 1.0), ("momentum", 0.0, 1.0),
                                 ("warmup_epochs", 0.0, 1e6)):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or not low <= value <= high:
                fail(field, f"must be a number in [{low}, {high}]")
        if self.learning_rate == 0:
            fail("learning_rate", "must be greater than 0")
        if self.label_smoothing >= 1:
            fail("label_smoothing", "must be below 1")
        if not isinstance(self.augment, bool):
            fail("augment", "must be True or False")
        if not isinstance(self.ema, bool):
            fail("ema", "must be True or False")
        if self.precision not in PRECISIONS:
            fail("precision", f"choose one of {list(PRECISIONS)}")
        for field in LABEL_FIELDS:
            value = getattr(self, field)
            if not isinstance(value, str) or len(value) > LABEL_LENGTH:
                fail(field, f"must be text of at most {LABEL_LENGTH} characters")
            if any(unicodedata.category(character)[0] == "C" for character in value):
                fail(field, "must not contain control or invisible format characters")

    def __hash__(self):  # The design is a dict: hash its JSON (dataclass' hash would fail).
        fields = self.to_dict()
        fields["design"] = None if self.design is None else network_design.to_json(self.design)
        return hash(tuple(fields.items()))

    def to_dict(self):
        """Plain JSON-ready fields, for run folders."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, fields):
        """The config back from ``to_dict``; unknown keys are a ValueError naming them."""
        unknown = set(fields) - {field.name for field in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown TrainConfig fields: {sorted(unknown)}")
        return cls(**fields)


#: Fields that label a run (who trained it, its sweep) without changing what it trains.
LABEL_FIELDS = ("student", "sweep")
#: Longest label a run may carry (a name fits; a pasted essay does not).
LABEL_LENGTH = 40
#: Models a config may name: our architectures, or a network designed on the Train page.
MODELS = contract.ARCHITECTURE_NAMES + (network_design.DESIGNED,)
#: Precisions a config may name: the models' own, plus "auto" (see TrainConfig.precision).
PRECISIONS = ("auto",) + contract.PRECISIONS


# Our CPU recipe (airbench-style): the whitened fast net started as the identity, Nesterov,
# strong weight decay on the convolutions (with batch norm after them it keeps the
# effective step large), label smoothing 0.2, flips and 2-pixel shifts, warmup then cosine
# decay to 0, bfloat16 compute where the hardware has it. Its epochs are the shipped fast
# model's (README's model table has what it reached).
FAST_RECIPE = TrainConfig(model="fast", epochs=30, batch_size=256, optimizer="nesterov",
                         learning_rate=0.2, schedule="warmup-cosine", weight_decay=2e-2,
                         label_smoothing=0.2, augment=True, warmup_epochs=0.5, ema=False,
                         precision="auto")

#: name -> (what the preset is for, its config). Defined together so neither can lack the other.
_PRESETS_AND_PURPOSES = {
    # The seed notebook: SGD lr 0.01 momentum 0.9, Keras-2 time decay lr/epochs per step,
    # batch 32, no augmentation, validated on the test set.
    "seed-notebook": ("the seed notebook's recipe",
                      TrainConfig(model="seed", epochs=25, batch_size=32, optimizer="sgd",
                                  learning_rate=0.01, schedule="time-decay", momentum=0.9)),
    "fast": ("the shipped fast model's recipe", FAST_RECIPE),
    # The same recipe on the quarter-width net with airbench's alternating flips: the recipe
    # of the time-to-accuracy and 5-minute benchmarks (bench/bench_training.py).
    "fast-small": ("the fast recipe at a quarter of the width, about 80% test accuracy",
                   dataclasses.replace(FAST_RECIPE, model="fast-small", epochs=3,
                                       flip="alternating")),
    # The Train page's default: fast-small for two epochs, so a class sees the curves climb
    # well past chance within about a minute (demo's tiny net looks like failure there).
    "minute": ("fast-small for two epochs: watch a network learn in about a minute",
               dataclasses.replace(FAST_RECIPE, model="fast-small", epochs=2,
                                   flip="alternating")),
    # The seed architecture with our recipe instead of the notebook's: bfloat16 where native,
    # batch 64, Nesterov with warmup and cosine decay, flip+translate: the shipped seed model.
    "seed-fast": ("the seed network with our recipe (the shipped seed model)",
                  TrainConfig(model="seed", epochs=8, batch_size=64, optimizer="nesterov",
                              learning_rate=0.02, schedule="warmup-cosine", warmup_epochs=0.5,
                              augment=True, precision="auto")),
    # A classroom demo: the tiny net on 10,000 images, a few seconds per epoch.
    "demo": ("the tiny net on 10,000 images, progress within seconds",
             TrainConfig(model="tiny", epochs=3, batch_size=128, optimizer="adam",
                         learning_rate=0.003, schedule="constant", augment=False,
                         train_size=10000, validation_size=1000)),
}
#: The named recipes: name -> TrainConfig.
PRESETS = {name: config for name, (_, config) in _PRESETS_AND_PURPOSES.items()}
#: What each preset is for, in a few words.
PURPOSES = {name: purpose for name, (purpose, _) in _PRESETS_AND_PURPOSES.items()}


def preset(name, **overrides):
    """The named preset with some fields replaced, validated again."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return dataclasses.replace(PRESETS[name], **overrides)


#: Minutes one epoch of a preset takes on the full training set on the reference machine
#: (2 CPU cores; README's benchmarks), where measured: the Train page's time estimates.
EPOCH_MINUTES = {"seed-notebook": 2.8, "fast": 2.5, "fast-small": 0.6, "minute": 0.55}
#: The recipe the Train page starts on (a link's ``?preset=`` chooses another).
DEFAULT_PRESET = "minute"


def describe(preset_name):
    """One line on what a preset is for and how long it trains, from the preset itself."""
    config = preset(preset_name)  # ValueError naming an unknown preset
    length = f"{config.epochs} epochs"
    if preset_name in EPOCH_MINUTES:
        minutes = config.epochs * EPOCH_MINUTES[preset_name]
        minutes = max(1, round(minutes))
        length += f", about {minutes} minute{'s' * (minutes != 1)} on 2 CPU cores"
    return f"{preset_name}: {PURPOSES[preset_name]} ({length})"


#: How each TrainConfig.flip mirrors images, in words.
FLIP_WORDS = {"random": "each image at random",
              "alternating": "each image in every other epoch, airbench's alternating flips"}


def augment_help(preset_name):
    """The Augment toggle's help: what augmentation does, with the preset's way of flipping."""
    flip = preset(preset_name).flip  # ValueError naming an unknown preset
    return (f"Images are mirrored left-right ({preset_name} recipe: {FLIP_WORDS[flip]}) "
            "and shifted at random by up to 2 pixels, so each epoch the network sees new "
            "variants of them.")
