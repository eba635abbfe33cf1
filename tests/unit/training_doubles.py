"""Tiny data, a tiny config and callbacks that hold a training thread, for job tests."""

import threading

import numpy as np
import pytest

from cifar_core import data
from cifar_core.training import train_config
from cifar_core.backend import keras

#: Tiny training: 200 random images in batches of 20 (10 batches an epoch), 20 to validate.
TINY = train_config.TrainConfig(model="tiny", epochs=2, batch_size=20, optimizer="adam",
                            learning_rate=0.001, schedule="constant", validation_size=20)


@pytest.fixture(scope="module")
def tiny_data():
    generator = np.random.default_rng(0)
    images = generator.integers(0, 256, size=(240, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(240, dtype=np.int64) % 10
    return data.Cifar10(images[:200], labels[:200], images[200:], labels[200:], source="test")


class PauseAtBatch(keras.callbacks.Callback):
    """Holds the training thread at the end of one batch until the test lets it go."""

    def __init__(self, epoch=0, batch=2):
        super().__init__()
        self.where = (epoch, batch)
        self.epoch = 0
        self.reached, self.go = threading.Event(), threading.Event()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.where:
            self.reached.set()
            assert self.go.wait(60), "the test never released the training thread"


class PauseAtEpochEnd(PauseAtBatch):
    """Holds the training thread while the first epoch ends (after its validation)."""

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            self.reached.set()
            assert self.go.wait(60), "the test never released the training thread"
