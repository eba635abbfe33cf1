"""A sweep's figures: accuracy against the swept values (log when it spans a decade), a line
per second field value, a heat map with the percentages written in its cells."""

import math

import pandas as pd
import pytest

from cifar_core.display import sweep_plots

METRIC = sweep_plots.DEFAULT_METRIC


def frame(rows, columns):
    """A sweep frame as ``sweep_results`` makes it: raw values in object columns."""
    table = pd.DataFrame(rows, columns=columns)
    for column in columns[:-1]:
        table[column] = pd.Series([row[columns.index(column)] for row in rows], dtype=object)
    return table


def test_learning_rates_over_two_decades_go_on_a_log_axis_in_order():
    rates = frame([(0.1, 0.5), (0.001, 0.2), (0.01, 0.4), (0.03, None)],
                  ["learning rate", METRIC])
    figure = sweep_plots.accuracy_figure(rates, "learning rate")
    [line] = figure.data
    assert list(line.x) == [0.001, 0.01, 0.1]  # sorted; the unfinished run left out
    assert list(line.y) == [0.2, 0.4, 0.5]
    assert figure.layout.xaxis.type == "log"
    assert list(figure.layout.xaxis.ticktext) == ["0.001", "0.01", "0.1"]  # only swept values
    assert list(figure.layout.xaxis.tickvals) == [0.001, 0.01, 0.1]
    assert figure.layout.xaxis.title.text == "learning rate (log scale)"
    assert figure.layout.title.text == "Final validation accuracy against learning rate"
    assert figure.layout.yaxis.tickformat == ".0%"


@pytest.mark.parametrize("values, axis", [((0.01, 0.05), "linear"), ((0.0, 0.1), "linear"),
                                          ((32, 64, 512), "log")])
def test_a_log_axis_only_for_positive_values_spanning_a_decade(values, axis):
    table = frame([(value, 0.5) for value in values], ["x", METRIC])
    assert sweep_plots.accuracy_figure(table, "x").layout.xaxis.type == axis


def test_a_line_per_value_of_the_second_field():
    table = frame([(lr, batch, accuracy) for lr, batch, accuracy in
                   [(0.01, 64, 0.3), (0.1, 64, 0.5), (0.01, 32, 0.35), (0.1, 32, 0.45)]],
                  ["learning rate", "batch size", METRIC])
    figure = sweep_plots.accuracy_figure(table, "learning rate", lines="batch size")
    assert [line.name for line in figure.data] == ["batch size 32", "batch size 64"]
    assert [list(line.y) for line in figure.data] == [[0.35, 0.45], [0.3, 0.5]]
    assert figure.layout.xaxis.type == "log" and figure.layout.legend.title.text == "batch size"
    assert len({line.line.color for line in figure.data}) == 2
    assert "a line per batch size" in figure.layout.title.text


def test_all_images_and_on_off_are_categories_in_their_natural_order():
    sizes = frame([(None, 0.6), (5000, 0.5), (1000, 0.3)], ["training images", METRIC])
    figure = sweep_plots.accuracy_figure(sizes, "training images")
    assert figure.layout.xaxis.type == "category"
    assert list(figure.layout.xaxis.categoryarray) == ["1000", "5000", "all"]
    assert list(figure.data[0].x) == ["1000", "5000", "all"]
    assert list(figure.data[0].y) == [0.3, 0.5, 0.6]
    floats = frame([(float("nan"), 0.6), (1000.0, 0.3)], ["training images", METRIC])
    assert list(sweep_plots.accuracy_figure(floats, "training images").data[0].x) == \
        ["1000", "all"]  # pandas' NaN for None is "all" too
    augment = frame([(True, 0.6), (False, 0.4)], ["augmentation", METRIC])
    assert list(sweep_plots.accuracy_figure(augment, "augmentation").data[0].x) == ["off", "on"]


def test_the_heat_map_writes_each_accuracy_and_leaves_unfinished_cells_empty():
    table = frame([(0.01, 64, 0.3), (0.1, 64, 0.5), (0.01, 32, None), (0.1, 32, 0.45)],
                  ["learning rate", "batch size", METRIC])
    figure = sweep_plots.accuracy_heatmap(table, "learning rate", "batch size")
    [heat] = figure.data
    assert list(heat.x) == ["0.01", "0.1"] and list(heat.y) == ["32", "64"]
    assert [list(row) for row in heat.z] == [[None, 0.45], [0.3, 0.5]]
    assert [list(row) for row in heat.text] == [["", "45.0%"], ["30.0%", "50.0%"]]
    assert heat.texttemplate == "%{text}"
    assert figure.layout.title.text == \
        "Final validation accuracy for each learning rate and batch size"


def test_a_sweep_with_nothing_finished_draws_an_empty_chart():
    table = frame([(0.01, None), (0.1, None)], ["learning rate", METRIC])
    figure = sweep_plots.accuracy_figure(table, "learning rate")
    assert [list(line.y) for line in figure.data] == [[]]


@pytest.mark.parametrize("call", [
    lambda table: sweep_plots.accuracy_figure(table, "momentum"),
    lambda table: sweep_plots.accuracy_figure(table, "learning rate", lines="batch size"),
    lambda table: sweep_plots.accuracy_figure(table, "learning rate", metric="test accuracy"),
    lambda table: sweep_plots.accuracy_heatmap(table, "learning rate", "epochs"),
])
def test_a_missing_column_is_named(call):
    table = frame([(0.01, 0.5)], ["learning rate", METRIC])
    with pytest.raises(ValueError, match="has no column"):
        call(table)


@pytest.mark.parametrize("value, text", [(0.001, "0.001"), (64, "64"), (None, "all"),
                                         (math.nan, "all"), (True, "on"), (False, "off")])
def test_values_are_labelled_as_the_form_types_them(value, text):
    assert sweep_plots.value_text(value) == text
