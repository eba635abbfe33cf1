"""Feature visualisation benchmark: one filter's picture and a whole conv1 grid.

Targets (issue 16), on the reference 2-core machine:
- one 32 x 32 filter picture: 3 s or less;
- a whole conv1 grid (one picture per filter, optimised as one batch): 30 s or less.
Each time is one first call, as a click on the page costs it: the gradient-ascent step is
traced anew for every run, so the trace is included. The honesty check (the best test
image's score per filter, one pass over the test set, cached once per layer) is timed
apart. With the shipped models it also prints how many synthesised pictures beat the
best test image on the same objective. The baseline, measured in the same run, is one
forward pass of the whole network over the test images (``model.predict``).

    python bench/bench_feature_visualisation.py [--models seed fast] [--steps 128]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.timing import test_images_or_random  # noqa: E402
from cifar_core.inspect import feature_visualisation  # noqa: E402
from cifar_core.models import architectures, saving  # noqa: E402

TARGETS_S = {"one filter": 3.0, "conv1 grid": 30.0}


def timed(function):
    """(result, wall seconds, CPU seconds over all threads) of one call."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - started, time.process_time() - cpu_started


def report(name, seconds, cpu_seconds, target=None):
    verdict = "" if target is None else (
        f"  target {target:.0f} s: {'met' if seconds <= target else 'MISSED'} "
        f"({seconds / target:.2f} of target)")
    print(f"  {name:<40} {seconds:6.2f} s wall ({cpu_seconds:6.2f} s CPU){verdict}")


def load(name):
    """The shipped model if it is there, else an untrained one (the speed is the same)."""
    path = PROJECT_ROOT / "models" / f"{name}.keras"
    if path.is_file():
        return saving.load_model(path), "shipped"
    return architectures.build_model(name, seed=0), "untrained"


def bench_model(name, test_images, settings):
    model, kind = load(name)
    count = model.get_layer("conv1").output.shape[-1]
    print(f"\n{name} ({kind}), conv1 with {count} filters, {settings.steps} steps:")
    _, forward, forward_cpu = timed(lambda: model.predict(test_images, batch_size=500, verbose=0))
    report("baseline: predict over the test images", forward, forward_cpu)
    scores = feature_visualisation.filter_scores(model, "conv1")
    climb = feature_visualisation.filter_scores(model, "conv1", for_climbing=True)
    (best_indices, best_values), seconds, cpu = timed(
        lambda: feature_visualisation.best_test_scores(scores, test_images))
    report("honesty check: best test image per filter", seconds, cpu)
    _, seconds, cpu = timed(lambda: feature_visualisation.synthesise(climb, [0], settings))
    report("one filter's picture (filter 0)", seconds, cpu, TARGETS_S["one filter"])
    filters = np.arange(count)
    images, seconds, cpu = timed(lambda: feature_visualisation.synthesise(climb, filters,
                                                                          settings))
    report(f"conv1 grid ({count} pictures, one batch)", seconds, cpu, TARGETS_S["conv1 grid"])
    values = feature_visualisation.measure(scores, images, filters)
    print(f"  synthesised beats the best test image on {int(np.sum(values > best_values))} of "
          f"{count} conv1 filters (median score {np.median(values):.3f} vs "
          f"{np.median(best_values):.3f})")
    classes = feature_visualisation.class_scores(model)
    class_best = feature_visualisation.best_test_scores(classes, test_images)[1]
    pictures, seconds, cpu = timed(lambda: feature_visualisation.synthesise(
        classes, np.arange(10), settings))
    report("the 10 class pictures (one batch)", seconds, cpu)
    class_values = feature_visualisation.measure(classes, pictures, np.arange(10))
    print(f"  synthesised beats the best test image on {int(np.sum(class_values > class_best))}"
          f" of 10 classes (median logit {np.median(class_values):.1f} vs "
          f"{np.median(class_best):.1f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["seed", "fast"])
    parser.add_argument("--steps", type=int, default=feature_visualisation.Settings().steps)
    arguments = parser.parse_args()
    settings = feature_visualisation.Settings(steps=arguments.steps)
    test_images, source = test_images_or_random()
    print(f"Feature visualisation benchmark; test images: {source}; settings: {settings.key()}")
    for name in arguments.models:
        bench_model(name, test_images, settings)


if __name__ == "__main__":
    main()
