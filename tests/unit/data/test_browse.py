import numpy as np
import pytest

from cifar_core.data import browse

LABELS = np.array([0, 1, 2, 3, 1, 1, 9, 0])


def test_select_indices_filters_by_class_in_dataset_order():
    assert browse.select_indices(LABELS, [1]).tolist() == [1, 4, 5]
    assert browse.select_indices(LABELS, [0, 9]).tolist() == [0, 6, 7]
    assert browse.select_indices(LABELS, []).tolist() == list(range(8))


def test_shuffle_is_reproducible_and_keeps_the_same_images():
    first = browse.select_indices(LABELS, [1, 0], shuffle_seed=7)
    again = browse.select_indices(LABELS, [1, 0], shuffle_seed=7)
    assert first.tolist() == again.tolist()
    assert sorted(first.tolist()) == [0, 1, 4, 5, 7]


@pytest.mark.parametrize("classes", [[10], [-1]])
def test_select_indices_rejects_unknown_classes(classes):
    with pytest.raises(ValueError, match="between 0 and 9"):
        browse.select_indices(LABELS, classes)


@pytest.mark.parametrize("total, per_page, pages",
                         [(0, 10, 1), (10, 10, 1), (11, 10, 2), (100, 9, 12)])
def test_page_count(total, per_page, pages):
    assert browse.page_count(total, per_page) == pages


def test_page_of_slices_and_clamps():
    indices = np.arange(25)
    assert browse.page_of(indices, 1, 10).tolist() == list(range(10))
    assert browse.page_of(indices, 3, 10).tolist() == list(range(20, 25))
    assert browse.page_of(indices, 99, 10).tolist() == list(range(20, 25))
    assert browse.page_of(indices, 0, 10).tolist() == list(range(10))
    with pytest.raises(ValueError, match="per_page"):
        browse.page_of(indices, 1, 0)


def test_class_counts_per_split():
    counts = browse.class_counts([0, 0, 1], [9], ["a", "b"] + [str(n) for n in range(2, 10)])
    assert counts.loc["a", "train"] == 2 and counts.loc["b", "train"] == 1
    assert counts.loc["9", "test"] == 1 and counts["test"].sum() == 1


def test_normalise_maps_bytes_to_unit_interval():
    image = np.array([[[0, 51, 255]]], dtype=np.uint8)
    np.testing.assert_allclose(browse.normalise(image), [[[0.0, 0.2, 1.0]]], rtol=1e-6)
    with pytest.raises(ValueError, match="uint8"):
        browse.normalise(image.astype(np.float32))
