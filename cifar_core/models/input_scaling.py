"""How an imported model wants its pixels: 0-255, 0-1, -1..1 or standardised, inferred.

People feed CIFAR-10 to their networks in one of a few ways (the seed notebook divides by
255). A model without a ``Rescaling`` or ``Normalization`` layer in front does not say which,
and the wrong guess silently shows nonsense, so ``infer_scaling`` scores every candidate on
a fixed sample of labelled test images and takes the best (accuracy, then the mean
probability of the true class to break ties), keeping every candidate's accuracy for the
card. Without a dataset it assumes 0-1 and says so. No TensorFlow at import time: only
``scaling_layer`` builds a Keras layer.
"""

from dataclasses import dataclass, field

import numpy as np

#: Candidate scalings, in the order ties are broken (0-1 is the commonest: the notebook's).
SCALINGS = ("0-1", "0-255", "-1..1", "standardised")
DESCRIPTIONS = {
    "0-1": "pixels / 255 (0 to 1)",
    "0-255": "raw pixel values (0 to 255)",
    "-1..1": "pixels / 127.5 - 1 (-1 to 1)",
    "standardised": "(pixels - training-set mean) / std, per channel",
}
#: What a model gets when there is no dataset to score candidates on.
DEFAULT_SCALING = "0-1"
#: Test images scored per candidate, drawn once with a fixed seed (the same every import).
SAMPLE_SIZE = 1000
SAMPLE_SEED = 0
#: Softmax outputs sum to 1 within this (float32 rounding).
SUM_TOLERANCE = 1e-3


@dataclass(frozen=True)
class ChannelStatistics:
    """Per-channel mean and standard deviation of the training images, in 0-255 units."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def to_json(self):
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_json(cls, value):
        if not isinstance(value, dict):
            raise ValueError(f"channel statistics must be a dict, got {value!r}")
        mean, std = value.get("mean"), value.get("std")
        if not (isinstance(mean, list) and isinstance(std, list) and len(mean) == len(std) == 3
                and all(isinstance(v, (int, float)) for v in mean + std)
                and all(v > 0 for v in std)):
            raise ValueError(f"channel statistics need 3 means and 3 positive stds: {value!r}")
        return cls(tuple(float(v) for v in mean), tuple(float(v) for v in std))


@dataclass(frozen=True)
class ScalingChoice:
    """The scaling chosen for a model, why, and every candidate's accuracy on the sample."""

    scaling: str
    output: str  # "probabilities" (softmax) or "logits"
    accuracies: dict = field(default_factory=dict)  # scaling -> accuracy on the sample
    sample_size: int = 0
    note: str = ""


def channel_statistics(images):
    """``ChannelStatistics`` of uint8 ``images`` (N, H, W, 3), exact and without a float copy.

    Each channel's 256-bin histogram gives its mean and variance in integer arithmetic
    (50,000 CIFAR images: a tenth of a second, where float64 sums took seconds).
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or len(images) == 0:
        raise ValueError(f"images must be (N, H, W, 3) with N > 0, got {images.shape}")
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 pixel values, got {images.dtype}")
    values = np.arange(256, dtype=np.float64)
    means, stds = [], []
    for channel in range(3):
        counts = np.bincount(images[..., channel].ravel(), minlength=256)  # (256,)
        total = float(counts.sum())
        mean = float(counts @ values) / total
        variance = float(counts @ np.square(values - mean)) / total
        means.append(mean)
        stds.append(max(variance, 1e-12) ** 0.5)
    return ChannelStatistics(tuple(means), tuple(stds))


def _check(scaling, statistics):
    if scaling not in SCALINGS:
        raise ValueError(f"unknown input scaling {scaling!r}; choose one of {list(SCALINGS)}")
    if scaling == "standardised" and statistics is None:
        raise ValueError("the 'standardised' scaling needs the training set's channel statistics")


def scale(images, scaling, statistics=None):
    """``images`` (raw 0-255 values) as the model wants them, float32, same shape."""
    _check(scaling, statistics)
    images = np.asarray(images, dtype=np.float32)
    if scaling == "0-1":
        return images / 255.0
    if scaling == "0-255":
        return images
    if scaling == "-1..1":
        return images / 127.5 - 1.0
    mean = np.asarray(statistics.mean, np.float32)
    std = np.asarray(statistics.std, np.float32)
    return (images - mean) / std


def scaling_layer(scaling, statistics=None, name="rescaling"):
    """The Keras layer doing ``scale`` inside a model: a Rescaling, or a Normalization."""
    from cifar_core.backend import keras  # Only building the layer needs Keras.

    _check(scaling, statistics)
    if scaling == "standardised":
        return keras.layers.Normalization(mean=list(statistics.mean),
                                          variance=[s * s for s in statistics.std], name=name)
    scale_by, offset = {"0-1": (1 / 255, 0.0), "0-255": (1.0, 0.0),
                        "-1..1": (1 / 127.5, -1.0)}[scaling]
    return keras.layers.Rescaling(scale_by, offset=offset, name=name)


def fixed_sample(images, labels, size=SAMPLE_SIZE):
    """The same ``size`` labelled images every time (seeded), in index order."""
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"need as many labels as images (and some): {len(images)} vs "
                         f"{len(labels)}")
    if len(images) <= size:
        return np.asarray(images), np.asarray(labels)
    chosen = np.sort(np.random.default_rng(SAMPLE_SEED).choice(len(images), size, replace=False))
    return np.asarray(images)[chosen], np.asarray(labels)[chosen]


def output_kind(outputs):
    """ "probabilities" when every row is non-negative and sums to 1, else "logits"."""
    outputs = np.asarray(outputs, dtype=np.float64)
    sums = outputs.sum(axis=1)
    if np.all(outputs >= -1e-6) and np.all(np.abs(sums - 1.0) < SUM_TOLERANCE):
        return "probabilities"
    return "logits"


def as_probabilities(outputs, kind):
    """Softmax of logits (rows), or the probabilities as they are."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if kind == "probabilities":
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def has_own_scaling(layers):
    """Whether the first layer after the input (``layers`` in order) rescales the pixels."""
    body = [layer for layer in layers if type(layer).__name__ != "InputLayer"]
    return bool(body) and type(body[0]).__name__ in ("Rescaling", "Normalization")


def infer_scaling(model, images, labels, statistics=None, *, own_scaling=False, batch_size=250):
    """Score every candidate on ``images`` (raw, a fixed sample) with ``model``; the best.

    ``model`` is the user's model as loaded (no scaling layer added). ``statistics``
    (``channel_statistics`` of the training set) enables the standardised candidate.
    With ``own_scaling`` (the model rescales its own input) the answer is 0-255 whatever
    the scores, as the issue asks; the accuracies are still recorded for the card.
    """
    labels = np.asarray(labels).reshape(-1)
    candidates = [s for s in SCALINGS if s != "standardised" or statistics is not None]
    # One predict call over every candidate's copy of the sample: one trace, full batches.
    batch = np.concatenate([scale(images, s, statistics) for s in candidates])
    outputs = np.asarray(model.predict(batch, batch_size=batch_size, verbose=0))
    outputs = outputs.reshape(len(candidates), len(images), -1)  # (candidates, N, 10)
    scores, kinds, accuracies = {}, set(), {}
    for scaling, scaled_outputs in zip(candidates, outputs, strict=True):
        kind = output_kind(scaled_outputs)
        kinds.add(kind)
        probabilities = as_probabilities(scaled_outputs, kind)
        accuracy = float(np.mean(np.argmax(probabilities, axis=1) == labels))
        accuracies[scaling] = round(accuracy, 4)
        true_class = float(np.mean(probabilities[np.arange(len(labels)), labels]))
        scores[scaling] = (accuracy, true_class)
    # A softmax sums to 1 whatever the input; logits can only look like it by accident.
    output = "probabilities" if kinds == {"probabilities"} else "logits"
    if own_scaling:
        return ScalingChoice("0-255", output, accuracies, len(images),
                             "the model rescales its own input (its first layer)")
    best = max(candidates, key=lambda s: (scores[s], -candidates.index(s)))
    note = f"best of {len(candidates)} candidates on {len(images):,} labelled test images"
    if statistics is None:
        note += " (no training-set statistics: standardised not tried)"
    return ScalingChoice(best, output, accuracies, len(images), note)


def assumed_scaling(model, *, own_scaling=False):
    """The choice without a dataset: 0-1 (or the model's own layer), said so in the note.

    The output kind still comes from running the model on a few random images.
    """
    images = np.random.default_rng(SAMPLE_SEED).integers(0, 256, (8, 32, 32, 3))
    scaling = "0-255" if own_scaling else DEFAULT_SCALING
    outputs = np.asarray(model.predict(scale(images, scaling), verbose=0)).reshape(8, -1)
    note = ("the model rescales its own input (its first layer)" if own_scaling
            else "no dataset to score candidates on: assumed 0-1 (pixels / 255)")
    return ScalingChoice(scaling, output_kind(outputs), {}, 0, note)
