"""Classify heat maps benchmark: each method on one image, per shipped model, warm.

Target (issue 16): each map on one image well under a second or two on the reference
machine; the page computes at once anything below ``attribution_panel.BACKGROUND_FROM``
images through the model and sends the rest (occlusion with stride 1, hundreds of IG
steps) to a background task with progress. The baseline, measured in the same run, is
Grad-CAM, the map the page already drew. Also timed: the sanity check (the map on the
trained model and on its randomised copy, and their rank correlation) and the heavy
settings. Uses the shipped ``models/*.keras`` and a real test image when ``CIFAR10_PATH``
is set (random pixels otherwise: the speed is the same).

    python bench/bench_attributions.py [--repeats 10] [--models seed fast]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.timing import median_ms  # noqa: E402
from cifar_core import data
from cifar_core.inspect import attributions, inference, sanity_check
from cifar_core.models import saving

TARGET_MS = 1000.0
#: (label, method, options): the page's defaults first, then the heavy settings.
CASES = [
    ("Grad-CAM (baseline)", "Grad-CAM", {}),
    ("Saliency", "Saliency", {}),
    ("Occlusion patch 8 stride 4", "Occlusion", {"patch": 8, "stride": 4}),
    ("SmoothGrad 25 samples", "SmoothGrad", {"samples": 25}),
    ("Integrated Gradients 32 steps", "Integrated Gradients", {"steps": 32}),
    ("Occlusion patch 4 stride 1 (background)", "Occlusion", {"patch": 4, "stride": 1}),
    ("SmoothGrad 100 samples", "SmoothGrad", {"samples": 100}),
    ("Integrated Gradients 256 steps (background)", "Integrated Gradients", {"steps": 256}),
]


def test_images(count):
    """The first ``count`` test images and labels where the dataset is found, else random
    pixels (labelled 0-9 in turn); and where they came from."""
    try:
        images, labels = data.load_cifar10(download=False).split("test")
        return images[:count], labels[:count].astype(int), "test images"
    except data.DatasetError:
        images = np.random.default_rng(0).integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
        return images, np.arange(count) % 10, "random pixels (no dataset found)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--models", nargs="+", default=["seed", "fast"])
    parser.add_argument("--sanity-images", type=int, default=20,
                        help="images the sanity check's correlations are summarised over")
    arguments = parser.parse_args()
    images, labels, source = test_images(max(8, arguments.sanity_images))
    image, class_index = images[7], int(labels[7])
    print(f"Image 7 of the {source}, class {data.CLASS_NAMES[class_index]}; median of "
          f"{arguments.repeats} warm calls; target {TARGET_MS:.0f} ms per map\n")
    for name in arguments.models:
        model = saving.load_model(PROJECT_ROOT / "models" / f"{name}.keras")
        probability = inference.predict(model, image)[0, class_index]
        print(f"{name} (p({data.CLASS_NAMES[class_index]}) = {probability:.2f})")
        baseline = None
        for label, method, options in CASES:
            def one_map(method=method, options=options):
                return attributions.heat_map(method, model, image, class_index, **options)
            started = time.perf_counter()
            one_map()  # the first call traces the tf.function: once per model and server
            first = (time.perf_counter() - started) * 1000
            wall = median_ms(one_map, arguments.repeats, warmup=1)
            cpu = median_ms(one_map, max(3, arguments.repeats // 3), warmup=0,
                            clock=time.process_time)
            baseline = baseline or wall
            print(f"  {label:<45} {wall:8.1f} ms ({cpu:7.1f} ms CPU; first call "
                  f"{first:7.0f} ms)  {wall / baseline:5.1f}x Grad-CAM  "
                  f"{wall / TARGET_MS:5.2f}x target")
        print("  sanity check (trained + randomised copy, defaults):")
        for label, method, options in CASES[:5]:
            check = sanity_check.sanity_check(method, model, image, class_index, **options)
            wall = median_ms(lambda method=method, options=options: sanity_check.sanity_check(
                method, model, image, class_index, **options), max(3, arguments.repeats // 2),
                warmup=0)
            correlations = [sanity_check.sanity_check(
                method, model, other, int(label_index), **options).correlation
                for other, label_index in zip(images[:arguments.sanity_images],
                                              labels[:arguments.sanity_images])]
            print(f"    {label:<43} {wall:8.1f} ms  Spearman {check.correlation:+.3f} on "
                  f"image 7; over {len(correlations)} images (true class): median "
                  f"{np.nanmedian(correlations):+.2f}, range {np.nanmin(correlations):+.2f} "
                  f"to {np.nanmax(correlations):+.2f}, flat {np.isnan(correlations).sum()}")
        print()


if __name__ == "__main__":
    main()
