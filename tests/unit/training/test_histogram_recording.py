"""The run recorder's histograms: files per epoch, right counts, TensorBoard events, odd models."""

import threading
import types

import numpy as np
import pytest

from cifar_core.backend import keras, tf
from cifar_core.models import saving
from cifar_core.training import histograms, recording, runs
from tests.unit.training.doubles import TINY


@pytest.fixture(scope="module")
def tiny_run(tiny_data, tmp_path_factory):
    """The tiny net trained 2 epochs on the tiny data through ``train_run``."""
    run, result = recording.train_run(TINY, tiny_data, evaluate_test=False,
                                      runs_directory=tmp_path_factory.mktemp("runs"))
    return runs.read_run(run.path), tiny_data


def output_size(model, name):
    return int(np.prod(model.get_layer(name).output.shape[1:]))


def test_every_epoch_and_the_start_get_a_histogram_file(tiny_run):
    record, _ = tiny_run
    assert histograms.epochs(record.path) == [0, 1, 2] == record.filter_epochs()


def test_counts_add_up_to_every_weight_and_every_activation(tiny_run):
    record, tiny_data = tiny_run
    model = saving.load_model(record.model_path)
    images = min(histograms.IMAGE_COUNT, len(tiny_data.x_test))
    for epoch in (0, 2):
        loaded = histograms.load_epoch(record.path, epoch)
        assert loaded.images == images == 40
        assert loaded.layers() == ["conv1", "pool1", "conv2", "pool2", "pool3", "probabilities"]
        by_name = {histogram.name: histogram for histogram in loaded.histograms}
        for weight in model.weights:
            histogram = by_name[weight.path]
            assert histogram.kind == "weights" and histogram.counts.dtype == np.int32
            assert len(histogram.counts) == histograms.BINS
            assert histogram.finite == histogram.total == int(np.prod(weight.shape))
        for layer in ("conv1", "pool1", "conv2", "pool2", "pool3", "probabilities"):
            histogram = by_name[layer]
            assert histogram.kind == "activations"
            assert histogram.finite == images * output_size(model, layer)


def test_the_last_histograms_match_the_saved_model_and_its_outputs(tiny_run):
    record, tiny_data = tiny_run
    model = saving.load_model(record.model_path)
    loaded = histograms.load_epoch(record.path, 2)
    by_name = {histogram.name: histogram for histogram in loaded.histograms}
    kernel = by_name["conv1/kernel"]
    reference = histograms.summarise(np.asarray(model.get_layer("conv1").kernel),
                                     histograms.BINS)
    assert np.allclose(kernel.edges, reference[1], atol=1e-6)
    assert np.abs(kernel.counts - reference[0]).sum() <= 2  # float32 edges: a value may hop
    probabilities = model.predict(tiny_data.x_test.astype(np.float32), verbose=0)
    output = by_name["probabilities"]
    assert output.mean == pytest.approx(0.1, abs=1e-5)  # softmax rows sum to 1 over 10
    assert (output.low, output.high) == pytest.approx((probabilities.min(), probabilities.max()),
                                                      abs=1e-5)


def test_training_moves_the_weights_histograms(tiny_run):
    record, _ = tiny_run
    start, end = (histograms.load_epoch(record.path, epoch) for epoch in (0, 2))
    bias_start = next(h for h in start.histograms if h.name == "conv1/bias")
    bias_end = next(h for h in end.histograms if h.name == "conv1/bias")
    assert bias_start.low == bias_start.high == 0.0  # biases start at zero
    assert bias_end.high > bias_end.low


def test_the_tensorboard_events_hold_the_histograms(tiny_run):
    record, _ = tiny_run
    (events,) = (record.path / "tensorboard").glob("events.out.tfevents*")
    found = {}
    for event in tf.compat.v1.train.summary_iterator(str(events)):
        for value in event.summary.value:
            if value.HasField("histo"):
                found[(event.step, value.tag)] = value.histo
    saved = histograms.load_epoch(record.path, 1)
    kernel = next(h for h in saved.histograms if h.name == "conv1/kernel")
    histo = found[(1, "weights/conv1/kernel")]
    assert list(histo.bucket) == kernel.counts.tolist() and histo.num == kernel.finite
    assert list(histo.bucket_limit) == pytest.approx(kernel.edges[1:].tolist())
    assert histo.min == pytest.approx(kernel.edges[0])
    assert {step for step, _ in found} == {0, 1, 2}
    assert (2, "activations/conv2") in found
    scalar_tags = {value.tag for event in tf.compat.v1.train.summary_iterator(str(events))
                   for value in event.summary.value if not value.HasField("histo")}
    assert "epoch_loss" in scalar_tags  # the scalars are still there


def test_a_stopped_run_keeps_the_histograms_of_its_last_epoch(tiny_data, tmp_path):
    stop = threading.Event()

    class StopAfterThree(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                stop.set()

    run, _ = recording.train_run(TINY, tiny_data, runs_directory=tmp_path, stop_event=stop,
                                 callbacks=[StopAfterThree()], evaluate_test=False)
    record = runs.read_run(run.path)
    assert record.state == "stopped"
    assert histograms.epochs(run.path) == [0, 1] == record.filter_epochs()


def dense_only_model():
    """A model without any convolution (an imported network could be one)."""
    inputs = keras.Input((32, 32, 3))
    hidden = keras.layers.Flatten()(inputs)
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(hidden)
    hidden = keras.layers.BatchNormalization(name="norm")(hidden)
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def test_a_model_without_convolutions_is_recorded_too(tiny_data, tmp_path):
    model = dense_only_model()
    recorder = recording.HistogramRecorder(types.SimpleNamespace(path=tmp_path),
                                           tiny_data.x_test[:7], bins=10)
    model.fit(tiny_data.x_train[:40].astype(np.float32), tiny_data.y_train[:40], epochs=1,
              batch_size=20, verbose=0, callbacks=[recorder])
    assert histograms.epochs(tmp_path) == [0, 1]
    loaded = histograms.load_epoch(tmp_path, 1)
    assert loaded.layers() == ["hidden", "norm", "probabilities"]  # flatten: a mere copy
    names = [histogram.name for histogram in loaded.of_layer("norm")]
    assert names == ["norm/gamma", "norm/beta", "norm/moving_mean", "norm/moving_variance",
                     "norm"]
    assert loaded.of_layer("hidden")[-1].finite == 7 * 8
    assert all(len(histogram.counts) == 10 for histogram in loaded.histograms)


def test_diverged_weights_are_recorded_not_fatal(tmp_path, tiny_data):
    model = dense_only_model()
    kernel = model.get_layer("hidden").kernel
    kernel.assign(np.full(kernel.shape, np.nan, dtype=np.float32))
    recorder = recording.HistogramRecorder(types.SimpleNamespace(path=tmp_path),
                                           tiny_data.x_test[:4])
    recorder.set_model(model)
    recorded = {histogram.name: histogram for histogram in recorder.record(3)}
    broken = recorded["hidden/kernel"]
    assert broken.finite == 0 and broken.total == int(np.prod(kernel.shape))
    assert np.isnan(broken.low) and recorded["hidden/bias"].finite == 8
    assert histograms.epochs(tmp_path) == [3]


def test_without_images_only_the_weights_are_recorded(tmp_path, tiny_model):
    recorder = recording.HistogramRecorder(types.SimpleNamespace(path=tmp_path),
                                           np.zeros((0, 32, 32, 3), np.uint8))
    recorder.set_model(tiny_model)
    recorded = recorder.record(0)
    assert {histogram.kind for histogram in recorded} == {"weights"}
    assert histograms.load_epoch(tmp_path, 0).images == 0


def test_bad_bin_count_is_refused(tmp_path):
    with pytest.raises(ValueError, match="bins"):
        recording.HistogramRecorder(types.SimpleNamespace(path=tmp_path), np.zeros((1, 32, 32, 3)),
                                    bins=0)


@pytest.mark.parametrize("values", [
    np.random.default_rng(0).normal(0, 3, 5000),
    np.zeros(7),  # a constant: +- 0.5 around it
    np.array([1.0, np.nan, 2.0, np.inf, -np.inf, 4.0]),  # a diverging run
    np.array([np.nan, np.nan]),
    np.zeros(0),
], ids=["normal", "constant", "non-finite", "all-nan", "empty"])
def test_the_in_graph_summary_matches_the_numpy_reference(values):
    summary = recording._summary_function(8)(tf.constant(values, tf.float32))
    counts, start, stop, total, total_sum, squares, low, high = (np.asarray(part)
                                                                for part in summary)
    reference = histograms.summarise(values.astype(np.float32), 8)
    assert np.abs(counts - reference[0]).sum() <= 1  # a value on an edge may hop, no more
    assert counts.sum() == reference[0].sum()
    assert (start, stop) == pytest.approx((reference[1][0], reference[1][-1]), abs=1e-5)
    assert total == reference[2]
    assert (total_sum, squares) == pytest.approx(reference[3:5], rel=1e-4)
    assert np.allclose([low, high], reference[5:], equal_nan=True)


class Subclassed(keras.Model):
    """A subclassed model: its layers have no symbolic outputs to tap."""

    def __init__(self):
        super().__init__()
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(10, name="dense")

    def call(self, images):
        return self.dense(self.flatten(images))


def test_a_subclassed_model_gets_its_weights_recorded(tmp_path):
    model = Subclassed()
    model(np.zeros((1, 32, 32, 3), np.float32))
    recorder = recording.HistogramRecorder(types.SimpleNamespace(path=tmp_path),
                                           np.zeros((2, 32, 32, 3), np.uint8))
    recorder.set_model(model)
    recorded = recorder.record(0)
    assert [histogram.name for histogram in recorded] == ["subclassed/dense/kernel",
                                                          "subclassed/dense/bias"]
    assert {histogram.kind for histogram in recorded} == {"weights"}  # no outputs to tap
