"""What recording per-epoch histograms adds to training, against an epoch measured in the same run.

    python bench/bench_training_histograms.py                    # the `minute` preset
    python bench/bench_training_histograms.py --preset seed-fast --batches 20

Builds the preset's model as ``train`` does (fast-small for `minute`: whitening from the
training images, bfloat16 where native), then times

- the recorder's first call (tracing its graph: once per run),
- one recording (every weight and every layer's output on the first 256 test images, as
  ``train_run`` records after each epoch: histograms, the .npz file and the TensorBoard event),
- training batches of the preset (``model.fit`` on its input pipeline), turned into the
  seconds of one epoch of its training images.

It prints the seconds a recording adds to an epoch and their share of the epoch (target:
at most 2%). Needs the real dataset ($CIFAR10_PATH or the usual places); without it the
figures are on random images, and say so.
"""

import argparse
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: A recording may cost at most this share of an epoch of training.
TARGET_SHARE = 0.02


def _dataset():
    """The real dataset, or random images shaped like it (and a note saying so)."""
    import numpy as np

    from cifar_core import data

    try:
        return data.load_cifar10(download=False), "real CIFAR-10"
    except data.DatasetError:
        generator = np.random.default_rng(0)
        fake = types.SimpleNamespace(
            x_train=generator.integers(0, 256, (5000, 32, 32, 3), dtype=np.uint8),
            y_train=np.arange(5000) % 10,
            x_test=generator.integers(0, 256, (256, 32, 32, 3), dtype=np.uint8))
        return fake, "random images (no dataset found)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="minute")
    parser.add_argument("--batches", type=int, default=30, help="training batches to time")
    parser.add_argument("--repeats", type=int, default=5, help="recordings to time")
    arguments = parser.parse_args()

    from cifar_core.backend import keras
    from cifar_core.training import histograms, input_pipeline, recording, train_config, trainer

    dataset, source = _dataset()
    config = train_config.preset(arguments.preset)
    images, labels = trainer.training_subset(config, dataset)
    model = trainer.build_for(config, images)
    print(f"preset {arguments.preset}: {config.model}, batch {config.batch_size}, "
          f"{trainer.effective_precision(config)}, {model.count_params():,} parameters; {source}")

    with tempfile.TemporaryDirectory() as folder:
        run = types.SimpleNamespace(path=Path(folder))
        tensorboard = recording.TensorBoardScalars(Path(folder) / "tensorboard")
        tensorboard.on_train_begin()
        recorder = recording.HistogramRecorder(run, dataset.x_test[:histograms.IMAGE_COUNT],
                                               tensorboard)
        recorder.set_model(model)
        started = time.perf_counter()
        recorded = recorder.record(0)
        first = time.perf_counter() - started
        timings = []
        for epoch in range(1, arguments.repeats + 1):
            started = time.perf_counter()
            recorder.record(epoch)
            timings.append(time.perf_counter() - started)
        size = histograms.epoch_path(run.path, 1).stat().st_size
        tensorboard.close()
    recording_seconds = statistics.median(timings)

    class Timer(keras.callbacks.Callback):
        ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

    warmup = 5
    count = config.batch_size * (arguments.batches + warmup)
    pipeline = input_pipeline.make_dataset(images[:count], labels[:count], config.batch_size,
                                           shuffle=True, augment=config.augment)
    timer = Timer()
    model.fit(pipeline, epochs=1, verbose=0, callbacks=[timer], shuffle=False)
    ends = timer.ends[warmup:]
    batch_seconds = (ends[-1] - ends[0]) / (len(ends) - 1)
    epoch_seconds = batch_seconds * input_pipeline.batches_per_epoch(len(images),
                                                                     config.batch_size)
    share = recording_seconds / epoch_seconds
    print(f"  histograms per recording: {len(recorded)} ({histograms.BINS} bins each), "
          f"file {size / 1024:.1f} kB")
    print(f"  first recording (traces the graph, once per run): {first:6.2f} s")
    print(f"  one recording, median of {arguments.repeats}:            {recording_seconds:6.2f} s")
    print(f"  one epoch of training ({len(images):,} images, from {len(ends) - 1} batches): "
          f"{epoch_seconds:6.1f} s")
    print(f"  recording adds {recording_seconds:.2f} s per epoch = {100 * share:.2f}% of an epoch "
          f"(target <= {100 * TARGET_SHARE:.0f}%: {'met' if share <= TARGET_SHARE else 'MISSED'}"
          f", ratio to target {share / TARGET_SHARE:.2f})")


if __name__ == "__main__":
    main()
