"""More ways to ask where the model looked: occlusion, SmoothGrad, Integrated Gradients,
and the sanity check of Adebayo et al. (2018) that a map depends on what the model learned.

- Occlusion (Zeiler and Fergus, 2014) slides a grey patch over the image and measures how
  much the class probability drops: no gradients, only forward passes, all positions in a
  few batches.
- SmoothGrad (Smilkov et al., 2017) averages the gradient of the class's logit over noisy
  copies of the image, which removes the speckle of a plain saliency map.
- Integrated Gradients (Sundararajan et al., 2017) sums gradients along the straight path
  from a black baseline to the image; the attributions add up to score(image) -
  score(baseline) (the completeness axiom), which the tests check.

The sanity check of Adebayo et al. (2018), weights redrawn at random, is ``sanity_check.py``.

Gradients are taken of the class's logit (``inference.class_scores``), batched through one
``tf.function`` per model kept with inference's compiled functions. Each method reports
``progress(stage, completed, total)`` per batch, so a page can run it as a background
``Task`` that stops within one batch.
"""

import numpy as np

from cifar_core.backend import tf
from cifar_core.inspect import inference
from cifar_core.models import architectures

#: Every heat map the Classify page offers, in its order.
METHODS = ("Grad-CAM", "Saliency", "Occlusion", "SmoothGrad", "Integrated Gradients")
#: Mid grey on the 0-255 scale the models take: the occluding patch carries no colour.
GREY = 127.5
#: Images per forward (or forward and backward) pass: big enough to keep the CPU busy,
#: small enough for the seed network's 32x32x32 feature maps (~16 MB per pass).
BATCH = 64
#: Defaults fast enough to compute while the page runs (well under a second warm).
DEFAULTS = {"Occlusion": {"patch": 8, "stride": 4},
            "SmoothGrad": {"samples": 25, "noise": 0.15},
            "Integrated Gradients": {"steps": 32}}

_SIDE = inference.IMAGE_SHAPE[0]  # 32
_GRADIENT_SPECS = [tf.TensorSpec((None,) + inference.IMAGE_SHAPE, tf.float32),
                   tf.TensorSpec((), tf.int32)]


def _whole_number(value, name, low, high):
    """``value`` as an int if it is a whole number in low..high, else a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def _one_image(image):
    """One image (32, 32, 3) or (1, 32, 32, 3) as float32 (32, 32, 3)."""
    batch = inference.as_batch(image)
    if len(batch) != 1:
        raise ValueError(f"expected one image, got a batch of {len(batch)}")
    return batch[0]


def _report(progress, stage, completed, total):
    if progress is not None:
        progress(stage, completed, total)


# --- occlusion -------------------------------------------------------------------------------
def patch_positions(patch, stride, side=_SIDE):
    """Top-left corners (row, column) of every patch, the last one flush with the edge."""
    patch = _whole_number(patch, "patch", 1, side)
    stride = _whole_number(stride, "stride", 1, side)
    if stride > patch:
        raise ValueError(f"stride must not exceed patch ({patch}) or pixels go unoccluded, "
                         f"got {stride!r}")
    starts = list(range(0, side - patch + 1, stride))
    if starts[-1] != side - patch:
        starts.append(side - patch)  # cover the last rows and columns too
    return [(row, column) for row in starts for column in starts]


def occlusion(model, image, class_index, patch=8, stride=4, fill=GREY, *, progress=None):
    """Occlusion map float32 (32, 32): the drop in the class's probability when a
    ``patch`` x ``patch`` square of ``fill`` covers each pixel, averaged over the patches
    covering it (positive: hiding the pixel hurts the class; negative: it helps).
    """
    class_index = inference.check_class(class_index)
    positions = patch_positions(patch, stride)
    if not 0 <= fill <= 255:
        raise ValueError(f"fill must be a grey level from 0 to 255, got {fill!r}")
    image = _one_image(image)
    original = inference.predict(model, image)[0, class_index]
    drops = np.empty(len(positions), np.float32)
    for start in range(0, len(positions), BATCH):
        chunk = positions[start:start + BATCH]
        occluded = np.repeat(image[None], len(chunk), axis=0)  # (n, 32, 32, 3)
        for number, (row, column) in enumerate(chunk):
            occluded[number, row:row + patch, column:column + patch] = fill
        drops[start:start + len(chunk)] = \
            original - inference.predict(model, occluded)[:, class_index]
        _report(progress, "occlusion", start + len(chunk), len(positions))
    totals = np.zeros((_SIDE, _SIDE), np.float32)
    counts = np.zeros((_SIDE, _SIDE), np.float32)
    for drop, (row, column) in zip(drops, positions):
        totals[row:row + patch, column:column + patch] += drop
        counts[row:row + patch, column:column + patch] += 1
    assert counts.min() > 0, "every pixel is covered by some patch"
    return totals / counts


# --- gradients: SmoothGrad and Integrated Gradients ------------------------------------------
def _build_gradients(model):
    scores = inference.class_scores(model)

    @tf.function(input_signature=_GRADIENT_SPECS)
    def gradients(images, class_index):
        with tf.GradientTape() as tape:
            tape.watch(images)
            _, logits = scores(images)  # (n, 10)
            class_scores = logits[:, class_index]  # (n,)
            # Each image's score depends on that image only, so the gradient of the sum
            # is every image's own gradient at once.
            total = tf.reduce_sum(class_scores)
        return tape.gradient(total, images), class_scores

    return gradients


def class_gradients(model, images, class_index):
    """Gradients float32 (N, 32, 32, 3) of the class's logit per image, and the logits (N,)."""
    gradients = inference.compiled(model, "class gradients", _build_gradients)
    values, scores = gradients(tf.constant(inference.as_batch(images)),
                               tf.constant(inference.check_class(class_index)))
    return values.numpy(), scores.numpy()


def _summed_gradients(model, images, class_index, progress, stage, weights=None):
    """Sum over the images (N, 32, 32, 3) of their gradients, times ``weights`` (N,) if given."""
    total = np.zeros(inference.IMAGE_SHAPE, np.float64)
    for start in range(0, len(images), BATCH):
        chunk, _ = class_gradients(model, images[start:start + BATCH], class_index)
        if weights is not None:
            chunk = chunk * weights[start:start + BATCH, None, None, None]
        total += chunk.sum(axis=0, dtype=np.float64)
        _report(progress, stage, min(start + BATCH, len(images)), len(images))
    return total


def smoothgrad(model, image, class_index, samples=25, noise=0.15, *, seed=0, progress=None):
    """SmoothGrad map float32 (32, 32): the largest absolute channel of the class logit's
    gradient averaged over ``samples`` copies of the image with Gaussian noise of standard
    deviation ``noise`` x 255. With ``noise=0`` it is the saliency map before scaling.
    """
    class_index = inference.check_class(class_index)
    samples = _whole_number(samples, "samples", 1, 1000)
    if not 0 <= noise <= 1:
        raise ValueError(f"noise must be a fraction of the 0-255 range, 0-1, got {noise!r}")
    image = _one_image(image)
    generator = np.random.default_rng(seed)
    noisy = image[None] + generator.normal(0.0, noise * 255.0, (samples,) + image.shape)
    mean = _summed_gradients(model, noisy.astype(np.float32), class_index, progress,
                             "smoothgrad") / samples  # (32, 32, 3)
    return np.abs(mean).max(axis=-1).astype(np.float32)


def integrated_gradients(model, image, class_index, steps=32, baseline=None, *, progress=None):
    """Integrated Gradients float32 (32, 32, 3): (image - baseline) times the class logit's
    gradient averaged along the straight path between them (trapezoid rule, ``steps``
    intervals). The baseline defaults to black; the attributions sum to about
    score(image) - score(baseline).
    """
    class_index = inference.check_class(class_index)
    steps = _whole_number(steps, "steps", 1, 1024)
    image = _one_image(image)
    baseline = np.zeros_like(image) if baseline is None else _one_image(baseline)
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)  # (steps + 1,)
    path = baseline[None] + alphas[:, None, None, None] * (image - baseline)[None]
    weights = np.full(steps + 1, 1.0 / steps, np.float32)
    weights[[0, -1]] /= 2  # the trapezoid rule's half weights at both ends
    average = _summed_gradients(model, path, class_index, progress, "integrated gradients",
                                weights)
    return ((image - baseline) * average).astype(np.float32)


def class_score(model, image, class_index):
    """The class's logit (score before the softmax) for one image."""
    return float(class_gradients(model, _one_image(image)[None], class_index)[1][0])


# --- one heat map for the page ---------------------------------------------------------------
def to_heat(values):
    """A map as float32 (32, 32) in 0..1: channels summed in absolute value, negatives
    dropped, scaled by the largest value (all 0 if nothing is positive)."""
    values = np.asarray(values, np.float32)
    if values.ndim == 3:
        values = np.abs(values).sum(axis=-1)  # (32, 32, 3) -> (32, 32)
    values = np.maximum(values, 0.0)
    top = values.max()
    return values / top if top > 0 else np.zeros_like(values)


def work_size(method, **options):
    """How many images ``method`` pushes through the model: its progress total, and what
    a page weighs to decide whether to compute it at once or in the background."""
    options = {**DEFAULTS.get(method, {}), **options}
    if method == "Occlusion":
        return len(patch_positions(options["patch"], options["stride"]))
    if method == "SmoothGrad":
        return 2 * _whole_number(options["samples"], "samples", 1, 1000)  # with backward
    if method == "Integrated Gradients":
        return 2 * (_whole_number(options["steps"], "steps", 1, 1024) + 1)
    if method in METHODS:
        return 2
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def heat_map(method, model, image, class_index, *, progress=None, **options):
    """The heat map float32 (32, 32) in 0..1 of ``method`` (one of ``METHODS``).

    ``options`` are the method's own (``layer_name`` for Grad-CAM; patch, stride; samples,
    noise; steps); missing ones take ``DEFAULTS``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    options = {**DEFAULTS.get(method, {}), **options}
    if method == "Grad-CAM":
        if not architectures.conv_layer_names(model):
            raise ValueError(f"Grad-CAM needs a convolution layer; model {model.name!r} "
                             "has none")
        return inference.grad_cam(model, image, class_index, options.get("layer_name"))
    if method == "Saliency":
        return inference.saliency(model, image, class_index)
    if method == "Occlusion":
        return to_heat(occlusion(model, image, class_index, progress=progress, **options))
    if method == "SmoothGrad":
        return to_heat(smoothgrad(model, image, class_index, progress=progress, **options))
    return to_heat(integrated_gradients(model, image, class_index, progress=progress,
                                        **options))
