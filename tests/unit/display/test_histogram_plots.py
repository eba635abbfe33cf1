"""Histogram figures: bars at the right places over a grey baseline, spreads over epochs."""

import numpy as np
import pytest

from cifar_core.display import histogram_plots


def panel(title="conv1/kernel", baseline=True):
    edges, heights = np.array([0.0, 1.0, 3.0]), np.array([0.25, 0.375])
    if not baseline:
        return histogram_plots.HistogramPanel(title, edges, heights)
    return histogram_plots.HistogramPanel(title, edges, heights, np.array([-1.0, 0.0, 1.0]),
                                          np.array([0.5, 0.5]))


def test_each_histogram_is_drawn_over_its_baseline_in_grey():
    figure = histogram_plots.histograms_figure(
        [panel(), panel("conv1 output", baseline=False)], current_name="after epoch 2",
        baseline_name="before training", title="conv1: values after epoch 2")
    assert figure.layout.title.text == "conv1: values after epoch 2"
    names = [trace.name for trace in figure.data]
    assert names == ["before training", "after epoch 2", "after epoch 2"]
    baseline, current = figure.data[:2]
    assert baseline.marker.color == histogram_plots.BASELINE_COLOR
    assert list(current.x) == [0.5, 2.0] and list(current.width) == [1.0, 2.0]  # bin centres
    assert list(current.y) == [0.25, 0.375]
    assert [trace.showlegend for trace in figure.data] == [True, True, False]
    assert [annotation.text for annotation in figure.layout.annotations] == [
        "conv1/kernel", "conv1 output"]
    assert figure.layout.barmode == "overlay" and figure.layout.yaxis.type == "linear"


def test_log_heights_and_no_baseline():
    figure = histogram_plots.histograms_figure([panel()], current_name="before training",
                                               title="t", log_y=True)
    assert [trace.name for trace in figure.data] == ["before training"]
    assert figure.layout.yaxis.type == "log"


def test_panels_wrap_into_rows_of_three():
    figure = histogram_plots.histograms_figure([panel()] * 5, current_name="now", title="t")
    assert len(figure.data) == 5
    assert figure.data[4].xaxis == "x5" and figure.layout.height > 400


def test_bad_panels_are_refused():
    with pytest.raises(ValueError, match="no histograms"):
        histogram_plots.histograms_figure([], current_name="now", title="t")
    broken = histogram_plots.HistogramPanel("x", np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="one more edge than bars"):
        histogram_plots.histograms_figure([broken], current_name="now", title="t")
    with pytest.raises(ValueError, match="no statistics"):
        histogram_plots.spread_figure([], title="t")


def test_spread_shows_range_band_spread_band_and_mean():
    spread = histogram_plots.SpreadPanel("conv1 output", (0, 1, 2), (0.0, 0.5, 1.0),
                                         (0.1, 0.2, 0.3), (-1.0, -1.0, -1.0), (1.0, 2.0, 3.0))
    figure = histogram_plots.spread_figure([spread], title="conv1 over epochs", epoch=1)
    band, spread_band, mean = figure.data
    assert (band.name, spread_band.name, mean.name) == ("minimum to maximum", "mean ± 1 std",
                                                        "mean")
    assert list(band.x) == [0, 1, 2, 2, 1, 0] and list(band.y) == [1.0, 2.0, 3.0, -1.0, -1.0, -1.0]
    assert list(spread_band.y[:3]) == pytest.approx([0.1, 0.7, 1.3])
    assert list(mean.y) == [0.0, 0.5, 1.0]
    assert [shape.x0 for shape in figure.layout.shapes] == [1]  # the chosen epoch
