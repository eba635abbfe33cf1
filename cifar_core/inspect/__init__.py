"""Looking inside a trained network: what each layer computes, what the model answers, how
well, and why.

- ``activations``: the feature-map extractor, the layer table, feature-map and filter pictures.
- ``receptive_fields``: which input pixels an output sees; TensorFlow's 'same' padding.
- ``convolution``: one conv1 output recomputed by hand and checked against the model.
- ``model_cache``: results computed from a model file, kept on disk until the file changes.
- ``top_activations``: the test images that excite each filter most, cached on disk.
- ``inference``: predictions, top-k, Grad-CAM and saliency.
- ``evaluation``: test-set metrics and galleries of mistakes, cached on disk.

Names below import their module (and TensorFlow, for most) on first use.
"""

from cifar_core.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "activations": ["extractor", "layer_table"],
    "inference": ["grad_cam", "predict", "saliency", "top_k"],
    "evaluation": ["Evaluation", "cached_evaluation", "evaluate_model"],
    "top_activations": ["load_or_compute", "top_images"],
})
