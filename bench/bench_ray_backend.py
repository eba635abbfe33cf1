"""Ray backend benchmark: what training as a Ray actor costs next to training in-process.

The same recipe trains twice, in-process (``jobs.TrainingJob``, the baseline) and as an
actor on a Ray of this machine (``ray_jobs.RayTrainingJob``, CPUs from ``--cpus``), and
each prints: seconds to the first batch's progress on the app's side, images/second while
training, and wall seconds until the run folder is complete in the app's runs folder; then
the Ray/local ratios. The Ray figures include starting the worker process (TensorFlow's
import) and copying every file back; Ray's own start is timed apart. Target: training
images/s at least 1/1.2 of local's on the same cores (the file copies and polls are the
overhead).
Uses the real dataset when it is found, else random images of its shape.

    python bench/bench_ray_backend.py [--preset demo] [--epochs 1] [--cpus 2]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from cifar_core import data  # noqa: E402
from cifar_core.training import jobs, ray_jobs, runs, train_config  # noqa: E402

TARGET_RATIO = 1.2


def dataset():
    try:
        return data.load_cifar10(download=False)
    except data.DatasetError:
        from tests.unit.training.doubles import random_dataset

        print("CIFAR-10 not found: random images of its shape")
        return random_dataset(train_count=10000, test_count=1000)


def timed(job):
    """(seconds to the first batch, images/s at the end, seconds to done) of a started job."""
    started = time.perf_counter()
    first = None
    while not job.join(0.05):
        if first is None and job.snapshot().batch > 0:
            first = time.perf_counter() - started
    snapshot = job.snapshot()
    assert snapshot.state == "finished", snapshot.error
    record = runs.read_run(snapshot.run_dir)
    assert record is not None and record.model_path is not None, snapshot.run_dir
    return first or 0.0, snapshot.images_per_second or 0.0, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="demo", choices=train_config.PRESETS)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--cpus", type=int, default=2)
    arguments = parser.parse_args()
    config = train_config.preset(arguments.preset, epochs=arguments.epochs)
    cifar = dataset()
    import ray

    with tempfile.TemporaryDirectory() as folder:
        local = timed(jobs.TrainingJob(config, cifar, Path(folder) / "local").start())
        started = time.perf_counter()
        ray.init(num_cpus=arguments.cpus, include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - started
        os.environ["CIFAR_RAY_CPUS"] = str(arguments.cpus)
        try:
            remote = timed(ray_jobs.RayTrainingJob(config, cifar, Path(folder) / "ray").start())
        finally:
            ray.shutdown()
    print(f"{arguments.preset}, {arguments.epochs} epoch(s), {arguments.cpus} CPU(s); "
          f"Ray's own start: {ray_start:.1f} s")
    print(f"{'':8}{'first batch s':>15}{'images/s':>10}{'done s':>9}")
    for name, (first, speed, done) in (("local", local), ("ray", remote)):
        print(f"{name:8}{first:15.1f}{speed:10.0f}{done:9.1f}")
    speed_ratio = remote[1] / local[1] if local[1] else float("nan")
    print(f"ray/local: wall time to a complete run {remote[2] / local[2]:.2f}x (the worker's "
          f"start included); training images/s {speed_ratio:.2f}x "
          f"(target >= {1 / TARGET_RATIO:.2f}x)")


if __name__ == "__main__":
    main()
