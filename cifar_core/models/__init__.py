"""Our CNNs: what every model is, how each architecture is built and started, its files.

- ``contract``: architecture names, input shape, classes, precisions (no TensorFlow).
- ``architectures``: the builders (``seed``, ``fast``, ``fast-small``, ``tiny``),
  ``build_model`` and ``conv_layer_names``.
- ``fast_init``: how the fast nets start: the whitening conv1, identity 3x3 convolutions.
- ``saving``: ``.keras`` files saved atomically and loaded in safe mode; model cards.
- ``catalog``: which models exist, shipped under ``models/`` or trained as runs (no
  TensorFlow: it reads JSON).

Names below import their module on first use, so ``from cifar_core.models import catalog``
stays free of TensorFlow.
"""

from cifar_core.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "contract": ["ARCHITECTURE_NAMES", "IMAGE_SHAPE", "NUM_CLASSES", "PRECISIONS"],
    "architectures": ["ARCHITECTURES", "build_model", "conv_layer_names"],
    "saving": ["ModelError", "load_model", "save_model", "write_model_card"],
    "catalog": ["ModelEntry", "available_models"],
})
