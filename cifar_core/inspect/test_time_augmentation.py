"""Test-time augmentation: average a model's answers over views of each test image.

airbench94 reports its 94% with ``tta_level=2``; its ``infer`` is copied here level by level:
- 0: the image as it is;
- 1: the mean of the image and its mirror image;
- 2: half of level 1, plus half of the mean of level 1 on two copies translated by one
  pixel (up-left and down-right, reflect padding): six forward passes an image.
airbench averages logits; our models end in a softmax, so probabilities are averaged
(the argmax differs only where the views disagree closely). The pages report accuracies
without it; ``python -m cifar_core evaluate --tta 2`` prints it.
"""

import numpy as np

from cifar_core.backend import tf
from cifar_core.models import contract

#: What each level averages, in words (the CLI's help and its output line).
LEVELS = {0: "no test-time augmentation", 1: "the image and its mirror image",
          2: "mirror images and 1-pixel translations (airbench94's tta_level=2)"}


def check_level(level):
    """``level`` itself when it is one of ``LEVELS``; ValueError naming it otherwise."""
    if isinstance(level, bool) or level not in LEVELS:
        raise ValueError(f"tta level must be one of {sorted(LEVELS)}, not {level!r}")
    return level


def _translated(batch, rows, columns):
    """``batch`` (b, 32, 32, 3) shifted by one pixel: a 32x32 window of the reflect-padded
    (b, 34, 34, 3) batch starting at (rows, columns), 0 or 2."""
    padded = tf.pad(batch, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")  # (b, 34, 34, 3)
    return padded[:, rows:rows + 32, columns:columns + 32, :]


def _build(model, level):
    def mirrored(batch):
        return (model(batch, training=False) + model(tf.reverse(batch, axis=[2]),
                                                     training=False)) / 2

    @tf.function(input_signature=[tf.TensorSpec((None,) + contract.IMAGE_SHAPE, tf.float32)])
    def probabilities(batch):
        if level == 0:
            return tf.cast(model(batch, training=False), tf.float32)
        answer = mirrored(batch)
        if level == 2:
            translated = (mirrored(_translated(batch, 0, 0))
                          + mirrored(_translated(batch, 2, 2))) / 2
            answer = (answer + translated) / 2
        return tf.cast(answer, tf.float32)

    return probabilities


def tta_probabilities(model, images, level=2, *, batch_size=500):
    """Class probabilities float32 (N, 10) of uint8 ``images`` (N, 32, 32, 3) at ``level``."""
    check_level(level)
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != contract.IMAGE_SHAPE or len(images) == 0:
        raise ValueError(f"expected images of shape (N, 32, 32, 3), got {images.shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    forward = _build(model, level)  # one traced graph for every batch
    return np.concatenate([forward(tf.constant(images[start:start + batch_size],
                                               dtype=tf.float32)).numpy()
                           for start in range(0, len(images), batch_size)])


def tta_accuracy(model, images, labels, level=2, *, batch_size=500):
    """Share of ``images`` classified correctly (0-1) with test-time augmentation ``level``."""
    labels = np.asarray(labels)
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images for {len(labels)} labels")
    predicted = tta_probabilities(model, images, level, batch_size=batch_size).argmax(axis=1)
    return float(np.mean(predicted == labels))
