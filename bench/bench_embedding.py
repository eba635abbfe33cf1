"""Embedding map benchmark: the first map of the 10,000 test images, and the cached reload.

Target (issue 16): the first map within 60 s, instant afterwards (the disk cache). Timed
for a shipped model (default ``fast``, the slowest feature pass), each first time in an
empty cache folder, so it includes the whole feature pass:
- PCA, first time: features + PCA; then the cached reload;
- t-SNE, first time: features + PCA to 50 dims + t-SNE (``TSNE_ITERATIONS`` steps);
  then the cached reload;
- the figure for 10,000 dots: building it and its JSON, which the browser receives.
With ``--baseline``, scikit-learn's default t-SNE (1,000 steps) on the same features is
timed too, and each map's quality printed: how often an image's 10 nearest dots on the
map share its true class (the higher, the better the classes are kept apart).

    python bench/bench_embedding.py [--model fast] [--baseline]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from cifar_core import data  # noqa: E402
from cifar_core.display import embedding_map  # noqa: E402
from cifar_core.inspect import embedding  # noqa: E402
from cifar_core.models import saving  # noqa: E402

TARGET_S = 60.0  # the first map
INSTANT_S = 0.3  # "instant afterwards": a rerun's budget on the other pages


def timed(function):
    """(result, wall seconds, CPU seconds over all threads) of one call."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - started, time.process_time() - cpu_started


def neighbour_agreement(coordinates, labels, neighbours=10):
    """Share of each image's ``neighbours`` nearest dots that have its class (mean, 0-1)."""
    from sklearn.neighbors import NearestNeighbors

    _, indices = NearestNeighbors(n_neighbors=neighbours + 1).fit(coordinates).kneighbors(
        coordinates)
    return float((labels[indices[:, 1:]] == labels[:, None]).mean())  # skip the image itself


def first_and_cached(model, model_path, images, method):
    """Times of the first map in a fresh cache folder and of the cached reload after it."""
    with tempfile.TemporaryDirectory(prefix="bench-embedding-") as folder:
        os.environ["CIFAR10_CACHE_DIR"] = folder  # the dataset is already loaded
        first, wall, cpu = timed(lambda: embedding.load_or_compute(model, model_path, images,
                                                                   method))
        _, cached_wall, cached_cpu = timed(lambda: embedding.load_or_compute(
            model, model_path, images, method))
    return first, (wall, cpu), (cached_wall, cached_cpu)


def report(name, times, target):
    """One line: wall and CPU time of a step against its target (all in seconds)."""
    (wall, cpu), verdict = times, "met" if times[0] <= target else "not met"
    shown = (f"{wall:.1f} s wall ({cpu:.1f} s CPU)" if wall >= 1
             else f"{wall * 1000:.0f} ms wall ({cpu * 1000:.0f} ms CPU)")
    print(f"{name}: {shown}, target {target:g} s: {wall / target:.2f}x of it, {verdict}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fast", help="a shipped model under models/")
    parser.add_argument("--baseline", action="store_true",
                        help="also time scikit-learn's default t-SNE and print map quality")
    arguments = parser.parse_args()
    images, labels = data.load_cifar10().split("test")
    model_path = PROJECT_ROOT / "models" / f"{arguments.model}.keras"
    model = saving.load_model(model_path)
    print(f"{arguments.model}: features from layer {embedding.penultimate_layer(model).name!r}'s "
          f"input, {embedding.feature_extractor(model).output.shape[1]} numbers per image; "
          f"{len(images):,} test images")

    maps = {}
    for method, name in embedding.METHODS.items():
        maps[method], first, cached = first_and_cached(model, model_path, images, method)
        report(f"{name} map, first time (features + {name})", first, TARGET_S)
        report(f"{name} map, from the disk cache", cached, INSTANT_S)

    predictions = np.asarray(labels)  # the figure's cost does not depend on the answers
    probabilities = np.eye(10, dtype=np.float32)[predictions]
    figure, wall, _ = timed(lambda: embedding_map.embedding_figure(
        maps["tsne"]["coordinates"], labels, probabilities, data.CLASS_NAMES))
    text, json_wall, _ = timed(figure.to_json)
    print(f"figure of {len(images):,} dots: built in {wall * 1000:.0f} ms, JSON in "
          f"{json_wall * 1000:.0f} ms, {len(text) / 1e6:.2f} MB for the browser")

    if arguments.baseline:
        from sklearn.manifold import TSNE

        features = embedding.penultimate_features(model, images)
        reduced, _ = embedding.pca(features, embedding.TSNE_INPUT_DIMENSIONS)
        default, wall, cpu = timed(lambda: TSNE(init="pca", learning_rate="auto",
                                                random_state=embedding.TSNE_SEED,
                                                n_jobs=embedding.TSNE_JOBS).fit_transform(reduced))
        ours = maps["tsne"]["coordinates"]
        print(f"scikit-learn's default t-SNE (1,000 steps) on the same features: {wall:.1f} s "
              f"wall ({cpu:.1f} s CPU)")
        for name, coordinates in (("PCA", maps["pca"]["coordinates"]),
                                  (f"t-SNE, {embedding.TSNE_ITERATIONS} steps", ours),
                                  ("t-SNE, 1,000 steps", default)):
            print(f"  10 nearest dots of the same true class, {name}: "
                  f"{neighbour_agreement(coordinates, np.asarray(labels)):.1%}")


if __name__ == "__main__":
    main()
