"""Test doubles for training: a tiny config, callbacks that hold a training thread, and
random data shaped like the dataset. (The job tests' data is the ``tiny_data`` fixture in
conftest.py.)"""

import threading
import types

import numpy as np

from cifar_core.backend import keras
from cifar_core.training import train_config

#: Tiny training: 200 random images in batches of 20 (10 batches an epoch), 20 to validate.
TINY = train_config.TrainConfig(model="tiny", epochs=2, batch_size=20, optimizer="adam",
                            learning_rate=0.001, schedule="constant", validation_size=20)


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


def random_dataset(train_count=64, test_count=32, seed=0):
    """A Cifar10-shaped object of random uint8 images (train() reads only these fields)."""
    generator = np.random.default_rng(seed)
    return types.SimpleNamespace(
        x_train=generator.integers(0, 256, (train_count, 32, 32, 3), dtype=np.uint8),
        y_train=np.arange(train_count, dtype=np.int64) % 10,
        x_test=generator.integers(0, 256, (test_count, 32, 32, 3), dtype=np.uint8),
        y_test=np.arange(test_count, dtype=np.int64) % 10,
    )
