"""Label issues and augmentation views: what the Evaluate and Dataset sections cost.

No targets (issue 16 sets none for these two views); this prints the times a teacher
waits. Label issues: cleanlab's import (in a fresh interpreter, once per server) and the
ranking of the shipped models' 10,000 test probabilities, against the Evaluate page's
existing "worst mistakes" query on the same probabilities (the same-run baseline).
Augmentation: 12 views of one image through ``input_pipeline.augmented_views``, against
``augment_batch`` on the same 12 copies (the pipeline's own cost). The shipped models'
evaluations are read from their caches (``<model>.eval.npz``); a model without one is
skipped (open it on the Evaluate page, or run ``python -m cifar_core evaluate``, first).

    CIFAR10_PATH=../shared/datasets/cifar-10-python.tar.gz python bench/bench_label_issues.py
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.timing import median_ms  # noqa: E402
from cifar_core import data  # noqa: E402
from cifar_core.inspect import evaluation, label_issues  # noqa: E402


def cleanlab_import_seconds():
    """Seconds a fresh interpreter takes to import cleanlab.filter (what the first view pays)."""
    code = ("import time; started = time.perf_counter(); import cleanlab.filter; "
            "print(time.perf_counter() - started)")
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True)
    return float(result.stdout.strip())


def bench_label_issues(dataset, repeats):
    images, labels = dataset.split("test")
    print(f"cleanlab import (fresh interpreter): {cleanlab_import_seconds():.2f} s")
    for name in ("fast", "seed"):
        path = PROJECT_ROOT / "models" / f"{name}.keras"
        found = evaluation.load_cached(path, labels, dataset.source) if path.exists() else None
        if found is None:
            print(f"{name}: no cached evaluation, skipped")
            continue
        probabilities = found.probabilities
        issues = label_issues.find_label_issues(labels, probabilities)
        ranking = median_ms(lambda: label_issues.find_label_issues(labels, probabilities),
                            repeats)
        baseline = median_ms(lambda: evaluation.top_losses(labels, probabilities, 24), repeats)
        print(f"{name}: accuracy {found.accuracy:.1%}, {len(issues):,} labels flagged "
              f"({issues.fraction:.1%}); ranking {ranking:.1f} ms, worst-mistakes query "
              f"{baseline:.2f} ms (ratio {ranking / baseline:.0f}x)")


def bench_augmentation(dataset, repeats):
    started = time.perf_counter()
    from cifar_core.backend import tf
    from cifar_core.training import input_pipeline
    print(f"TensorFlow and the pipeline imported in {time.perf_counter() - started:.1f} s "
          "(once per server, after 'Show augmentations')")
    image = dataset.x_train[7]
    copies = tf.constant(np.repeat(image[None].astype(np.float32), 12, axis=0))  # (12, 32, 32, 3)
    for flip in ("random", "alternating"):
        views = median_ms(lambda flip=flip: input_pipeline.augmented_views(image, 12, flip=flip),
                          repeats)
        baseline = median_ms(lambda: input_pipeline.augment_batch(copies).numpy(), repeats)
        print(f"12 {flip} views: {views:.1f} ms, augment_batch alone {baseline:.1f} ms "
              f"(ratio {views / baseline:.2f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    arguments = parser.parse_args()
    dataset = data.load_cifar10()
    bench_label_issues(dataset, arguments.repeats)
    bench_augmentation(dataset, arguments.repeats)


if __name__ == "__main__":
    main()
