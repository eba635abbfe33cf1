"""Our CNNs: what every model is, how each architecture is built and started, its files.

- ``contract``: architecture names, input shape, classes, precisions (no TensorFlow).
- ``architectures``: the builders (``seed``, ``fast``, ``fast-small``, ``tiny``),
  ``build_model`` and ``conv_layer_names``.
- ``fast_init``: how the fast nets start: the whitening conv1, identity 3x3 convolutions.
- ``saving``: ``.keras`` files saved atomically and loaded in safe mode; model cards.
- ``design``: a network designed in the browser: its JSON definition, validation, each
  layer's output shape and parameters in plain Python (no TensorFlow).
- ``design_templates``: designs to start from: seed, tiny, small-vgg (no TensorFlow).
- ``designed``: ``build_designed``: a design as a Keras model in the contract layout.
- ``untrained``: an untrained copy of any model (re-initialised clone, input scaling kept).
- ``layer_graph``: a layer's input/output tensors inside one model's graph (wrapped imports).
- ``model_checks``: an untrusted model file checked before loading: size, format, Keras' own
  layers only, no Lambda; ``ModelError`` (no TensorFlow).
- ``input_scaling``: how an imported model wants its pixels (0-1, 0-255, -1..1,
  standardised), inferred on 1,000 test images; softmax or logits (no TensorFlow at import).
- ``wrapping``: a user's model wrapped flat into the app's layout, weights shared.
- ``importing``: bring your own model: import (file kept untouched + card), load wrapped,
  set scaling, delete.
- ``graph_diagram``: a model's layers and connections as Graphviz DOT (no TensorFlow).
- ``model_facts``: a catalogue entry's card in words: source, scaling, date (no TensorFlow).
- ``model_uploads``: an uploaded model file saved under a safe name, size checked first.
- ``import_tasks``: importing an upload, or changing an imported model's scaling, as a
  background Task.
- ``tflite_export``: a model as TensorFlow Lite bytes (raw pixels in, probabilities out), and
  checking it.
- ``catalog``: which models exist: shipped under ``models/``, trained runs, imported files (no
  TensorFlow: it reads JSON).

Names below import their module on first use, so ``from cifar_core.models import catalog``
stays free of TensorFlow.
"""

from cifar_core.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "contract": ["ARCHITECTURE_NAMES", "IMAGE_SHAPE", "NUM_CLASSES", "PRECISIONS"],
    "architectures": ["ARCHITECTURES", "build_model", "conv_layer_names"],
    "saving": ["ModelError", "check_layout", "inference_copy", "layout_problem", "load_model",
               "save_model", "write_model_card"],
    "catalog": ["ModelEntry", "available_models", "imported_models", "model_card"],
    "model_checks": ["MAX_MODEL_BYTES", "inspect_file"],
    "input_scaling": ["SCALINGS", "infer_scaling"],
    "importing": ["delete_imported", "import_model", "load_imported", "open_model",
                  "set_scaling"],
    "design": ["analyse", "from_json", "to_json", "validate"],
    "design_templates": ["TEMPLATE_NAMES", "template"],
    "designed": ["build_designed"],
})
