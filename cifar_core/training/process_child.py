"""The child's side of a training process (``process_jobs``): what crosses, what it runs.

``ProcessTrainingJob`` starts ``python -c`` calling ``child_main(fd, parent_pid)`` with one
end of a pipe. The child lowers its CPU priority first (``CHILD_NICENESS``), reads the job
(config, runs folder, id, owner, resume, dataset), builds an ordinary ``jobs.TrainingJob``
writing into the app's runs folder, and sends its snapshot (``REPORTED`` fields, the curves
only when they grew) every ``REPORT_SECONDS`` and once more, marked final, when the job
ends. "stop" from the parent stops the job within one batch (before it starts: no run).
When the parent is gone (the pipe closes, or the child's parent pid changes) it leaves at
once (``os._exit``), its run still "running" under its own pid, for
``runs.mark_interrupted``.

The dataset crosses as ``dataset_message``: arrays that are whole memory maps of the
decoded cache's ``.npy`` files (how ``data.load_cifar10`` returns them) as their paths,
which the child maps again (no copy, milliseconds); any other array as itself, pickled
through the pipe (tests' generated data, a slice). TensorFlow loads in the child only.
"""

import os
import sys
import threading
from multiprocessing import connection as connections
from pathlib import Path

import numpy as np

from cifar_core.training import train_config

#: Added to the child's niceness: the server's page reruns win every contest for a core.
CHILD_NICENESS = 10
#: Seconds between two progress reports of the child (and its checks for the parent).
REPORT_SECONDS = 0.25
#: The dataset's array fields, as ``data.Cifar10`` names them.
ARRAY_FIELDS = ("x_train", "y_train", "x_test", "y_test")
#: JobSnapshot fields the child reports as they are (the parent adds id, config, curves, time).
REPORTED = ("state", "epoch", "batch", "batches", "images_per_second", "eta_seconds", "error",
            "run_dir")


def mapped_file(array):
    """The ``.npy`` file ``array`` is the whole memory map of, or None.

    ``decoded_cache.read`` returns plain views of ``np.load(..., mmap_mode="r")`` maps; a
    slice, a copy or an array made in memory has no file the child could map instead.
    """
    base = array
    while isinstance(base, np.ndarray) and not isinstance(base, np.memmap):
        base = base.base
    if not isinstance(base, np.memmap) or not isinstance(base.filename, (str, os.PathLike)):
        return None
    whole = (array.__array_interface__["data"][0] == base.__array_interface__["data"][0]
             and array.shape == base.shape and array.dtype == base.dtype
             and array.flags.c_contiguous)
    path = Path(base.filename)
    return str(path) if whole and path.suffix == ".npy" and path.is_file() else None


def dataset_message(data):
    """What the child needs to rebuild ``data``: a file to map, or the array itself, each."""
    arrays = {}
    for name in ARRAY_FIELDS:
        array = getattr(data, name)
        path = mapped_file(array)
        arrays[name] = ("file", path) if path else ("array", np.ascontiguousarray(array))
    return {"arrays": arrays, "class_names": tuple(getattr(data, "class_names", ())),
            "source": str(getattr(data, "source", ""))}


def rebuild_dataset(message):
    """The child's ``data.Cifar10`` from ``dataset_message``'s dict (mapped read-only)."""
    from cifar_core import data

    arrays = {}
    for name, (kind, value) in message["arrays"].items():
        array = np.load(value, mmap_mode="r", allow_pickle=False) if kind == "file" else value
        array = np.asarray(array)
        array.flags.writeable = False
        arrays[name] = array
    options = {"class_names": message["class_names"]} if message["class_names"] else {}
    return data.Cifar10(**arrays, source=message["source"], **options)


class _ParentGone(Exception):
    """The app's process has ended: the child leaves at once."""


class _Reporter:
    """Sends a job's snapshots to the parent, the curves only when they have grown."""

    def __init__(self, connection):
        self.connection = connection
        self.sent = (None, -1, -1)  # config, training length, validation length

    def send(self, snapshot, final=False):
        report = {name: getattr(snapshot, name) for name in REPORTED}
        config = snapshot.config.to_dict()
        sent_config, training, validation = self.sent
        report["config"] = config if config != sent_config else None
        report["training"] = snapshot.training if len(snapshot.training) != training else None
        report["validation"] = (snapshot.validation if len(snapshot.validation) != validation
                                else None)
        report["final"] = final
        try:
            self.connection.send(report)
        except OSError:
            raise _ParentGone from None
        self.sent = (config, len(snapshot.training), len(snapshot.validation))


def _wait_for_parent(connection, parent_pid, seconds):
    """Wait ``seconds`` for a message; returns it (or None). Raises _ParentGone."""
    try:
        message = connection.recv() if connection.poll(seconds) else None
    except (EOFError, OSError):
        raise _ParentGone from None
    if os.getppid() != parent_pid:
        raise _ParentGone
    return message


def child_main(fd, parent_pid):
    """The child process: nice itself, read the job, train it, report until it ends."""
    os.nice(CHILD_NICENESS)
    connection = connections.Connection(fd)
    try:
        _train(connection, parent_pid)
    except _ParentGone:
        pass  # the run stays "running" with our pid: mark_interrupted sees us gone
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # at once: TensorFlow's threads and atexit hooks have nothing to save


def _train(connection, parent_pid):
    """Read the job, run it and report it; a failure before it starts is reported too."""
    arguments = None
    while arguments is None:
        arguments = _wait_for_parent(connection, parent_pid, REPORT_SECONDS)
    stopped_early = False
    try:
        from cifar_core.training import jobs

        data = rebuild_dataset(arguments["dataset"])
        done = threading.Event()
        options = {} if arguments["resume"] is None else {"resume": arguments["resume"]}
        job = jobs.TrainingJob(train_config.TrainConfig.from_dict(arguments["config"]), data,
                               arguments["runs_dir"], job_id=arguments["job_id"],
                               owner=arguments["owner"], on_done=done.set, **options)
        # A stop that came while the dataset and TensorFlow loaded: nothing trained yet.
        while connection.poll(0):
            stopped_early = _wait_for_parent(connection, parent_pid, 0) == "stop" or stopped_early
    except _ParentGone:
        raise
    except Exception as error:  # noqa: BLE001 - the parent shows it as the run's failure
        _send_final(connection, state="failed", error=f"{type(error).__name__}: {error}")
        return
    if stopped_early:
        _send_final(connection, state="stopped", eta_seconds=0.0)
        return
    reporter = _Reporter(connection)
    job.start()
    while not done.is_set():
        reporter.send(job.snapshot())
        if _wait_for_parent(connection, parent_pid, REPORT_SECONDS) == "stop":
            job.stop()
    job.join()
    reporter.send(job.snapshot(), final=True)


def _send_final(connection, **fields):
    """The last report of a child whose job never started."""
    report = dict(fields, final=True)
    try:
        connection.send(report)
    except OSError:
        raise _ParentGone from None
