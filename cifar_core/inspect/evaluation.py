"""How good a model is on the test set: metrics, the galleries of mistakes, a disk cache.

Everything starts from two arrays: the true ``labels`` int (N,) and the model's
``probabilities`` float (N, 10). The metrics and gallery queries are pure NumPy, checked
in the unit tests against hand-computed values (no scikit-learn needed).

Running a model over the 10,000 test images takes seconds, so ``cached_evaluation``
stores the probabilities in ``<model>.eval.npz`` next to the model file, keyed by the
model file's size and modification time and by the dataset, and written atomically. A
revisit then costs one small file read. Where the models folder is read-only the file
goes to the project cache folder instead. TensorFlow is imported only to run a model.
"""

import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cifar_core import background, data, storage
from cifar_core.models import catalog

#: Images per forward pass. Measured on the seed model (bench/bench_evaluate.py): 64 costs
#: about the CPU of 250 and 8% less than model.predict's 32, and its first conv output
#: (64 x 32 x 32 x 32 floats = 8 MB) stays in cache; 250 ran 2-3x slower in wall-clock
#: time whenever other processes shared the 2 cores.
BATCH_SIZE = 64
#: Bump when the cache file's layout changes, so old files are recomputed, not misread.
CACHE_VERSION = 2
CACHE_SUFFIX = ".eval.npz"


@dataclass(frozen=True)
class Evaluation:
    """A model's class probabilities float32 (N, 10) for images with true ``labels`` (N,)."""

    labels: np.ndarray
    probabilities: np.ndarray

    def __post_init__(self):
        assert self.probabilities.shape == (len(self.labels), self.probabilities.shape[1])

    @property
    def predictions(self):
        return self.probabilities.argmax(axis=1)

    @property
    def accuracy(self):
        return accuracy(self.labels, self.predictions)

    def confusion(self, num_classes=None):
        return confusion_matrix(self.labels, self.predictions,
                                num_classes or self.probabilities.shape[1])


# --- metrics ---------------------------------------------------------------------------

def _check_pair(labels, predictions):
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 1:
        raise ValueError(f"labels {labels.shape} and predictions {predictions.shape} must be "
                         f"1-D and the same length")
    return labels.astype(np.int64), predictions.astype(np.int64)


def accuracy(labels, predictions):
    """Fraction of images whose prediction equals the label (0.0 for no images)."""
    labels, predictions = _check_pair(labels, predictions)
    return float(np.mean(labels == predictions)) if len(labels) else 0.0


def confusion_matrix(labels, predictions, num_classes=10):
    """Counts int64 (C, C): row = true class, column = predicted class."""
    labels, predictions = _check_pair(labels, predictions)
    for name, values in (("labels", labels), ("predictions", predictions)):
        if len(values) and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"{name} must lie in 0..{num_classes - 1}, got "
                             f"{values.min()}..{values.max()}")
    flat = np.bincount(labels * num_classes + predictions, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)  # (C * C,) -> (C, C)


def _ratio(numerators, denominators):
    """numerators / denominators with 0.0 where the denominator is 0 (nothing to measure)."""
    numerators = np.asarray(numerators, dtype=np.float64)
    denominators = np.asarray(denominators, dtype=np.float64)
    return np.divide(numerators, denominators, out=np.zeros_like(numerators),
                     where=denominators > 0)


def class_report(confusion, class_names):
    """Per-class precision, recall, F1 and support (test images of the class) as a table.

    Precision: of the images predicted as the class, the fraction that are. Recall (the
    class's accuracy): of the images of the class, the fraction found. Where a ratio has
    nothing to count (a class never predicted, or absent) it is 0.0, like scikit-learn's
    ``zero_division=0``.
    """
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1] \
            or confusion.shape[0] != len(class_names):
        raise ValueError(f"confusion must be ({len(class_names)}, {len(class_names)}), "
                         f"got {confusion.shape}")
    hits = np.diag(confusion)
    precision = _ratio(hits, confusion.sum(axis=0))
    recall = _ratio(hits, confusion.sum(axis=1))
    f1 = _ratio(2 * precision * recall, precision + recall)
    return pd.DataFrame({"precision": precision, "recall": recall, "f1": f1,
                         "support": confusion.sum(axis=1)}, index=list(class_names))


def most_confused(confusion):
    """(true, predicted) of the largest off-diagonal count: the model's favourite mistake."""
    off_diagonal = np.array(confusion, dtype=np.int64, copy=True)
    np.fill_diagonal(off_diagonal, -1)
    true_class, predicted_class = np.unravel_index(off_diagonal.argmax(), off_diagonal.shape)
    return int(true_class), int(predicted_class)


# --- gallery queries -------------------------------------------------------------------

def cell_indices(labels, probabilities, true_class, predicted_class):
    """Indices of images of ``true_class`` predicted as ``predicted_class``, most confident first.

    On the diagonal these are the surest hits; off it, the most confident mistakes.
    """
    probabilities = np.asarray(probabilities)
    classes = probabilities.shape[1]
    for name, value in (("true_class", true_class), ("predicted_class", predicted_class)):
        if not 0 <= value < classes:
            raise ValueError(f"{name} must lie in 0..{classes - 1}, got {value!r}")
    labels, predictions = _check_pair(labels, probabilities.argmax(axis=1))
    indices = np.flatnonzero((labels == true_class) & (predictions == predicted_class))
    confidence = probabilities[indices, predicted_class]
    return indices[np.argsort(-confidence, kind="stable")]


def losses(labels, probabilities):
    """Cross-entropy of each image, -log p(true class), float64 (N,); 0 = sure and right."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels, _ = _check_pair(labels, probabilities.argmax(axis=1))
    true_probability = probabilities[np.arange(len(labels)), labels]
    return -np.log(np.clip(true_probability, 1e-12, 1.0))


def top_losses(labels, probabilities, count):
    """Indices of the ``count`` images with the highest loss, highest first."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count!r}")
    return np.argsort(-losses(labels, probabilities), kind="stable")[:count]


def right_and_wrong(labels, probabilities_right, probabilities_wrong):
    """Images the first model gets right and the second wrong, worst second-model loss first."""
    labels, right = _check_pair(labels, np.asarray(probabilities_right).argmax(axis=1))
    _, wrong = _check_pair(labels, np.asarray(probabilities_wrong).argmax(axis=1))
    indices = np.flatnonzero((right == labels) & (wrong != labels))
    order = np.argsort(-losses(labels[indices], np.asarray(probabilities_wrong)[indices]),
                       kind="stable")
    return indices[order]


# --- running a model -------------------------------------------------------------------

def evaluate_model(model, images, labels, progress=None, batch_size=BATCH_SIZE):
    """Run ``model`` over uint8 ``images`` (N, 32, 32, 3) in batches; an ``Evaluation``.

    ``progress(stage, done, total)`` is called after every batch. Each batch goes through
    the one compiled forward function ``inference.predict`` keeps per model: less CPU
    than eager calls or ``model.predict`` (measured in bench/bench_evaluate.py).
    """
    from cifar_core.inspect import inference  # TensorFlow is imported here, only to run a model.

    images = np.asarray(images)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images for {len(labels)} labels")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    probabilities = np.empty((len(images), 10), dtype=np.float32)
    for start in range(0, len(images), batch_size):
        stop = min(start + batch_size, len(images))
        probabilities[start:stop] = inference.predict(model, images[start:stop])
        if progress is not None:
            progress("Evaluating", stop, len(images))
    probabilities.setflags(write=False)
    return Evaluation(np.asarray(labels, dtype=np.int64), probabilities)


# --- the disk cache --------------------------------------------------------------------

def cache_key(model_path, labels, dataset_source):
    """What the cached probabilities depend on: the model file and the test set."""
    model_path = Path(model_path)
    stat = model_path.stat()
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    key = {"version": CACHE_VERSION, "model": str(model_path.resolve()),
           "model_size": stat.st_size,
           "model_mtime_ns": stat.st_mtime_ns, "dataset": str(dataset_source),
           "images": len(labels), "labels_crc32": zlib.crc32(labels.tobytes())}
    scaling = catalog.input_scaling_of(model_path)  # an imported model's override
    if scaling is not None:
        key["scaling"] = scaling
    return json.dumps(key, sort_keys=True)


def cache_paths(model_path):
    """Where the cache file may be: next to the model, then the project cache folder."""
    model_path = Path(model_path)
    digest = hashlib.sha1(str(model_path.resolve()).encode()).hexdigest()[:16]
    return [model_path.with_name(model_path.name + CACHE_SUFFIX),
            data.cache_dir() / "evaluations" / f"{model_path.stem}-{digest}{CACHE_SUFFIX}"]


def load_cached(model_path, labels, dataset_source):
    """The cached ``Evaluation`` for this model and test set, or None (missing, stale, corrupt)."""
    key = cache_key(model_path, labels, dataset_source)
    for path in cache_paths(model_path):
        stored = storage.load_arrays(path, key=key)
        if stored is None or "probabilities" not in stored:
            continue  # Missing, stale or corrupt (e.g. half-copied): recompute.
        try:
            probabilities = stored["probabilities"].astype(np.float32)
        except (ValueError, TypeError):  # not numbers: a tampered file
            continue
        if probabilities.shape != (len(labels), 10) or not np.isfinite(probabilities).all():
            continue
        probabilities.setflags(write=False)
        return Evaluation(np.asarray(labels, dtype=np.int64), probabilities)
    return None


def save_cached(model_path, evaluation, dataset_source):
    """Store ``evaluation`` in the first writable cache place; its path, or None if none is."""
    key = cache_key(model_path, evaluation.labels, dataset_source)
    for path in cache_paths(model_path):
        try:
            storage.save_arrays(path, {"probabilities": evaluation.probabilities}, key=key)
            return path
        except OSError:
            continue
    return None


def cached_evaluation(model_path, images, labels, dataset_source, *, progress=None, model=None):
    """The model's ``Evaluation`` from the disk cache, computed and stored on a miss.

    ``model`` is loaded from ``model_path`` when needed and not given (an imported model
    wrapped into the app's layout, ``importing.load_imported``).
    """
    found = load_cached(model_path, labels, dataset_source)
    if found is not None:
        return found
    if model is None:  # an imported file is loaded wrapped, as its card says
        from cifar_core.models import importing

        model = importing.load_any(model_path)
    evaluation = evaluate_model(model, images, labels, progress=progress)
    save_cached(model_path, evaluation, dataset_source)
    return evaluation


def evaluation_task(model_path, images, labels, dataset_source):
    """A background ``Task`` whose result is ``cached_evaluation`` of these arguments; its
    thread loads its own copy of the model."""
    return background.Task(
        lambda progress: cached_evaluation(model_path, images, labels, dataset_source,
                                           progress=progress),
        total=len(labels), name="evaluation")
