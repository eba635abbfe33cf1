"""Keras callbacks the Ray backend's tests send to a worker process.

A worker shares no memory with the test, so these hooks talk through files in a folder
both can see (a local Ray cluster runs on this machine): ``reached`` says the training
got to the chosen batch, the test writes ``go`` to let it continue, and ``after`` counts
the batches that ended after that. They pickle by reference to this module, which the
worker imports from the project root. ``worker_in`` makes a worker class that keeps its
temporary folder in the test's folder (Ray ships a class made in a function by value).
"""

import os
import tempfile
import time
from pathlib import Path

from cifar_core.backend import keras
from cifar_core.training import ray_worker

#: Seconds a hook waits for the test's "go" before giving up (the test has failed by then).
WAIT_SECONDS = 120


def wait_for(path, seconds=WAIT_SECONDS):
    """Wait until ``path`` exists; True when it does."""
    deadline = time.monotonic() + seconds
    while not Path(path).exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class PauseAtBatch(keras.callbacks.Callback):
    """Holds training at the end of batch ``batch`` of epoch ``epoch`` (0-based) until the
    test writes ``go``; then counts every later batch end in ``after``."""

    def __init__(self, folder, epoch=0, batch=2):
        super().__init__()
        self.folder, self.where = str(folder), (epoch, batch)
        self.epoch, self.released = 0, False

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        folder = Path(self.folder)
        if self.released:
            count = int((folder / "after").read_text())
            (folder / "after").write_text(str(count + 1))
        elif (self.epoch, batch) == self.where:
            (folder / "after").write_text("0")
            (folder / "reached").write_text("")
            if not wait_for(folder / "go"):
                raise RuntimeError("the test never let the training go on")
            self.released = True
            self.arrived()

    def arrived(self):
        """What happens once the test lets go (here: nothing, training goes on)."""


class ExitAtBatch(PauseAtBatch):
    """Kills the worker process, as a crash would, once the test lets go."""

    def arrived(self):
        os._exit(1)


class FailAtBatch(keras.callbacks.Callback):
    """Raises inside training, as a broken recipe would."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            raise RuntimeError("the disk caught fire")


def worker_in(folder, *, fail_start=False):
    """``ray_worker.TrainingWorker`` with its temporary folder (and its sweep) in ``folder``;
    its ``start`` raises when ``fail_start``, as a worker that cannot start would."""

    class Worker(ray_worker.TrainingWorker):
        def __init__(self, dataset):
            tempfile.tempdir = str(folder)  # this actor's process only
            super().__init__(dataset)

        def start(self, *args, **kwargs):
            if fail_start:
                raise RuntimeError("the worker could not start")
            return super().start(*args, **kwargs)

    return Worker
