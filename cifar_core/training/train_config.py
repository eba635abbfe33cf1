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

OPTIMIZERS = ("sgd", "nesterov", "adam", "nesterov-l2")
SCHEDULES = ("constant", "time-decay", "warmup-cosine", "piecewise-linear")
#: How ``augment`` may flip images (see ``TrainConfig.flip``).
FLIPS = ("random", "alternating")
#: How the fast nets' whitening layer is computed (see ``TrainConfig.whitening``).
WHITENINGS = ("pixels", "standardised")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run.

    Validated on creation (ValueError names the field).
    """

    # architecture name in contract.ARCHITECTURE_NAMES, or "designed" (built from ``design``)
    model: str = "tiny"
    epochs: int = 1
    batch_size: int = 128
    # "sgd" (momentum), "nesterov" (SGD + Nesterov momentum), "adam": Keras' optimizers;
    # "nesterov-l2": airbench's (PyTorch's) Nesterov SGD, airbench_sgd.AirbenchSGD, the only
    # one that takes the airbench fields below (AIRBENCH_FIELDS).
    optimizer: str = "nesterov"
    learning_rate: float = 0.05  # peak learning rate
    # "constant"; "time-decay": lr / (1 + (lr / epochs) * step), the notebook's Keras-2 decay;
    # "warmup-cosine": linear warmup over warmup_epochs, then cosine down to 0;
    # "piecewise-linear" (airbench): from 0.2x up to the peak over warmup_epochs, then
    # linearly down to 0.07x the peak at the last step.
    schedule: str = "warmup-cosine"
    # Keras' optimizers: decoupled, each step w -= learning_rate * weight_decay * w;
    # "nesterov-l2": L2, weight_decay * w added to each gradient (so through the momentum).
    weight_decay: float = 0.0
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
    # airbench's fields, "nesterov-l2" only. Batch norm's shift (beta) learns this many
    # times faster than the other weights (its L2 decay divided by as much).
    bias_lr_scale: float = 1.0
    batchnorm_scale: bool = True  # False: batch norm's scale (gamma) stays 1, as airbench's
    # Epochs the whitening layer's bias trains before it freezes (the kernel never trains);
    # 0: the whole layer stays as computed. Fast nets only; ignored by other models.
    whitening_bias_epochs: int = 0
    lookahead: bool = False  # airbench's Lookahead weight averaging (training.airbench_sgd)
    # The whitening layer from 2x2 patches of "pixels" (0-1, centred, epsilon 5e-4) or, as
    # airbench, of "standardised" pixels (each channel's CIFAR-10 mean and deviation
    # removed: the same epsilon then keeps the fine, faint patterns ~2-8x stronger).
    whitening: str = "pixels"
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
        for field, low in (("epochs", 1), ("batch_size", 1), ("validation_size", 0), ("seed", 0),
                           ("whitening_bias_epochs", 0)):
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
        if self.whitening not in WHITENINGS:
            fail("whitening", f"choose one of {list(WHITENINGS)}")
        for field, low, high in (("learning_rate", 0.0, 100.0), ("weight_decay", 0.0, 1.0),
                                 ("bias_lr_scale", 0.0, 1e4),
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
        for field in ("ema", "batchnorm_scale", "lookahead"):
            if not isinstance(getattr(self, field), bool):
                fail(field, "must be True or False")
        if self.bias_lr_scale == 0:
            fail("bias_lr_scale", "must be greater than 0")
        if self.optimizer == "nesterov-l2" and self.ema:
            fail("ema", "'nesterov-l2' averages weights with lookahead instead")
        if self.optimizer != "nesterov-l2":
            for field, default in AIRBENCH_FIELDS.items():
                if getattr(self, field) != default:
                    fail(field, f"only the 'nesterov-l2' optimizer takes it, not "
                                f"{self.optimizer!r}")
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


#: airbench's fields and their defaults (off): only the "nesterov-l2" optimizer takes them.
AIRBENCH_FIELDS = {"bias_lr_scale": 1.0, "batchnorm_scale": True, "whitening_bias_epochs": 0,
                   "lookahead": False}
#: Fields that label a run (who trained it, its sweep) without changing what it trains.
LABEL_FIELDS = ("student", "sweep")
#: Longest label a run may carry (a name fits; a pasted essay does not).
LABEL_LENGTH = 40
#: Models a config may name: our architectures, or a network designed on the Train page.
MODELS = contract.ARCHITECTURE_NAMES + (network_design.DESIGNED,)
#: Precisions a config may name: the models' own, plus "auto" (see TrainConfig.precision).
PRECISIONS = ("auto",) + contract.PRECISIONS


# Our first CPU recipe (airbench-style, Keras' optimizer): the whitened fast net started as
# the identity, Nesterov, strong decoupled weight decay on the convolutions, label smoothing
# 0.2, flips and 2-pixel shifts, warmup then cosine decay to 0, bfloat16 where native. The
# fast nets' quick demos (fast-small, minute) and the earlier fast model (fast-cosine).
CPU_RECIPE = TrainConfig(model="fast", epochs=30, batch_size=256, optimizer="nesterov",
                         learning_rate=0.2, schedule="warmup-cosine", weight_decay=2e-2,
                         label_smoothing=0.2, augment=True, warmup_epochs=0.5, ema=False,
                         precision="auto")

# airbench94's recipe, field for field (README's "Recipe" table has what each part gave).
# Its hyperparameters are for a summed loss: lr 11.5 and decay 0.0153 "per 1024 examples",
# divided by 1 + 1/(1 - momentum). Keras averages the loss over the batch of 1024, so the
# same steps take learning_rate = 11.5 / (1 + 1 / 0.15) = 1.5 and an L2 coefficient of
# 0.0153 / 11.5. Warmup over 23% of its 9.9 epochs; 10 epochs here.
AIRBENCH_LEARNING_RATE = 11.5 / (1 + 1 / (1 - 0.85))
FAST_RECIPE = TrainConfig(model="fast", epochs=10, batch_size=1024, optimizer="nesterov-l2",
                          learning_rate=AIRBENCH_LEARNING_RATE, momentum=0.85,
                          schedule="piecewise-linear", warmup_epochs=2.3,
                          weight_decay=0.0153 / 11.5, label_smoothing=0.2, augment=True,
                          flip="alternating", bias_lr_scale=64.0, batchnorm_scale=False,
                          whitening_bias_epochs=3, lookahead=True, whitening="standardised",
                          precision="auto")

#: name -> (what the preset is for, its config). Defined together so neither can lack the other.
_PRESETS_AND_PURPOSES = {
    # The seed notebook: SGD lr 0.01 momentum 0.9, Keras-2 time decay lr/epochs per step,
    # batch 32, no augmentation, validated on the test set.
    "seed-notebook": ("the seed notebook's recipe",
                      TrainConfig(model="seed", epochs=25, batch_size=32, optimizer="sgd",
                                  learning_rate=0.01, schedule="time-decay", momentum=0.9)),
    "fast": ("airbench94's recipe: the shipped fast model", FAST_RECIPE),
    "fast-cosine": ("our first fast recipe: warmup and cosine, 30 epochs", CPU_RECIPE),
    # The same recipe on the quarter-width net with airbench's alternating flips: the recipe
    # of the time-to-accuracy and 5-minute benchmarks (bench/bench_training.py).
    "fast-small": ("the fast recipe at a quarter of the width, about 80% test accuracy",
                   dataclasses.replace(CPU_RECIPE, model="fast-small", epochs=3,
                                       flip="alternating")),
    # The Train page's default: fast-small for two epochs, so a class sees the curves climb
    # well past chance within about a minute (demo's tiny net looks like failure there).
    "minute": ("fast-small for two epochs: watch a network learn in about a minute",
               dataclasses.replace(CPU_RECIPE, model="fast-small", epochs=2,
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
EPOCH_MINUTES = {"seed-notebook": 2.8, "fast": 2.0, "fast-cosine": 2.5, "fast-small": 0.6,
                 "minute": 0.55}
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
