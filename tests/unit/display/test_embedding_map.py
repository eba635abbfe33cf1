"""The embedding map figure: a WebGL trace per class, mistakes as crosses, clicks to indices."""

import numpy as np
import pytest

from cifar_core.display import embedding_map

NAMES = tuple(f"class{number}" for number in range(10))


@pytest.fixture
def points():
    """60 images: labels, probabilities whose answer is wrong for every third, coordinates."""
    random = np.random.default_rng(0)
    labels = np.arange(60) % 10
    predictions = np.where(np.arange(60) % 3 == 0, (labels + 1) % 10, labels)
    probabilities = np.full((60, 10), 0.02, np.float32)
    probabilities[np.arange(60), predictions] = 0.82
    return random.normal(size=(60, 2)).astype(np.float32), labels, probabilities, predictions


def test_one_legend_entry_per_class_and_the_mistakes_as_crosses(points):
    coordinates, labels, probabilities, predictions = points
    figure = embedding_map.embedding_figure(coordinates, labels, probabilities, NAMES)
    assert len(figure.data) == 20 and all(trace.type == "scattergl" for trace in figure.data)
    assert [trace.name for trace in figure.data if trace.showlegend] == list(NAMES)
    shown = np.concatenate([trace.customdata[:, 0] for trace in figure.data]).astype(int)
    assert sorted(shown) == list(range(60))  # every image exactly once
    for trace in figure.data:
        indices = trace.customdata[:, 0].astype(int)
        assert (labels[indices] == NAMES.index(trace.legendgroup)).all()  # coloured by label
        mistakes = labels[indices] != predictions[indices]
        assert mistakes.all() if trace.marker.symbol == "x" else not mistakes.any()
        np.testing.assert_allclose(trace.x, coordinates[indices, 0])
        np.testing.assert_allclose(trace.customdata[:, 1], 82, rtol=1e-5)  # confidence %
    crosses = [trace for trace in figure.data if trace.marker.symbol == "x"]
    assert sum(len(trace.x) for trace in crosses) == 20
    assert figure.layout.title.text and figure.layout.legend.title.text == "True class"


def test_every_class_keeps_its_legend_entry_when_all_its_images_are_mistakes(points):
    coordinates, labels, _, _ = points
    always_class0 = np.eye(10, dtype=np.float32)[np.zeros(60, int)]  # an untrained model
    figure = embedding_map.embedding_figure(coordinates, labels, always_class0, NAMES)
    legend = [trace for trace in figure.data if trace.showlegend]
    assert [trace.name for trace in legend] == list(NAMES)
    assert all(len(trace.x) for trace in legend)  # entries sit on traces Plotly draws
    assert [trace.marker.symbol for trace in legend] == ["circle"] + ["x"] * 9


def test_colour_by_predicted_groups_by_the_answer_and_hovers_the_label(points):
    coordinates, labels, probabilities, predictions = points
    figure = embedding_map.embedding_figure(coordinates, labels, probabilities, NAMES,
                                            colour_by="predicted")
    for trace in figure.data:
        indices = trace.customdata[:, 0].astype(int)
        assert (predictions[indices] == NAMES.index(trace.legendgroup)).all()
        assert list(trace.text) == [NAMES[label] for label in labels[indices]]
        assert "true class: %{text}" in trace.hovertemplate
    assert figure.layout.legend.title.text == "Predicted class"


def test_the_selected_image_is_ringed(points):
    coordinates, labels, probabilities, _ = points
    figure = embedding_map.embedding_figure(coordinates, labels, probabilities, NAMES,
                                            selected=7)
    ring = figure.data[-1]
    assert ring.marker.symbol == "circle-open" and (ring.x[0], ring.y[0]) == tuple(coordinates[7])
    with pytest.raises(ValueError, match="selected must lie in 0..59"):
        embedding_map.embedding_figure(coordinates, labels, probabilities, NAMES, selected=60)


@pytest.mark.parametrize("change, message", [
    (dict(coordinates=np.zeros((60, 3))), "coordinates must have shape"),
    (dict(labels=np.zeros(59, int)), "expected labels"),
    (dict(colour_by="confidence"), "colour_by must be one of true, predicted"),
])
def test_bad_arguments_are_named(points, change, message):
    coordinates, labels, probabilities, _ = points
    arguments = dict(coordinates=coordinates, labels=labels, probabilities=probabilities)
    colour_by = change.pop("colour_by", "true")
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        embedding_map.embedding_figure(**arguments, class_names=NAMES, colour_by=colour_by)


@pytest.mark.parametrize("points, index", [
    ([{"customdata": {"0": 1412, "1": 100}, "curve_number": 14}], 1412),  # as Streamlit sends
    ([{"customdata": [412.0, 87.5], "x": 1.0}], 412),  # a dot: [index, confidence]
    ([{"customdata": 9}], 9),
    ([{"x": 1.0}, {"customdata": [3, 50]}], 3),  # the first point that has an index
    ([], None), (None, None), ([{"customdata": "not a number"}], None),
])
def test_clicked_index_reads_the_selection(points, index):
    assert embedding_map.clicked_index(points) == index


def test_ten_thousand_images_make_a_compact_figure():
    random = np.random.default_rng(1)
    probabilities = random.dirichlet(np.ones(10), 10_000).astype(np.float32)
    figure = embedding_map.embedding_figure(random.normal(size=(10_000, 2)),
                                            random.integers(0, 10, 10_000), probabilities, NAMES)
    assert len(figure.to_json()) < 600_000  # numbers go as binary arrays, not text
