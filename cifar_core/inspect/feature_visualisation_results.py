"""Feature visualisations of one model file, checked against the test images, kept on disk.

``feature_visualisation`` synthesises the pictures; this module runs it the way the Layers
page needs: a layer's filters (or the class outputs) with, for each, the synthesised
image's score beside the best test image's score on the same objective; computed in a
background ``Task`` whose progress is reported every step (so Stop ends it within one);
saved per model file with ``model_cache`` so a picture is synthesised once.
"""

import numpy as np

from cifar_core import background
from cifar_core.inspect import feature_visualisation, model_cache
from cifar_core.models import layer_graph

#: The cache folder's name (shared with the test images' best scores).
CACHE_KIND = feature_visualisation.CACHE_KIND
#: What ``layer=None`` stands for: the class outputs instead of a conv layer's filters.
CLASSES = "classes"
#: Filters in a layer's grid: a layer of 256 (the fast net's) shows its first 64, which
#: keeps a deep layer's grid under a minute on two cores.
GRID_FILTERS = 64


def grid_filters(model, layer):
    """The filter indices a layer's grid covers: the first ``GRID_FILTERS``."""
    feature_visualisation.check_filters(model, layer, [0])
    return np.arange(min(layer_graph.output_of(model, layer).shape[-1], GRID_FILTERS))


def _objectives(model, layer):
    """(scores to report, scores to climb) for a conv layer, or the class scores (None)."""
    if layer is None:
        scores = feature_visualisation.class_scores(model)
        return scores, scores
    return (feature_visualisation.filter_scores(model, layer),
            feature_visualisation.filter_scores(model, layer, for_climbing=True))


def _checked_targets(model, layer, targets):
    if layer is not None:
        return feature_visualisation.check_filters(model, layer, targets)
    targets = np.asarray(targets).reshape(-1)  # one class or many -> (N,)
    count = model.output.shape[-1]  # the classes the softmax covers
    if targets.size == 0 or not np.issubdtype(targets.dtype, np.integer) or \
            targets.min() < 0 or targets.max() >= count:
        raise ValueError(f"classes must be integers in 0..{count - 1}, got {targets!r}")
    return targets.astype(np.int64)


def _targets_text(targets):
    """Target indices as short text for a cache key: "0-63" for a range, else listed."""
    targets = [int(target) for target in targets]
    if len(targets) > 2 and targets == list(range(targets[0], targets[-1] + 1)):
        return f"{targets[0]}-{targets[-1]}"
    return ",".join(map(str, targets))


def best_test_images(model, model_path, layer, images, *, progress=None):
    """{"indices", "values"}: per channel, the test image scoring highest and its score.

    Cached per model file, layer and images: every filter of a layer shares one pass.
    """
    scores, _ = _objectives(model, layer)
    return model_cache.cached_arrays(
        CACHE_KIND, model_path,
        lambda: dict(zip(("indices", "values"), feature_visualisation.best_test_scores(
            scores, images, progress=progress))),
        "test images", layer or CLASSES, model_cache.images_key(images))


def cache_path(model_path, layer, targets, images, settings):
    """Where ``visualise``'s result for these arguments is stored."""
    return model_cache.cache_file(CACHE_KIND, model_path, layer or CLASSES,
                                  _targets_text(targets), settings.key(),
                                  model_cache.images_key(images))


def visualise(model, model_path, layer, targets, images, settings=None, *, progress=None):
    """Synthesised pictures of ``targets`` (filters of ``layer``, or classes if None).

    Returns arrays: "targets" (N,), "images" uint8 (N, 32, 32, 3), "values" (N,) the
    synthesised images' scores, "best_indices" and "best_values" (N,) the best test
    image per target and its score on the same objective. ``progress`` counts the test
    images' batches, then the gradient-ascent steps.
    """
    settings = settings or feature_visualisation.Settings()
    targets = _checked_targets(model, layer, targets)
    batches = -(-len(images) // feature_visualisation.BATCH_SIZE)
    total = batches + settings.steps

    def compute():
        best = best_test_images(model, model_path, layer, images, progress=None if progress is None
                                else lambda stage, done, _: progress(
                                    stage, -(-done // feature_visualisation.BATCH_SIZE), total))
        scores, climb = _objectives(model, layer)
        pictures = feature_visualisation.synthesise(
            climb, targets, settings, side=model.input.shape[1], progress=None
            if progress is None else lambda stage, step, _: progress(stage, batches + step, total))
        return {"targets": targets, "images": pictures,
                "values": feature_visualisation.measure(scores, pictures, targets),
                "best_indices": best["indices"][targets], "best_values": best["values"][targets]}

    return model_cache.cached_arrays(CACHE_KIND, model_path, compute, layer or CLASSES,
                                     _targets_text(targets), settings.key(),
                                     model_cache.images_key(images))


def visualise_task(model, model_path, layer, targets, images, settings=None):
    """A background ``Task`` whose result is ``visualise(...)``; progress in steps."""
    settings = settings or feature_visualisation.Settings()
    total = -(-len(images) // feature_visualisation.BATCH_SIZE) + settings.steps
    return background.Task(
        lambda progress: visualise(model, model_path, layer, targets, images, settings,
                                   progress=progress),
        total=total, name="feature-visualisation")
