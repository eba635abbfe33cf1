"""A network designed in the browser: its JSON definition, validation, shapes and parameters.

No TensorFlow here: the Train page's designer redraws its layer table on every edit, and a
config naming a design is checked by the command line before the seconds-long import.
A definition is plain JSON::

    {"format": "cifar-design", "version": 1, "name": "my-net",
     "blocks": [{"type": "convolution", "filters": 32, "kernel_size": 3, "stride": 1,
                 "padding": "same", "activation": "relu"}, {"type": "flatten"}, ...]}

The blocks sit between the contract's stem (raw 0-255 pixels, ``rescaling`` to 0-1) and
its head (a 10-way ``logits`` Dense layer and the softmax ``probabilities``), which every
design gets. ``designed.build_designed`` turns a definition into exactly the Keras layers
``layer_table`` describes (its tests compare both with ``model.summary``'s numbers).
"""

import json
import math
from dataclasses import dataclass
from typing import NamedTuple

from cifar_core.models.contract import IMAGE_SHAPE, NUM_CLASSES

#: The ``TrainConfig.model`` and Keras model name of a designed network.
DESIGNED = "designed"
FORMAT, VERSION = "cifar-design", 1
ACTIVATIONS = ("relu", "gelu", "elu", "swish", "tanh", "sigmoid", "linear")
PADDINGS = ("same", "valid")
MAX_BLOCKS = 60
#: More weights than this would not fit a classroom server's memory while training.
MAX_PARAMETERS = 50_000_000
MAX_NAME_LENGTH = 60


class Field(NamedTuple):
    """One setting of a block: an int or float in [low, high], or one of ``choices``."""

    default: object
    low: float = None
    high: float = None
    choices: tuple = ()


#: Block type -> its label (in words) and its fields with their defaults and ranges.
BLOCK_TYPES = {
    "convolution": ("convolution", {
        "filters": Field(32, 1, 1024), "kernel_size": Field(3, 1, 11),
        "stride": Field(1, 1, 4), "padding": Field("same", choices=PADDINGS),
        "activation": Field("relu", choices=ACTIVATIONS)}),
    "batch_norm": ("batch norm", {}),
    "max_pooling": ("max pooling", {"pool_size": Field(2, 2, 8)}),
    "average_pooling": ("average pooling", {"pool_size": Field(2, 2, 8)}),
    "dropout": ("dropout", {"rate": Field(0.2, 0.0, 0.9)}),
    "global_pooling": ("global pooling", {"mode": Field("average", choices=("average", "max"))}),
    "flatten": ("flatten", {}),
    "dense": ("dense", {"units": Field(128, 1, 8192),
                        "activation": Field("relu", choices=ACTIVATIONS)}),
}


def new_block(block_type):
    """A block of ``block_type`` with its default settings."""
    if block_type not in BLOCK_TYPES:
        raise ValueError(f"unknown block type {block_type!r}; choose one of {list(BLOCK_TYPES)}")
    return {"type": block_type, **{name: field.default
                                   for name, field in BLOCK_TYPES[block_type][1].items()}}


def describe_block(block):
    """A block in a few words, e.g. "convolution 32 3x3, stride 1, same, relu"."""
    kind = block["type"]
    if kind == "convolution":
        size = block["kernel_size"]
        return (f"convolution {block['filters']} {size}x{size}, stride {block['stride']}, "
                f"{block['padding']}, {block['activation']}")
    if kind in ("max_pooling", "average_pooling"):
        return f"{BLOCK_TYPES[kind][0]} {block['pool_size']}x{block['pool_size']}"
    if kind == "dropout":
        return f"dropout {block['rate']:g}"
    if kind == "global_pooling":
        return f"global {block['mode']} pooling"
    if kind == "dense":
        return f"dense {block['units']}, {block['activation']}"
    return BLOCK_TYPES[kind][0]


def _block_name(position, block):
    """How messages name a block: "block 5 (max pooling 2x2)" (1-based)."""
    try:
        return f"block {position} ({describe_block(block)})"
    except (KeyError, TypeError, ValueError):
        return f"block {position}"


def _normalise_block(position, block):
    """The block with defaults filled in; ValueError naming the block and the bad value."""
    if not isinstance(block, dict):
        raise ValueError(f"block {position}: must be an object with a \"type\", got {block!r}")
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        raise ValueError(f"block {position}: unknown type {kind!r}; "
                         f"choose one of {list(BLOCK_TYPES)}")
    fields = BLOCK_TYPES[kind][1]
    unknown = sorted(set(block) - set(fields) - {"type"})
    if unknown:
        raise ValueError(f"block {position} ({BLOCK_TYPES[kind][0]}): unknown settings {unknown}")
    normalised = {"type": kind}
    for name, field in fields.items():
        value = block.get(name, field.default)
        if field.choices:
            if value not in field.choices:
                raise ValueError(f"block {position} ({BLOCK_TYPES[kind][0]}): {name} = {value!r}; "
                                 f"choose one of {list(field.choices)}")
        elif isinstance(field.default, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int) \
                    or not field.low <= value <= field.high:
                raise ValueError(f"block {position} ({BLOCK_TYPES[kind][0]}): {name} = {value!r}; "
                                 f"must be a whole number from {field.low} to {field.high}")
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or not field.low <= value <= field.high:
                raise ValueError(f"block {position} ({BLOCK_TYPES[kind][0]}): {name} = {value!r}; "
                                 f"must be a number from {field.low} to {field.high}")
            value = float(value)
        normalised[name] = value
    return normalised


def normalise(definition):
    """``definition`` with every block's defaults filled in, checked field by field.

    ValueError names the block and the value; stacking problems (shapes) are
    ``layer_table``'s to find.
    """
    if not isinstance(definition, dict):
        raise ValueError(f"a design must be a JSON object with \"blocks\", "
                         f"got {type(definition).__name__}")
    unknown = sorted(set(definition) - {"format", "version", "name", "blocks"})
    if unknown:
        raise ValueError(f"unknown design fields {unknown}")
    if definition.get("format", FORMAT) != FORMAT:
        raise ValueError(f"format = {definition['format']!r}: not a {FORMAT} definition")
    if definition.get("version", VERSION) != VERSION:
        raise ValueError(f"version = {definition['version']!r}: this app reads version {VERSION}")
    name = definition.get("name", "my-network")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"name = {name!r}: must be text of 1 to {MAX_NAME_LENGTH} characters")
    blocks = definition.get("blocks")
    if not isinstance(blocks, list):
        raise ValueError(f"blocks = {blocks!r}: must be a list of blocks")
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks: at most {MAX_BLOCKS}")
    return {"format": FORMAT, "version": VERSION, "name": name.strip(),
            "blocks": [_normalise_block(position, block)
                       for position, block in enumerate(blocks, start=1)]}


@dataclass(frozen=True)
class LayerRow:
    """One Keras layer of a design, as ``model.summary()`` lists it."""

    name: str  # the Keras layer's name
    block: int | None  # 1-based block number, None for the stem and the head
    description: str
    output_shape: tuple  # without the batch axis: (32, 32, 3) or (512,)
    parameters: int
    trainable: int  # of ``parameters``; batch norm's moving statistics are not


@dataclass(frozen=True)
class Analysis:
    """A design's layers as far as they go, and the problem that stops them (or None)."""

    rows: tuple
    problem: str | None

    @property
    def parameters(self):
        return sum(row.parameters for row in self.rows)

    @property
    def trainable(self):
        return sum(row.trainable for row in self.rows)


def _output_size(size, window, stride, padding):
    """Keras' spatial output size: "same" rounds up, "valid" needs the whole window."""
    if padding == "same":
        return -(-size // stride)
    return (size - window) // stride + 1


def analyse(definition):
    """Each layer's output shape and parameters, stopping at the first impossible block.

    Never raises for a bad stack: the problem comes back in words naming the block, e.g.
    "block 5 (max pooling 2x2): the image is already 1 x 1", with the rows before it.
    Bad fields (``normalise``) are a ValueError.
    """
    definition = normalise(definition)
    shape = IMAGE_SHAPE  # (height, width, channels) while spatial, then (features,)
    rows = [LayerRow("rescaling", None, "raw 0-255 pixels to 0-1", shape, 0, 0)]
    counters, flattened_at = {}, None

    def add(prefix, position, block, new_shape, parameters=0, trainable=None):
        counters[prefix] = counters.get(prefix, 0) + 1
        name = prefix if prefix == "flatten" and counters[prefix] == 1 else \
            f"{prefix}{counters[prefix]}"
        rows.append(LayerRow(name, position, describe_block(block), tuple(new_shape), parameters,
                             parameters if trainable is None else trainable))
        return tuple(new_shape)

    for position, block in enumerate(definition["blocks"], start=1):
        kind, label = block["type"], _block_name(position, block)
        spatial = len(shape) == 3
        if kind in ("convolution", "max_pooling", "average_pooling", "global_pooling",
                    "flatten") and not spatial:
            return Analysis(tuple(rows), f"{label}: needs feature maps, but the features are "
                                         f"already flat after block {flattened_at}")
        if kind == "dense" and spatial:
            return Analysis(tuple(rows), f"{label}: the features are still "
                                         f"{_shape_words(shape)} maps; add a flatten or global "
                                         "pooling block before it")
        if kind == "convolution":
            height, width, channels = shape
            size, stride = block["kernel_size"], block["stride"]
            if block["padding"] == "valid" and min(height, width) < size:
                return Analysis(tuple(rows), f"{label}: the image is only {height} x {width}, "
                                             f"smaller than the {size} x {size} kernel")
            parameters = size * size * channels * block["filters"] + block["filters"]
            shape = add("conv", position, block,
                        (_output_size(height, size, stride, block["padding"]),
                         _output_size(width, size, stride, block["padding"]), block["filters"]),
                        parameters)
        elif kind in ("max_pooling", "average_pooling"):
            height, width, channels = shape
            size = block["pool_size"]
            if min(height, width) < size:
                return Analysis(tuple(rows), f"{label}: the image is already {height} x {width}"
                                             f", too small for a {size} x {size} window")
            shape = add("pool", position, block,
                        ((height - size) // size + 1, (width - size) // size + 1, channels))
        elif kind == "global_pooling":
            shape = add("pool", position, block, (shape[-1],))
            flattened_at = position
        elif kind == "flatten":
            shape = add("flatten", position, block, (math.prod(shape),))  # (h, w, c) -> (h*w*c,)
            flattened_at = position
        elif kind == "batch_norm":
            shape = add("batchnorm", position, block, shape, 4 * shape[-1], 2 * shape[-1])
        elif kind == "dropout":
            shape = add("dropout", position, block, shape)
        else:
            assert kind == "dense", kind
            shape = add("dense", position, block, (block["units"],),
                        shape[0] * block["units"] + block["units"])
    if len(shape) == 3:
        return Analysis(tuple(rows), f"nothing to classify yet: the blocks end in "
                                     f"{_shape_words(shape)} feature maps; add a flatten or "
                                     "global pooling block at the end")
    rows.append(LayerRow("logits", None, f"dense {NUM_CLASSES} (one score per class)",
                         (NUM_CLASSES,), shape[0] * NUM_CLASSES + NUM_CLASSES,
                         shape[0] * NUM_CLASSES + NUM_CLASSES))
    rows.append(LayerRow("probabilities", None, "softmax", (NUM_CLASSES,), 0, 0))
    analysis = Analysis(tuple(rows), None)
    if analysis.parameters > MAX_PARAMETERS:
        return Analysis(analysis.rows, f"the network has {analysis.parameters:,} parameters, "
                                       f"more than the {MAX_PARAMETERS:,} this app trains; "
                                       "use fewer filters or units, or pool before flattening")
    return analysis


def _shape_words(shape):
    return " x ".join(str(size) for size in shape)


def layer_table(definition):
    """The rows of ``analyse``; ValueError (naming the block) for an impossible design."""
    analysis = analyse(definition)
    if analysis.problem:
        raise ValueError(analysis.problem)
    return analysis.rows


def validate(definition):
    """The normalised definition, or ValueError naming the first bad block or value."""
    layer_table(definition)
    return normalise(definition)


def to_json(definition):
    """The definition as the JSON text a user downloads (normalised, stable key order)."""
    return json.dumps(normalise(definition), indent=2) + "\n"


def from_json(text):
    """A validated definition from JSON text (or bytes); one clear ValueError otherwise."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError("this file is not a design: it is not UTF-8 text") from error
    try:
        definition = json.loads(text)
    except ValueError as error:
        raise ValueError(f"this file is not valid JSON (line {getattr(error, 'lineno', '?')}): "
                         f"{getattr(error, 'msg', error)}") from error
    return validate(definition)
