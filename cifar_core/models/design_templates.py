"""Designs to start from: the seed notebook's CNN, the tiny net, and a small VGG.

Each is a ``design`` definition (plain JSON-ready dicts, no TensorFlow). ``seed`` and
``tiny`` have the same layers, shapes and parameter counts as ``architectures.build_seed``
and ``build_tiny`` (their tests check it); ``small-vgg`` is VGG's pattern at CIFAR scale:
pairs of 3x3 convolutions with batch norm, each pair halving the image.
"""

import copy

from cifar_core.models import design


def _convolution(filters, **settings):
    return {**design.new_block("convolution"), "filters": filters, **settings}


def _block(kind, **settings):
    return {**design.new_block(kind), **settings}


def _seed_blocks():
    blocks = []
    for filters in (32, 64, 128):
        blocks += [_convolution(filters), _block("dropout", rate=0.2), _convolution(filters),
                   _block("max_pooling")]
    return blocks + [_block("flatten"), _block("dropout", rate=0.2),
                     _block("dense", units=1024), _block("dropout", rate=0.2),
                     _block("dense", units=512), _block("dropout", rate=0.2)]


def _small_vgg_blocks():
    blocks = []
    for filters, rate in ((32, 0.2), (64, 0.3), (128, 0.4)):
        blocks += [_convolution(filters), _block("batch_norm"), _convolution(filters),
                   _block("batch_norm"), _block("max_pooling"), _block("dropout", rate=rate)]
    return blocks + [_block("flatten"), _block("dense", units=128), _block("dropout", rate=0.5)]


_TEMPLATES = {
    "seed": ("the seed notebook's CNN: three pairs of convolutions, two dense layers",
             _seed_blocks()),
    "tiny": ("two small convolutions and global pooling: trains in seconds",
             [_convolution(16), _block("max_pooling"), _convolution(32), _block("max_pooling"),
              _block("global_pooling")]),
    "small-vgg": ("VGG at CIFAR scale: 3x3 convolution pairs with batch norm, then dropout",
                  _small_vgg_blocks()),
}
#: Template names, in the order the designer offers them.
TEMPLATE_NAMES = tuple(_TEMPLATES)
#: What each template is, in a few words.
TEMPLATE_PURPOSES = {name: purpose for name, (purpose, _) in _TEMPLATES.items()}


def template(name):
    """A fresh copy of template ``name``'s definition (safe to edit)."""
    if name not in _TEMPLATES:
        raise ValueError(f"unknown template {name!r}; choose one of {list(_TEMPLATES)}")
    return {"format": design.FORMAT, "version": design.VERSION, "name": name,
            "blocks": copy.deepcopy(_TEMPLATES[name][1])}
