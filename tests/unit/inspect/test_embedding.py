"""The embedding map's core: the penultimate layer found from the graph, its features,
PCA checked against scikit-learn, t-SNE on a small set, the disk cache and the task."""

import numpy as np
import pytest

from cifar_core import storage
from cifar_core.backend import keras
from cifar_core.inspect import embedding, model_cache
from cifar_core.models import saving


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(16).integers(0, 256, size=(23, 32, 32, 3), dtype=np.uint8)


def small_model(*hidden, inputs=(8, 8, 3), flatten=True, output_name="out"):
    """Input -> (Flatten) -> hidden layers -> Dense(10) softmax; names that mislead on purpose."""
    x = images_in = keras.Input(inputs)
    if flatten:
        x = keras.layers.Flatten(name="conv7")(x)
    for layer in hidden:
        x = layer(x)
    x = keras.layers.Dense(10, name="conv9")(x)
    x = keras.layers.Rescaling(1 / 9, name="scale")(x)
    outputs = keras.layers.Activation("softmax", name=output_name)(x)
    return keras.Model(images_in, outputs, name="small")


def test_the_tiny_models_features_are_its_pooled_maps(tiny_model, images):
    assert embedding.penultimate_layer(tiny_model).name == "probabilities"
    features = embedding.penultimate_features(tiny_model, images, batch_size=10)
    pooled = keras.Model(tiny_model.input, tiny_model.get_layer("pool3").output)(images)
    assert features.shape == (23, 32) and features.dtype == np.float32
    np.testing.assert_allclose(features, np.asarray(pooled), rtol=1e-5, atol=1e-6)


def test_the_layer_is_found_through_the_graph_not_by_name():
    # The last Dense hides behind Rescaling and Activation (like the fast net's output);
    # the layer names say "conv", so only the layer types can tell.
    model = small_model(keras.layers.Dense(16, activation="relu", name="pool1"),
                        keras.layers.Dropout(0.5, name="dense1"))
    assert embedding.penultimate_layer(model).name == "conv9"
    features = embedding.penultimate_features(model, np.zeros((3, 8, 8, 3), np.uint8))
    assert features.shape == (3, 16)


def test_a_dense_only_model_maps_its_hidden_layer_or_its_flattened_input():
    dense_only = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                                   keras.layers.Dense(12, activation="relu"),
                                   keras.layers.Dense(10, activation="softmax")])
    assert embedding.penultimate_features(dense_only, np.ones((4, 8, 8, 3))).shape == (4, 12)
    logistic = small_model()  # images -> Flatten -> Dense: the flattened pixels
    assert embedding.penultimate_features(logistic, np.ones((4, 8, 8, 3))).shape == (4, 192)


def test_models_without_features_to_map_raise_a_clear_value_error():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(10, 3, name="dense1")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    no_dense = keras.Model(inputs, keras.layers.Activation("softmax")(x), name="convs")
    with pytest.raises(ValueError, match="model 'convs' has no Dense layer"):
        embedding.penultimate_layer(no_dense)
    vectors = keras.Input((5,))
    direct = keras.Model(vectors, keras.layers.Dense(10)(vectors), name="direct")
    with pytest.raises(ValueError, match="reads the images directly"):
        embedding.penultimate_layer(direct)
    first, second = keras.Input((5,)), keras.Input((5,))
    joined = keras.layers.Add()([keras.layers.Dense(4)(first), keras.layers.Dense(4)(second)])
    branches = keras.Model([first, second], keras.layers.Activation("softmax")(joined))
    with pytest.raises(ValueError, match="joins 2 branches"):
        embedding.penultimate_layer(branches)


def test_a_saved_and_reloaded_model_has_the_same_features(tiny_model, tiny_model_path, images):
    reloaded = saving.load_model(tiny_model_path)
    np.testing.assert_allclose(embedding.penultimate_features(reloaded, images),
                               embedding.penultimate_features(tiny_model, images), rtol=1e-5)


def test_features_report_every_batch(tiny_model, images):
    calls = []
    embedding.penultimate_features(tiny_model, images, batch_size=10,
                                   progress=lambda *call: calls.append(call))
    assert calls == [("features", 1, 3), ("features", 2, 3), ("features", 3, 3)]
    with pytest.raises(ValueError, match="batch_size"):
        embedding.penultimate_features(tiny_model, images, batch_size=0)


def test_pca_matches_scikit_learn_and_is_deterministic():
    from sklearn.decomposition import PCA

    features = np.random.default_rng(1).normal(size=(300, 12)) * np.arange(1, 13)
    coordinates, explained = embedding.pca(features)
    again, _ = embedding.pca(features)
    np.testing.assert_array_equal(coordinates, again)
    assert coordinates.shape == (300, 2) and coordinates.dtype == np.float32
    reference = PCA(2).fit(features)
    # Each axis may differ in sign only; ours is fixed: its largest loading is positive.
    np.testing.assert_allclose(np.abs(coordinates), np.abs(reference.transform(features)),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(explained, reference.explained_variance_ratio_, rtol=1e-6)
    with pytest.raises(ValueError, match="dimensions must be between 1 and 12"):
        embedding.pca(features, 13)
    with pytest.raises(ValueError, match="features of shape"):
        embedding.pca(features[0])


def two_blobs(count=200, dimensions=20):
    """``count`` points in two well-separated Gaussian blobs: (points, blob of each)."""
    random = np.random.default_rng(2)
    blob = np.arange(count) % 2
    return random.normal(size=(count, dimensions)) + 8.0 * blob[:, None], blob


def test_tsne_on_200_points_keeps_the_blobs_apart_and_repeats_itself():
    points, blob = two_blobs()
    coordinates = embedding.tsne(points)
    assert coordinates.shape == (200, 2) and coordinates.dtype == np.float32
    np.testing.assert_array_equal(coordinates, embedding.tsne(points))  # fixed seed
    distances = np.linalg.norm(coordinates[:, None] - coordinates[None], axis=-1)  # (N, N)
    np.fill_diagonal(distances, np.inf)
    assert (blob[distances.argmin(axis=1)] == blob).all()  # every nearest neighbour: its blob
    with pytest.raises(ValueError, match="t-SNE needs"):
        embedding.tsne(points[:3])


def test_the_map_is_computed_once_and_the_features_are_shared(tiny_model, tiny_model_path,
                                                               monkeypatch):
    images = np.random.default_rng(3).integers(0, 256, size=(30, 32, 32, 3), dtype=np.uint8)
    feature_passes, projections = [], []
    real_features, real_tsne = embedding.penultimate_features, embedding.tsne
    monkeypatch.setattr(embedding, "penultimate_features", lambda *arguments, **options: (
        feature_passes.append(1), real_features(*arguments, **options))[1])
    monkeypatch.setattr(embedding, "tsne", lambda features: (
        projections.append(1), real_tsne(features))[1])

    first = embedding.load_or_compute(tiny_model, tiny_model_path, images, "pca")
    again = embedding.load_or_compute(tiny_model, tiny_model_path, images, "pca")
    assert len(feature_passes) == 1
    np.testing.assert_array_equal(first["coordinates"], again["coordinates"])
    assert first["coordinates"].shape == (30, 2) and first["explained"].shape == (2,)
    assert embedding.cache_path(tiny_model_path, images, "pca").exists()

    steps = []
    mapped = embedding.load_or_compute(tiny_model, tiny_model_path, images, "tsne",
                                       progress=lambda *call: steps.append(call))
    assert len(feature_passes) == 1 and len(projections) == 1  # the cached features reused
    assert mapped["coordinates"].shape == (30, 2)
    total = embedding.total_steps(30, "tsne")
    assert steps == [("t-SNE", 1, total), ("t-SNE", total, total), ("t-SNE", total, total)]
    embedding.load_or_compute(tiny_model, tiny_model_path, images, "tsne")
    assert len(projections) == 1


def test_a_damaged_cache_file_is_recomputed(tiny_model, tiny_model_path):
    images = np.random.default_rng(4).integers(0, 256, size=(12, 32, 32, 3), dtype=np.uint8)
    path = embedding.cache_path(tiny_model_path, images, "pca")
    storage.save_arrays(path, {"coordinates": np.full((5, 2), np.nan, np.float32)})
    result = embedding.load_or_compute(tiny_model, tiny_model_path, images, "pca")
    assert result["coordinates"].shape == (12, 2)
    assert model_cache.cached_arrays("embedding", tiny_model_path, dict, "pca",
                                     model_cache.images_key(images))["coordinates"].shape \
        == (12, 2)


def test_the_task_counts_steps_and_a_stop_during_tsne_stores_nothing(tiny_model,
                                                                     tiny_model_path,
                                                                     monkeypatch):
    images = np.random.default_rng(5).integers(0, 256, size=(20, 32, 32, 3), dtype=np.uint8)
    task = embedding.embedding_task(tiny_model, tiny_model_path, images, "tsne")
    assert task.snapshot().total == embedding.total_steps(20, "tsne") == 1 + embedding.TSNE_STEPS

    def tsne_then_stop(features):
        task.stop()  # the user presses Stop while t-SNE runs (it cannot be interrupted)
        return np.zeros((len(features), 2), np.float32)

    monkeypatch.setattr(embedding, "tsne", tsne_then_stop)
    task.start()
    assert task.join(60)
    snapshot = task.snapshot()
    assert snapshot.state == "stopped" and snapshot.completed == 1  # the features were done
    assert not embedding.cache_path(tiny_model_path, images, "tsne").exists()

    monkeypatch.setattr(embedding, "tsne", lambda features: np.ones((len(features), 2)))
    task.start()  # Start again
    assert task.join(60) and task.snapshot().state == "finished"
    assert (task.result["coordinates"] == 1).all()


@pytest.mark.parametrize("method", ["umap", "PCA", ""])
def test_unknown_methods_are_refused(tiny_model, tiny_model_path, images, method):
    with pytest.raises(ValueError, match="method must be one of pca, tsne"):
        embedding.load_or_compute(tiny_model, tiny_model_path, images, method)
    with pytest.raises(ValueError, match="method must be one of"):
        embedding.embedding_task(tiny_model, tiny_model_path, images, method)
