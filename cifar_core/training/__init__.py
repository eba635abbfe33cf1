"""Training a model, alone or as a background job, and the run folders it leaves.

- ``train_config``: ``TrainConfig``, the named presets and what each is for (no TensorFlow).
- ``trainer``: ``train(config, data, callbacks)``: ``model.fit`` on the input pipeline.
- ``input_pipeline``: tf.data batches: per-epoch shuffles, flips and shifts; ``augmented_views``
  of one image.
- ``augmentation_choices``: the presets grouped by the augmentation they apply, in words (no
  TensorFlow).
- ``recording``: training tied to a run folder (history, filters, histograms, TensorBoard,
  status).
- ``runs``: run folders on disk: status, history, interrupted runs (no TensorFlow).
- ``jobs``: a training run in a background thread for the UI: snapshot, stop.
- ``job_registry``: the server's jobs: training slots, which tab controls which job.
- ``recipes``: the Train page's form fields and back to a ``TrainConfig`` (no TensorFlow).
- ``run_history``: past runs as tables, comparable curves and filter mosaics.
- ``histograms``: per-epoch weight and activation histograms of a run: files, reading, chart
  data (no TensorFlow).

Names below import their module on first use: ``from cifar_core.training import runs``
stays free of TensorFlow.
"""

from cifar_core.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "train_config": ["PRESETS", "TrainConfig", "describe", "preset"],
    "trainer": ["TrainResult", "evaluate_accuracy", "train"],
    "recording": ["train_run"],
    "runs": ["RunRecord", "list_runs", "mark_interrupted"],
    "jobs": ["JobSnapshot", "TrainingJob"],
    "job_registry": ["JobRegistry", "TrainerBusy"],
})
