"""The sanity check of Adebayo et al. (2018): redraw the weights at random, and a heat map
that explains the model must change.

"Sanity Checks for Saliency Maps" found that some methods (guided backpropagation, and
to a degree plain gradients times input) draw nearly the same map for a trained network
and for one with random weights: such a map shows the image's edges, not what the model
learned. Here the trained model's map and its randomised copy's map are compared by
Spearman rank correlation (Adebayo et al.'s measure): near 0 the map depends on the
weights (passes); near 1 it does not (fails). The page shows the numbers as they come.
"""

import dataclasses
import weakref

import numpy as np

from cifar_core.backend import keras
from cifar_core.inspect import attributions

_RANDOMISED = weakref.WeakKeyDictionary()  # model -> {(layers, seed): its randomised copy}


def _fresh_values(variable, generator):
    """New values for one weight: Glorot uniform (Keras' default) for kernels, the usual
    start for vectors (1 for scales and variances, 0 for biases, shifts and means)."""
    shape = tuple(variable.shape)
    if len(shape) >= 2:
        receptive = int(np.prod(shape[:-2]))  # kernel height x width; 1 for a Dense
        limit = np.sqrt(6.0 / (receptive * (shape[-2] + shape[-1])))
        return generator.uniform(-limit, limit, shape).astype(np.float32)
    name = variable.name.split("/")[-1]
    return np.full(shape, 1.0 if name in ("gamma", "moving_variance") else 0.0, np.float32)


def randomised_copy(model, *, layers=None, seed=0):
    """A copy of ``model`` with the weights of its top ``layers`` weighted layers redrawn
    at random (all of them by default): Adebayo et al.'s model randomisation, cascading
    from the output when ``layers`` is given. Kept per model, so it is built once.
    """
    weighted = [layer for layer in model.layers if layer.weights]
    if layers is not None and (isinstance(layers, bool) or not isinstance(layers, int)
                               or not 1 <= layers <= len(weighted)):
        raise ValueError(f"layers must be a whole number from 1 to {len(weighted)} (the "
                         f"model's layers with weights), got {layers!r}")
    copies = _RANDOMISED.setdefault(model, {})
    if (layers, seed) not in copies:
        copy = keras.models.clone_model(model)
        copy.set_weights(model.get_weights())
        generator = np.random.default_rng(seed)
        chosen = [layer for layer in copy.layers if layer.weights][::-1][:layers]
        for layer in chosen:  # from the output down
            for variable in layer.weights:
                variable.assign(_fresh_values(variable, generator))
        copies[(layers, seed)] = copy
    return copies[(layers, seed)]


def _ranks(values):
    """Ranks 0..n-1 of a flat array, ties sharing their average rank (as Spearman needs)."""
    order = np.argsort(values, kind="stable")
    _, first_places, counts = np.unique(values[order], return_index=True, return_counts=True)
    ranks = np.empty(len(values), np.float64)
    ranks[order] = np.repeat(first_places + (counts - 1) / 2.0, counts)
    return ranks


def rank_correlation(first, second):
    """Spearman rank correlation of two maps of the same shape; NaN where one is flat."""
    first, second = np.ravel(first), np.ravel(second)
    if first.shape != second.shape:
        raise ValueError(f"maps of different sizes: {np.shape(first)} and {np.shape(second)}")
    if np.ptp(first) == 0 or np.ptp(second) == 0:
        return float("nan")  # nothing to rank: e.g. Grad-CAM all zero on random weights
    return float(np.corrcoef(_ranks(first), _ranks(second))[0, 1])


@dataclasses.dataclass(frozen=True)
class SanityCheck:
    """A method's map on the trained model and on its randomised copy, and how alike."""

    trained: np.ndarray  # float32 (32, 32) in 0..1
    randomised: np.ndarray  # float32 (32, 32) in 0..1
    correlation: float  # Spearman; NaN if a map is flat

    @property
    def verdict(self):
        """In words: did the map change with the weights (the method passes)?"""
        if np.ptp(self.trained) == 0:
            return "The trained model's map is flat: there is nothing to compare."
        if np.isnan(self.correlation):
            return ("The randomised model's map is flat: nothing of the trained map is "
                    "left, so the map depends on the weights (passes).")
        if self.correlation < 0.3:
            return ("The maps hardly agree: this map depends on what the model learned "
                    "(passes).")
        if self.correlation < 0.6:
            return ("The maps partly agree: some of this map comes from the image itself, "
                    "not from what the model learned.")
        return ("The maps agree closely: this map shows the image (its edges) more than "
                "the model's knowledge (fails the check, as Adebayo et al. found for some "
                "methods).")


def sanity_check(method, model, image, class_index, *, progress=None, seed=0, trained=None,
                 **options):
    """``method``'s map (``attributions.heat_map`` with ``options``) for the trained
    ``model`` and for its fully randomised copy (``seed``), and their rank correlation.

    ``trained`` is the trained model's map when the caller has it already (the page shows
    it above the check): only the randomised half is computed then.
    """
    networks = [randomised_copy(model, seed=seed)] if trained is not None \
        else [model, randomised_copy(model, seed=seed)]
    halves = [] if trained is None else [trained]
    for number, network in enumerate(networks):
        def report(stage, completed, total, number=number):
            if progress is not None:  # the trained half (unless given), then the randomised
                progress(stage, number * total + completed, len(networks) * total)
        halves.append(attributions.heat_map(method, network, image, class_index,
                                            progress=report, **options))
    return SanityCheck(halves[0], halves[1], rank_correlation(*halves))
