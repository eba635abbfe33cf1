"""Benchmark: first parse of the real CIFAR-10 archive versus a warm decoded-cache load.

Usage: ``CIFAR10_PATH=/path/to/cifar-10-python.tar.gz python bench/bench_data.py``

The cold load parses the archive (gunzip, restricted unpickling, validation, pixel
reordering) and writes the decoded ``.npy`` cache into a fresh temporary folder; the
warm loads memory-map that cache, as every start after the first does. Both run in
this process on this machine, so the ratio is meaningful where the absolute times are
not. Target: warm load well under 1 s.
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cifar_core import data  # noqa: E402

WARM_REPEATS = 5
WARM_TARGET_SECONDS = 1.0


def _timed(function):
    """Return (wall seconds, result); CPU seconds of the last call go to _timed.cpu."""
    start, start_cpu = time.perf_counter(), time.process_time()
    result = function()
    _timed.cpu = time.process_time() - start_cpu
    return time.perf_counter() - start, result


def main():
    source = data.find_cifar10()
    if source is None:
        sys.exit("No CIFAR-10 found: set CIFAR10_PATH to the archive or extracted folder.")
    print(f"source: {source} ({source.stat().st_size / 1e6:.0f} MB)")
    with tempfile.TemporaryDirectory(prefix="bench-data-") as cache:
        def load():
            return data.load_cifar10(source, cache_dir=cache, download=False)

        cold_seconds, dataset = _timed(load)
        cold_cpu = _timed.cpu
        warm_seconds = [_timed(load)[0] for _ in range(WARM_REPEATS)]
        # Touch every pixel once through the memory map: what a full pass (e.g. class
        # statistics or an epoch of training) pays on top of the load itself.
        touch_seconds, _ = _timed(
            lambda: int(data.load_cifar10(source, cache_dir=cache).x_train.sum(dtype=np.uint64)))
    warm = statistics.median(warm_seconds)
    print(f"images: train {dataset.x_train.shape}, test {dataset.x_test.shape}")
    print(f"{'step':<34}{'seconds':>10}")
    print(f"{'cold: parse + write decoded cache':<34}{cold_seconds:>10.3f}   "
          f"({cold_cpu:.2f} s CPU; wall grows when others share the cores)")
    print(f"{'warm: memory-map decoded cache':<34}{warm:>10.4f}   (median of {WARM_REPEATS})")
    print(f"{'warm load + read all train pixels':<34}{touch_seconds:>10.3f}")
    print(f"ratio cold / warm: {cold_seconds / warm:.0f}x")
    verdict = "meets" if warm < WARM_TARGET_SECONDS else "MISSES"
    print(f"warm load {verdict} the < {WARM_TARGET_SECONDS:.0f} s target")


if __name__ == "__main__":
    main()
