"""Fixtures of the training tests: tiny data to train on in a few seconds."""

import numpy as np
import pytest

from cifar_core import data


@pytest.fixture(scope="module")
def tiny_data():
    """240 random images: 200 to train on (10 batches of 20), 40 to test."""
    generator = np.random.default_rng(0)
    images = generator.integers(0, 256, size=(240, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(240, dtype=np.int64) % 10
    return data.Cifar10(images[:200], labels[:200], images[200:], labels[200:], source="test")
