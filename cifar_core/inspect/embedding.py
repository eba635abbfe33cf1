"""Where the test images live: the network's penultimate features projected to 2-D.

The last Dense layer of a classifier separates the classes with straight cuts through its
input, so that input (the "penultimate features") is where the network has sorted the
images. ``penultimate_layer`` finds that layer by walking the graph back from the model's
output (never by name, so imported networks work too); ``penultimate_features`` runs the
images to it in batches; ``pca`` and ``tsne`` bring the features down to two coordinates
per image for a scatter plot. PCA is a rotation (straight distances, seconds); t-SNE
(scikit-learn's Barnes-Hut) keeps neighbours together and pulls clusters apart, which
shows the classes better but takes about a minute for 10,000 images on two cores.

Both the features and each projection are cached on disk per model file
(``model_cache``, kind ``"embedding"``), so switching PCA to t-SNE reuses the features and
a second visit reads two small files. ``embedding_task`` does it all in the background,
reporting every batch of features and each stage (t-SNE itself cannot report, but a stop
takes effect as soon as it returns).
"""

import math

import numpy as np

from cifar_core import background, storage
from cifar_core.backend import keras, tf
from cifar_core.inspect import model_cache
from cifar_core.models import layer_graph

#: The cache folder's name for features and coordinates.
CACHE_KIND = "embedding"
#: The projections offered, by URL value, with the names a page shows.
METHODS = {"pca": "PCA", "tsne": "t-SNE"}
#: Images per forward pass (the features of one batch are small; the activations are not).
BATCH_SIZE = 250
#: t-SNE starts from the features reduced by PCA to this many dimensions: the usual
#: recommendation, and it makes the neighbour search far cheaper than on 256-512 dims.
TSNE_INPUT_DIMENSIONS = 50
#: Fixed, so the same model always gives the same map.
TSNE_SEED = 0
#: Threads for t-SNE's neighbour search and gradient (the reference machine has two cores).
TSNE_JOBS = 2
#: Gradient steps, the first 250 with early exaggeration. On the fast model's 10,000
#: features (bench/bench_embedding.py --baseline) scikit-learn's default of 1,000 took twice
#: the time for the same map quality: 85.7% of each image's 10 nearest dots share its class
#: after 1,000 steps, 85.8% after 500. Half the time keeps a busy server within 60 s.
TSNE_ITERATIONS = 500
#: How many progress steps t-SNE counts for: about as long as the feature pass, so the bar
#: (which cannot move during t-SNE) does not sit at "almost done" for a minute.
TSNE_STEPS = 40


def _check_method(method):
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")


def penultimate_layer(model):
    """The last Dense layer on the way to the model's output; its input is the features.

    Walks back from the output through the layers that made it (Softmax, Rescaling,
    Dropout, ... pass through) until a ``Dense`` layer. Raises ValueError, naming the
    model, when the path branches, reaches the input first (no Dense layer: no features
    to map), or the Dense layer reads the images themselves (no learnt features).
    """
    outputs = layer_graph.flat(model.outputs)
    if len(outputs) != 1:
        raise ValueError(f"model {model.name!r} has {len(outputs)} outputs; the embedding "
                         f"map needs a classifier with one")
    producers = {}  # id(tensor) -> the layer whose output it is
    for layer in model.layers:
        try:
            for tensor in layer_graph.flat(layer_graph.output_of(model, layer)):
                producers[id(tensor)] = layer
        except (AttributeError, ValueError):  # a layer never called: not in the graph
            continue
    inputs = {id(tensor) for tensor in layer_graph.flat(model.inputs)}
    tensor = outputs[0]
    while id(tensor) not in inputs:
        layer = producers.get(id(tensor))
        if layer is None:
            break
        if isinstance(layer, keras.layers.Dense):
            if id(layer_graph.input_of(model, layer)) in inputs:
                raise ValueError(f"the last Dense layer {layer.name!r} of model {model.name!r} "
                                 f"reads the images directly: there are no learnt features "
                                 f"to map")
            return layer
        layer_inputs = layer_graph.flat(layer_graph.input_of(model, layer))
        if len(layer_inputs) != 1:
            raise ValueError(f"layer {layer.name!r} of model {model.name!r} joins "
                             f"{len(layer_inputs)} branches before any Dense layer; the "
                             f"embedding map follows a single path to the output")
        tensor = layer_inputs[0]
    raise ValueError(f"model {model.name!r} has no Dense layer before its output, so it has "
                     f"no penultimate features to map")


def feature_extractor(model):
    """A Keras model from the images to the penultimate features, flattened: (N, D)."""
    features = layer_graph.input_of(model, penultimate_layer(model))
    if len(features.shape) != 2:
        features = keras.layers.Flatten()(features)  # (N, ..., C) -> (N, D)
    return keras.Model(model.inputs, features, name=f"{model.name}_features")


def penultimate_features(model, images, *, batch_size=BATCH_SIZE, progress=None, steps=None):
    """The penultimate features float32 (N, D) of uint8 ``images`` (N, 32, 32, 3).

    ``progress(stage, done, total)`` is called after every batch with done = batches so
    far and total = ``steps`` (default: the number of batches), so a caller can count
    later stages in the same progress bar.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"expected images of shape (N, H, W, C), got {images.shape}")
    extractor = feature_extractor(model)
    signature = tf.TensorSpec((None,) + tuple(images.shape[1:]), tf.float32)
    forward = tf.function(lambda batch: extractor(batch, training=False),
                          input_signature=[signature])
    batches = math.ceil(len(images) / batch_size)
    steps = batches if steps is None else steps
    parts = []
    for number, start in enumerate(range(0, len(images), batch_size), start=1):
        batch = tf.constant(images[start:start + batch_size], dtype=tf.float32)
        parts.append(np.asarray(forward(batch), dtype=np.float32))
        if progress is not None:
            progress("features", number, steps)
    return np.concatenate(parts)


def pca(features, dimensions=2):
    """The features on their ``dimensions`` principal axes: (float32 (N, dims), explained).

    ``explained`` float64 (dims,) is each axis's share of the total variance. Each axis's
    sign is fixed (its largest loading positive), so the same features always give the
    same picture. The covariance (D x D) is diagonalised, cheaper than an SVD of (N, D).
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"expected features of shape (N >= 2, D), got {features.shape}")
    if not 1 <= dimensions <= features.shape[1]:
        raise ValueError(f"dimensions must be between 1 and {features.shape[1]}, "
                         f"got {dimensions!r}")
    centred = features - features.mean(axis=0)
    covariance = centred.T @ centred / (len(features) - 1)  # (D, D)
    variances, axes = np.linalg.eigh(covariance)  # ascending
    variances, axes = variances[::-1][:dimensions], axes[:, ::-1][:, :dimensions]
    largest = np.abs(axes).argmax(axis=0)
    axes = axes * np.sign(axes[largest, np.arange(dimensions)])  # largest loading positive
    total = np.clip(covariance.trace(), 1e-300, None)
    return (centred @ axes).astype(np.float32), np.clip(variances, 0, None) / total


def tsne(features, *, seed=TSNE_SEED, jobs=TSNE_JOBS, perplexity=30.0):
    """t-SNE coordinates float32 (N, 2) of the features, after PCA to 50 dimensions.


    scikit-learn's Barnes-Hut t-SNE, started from PCA (``init="pca"``, stable from run to
    run) with a fixed ``seed``, ``TSNE_ITERATIONS`` steps. The perplexity shrinks for
    small sets (scikit-learn wants it below N).
    """
    from sklearn.manifold import TSNE  # Imported here: only t-SNE needs scikit-learn.

    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2 or len(features) < 4:
        raise ValueError(f"t-SNE needs features of shape (N >= 4, D), got {features.shape}")
    dimensions = min(TSNE_INPUT_DIMENSIONS, features.shape[1], len(features) - 1)
    reduced, _ = pca(features, dimensions)
    perplexity = min(perplexity, (len(features) - 1) / 3)
    mapper = TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto",
                  max_iter=TSNE_ITERATIONS, random_state=seed, n_jobs=jobs)
    return mapper.fit_transform(reduced).astype(np.float32)


def total_steps(count, method, batch_size=BATCH_SIZE):
    """Progress steps of a map of ``count`` images: the feature batches, the projection."""
    _check_method(method)
    return math.ceil(count / batch_size) + (TSNE_STEPS if method == "tsne" else 1)


def load_or_compute(model, model_path, images, method, *, progress=None,
                    batch_size=BATCH_SIZE):
    """{"coordinates": float32 (N, 2)} (and PCA's "explained" (2,)) from the cache or computed.

    The features are cached on their own, so the second projection of a model only
    projects. ``progress`` counts ``total_steps(N, method)`` steps; stage names say which.
    """
    _check_method(method)
    images_key = model_cache.images_key(images)
    steps = total_steps(len(images), method, batch_size)
    feature_steps = math.ceil(len(images) / batch_size)

    def report(stage, done):
        if progress is not None:
            progress(stage, done, steps)

    def features():
        return {"features": penultimate_features(model, images, batch_size=batch_size,
                                                 progress=progress, steps=steps)}

    def project():
        found = model_cache.cached_arrays(CACHE_KIND, model_path, features, "features",
                                          images_key)["features"]
        report(METHODS[method], feature_steps)  # features done (or read): stop here if asked
        if method == "pca":
            coordinates, explained = pca(found)
            return {"coordinates": coordinates, "explained": explained}
        coordinates = tsne(found)
        report(METHODS[method], steps)  # a stop asked during t-SNE takes effect now
        return {"coordinates": coordinates}

    result = model_cache.cached_arrays(CACHE_KIND, model_path, project, method, images_key)
    if not _valid(result, len(images)):  # a damaged or foreign file: compute afresh
        result = project()
        try:
            storage.save_arrays(cache_path(model_path, images, method), result)
        except OSError:
            pass
    report(METHODS[method], steps)
    return dict(result, coordinates=np.asarray(result["coordinates"], dtype=np.float32))


def _valid(result, count):
    """Whether a stored map has finite coordinates (count, 2)."""
    coordinates = result.get("coordinates")
    return (coordinates is not None and coordinates.shape == (count, 2)
            and coordinates.dtype.kind == "f" and bool(np.isfinite(coordinates).all()))


def cache_path(model_path, images, method):
    """Where the ``method`` map of the model at ``model_path`` over ``images`` is stored."""
    _check_method(method)
    return model_cache.cache_file(CACHE_KIND, model_path, method, model_cache.images_key(images))


def embedding_task(model, model_path, images, method):
    """A background ``Task`` whose result is ``load_or_compute(...)``, counted in steps."""
    _check_method(method)
    return background.Task(
        lambda progress: load_or_compute(model, model_path, images, method, progress=progress),
        total=total_steps(len(images), method), name=f"embedding-{method}")
