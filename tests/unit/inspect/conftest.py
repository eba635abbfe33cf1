"""Fixtures shared by the attribution tests and the sanity check's: the hand-set model.

Keras is imported inside the fixtures, so inspect tests that need no model stay without it.
"""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def region_model():
    """The hand-set model whose class 0 reads only one square (``any_models.ROWS, COLUMNS``)."""
    from tests.unit.inspect import any_models

    return any_models.build_region_model()


@pytest.fixture(scope="module")
def bright_square():
    """Black, except a white square exactly where the region model looks."""
    from tests.unit.inspect.any_models import COLUMNS, ROWS

    image = np.zeros((32, 32, 3), np.uint8)
    image[ROWS, COLUMNS] = 255
    return image
