"""Looking inside a CNN: feature maps, layer facts and filters.

The feature-map extractor is one Keras model with an output per conv/pool layer, built
once per model and traced once with ``tf.function``: a Functional model called eagerly
costs ~20 ms per image in per-layer overhead, the traced call ~2-3 ms (bench_layers.py).
Everything else here is NumPy on the arrays it returns, so pages only draw.
"""

import collections
import threading

import numpy as np
import pandas as pd

from cifar_core.backend import keras, tf
from cifar_core.display import pictures
from cifar_core.inspect import receptive_fields
from cifar_core.models import architectures, layer_graph

CONV_TYPES, POOL_TYPES = receptive_fields.CONV_TYPES, receptive_fields.POOL_TYPES


def stage_layer_names(model):
    """Names of the convolution-like and pooling layers in graph order (by type, any name)."""
    return [layer.name for layer in model.layers if isinstance(layer, CONV_TYPES + POOL_TYPES)]


class Extractor:
    """Calls ``model`` once and returns the outputs of the named layers.

    ``input_names`` adds the *input* of those layers under ``"NAME.input"`` (the
    convolution explainer needs what conv1 sees: the rescaled image).

    One image's activations are remembered (the last ``IMAGES_KEPT`` images, read-only
    arrays): the Layers page asks for the same image's activations three times per rerun
    (overview, convolution step, trained versus untrained), and a class looking at the
    same image asks for them from every tab; each call would otherwise queue a forward
    pass in TensorFlow's thread pool, behind any training running in the server.
    """

    IMAGES_KEPT = 32

    def __init__(self, model, names, input_names=()):
        tensors = {name: layer_graph.output_of(model, name) for name in names}
        tensors.update({f"{name}.input": layer_graph.input_of(model, name)
                        for name in input_names})
        self.names = list(tensors)
        self.input_shape = tuple(model.input.shape[1:])
        self._model = keras.Model(model.input, tensors)  # a dict, even for one output
        signature = tf.TensorSpec((None,) + self.input_shape, tf.float32)
        self._forward = tf.function(lambda batch: self._model(batch, training=False),
                                    input_signature=[signature])
        self._remembered = collections.OrderedDict()  # image bytes -> activations
        self._remembered_lock = threading.Lock()

    def __call__(self, images):
        """Activations for one image (H, W, 3) or a batch (N, H, W, 3) of raw 0-255 pixels.

        Returns a dict name -> float32 array with the batch axis (N, ...) kept.
        """
        images = np.asarray(images)
        if images.ndim == len(self.input_shape):
            images = images[None]  # (H, W, 3) -> (1, H, W, 3)
        if images.shape[1:] != self.input_shape:
            raise ValueError(f"expected images of shape {self.input_shape}, got {images.shape[1:]}")
        if len(images) != 1:
            return self._run(images)
        key = (images.dtype.str, images.tobytes())  # one 32 x 32 x 3 image: 3 KB as uint8
        with self._remembered_lock:
            found = self._remembered.get(key)
            if found is not None:
                self._remembered.move_to_end(key)
                return dict(found)
        found = self._run(images)
        for array in found.values():
            array.flags.writeable = False  # shared with later callers: nobody may change it
        with self._remembered_lock:
            self._remembered[key] = found
            while len(self._remembered) > self.IMAGES_KEPT:
                self._remembered.popitem(last=False)
        return dict(found)

    def _run(self, images):
        outputs = self._forward(tf.constant(images, dtype=tf.float32))
        return {name: outputs[name].numpy() for name in self.names}


_EXTRACTORS = collections.OrderedDict()
_EXTRACTORS_LOCK = threading.Lock()
_EXTRACTORS_KEPT = 16


def extractor(model):
    """The cached extractor for every conv/pool layer, the probabilities and conv inputs.

    Kept per model object (the model is held too, so its id cannot be reused); the
    least recently used ones are dropped beyond a few models.
    """
    with _EXTRACTORS_LOCK:
        entry = _EXTRACTORS.get(id(model))
        if entry is not None and entry[0] is model:
            _EXTRACTORS.move_to_end(id(model))
            return entry[1]
    names = stage_layer_names(model) + ["probabilities"]
    built = Extractor(model, names, input_names=architectures.conv_layer_names(model))
    with _EXTRACTORS_LOCK:
        _EXTRACTORS[id(model)] = (model, built)
        while len(_EXTRACTORS) > _EXTRACTORS_KEPT:
            _EXTRACTORS.popitem(last=False)
    return built


# --- layer facts ------------------------------------------------------------------------

def _shape_text(shape):
    return " x ".join(str(dimension) for dimension in shape)


def layer_table(model):
    """One row per layer: name, type, output shape, parameters, receptive field."""
    fields = receptive_fields.receptive_fields(model)
    image_side = model.input.shape[1]
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        field = fields.get(layer.name)
        rows.append({
            "layer": layer.name,
            "type": type(layer).__name__,
            "output shape": _shape_text(layer_graph.output_of(model, layer).shape[1:]),
            "parameters": int(layer.count_params()),
            "receptive field": (f"{min(field[0], image_side)} x {min(field[0], image_side)}"
                                if field else "whole image"),
        })
    return pd.DataFrame(rows)


def layer_facts(model, name):
    """Output shape (without batch), parameter count and receptive-field side of a layer."""
    layer = layer_graph.find_layer(model, name)
    field = receptive_fields.receptive_fields(model).get(name, (model.input.shape[1], None))
    return {"output_shape": tuple(layer_graph.output_of(model, layer).shape[1:]),
            "parameters": int(layer.count_params()),
            "receptive_field": field[0]}


# --- feature maps as pictures -----------------------------------------------------------

def channel_order(maps, sort_by_mean=True):
    """Channel indices of (H, W, C) maps, strongest mean activation first if asked."""
    channels = np.arange(maps.shape[-1])
    if not sort_by_mean:
        return channels
    return np.argsort(-maps.mean(axis=(0, 1)), kind="stable")


def _columns(count):
    return int(np.ceil(np.sqrt(count * 2)))  # about twice as wide as tall, for wide pages


def feature_map_mosaic(maps, *, per_map=False, sort_by_mean=True, tile_pixels=64, columns=None):
    """All feature maps (H, W, C) of one image as one colour-mapped mosaic image.

    Returns (mosaic uint8 (rows*tile, columns*tile, 3), channel order used). Maps are
    upscaled with nearest neighbour to about ``tile_pixels`` so small maps stay crisp.
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3:
        raise ValueError(f"expected (H, W, C) feature maps, got shape {maps.shape}")
    order = channel_order(maps, sort_by_mean)
    colored = pictures.colorize(maps.transpose(2, 0, 1)[order], per_map=per_map)  # (C, H, W, 3)
    scale = max(1, tile_pixels // maps.shape[0])
    columns = columns or _columns(len(order))
    return pictures.mosaic(colored, columns, gap=2, scale=scale), order


def strongest_map(maps):
    """(channel, map (H, W)) of the channel with the highest mean activation."""
    channel = int(np.argmax(maps.mean(axis=(0, 1))))
    return channel, maps[:, :, channel]


def _fit(tile, pixels):
    """Nearest-neighbour resize of an RGB tile (H, W, 3) to (pixels, pixels, 3)."""
    rows = np.arange(pixels) * tile.shape[0] // pixels
    columns = np.arange(pixels) * tile.shape[1] // pixels
    return tile[rows][:, columns]


def overview_strip(image, activations, names, *, tile_pixels=112):
    """One picture: the input image, then the strongest feature map of each named layer.

    Each tile is captioned with its layer and output shape; returns (strip uint8 RGB,
    list of (layer, channel shown)).
    """
    tiles = [_fit(np.asarray(image, np.uint8), tile_pixels)]
    captions = ["input " + "x".join(map(str, np.shape(image)))]
    shown = []
    for name in names:
        maps = activations[name][0]  # (1, H, W, C) -> (H, W, C)
        channel, strongest = strongest_map(maps)
        tiles.append(_fit(pictures.colorize(strongest[None])[0], tile_pixels))
        captions.append(f"{name} " + "x".join(map(str, maps.shape)))
        shown.append((name, channel))
    strip = pictures.labelled_mosaic(np.stack(tiles), captions, len(tiles), scale=1, gap=6,
                                  caption_height=18)
    return strip, shown


# --- filters ----------------------------------------------------------------------------

def kernel_and_bias(model, name):
    """The weights of a conv layer: kernel (kh, kw, in, out) and bias (out,) as float32.

    A depthwise layer's kernel is (kh, kw, in, multiplier); a separable layer has two
    kernels, so it raises ValueError here: ``kernels.layer_weights`` covers every kind.
    """
    layer = layer_graph.find_layer(model, name)
    if not isinstance(layer, CONV_TYPES) or isinstance(layer, keras.layers.SeparableConv2D):
        raise ValueError(f"layer {name!r} is a {type(layer).__name__}, not a convolution "
                         "with one kernel")
    kernel = layer.kernel.numpy().astype(np.float32)
    bias = (layer.bias.numpy().astype(np.float32) if layer.use_bias
            else np.zeros(kernel.shape[-1], np.float32))
    return kernel, bias


def filter_mosaic(kernel, filter_index, *, tile_pixels=36):
    """One filter of a deeper layer as a mosaic of its (kh, kw) slices, one per input channel.

    Shared, zero-centred colour scale: red weights excite, blue inhibit.
    """
    if not 0 <= filter_index < kernel.shape[-1]:
        raise ValueError(f"filter {filter_index} out of range 0..{kernel.shape[-1] - 1}")
    slices = kernel[:, :, :, filter_index].transpose(2, 0, 1)  # (in, kh, kw)
    scale = max(1, tile_pixels // kernel.shape[0])
    return pictures.mosaic(pictures.colorize_signed(slices), _columns(len(slices)), gap=2,
                           scale=scale)


def filters_picture(kernel, filter_index, *, name="conv"):
    """(picture, caption) for a conv layer's filters as the Layers page shows them.

    First layers (3 input channels) show every filter as an RGB patch; deeper layers
    show the chosen filter as one slice per input channel.
    """
    rows, columns, inputs, filters = kernel.shape
    if inputs == 3:
        return (pictures.mosaic(pictures.rgb_filter_images(kernel), 16, gap=4, scale=12),
                f"The {filters} filters of {name} as {rows} x {columns} RGB patches: "
                "each looks for this colour pattern")
    return (filter_mosaic(kernel, filter_index),
            f"Filter {filter_index} of {name}: one {rows} x {columns} slice per input channel "
            f"({inputs}); red excites, blue inhibits")
