import numpy as np
import pandas as pd
import pytest

from cifar_core.display import plots


def test_figures_hold_the_data():
    image = np.zeros((32, 32, 3), np.uint8)
    histogram = plots.histogram_figure(image)
    assert [trace.name for trace in histogram.data] == ["red", "green", "blue"]
    assert histogram.data[0].y[0] == 32 * 32
    counts = pd.DataFrame({"train": [5, 5], "test": [1, 1]}, index=["cat", "dog"])
    bars = plots.class_counts_figure(counts)
    assert list(bars.data[0].y) == [5, 5] and bars.data[1].name == "test"
    block = plots.pixel_values_figure(np.array([[0.5, 1.0]]), top=3, left=4, decimals=2)
    assert block.data[0].text.tolist() == [["0.50", "1.00"]] and list(block.data[0].x) == [4, 5]


def test_top_k_figure_puts_the_likeliest_on_top():
    figure = plots.top_k_figure([("cat", 0.7), ("dog", 0.2), ("frog", 0.1)], title="tiny",
                                highlight="dog")
    bar = figure.data[0]
    assert bar.marker.color[1] != bar.marker.color[0] == bar.marker.color[2]
    assert list(bar.y) == ["cat", "dog", "frog"] and list(bar.text) == ["70.0%", "20.0%", "10.0%"]
    assert figure.layout.yaxis.autorange == "reversed"
    with pytest.raises(ValueError):
        plots.top_k_figure([])


@pytest.mark.parametrize("make", [
    lambda: plots.class_counts_figure(pd.DataFrame({"train": [5, 5], "test": [1, 1]},
                                                   index=["cat", "dog"])),
    lambda: plots.histogram_figure(np.zeros((4, 4, 3), np.uint8)),
    lambda: plots.training_curves_figure(pd.DataFrame(
        {"run": ["a"], "split": ["train"], "epoch": [1.0], "loss": [2.0], "accuracy": [0.1]})),
    lambda: plots.confusion_matrix_figure(np.eye(10, dtype=int), [str(n) for n in range(10)]),
    lambda: plots.class_accuracy_figure(pd.DataFrame({"seed": [0.5, 0.7]}, index=["cat", "dog"])),
], ids=["class counts", "histogram", "training curves", "confusion matrix", "class accuracy"])
def test_every_chart_has_a_title_for_people_who_cannot_see_it(make):
    assert make().layout.title.text


def test_confusion_colours_stay_apart_for_colour_blind_viewers_and_counts_are_written():
    confusion = np.array([[9, 1], [2, 8]])
    figure = plots.confusion_matrix_figure(confusion, ["cat", "dog"], selected=(1, 0))
    hits, mistakes = figure.data[0], figure.data[1]
    # Blue against orange, not green against red; every cell shows its count as text.
    assert hits.colorscale[-1][1] != mistakes.colorscale[-1][1]
    assert "rgb(8,48,107)" in str(hits.colorscale) and "rgb(127,39,4)" in str(mistakes.colorscale)
    assert hits.text[0][0] == "9" and mistakes.text[1][0] == "2"
    assert figure.layout.shapes[0].line.color == "black"
