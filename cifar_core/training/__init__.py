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
- ``job_state``: what every job keeps, wherever it trains: ``JobSnapshot`` and the progress
  behind it (no TensorFlow).
- ``jobs``: a training run in a background thread for the UI: snapshot, stop.
- ``process_jobs``: ``ProcessTrainingJob``: a training run in a child process at a lower CPU
  priority, the job interface of ``jobs`` over a pipe; page reruns keep the server (no
  TensorFlow).
- ``process_child``: the child's side: the dataset mapped again from the decoded cache, an
  ordinary ``TrainingJob``, reports, stop, exit when the server dies (no TensorFlow).
- ``run_queue``: the on-disk FIFO of runs waiting for a training slot (``<runs dir>/.queue/``),
  duration and start estimates (no TensorFlow).
- ``job_registry``: the server's queue and jobs: training slots, dispatch, cancel, the per-tab
  limit, which tab controls which run (no TensorFlow).
- ``run_control``: which tab controls which run: owners, last polls, the take-over of a run
  whose tab went quiet, a tab's waiting submissions (no TensorFlow).
- ``start_estimates``: when a queued run starts: each run's estimate scaled by the server's
  pace, the wait for a slot (no TensorFlow).
- ``checkpoints``: a run's epoch checkpoint (``checkpoint/state.npz``: weights, optimizer
  state, epoch; atomic, never unpickled) and which runs can resume or train more (no
  TensorFlow).
- ``checkpointing``: the Keras side of checkpoints: written at each complete epoch, restored
  into a rebuilt model.
- ``resuming``: a run folder reopened to continue in place: refusals, "train more" epochs and
  schedule segments, history and per-epoch files cut back to the checkpoint (no TensorFlow).
- ``sweeps``: a grid over one or two recipe fields: typed values checked in TrainConfig's
  words, at most 12 runs under one sweep id, launched through the queue with its plan in
  ``.sweeps/`` (no TensorFlow).
- ``sweep_results``: a sweep read back from its plan and run folders: swept values, states,
  best and final validation accuracy, curves named by value (no TensorFlow).
- ``leaderboard``: the class leaderboard: every run by best validation accuracy, as a table
  (no TensorFlow).
- ``class_model``: the run a teacher pinned for the class, ``<runs dir>/.class_model.json``
  (no TensorFlow).
- ``permissions``: who may delete a run or pin the class model: a tab its own runs, the
  teacher (``CIFAR_TEACHER_PASSWORD``) any (no TensorFlow).
- ``backends``: where runs train: a child process (the default), a thread, or a Ray cluster
  (``$CIFAR_RAY_ADDRESS``); ``job_factory()`` (no TensorFlow, no Ray).
- ``ray_cluster``: connecting to Ray once, each run's CPUs/GPUs, the dataset put once in the
  object store (no TensorFlow).
- ``ray_jobs``: ``RayTrainingJob``: a run as a Ray actor, polled for progress and files.
- ``run_mirror``: ``RunMirror``: the app's copy of a run trained elsewhere: its folder named
  once, polled files written, ended when no one follows it; the files a resume ships (no
  TensorFlow, no Ray).
- ``ray_worker``: the actor: a ``TrainingJob`` in a folder of its own on the worker (no
  TensorFlow until it starts).
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
    "run_queue": ["QueueEntry", "RunQueue"],
    "job_registry": ["JobRegistry", "QueueFull", "TrainerBusy"],
    "checkpoints": ["can_resume", "can_train_more"],
    "sweeps": ["grid", "launch", "parse_values"],
    "sweep_results": ["read_sweep", "sweep_ids"],
})
