"""Browsing the dataset: which images a grid page shows, class counts, normalisation.

Pure NumPy/pandas so the Dataset page stays a thin layer of widgets over these.
"""

import numpy as np

#: Grid sizes offered on the Dataset page: columns x rows.
GRID_SIZES = (4, 6, 8, 10)


def select_indices(labels, classes=None, shuffle_seed=None):
    """Indices of the images whose label is in ``classes`` (all when None/empty).

    In dataset order, or shuffled reproducibly when ``shuffle_seed`` is given, so a
    shared link with the same seed shows the same sample.
    """
    labels = np.asarray(labels)
    if classes:
        classes = [int(label) for label in classes]
        if any(label < 0 or label > 9 for label in classes):
            raise ValueError(f"classes must be between 0 and 9, got {classes}")
        indices = np.flatnonzero(np.isin(labels, classes))
    else:
        indices = np.arange(len(labels))
    if shuffle_seed is not None:
        indices = np.random.default_rng(int(shuffle_seed)).permutation(indices)
    return indices


def page_count(total, per_page):
    """How many pages ``total`` items fill (at least one, so page 1 always exists)."""
    if per_page < 1:
        raise ValueError(f"per_page must be at least 1, got {per_page!r}")
    return max(1, -(-int(total) // per_page))


def page_of(indices, page, per_page):
    """The indices on 1-based ``page``; a page past the end gives the last page."""
    last = page_count(len(indices), per_page)
    page = min(max(int(page), 1), last)
    start = (page - 1) * per_page
    return np.asarray(indices)[start:start + per_page]


def class_counts(train_labels, test_labels, class_names):
    """Images per class for each split, as a DataFrame indexed by class name."""
    counts = {
        split: np.bincount(np.asarray(labels), minlength=len(class_names))
        for split, labels in (("train", train_labels), ("test", test_labels))
    }
    import pandas as pd  # here, not at the top: the Dataset grid comes before pandas' 0.2 s

    frame = pd.DataFrame(counts, index=list(class_names))
    frame.index.name = "class"
    return frame


def normalise(image):
    """What the models do first: uint8 0-255 to float32 0.0-1.0 (``image / 255.0``)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got dtype {image.dtype}")
    return image.astype(np.float32) / 255.0
