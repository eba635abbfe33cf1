"""Histogram files of a run: the NumPy reference, saving and reading back, old runs, panels."""

import numpy as np
import pytest

from cifar_core import storage
from cifar_core.training import histograms


def histogram_of(values, kind="weights", layer="conv1", name="conv1/kernel", bins=8):
    return histograms.Histogram(kind, layer, name, *histograms.summarise(values, bins))


def test_summarise_counts_every_finite_value_between_the_extremes():
    values = np.array([[-1.0, 0.0], [0.5, 3.0]], dtype=np.float32)
    counts, edges, total, total_sum, squares, low, high = histograms.summarise(values, bins=4)
    assert counts.dtype == np.int32 and counts.tolist() == [1, 2, 0, 1]  # [-1, 0), [0, 1), ..
    assert edges.tolist() == [-1.0, 0.0, 1.0, 2.0, 3.0]
    assert (total, total_sum, squares, low, high) == (4, 2.5, 10.25, -1.0, 3.0)


def test_a_constant_array_gets_a_unit_range_around_its_value():
    counts, edges, *_, low, high = histograms.summarise(np.zeros(10), bins=4)
    assert counts.sum() == 10 and (edges[0], edges[-1]) == (-0.5, 0.5) and low == high == 0.0


def test_non_finite_values_are_counted_in_the_total_only():
    histogram = histogram_of(np.array([1.0, np.nan, np.inf, 2.0, -np.inf]))
    assert (histogram.total, histogram.finite) == (5, 2)
    assert histogram.mean == 1.5 and histogram.std == pytest.approx(0.5)
    empty = histogram_of(np.array([np.nan, np.nan]))
    assert empty.finite == 0 and np.isnan(empty.mean) and np.isnan(empty.low)


def test_densities_integrate_to_one_whatever_the_range():
    narrow = histogram_of(np.random.default_rng(0).normal(0, 0.01, 1000))
    wide = histogram_of(np.random.default_rng(0).normal(0, 10, 1000))
    for histogram in (narrow, wide):
        assert np.sum(histogram.density * np.diff(histogram.edges)) == pytest.approx(1.0)


@pytest.mark.parametrize("bins", [0, -3])
def test_bad_bin_counts_are_refused(bins):
    with pytest.raises(ValueError, match="bins"):
        histograms.summarise(np.ones(3), bins=bins)


def saved_run(tmp_path, epochs=(0, 1, 2)):
    for epoch in epochs:
        generator = np.random.default_rng(epoch)
        histograms.save_epoch(tmp_path, epoch, [
            histogram_of(generator.normal(0, 1 + epoch, (3, 3, 3, 4))),
            histogram_of(np.zeros(4) + epoch, name="conv1/bias"),
            histogram_of(generator.random((5, 8, 8, 4)), kind="activations", name="conv1"),
            histogram_of(generator.random((5, 10)), kind="activations", layer="probabilities",
                         name="probabilities"),
        ], images=5)
    return tmp_path


def test_saved_epochs_read_back_exactly(tmp_path):
    saved_run(tmp_path)
    assert histograms.epochs(tmp_path) == [0, 1, 2]
    loaded = histograms.load_epoch(tmp_path, 1)
    assert loaded.epoch == 1 and loaded.images == 5
    assert loaded.layers() == ["conv1", "probabilities"]
    kernel, bias, activations = loaded.of_layer("conv1")
    assert (kernel.name, bias.name, activations.kind) == ("conv1/kernel", "conv1/bias",
                                                         "activations")
    assert kernel.finite == 108 and activations.finite == 5 * 8 * 8 * 4
    reference = histogram_of(np.random.default_rng(1).normal(0, 2, (3, 3, 3, 4)))
    assert np.array_equal(kernel.counts, reference.counts)
    assert np.array_equal(kernel.edges, reference.edges) and kernel.sum == reference.sum
    assert bias.low == bias.high == 1.0


def test_a_run_without_histograms_has_no_epochs(tmp_path):
    (tmp_path / "filters").mkdir()  # a run from before histograms: filters only
    assert histograms.epochs(tmp_path) == []
    assert histograms.load_epoch(tmp_path, 0) is None
    assert histograms.spread_panels(tmp_path, "conv1") == []


def test_a_damaged_or_foreign_file_reads_as_missing(tmp_path):
    saved_run(tmp_path, epochs=(0, 1))
    histograms.epoch_path(tmp_path, 0).write_bytes(b"not a zip")
    storage.save_arrays(histograms.epoch_path(tmp_path, 1), {"names": np.array(["x"])},
                        key=histograms.FORMAT)  # the right key, fields missing
    assert histograms.load_epoch(tmp_path, 0) is None and histograms.load_epoch(tmp_path, 1) is None


def test_saving_refuses_mixed_bins_unknown_kinds_and_nothing(tmp_path):
    with pytest.raises(ValueError, match="bin count"):
        histograms.save_epoch(tmp_path, 0, [histogram_of(np.ones(3), bins=4),
                                            histogram_of(np.ones(3), bins=5)], images=0)
    with pytest.raises(ValueError, match="kind"):
        histograms.save_epoch(tmp_path, 0, [histogram_of(np.ones(3), kind="gradients")], images=0)
    with pytest.raises(ValueError, match="no histograms"):
        histograms.save_epoch(tmp_path, 0, [], images=0)


def test_comparison_panels_pair_each_histogram_with_the_first_epoch(tmp_path):
    saved_run(tmp_path)
    first, last = histograms.load_epoch(tmp_path, 0), histograms.load_epoch(tmp_path, 2)
    panels = histograms.comparison_panels(last, first, "conv1")
    assert [panel.title for panel in panels] == ["conv1/kernel", "conv1/bias",
                                                 "conv1 output"]
    kernel_before = first.of_layer("conv1")[0]
    assert np.array_equal(panels[0].baseline_edges, kernel_before.edges)
    assert np.allclose(panels[0].baseline_heights, kernel_before.density)
    alone = histograms.comparison_panels(last, None, "probabilities")
    assert len(alone) == 1 and alone[0].baseline_edges is None
    with pytest.raises(ValueError, match="no histograms of layer 'dense9'"):
        histograms.comparison_panels(last, first, "dense9")


def test_spread_panels_follow_each_histogram_over_the_epochs(tmp_path):
    saved_run(tmp_path)
    histograms.epoch_path(tmp_path, 1).write_bytes(b"damaged")  # skipped, not an error
    panels = histograms.spread_panels(tmp_path, "conv1")
    assert [panel.title for panel in panels] == ["conv1/kernel", "conv1/bias",
                                                 "conv1 output"]
    bias = panels[1]
    assert bias.epochs == (0, 2) and bias.means == (0.0, 2.0) and bias.lows == (0.0, 2.0)
    assert panels[0].stds[1] > panels[0].stds[0]  # the saved kernels widen with the epoch


def test_a_frozen_layer_is_told_apart_and_the_view_starts_after_it():
    frozen = histogram_of(np.arange(12.0), layer="conv1", name="conv1/kernel")
    output = histogram_of(np.arange(5.0), kind="activations", layer="conv1", name="conv1")

    def epoch(number, conv2_scale):
        trained = histogram_of(np.arange(12.0) * conv2_scale, layer="conv2", name="conv2/kernel")
        return histograms.EpochHistograms(number, 5, (frozen, output, trained))

    start, end = epoch(0, 1.0), epoch(2, 3.0)
    assert histograms.weights_unchanged(end, start, "conv1")
    assert not histograms.weights_unchanged(end, start, "conv2")
    assert not histograms.weights_unchanged(end, None, "conv1")  # nothing to compare with
    assert histograms.first_changed_layer(end, start) == "conv2"
    assert histograms.first_changed_layer(end, None) == "conv1"
    assert histograms.first_changed_layer(start, start) == "conv1"  # nothing moved: the first
