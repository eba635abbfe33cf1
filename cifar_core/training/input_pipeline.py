"""The training input pipeline: shuffled, augmented batches built inside the tf.data graph.

``make_dataset`` gives ``fit`` every epoch's batches as one dataset, so the epoch number
is known where the batches are made: airbench's alternating flips need it. Augmentation
(flips, shifts of up to 2 pixels) runs batched in the graph, off the Python thread.
"""

import math

import numpy as np

from cifar_core.backend import tf
from cifar_core.models import contract
from cifar_core.training.train_config import FLIPS

#: How augmentation flips (see TrainConfig.flip).


def batches_per_epoch(count, batch_size):
    """Batches in one pass over ``count`` images, the last one partial: fit's steps_per_epoch
    and the learning-rate schedule's epoch length, so both agree with ``make_dataset``."""
    return math.ceil(count / batch_size)


def augment_batch(images, seed=None, mirror=None):
    """Horizontal flips and random translations of up to 2 pixels (reflect padding).

    images: float32 (batch, 32, 32, 3). ``mirror`` (bool, (batch,)) says which images to
    flip; None flips each with probability 1/2. The translation crops a 32x32 window out
    of the reflect-padded 36x36 batch with ``crop_and_resize`` at integer offsets, so no
    pixel is interpolated; it runs batched inside the tf.data graph. ``seed`` makes the
    draws stateless: the same seed, the same flips and shifts, whatever ran before. It is
    an int (the Dataset page's augmentation view) or a stateless seed pair, a (2,) integer
    tensor (training: one per batch, from the run's seed, the epoch and the batch, so a
    resumed run draws what an uninterrupted one would); None draws from TensorFlow's
    global random state.
    """
    batch = tf.shape(images)[0]

    def uniform(shape, stream, **range_and_type):
        if seed is None:
            return tf.random.uniform(shape, **range_and_type)
        if isinstance(seed, int):
            stream_seed = tf.constant([seed, stream], tf.int64)
        else:
            stream_seed = tf.random.experimental.stateless_fold_in(seed, stream)
        return tf.random.stateless_uniform(shape, seed=stream_seed, **range_and_type)

    if mirror is None:
        mirror = uniform((batch,), 0) < 0.5
    images = tf.where(mirror[:, None, None, None], tf.reverse(images, axis=[2]), images)
    padded = tf.pad(images, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="REFLECT")  # (b, 36, 36, 3)
    offsets = tf.cast(uniform((batch, 2), 1, minval=0, maxval=5, dtype=tf.int32), tf.float32)
    starts = offsets / 35.0  # Normalised corner: pixel k sits at k / (36 - 1).
    boxes = tf.concat([starts, starts + 31.0 / 35.0], axis=1)  # (b, 4): y1, x1, y2, x2
    return tf.image.crop_and_resize(padded, boxes, tf.range(batch), (32, 32))


def augmented_views(image, count, *, flip="random", seed=0):
    """What training makes of one image over ``count`` passes (epochs): uint8 (count, 32, 32, 3).

    ``augment_batch`` itself draws the flips and shifts, as in ``make_dataset``; with
    ``flip="alternating"`` view k is mirrored as pass k mirrors it (a random first pass,
    then every other one). The same ``seed`` gives the same views.
    """
    if flip not in FLIPS:
        raise ValueError(f"flip {flip!r}: choose one of {list(FLIPS)}")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 256:
        raise ValueError(f"count must be an integer from 1 to 256, got {count!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    image = np.asarray(image)
    if image.shape != contract.IMAGE_SHAPE:
        raise ValueError(f"image must be {contract.IMAGE_SHAPE} (height, width, channels), "
                         f"got shape {image.shape}")
    images = np.repeat(image[None].astype(np.float32), count, axis=0)  # (count, 32, 32, 3)
    mirror = None
    if flip == "alternating":  # As make_dataset: the first pass at random, then alternating.
        first_mirrored = np.random.default_rng(seed).random() < 0.5
        mirror = tf.constant(np.logical_xor(first_mirrored, np.arange(count) % 2 == 1))
    views = augment_batch(tf.constant(images), seed=seed, mirror=mirror)
    return np.clip(np.rint(views.numpy()), 0, 255).astype(np.uint8)


def make_dataset(images, labels, batch_size, *, shuffle=False, augment=False, seed=0,
                 epochs=1, flip="random", first_epoch=0):
    """A tf.data pipeline of (float32 images 0-255, one-hot labels) batches, for the passes
    (epochs) ``first_epoch`` to ``epochs - 1``.

    Each pass is batched on its own (``batches_per_epoch``: fit it with that
    ``steps_per_epoch``) and, with ``shuffle``, shuffled anew from ``seed`` and the pass
    number. The pass number is what lets ``flip="alternating"`` mirror each image in
    every other pass (see ``TrainConfig.flip``). Every random draw (the order, each batch's
    flips and shifts) is a function of (``seed``, pass, batch) alone, so a run resumed at
    ``first_epoch=k`` sees exactly the batches an uninterrupted run saw from pass k on.
    """
    if flip not in FLIPS:
        raise ValueError(f"flip {flip!r}: choose one of {list(FLIPS)}")
    if isinstance(first_epoch, bool) or not isinstance(first_epoch, int) \
            or not 0 <= first_epoch <= epochs:
        raise ValueError(f"first_epoch must be an integer from 0 to epochs ({epochs}), "
                         f"got {first_epoch!r}")
    count = len(images)
    images, labels = tf.constant(images), tf.constant(labels)
    alternate = augment and flip == "alternating"
    if alternate:  # Which images the first pass mirrors; later passes alternate from it.
        first_mirrored = tf.constant(np.random.default_rng(seed).random(count) < 0.5)  # (count,)

    def prepare(batch, indices, epoch):
        batch_images = tf.cast(tf.gather(images, indices), tf.float32)
        if augment:
            mirror = None
            if alternate:
                odd = tf.equal(epoch % 2, 1)
                mirror = tf.math.logical_xor(tf.gather(first_mirrored, indices), odd)
            # The batch's own stateless seed: (seed, pass) folded with the batch number.
            batch_seed = tf.random.experimental.stateless_fold_in(
                tf.stack([tf.constant(seed, tf.int64), epoch]), batch + 1)
            batch_images = augment_batch(batch_images, seed=batch_seed, mirror=mirror)
        return batch_images, tf.one_hot(tf.gather(labels, indices), contract.NUM_CLASSES)

    def one_pass(epoch):
        order = tf.range(count)
        if shuffle:  # A permutation drawn from (seed, pass): reproducible, new every pass.
            order = tf.random.experimental.stateless_shuffle(
                order, seed=tf.stack([tf.constant(seed, tf.int64), epoch]))

        def prepare_in_pass(batch, indices):
            return prepare(batch, indices, epoch)

        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size).enumerate().map(
            prepare_in_pass, num_parallel_calls=tf.data.AUTOTUNE)

    # flat_map hides the length from Keras; without it, fit's validation found the end of
    # its data by running out (a warning, and a second epoch twice as slow: measured).
    batches = (epochs - first_epoch) * batches_per_epoch(count, batch_size)
    return (tf.data.Dataset.range(first_epoch, epochs).flat_map(one_pass)
            .apply(tf.data.experimental.assert_cardinality(batches)).prefetch(tf.data.AUTOTUNE))
