"""Which labels look wrong: test images the model confidently files under another class.

Confident learning (Northcutt, Jiang and Chuang, 2021; the ``cleanlab`` package) estimates,
class by class, how many images labelled *i* really look like class *j* to the model (the
"confident joint": images whose probability for *j* is above the model's average
confidence on class *j*), then flags that many of them, the most suspicious first. Ranked
by self-confidence: the lower the probability the model gives the image's own label, the
more the label looks wrong. Where the model itself answers the label, nothing is flagged.

It needs out-of-sample probabilities: a model that trained on an image has memorised its
label, right or wrong. The test set's probabilities qualify, since no test image was
trained on. NumPy only; ``cleanlab`` (and scikit-learn under it, 1-2 s) is imported on
the first call, never by importing this module, and never pulls in TensorFlow. The page
runs it as a background ``label_issues_task``, so that import never holds up the page.
"""

import warnings
from dataclasses import dataclass

import numpy as np

from cifar_core import background
from cifar_core.inspect import model_cache


@dataclass(frozen=True)
class LabelIssues:
    """The flagged images of one set of ``labels`` (N,) and ``probabilities`` (N, C).

    ``indices`` int64 (k,): the flagged images, the most suspicious label first;
    ``labels`` int64 (k,): their labels; ``label_probabilities`` float (k,): the
    probability the model gives each one's label; ``predictions`` int64 (k,): the model's
    answer; ``confidences`` float (k,): its probability for that answer.
    """

    indices: np.ndarray
    labels: np.ndarray
    label_probabilities: np.ndarray
    predictions: np.ndarray
    confidences: np.ndarray
    total: int  # images examined

    def __len__(self):
        return len(self.indices)

    @property
    def fraction(self):
        """Share of the examined images flagged, 0-1."""
        return len(self.indices) / self.total if self.total else 0.0

    def positions_labelled(self, class_index=None):
        """Positions (into the fields, most suspicious first) of the flagged images whose
        label is ``class_index``; all of them for None."""
        if class_index is None:
            return np.arange(len(self.indices))
        return np.flatnonzero(self.labels == class_index)

    def most_common_pairs(self, count=3):
        """[(label, model's answer, images)] of the commonest pairs, most images first (ties
        in class order): which classes the labels and the model mix up most."""
        pairs, counts = np.unique(np.stack([self.labels, self.predictions], axis=1), axis=0,
                                  return_counts=True)  # pairs (m, 2), counts (m,)
        order = np.argsort(-counts, kind="stable")[:count]
        return [(int(pairs[i, 0]), int(pairs[i, 1]), int(counts[i])) for i in order]


def check_inputs(labels, probabilities):
    """``labels`` as int64 (N,) and ``probabilities`` as float64 (N, C), or ValueError.

    The probabilities must be finite, non-negative rows that sum to 1 (a softmax output),
    and every label a class number below C.
    """
    labels, probabilities = np.asarray(labels), np.asarray(probabilities)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be class numbers (integers), got dtype {labels.dtype}")
    if probabilities.ndim != 2 or probabilities.shape[0] != len(labels) \
            or probabilities.shape[1] < 2:
        raise ValueError(f"probabilities must be (N, classes) with N = {len(labels)} labels "
                         f"and at least 2 classes, got shape {probabilities.shape}")
    if not np.issubdtype(probabilities.dtype, np.number) or np.issubdtype(probabilities.dtype,
                                                                          np.complexfloating):
        raise ValueError(f"probabilities must be real numbers, got dtype {probabilities.dtype}")
    probabilities = probabilities.astype(np.float64)
    if not np.isfinite(probabilities).all() or (probabilities < 0).any():
        raise ValueError("probabilities must be finite and non-negative")
    sums = probabilities.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-3):
        worst = int(np.abs(sums - 1).argmax())
        raise ValueError(f"each row of probabilities must sum to 1 (a softmax output); "
                         f"row {worst} sums to {sums[worst]:.4f}")
    classes = probabilities.shape[1]
    if labels.min() < 0 or labels.max() >= classes:
        raise ValueError(f"labels must lie in 0..{classes - 1}, got "
                         f"{labels.min()}..{labels.max()}")
    return labels.astype(np.int64), probabilities


def find_label_issues(labels, probabilities):
    """The images whose label the model confidently disagrees with, as ``LabelIssues``.

    ``labels`` int (N,), ``probabilities`` float (N, C) out-of-sample (see the module's
    docstring). cleanlab runs in this thread (``n_jobs=1``: no process forked from a
    server full of threads) and quietly (no prints, its warnings about rare classes muted).
    10,000 test images take about 20 ms after the one-off import.
    """
    labels, probabilities = check_inputs(labels, probabilities)
    import cleanlab.filter  # 1-2 s the first time (scikit-learn): only once asked for.

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        indices = cleanlab.filter.find_label_issues(
            labels, probabilities, filter_by="prune_by_noise_rate",
            return_indices_ranked_by="self_confidence", n_jobs=1, verbose=False)
    indices = np.asarray(indices, dtype=np.int64)
    predictions = probabilities[indices].argmax(axis=1)  # (k,)
    # cleanlab never flags an image whose label the model answers; keep that promise here.
    disagrees = predictions != labels[indices]
    indices, predictions = indices[disagrees], predictions[disagrees]
    return LabelIssues(indices=indices, labels=labels[indices],
                       label_probabilities=probabilities[indices, labels[indices]],
                       predictions=predictions,
                       confidences=probabilities[indices, predictions],
                       total=len(labels))


def task_key(labels, probabilities):
    """The server's task key for these arrays: one ranking per model's answers, shared."""
    return ("label-issues", model_cache.images_key(labels), model_cache.images_key(probabilities))


def label_issues_task(labels, probabilities):
    """A background ``Task`` whose result is ``find_label_issues(labels, probabilities)``.

    Bad inputs are a ValueError here, at once. Its two steps are the import of cleanlab
    (the first time 1-2 s; nothing later) and the ranking (about 20 ms); a Stop takes
    effect after the step under way.
    """
    labels, probabilities = check_inputs(labels, probabilities)

    def work(progress):
        progress("loading cleanlab", 0, 2)
        import cleanlab.filter  # noqa: F401 -- imported here, off the page's thread
        progress("ranking", 1, 2)
        issues = find_label_issues(labels, probabilities)
        progress("ranked", 2, 2)
        return issues

    return background.Task(work, total=2, name="label-issues")
