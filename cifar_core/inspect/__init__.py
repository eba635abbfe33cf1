"""Looking inside a trained network: what each layer computes, what the model answers, how
well, and why.

- ``activations``: the feature-map extractor, the layer table, feature-map and filter pictures.
- ``receptive_fields``: which input pixels an output sees; TensorFlow's 'same' padding.
- ``convolution``: the first convolution's output recomputed by hand (stride, padding,
  dilation, activation) and checked against the model.
- ``kernels``: any convolution-like layer's weights: one filter's effective kernel, filters as
  pictures (depthwise, separable).
- ``model_cache``: results computed from a model file, kept on disk until the file changes.
- ``top_activations``: the test images that excite each filter most, cached on disk.
- ``feature_visualisation``: images synthesised by gradient ascent to excite a filter or a
  class (Fourier parameterisation, decorrelated colour, jitter).
- ``feature_visualisation_results``: those pictures beside the best test image's score, cached
  on disk, in a background task.
- ``inference``: predictions, top-k, Grad-CAM and saliency.
- ``attributions``: occlusion, SmoothGrad, Integrated Gradients; one heat map per method.
- ``sanity_check``: Adebayo et al.'s check: the map of a randomised-weights copy, rank
  correlation.
- ``evaluation``: test-set metrics and galleries of mistakes, cached on disk.
- ``test_time_augmentation``: accuracy averaged over mirror and 1-pixel shifted views
  (airbench94's ``tta_level``), for ``evaluate --tta``.
- ``embedding``: where the test images live: penultimate features to 2-D (PCA, t-SNE), cached,
  as a Task.
- ``label_issues``: test images whose label the model confidently disagrees with (confident
  learning, cleanlab), as a background task.

Names below import their module (and TensorFlow, for most) on first use.
"""

from cifar_core.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "activations": ["extractor", "layer_table"],
    "inference": ["grad_cam", "predict", "saliency", "top_k"],
    "evaluation": ["Evaluation", "cached_evaluation", "evaluate_model"],
    "test_time_augmentation": ["tta_accuracy", "tta_probabilities"],
    "top_activations": ["load_or_compute", "top_images"],
    "feature_visualisation_results": ["visualise", "visualise_task"],
    "attributions": ["heat_map", "integrated_gradients", "occlusion", "smoothgrad"],
    "sanity_check": ["randomised_copy", "rank_correlation", "sanity_check"],
    "embedding": ["embedding_task", "load_or_compute", "penultimate_features", "penultimate_layer"],
    "label_issues": ["LabelIssues", "find_label_issues", "label_issues_task"],
})
