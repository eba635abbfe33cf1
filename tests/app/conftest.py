"""Fixtures shared by the AppTest modules of the Train page."""

import threading

import numpy as np
import pytest
import streamlit as st

from cifar_core import data, ui


@pytest.fixture
def tiny_dataset(monkeypatch):
    """The Train page's dataset: 200 random training images (10 batches of 20), 40 test images.

    The cached resources (the job registry among them) are cleared before and after, so each
    test starts with no job; any training thread a test started is joined before the next.
    """
    generator = np.random.default_rng(0)
    images = generator.integers(0, 256, size=(240, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(240, dtype=np.int64) % 10
    tiny = data.Cifar10(images[:200], labels[:200], images[200:], labels[200:], source="tiny")
    monkeypatch.setattr(ui, "dataset", lambda: tiny)
    st.cache_resource.clear()
    yield tiny
    for thread in threading.enumerate():  # no job outlives its test
        if thread.name.startswith("training-"):
            thread.join(120)
    st.cache_resource.clear()
