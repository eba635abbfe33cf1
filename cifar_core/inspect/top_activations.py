"""Which test images excite each filter most, computed once per model and kept on disk.

One pass over the test images records, for every conv/pool layer at once, each
channel's peak (spatial maximum) activation per image: a (N, channels) table per layer.
The peak is reduced inside the traced model, so only (batch, channels) numbers leave
TensorFlow. Every layer shares the pass, so choosing another layer later is free.
The table is saved in the cache folder under a key of the model file's path, size and
modification time and of the images, so it is recomputed only when either changes.
"""

import numpy as np

from cifar_core import background
from cifar_core.backend import keras, tf
from cifar_core.display import pictures
from cifar_core.inspect import activations, model_cache, receptive_fields
from cifar_core.models import layer_graph

#: The cache folder's name for peak tables.
CACHE_KIND = "top-activations"
#: Images per forward pass: big enough to amortise call overhead, small enough for RAM.
BATCH_SIZE = 500


def peak_activations(model, images, names=None, *, batch_size=BATCH_SIZE, progress=None):
    """For each layer name: float32 (N, channels), the max of each map over positions.

    ``images`` are raw uint8 (N, H, W, 3); ``progress(stage, done, total)`` is called
    after every batch (the data module's progress convention). Where each peak sits is
    left to ``peak_positions`` for the few images shown: an argmax here as well cost
    about 60% more CPU over the test set (TensorFlow's CPU argmax is slow).
    """
    names = list(names or activations.stage_layer_names(model))
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    peaks_model = keras.Model(model.input, {  # (N, H, W, C) -> (N, C) per layer
        name: keras.ops.max(layer_graph.output_of(model, name), axis=(1, 2)) for name in names})
    signature = tf.TensorSpec((None,) + tuple(model.input.shape[1:]), tf.float32)
    forward = tf.function(lambda batch: peaks_model(batch, training=False),
                          input_signature=[signature])
    parts = {name: [] for name in names}
    total = len(images)
    for start in range(0, total, batch_size):
        batch = tf.constant(images[start:start + batch_size], dtype=tf.float32)
        for name, peak in forward(batch).items():
            parts[name].append(peak.numpy())
        if progress is not None:
            progress("peak activations", min(start + batch_size, total), total)
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}


def peak_positions(model, layer, images, filter_index):
    """Flat index (row * width + column) of each image's peak for one filter: int (N,)."""
    maps = activations.extractor(model)(images)[layer][..., filter_index]  # (N, H, W)
    return maps.reshape(len(maps), -1).argmax(axis=1)  # (N, H * W) -> (N,)


def top_images(peaks, filter_index, count=16):
    """(indices, peak values) of the ``count`` images with the highest peak for a filter."""
    if not 0 <= filter_index < peaks.shape[1]:
        raise ValueError(f"filter {filter_index} out of range 0..{peaks.shape[1] - 1}")
    column = peaks[:, filter_index]
    indices = np.argsort(-column, kind="stable")[:count]
    return indices, column[indices]


def peak_boxes(model, layer, positions, image_side=32):
    """(top, left, bottom, right) input boxes for flat peak ``positions`` of a layer."""
    geometry = receptive_fields.field_geometry(model)[layer]
    width = layer_graph.output_of(model, layer).shape[2]
    return [receptive_fields.field_box(geometry, *divmod(int(position), width), image_side)
            for position in positions]


def framed_images(images, boxes, *, scale=3, color=(255, 220, 0)):
    """Images upscaled ``scale`` times, each with its box drawn: (N, H*scale, W*scale, 3)."""
    return np.stack([
        pictures.outline(pictures.upscale(image, scale), top * scale, left * scale,
                         ((bottom - top + 1) * scale, (right - left + 1) * scale),
                         color=color, width=max(1, scale // 2))
        for image, (top, left, bottom, right) in zip(images, boxes)])


def top_images_picture(model, layer, peaks, filter_index, images, labels, class_names, *,
                       count=16, columns=8):
    """The ``count`` images that excite one filter most, as one captioned mosaic (uint8 RGB).

    ``peaks`` is the layer's (N, channels) table from ``load_or_compute`` over ``images``.
    Each tile is captioned with its class and peak, highest first, and boxed where the
    filter fires most: the receptive field of the peak's position.
    """
    indices, values = top_images(peaks, filter_index, count)
    chosen = images[indices]  # (count, 32, 32, 3)
    positions = peak_positions(model, layer, chosen, filter_index)
    tiles = framed_images(chosen, peak_boxes(model, layer, positions, chosen.shape[1]))
    captions = [f"{class_names[labels[index]]} {peak:.2f}" for index, peak in zip(indices, values)]
    return pictures.labelled_mosaic(tiles, captions, columns, scale=1)


def cache_path(model_path, images):
    """Where the peaks of the model at ``model_path`` over ``images`` are stored."""
    return model_cache.cache_file(CACHE_KIND, model_path, model_cache.images_key(images))


def load_or_compute(model, model_path, images, *, progress=None):
    """Peaks read from the cache folder, or computed and saved there (atomically)."""
    return model_cache.cached_arrays(
        CACHE_KIND, model_path, lambda: peak_activations(model, images, progress=progress),
        model_cache.images_key(images))


def peak_task(model, model_path, images):
    """A background ``Task`` whose result is ``load_or_compute(model, model_path, images)``."""
    return background.Task(
        lambda progress: load_or_compute(model, model_path, images, progress=progress),
        total=len(images), name="top-activations")
