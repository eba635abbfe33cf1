"""The worker's side of a Ray training run: an actor that trains one run and reports it.

``TrainingWorker`` is a plain class; ``ray_jobs`` turns it into a Ray actor
(``ray.remote(TrainingWorker)``), so this module imports without Ray installed. On the
worker it runs an ordinary ``jobs.TrainingJob`` (the same progress callback, run folder
recording and stop within one batch as a local run) in a temporary runs folder of its own:
the worker shares no file system with the app. The app polls the actor about twice a
second from another thread (the actor is threaded, so calls are answered while training
runs) for:
- ``snapshot()``: the job's progress as plain fields (``jobs.JobSnapshot`` less its config);
- ``changed_files()``: every file of the run folder written since the previous call
  (history.csv, status.json, filters/, histograms/, tensorboard/, model.keras,
  checkpoint/), as bytes, which the app writes into its own runs folder (None: removed);
- ``stop()``: end the run after the current batch;
- ``close()``: stop the run and remove the worker's temporary folder (the app calls it
  before it ends the actor). An actor killed without it leaves the folder behind: the next
  worker on that machine removes such folders once they are a day old (``sweep_stale``).
The dataset arrives once per worker from Ray's object store; TensorFlow is imported on
``start()``, after the actor's environment (its thread caps) is in force.
"""

import dataclasses
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path, PurePosixPath

from cifar_core import storage

#: The fields of the dataset the app ships (``ray_cluster.dataset_fields``); training reads these.
DATASET_FIELDS = ("x_train", "y_train", "x_test", "y_test")
#: A worker's temporary runs folder is named with this prefix in the temp directory.
FOLDER_PREFIX = "cifar-ray-runs-"
#: Seconds after its last change that a worker's folder counts as left behind by a killed
#: actor. A live worker touches its folder at every poll, so this is never a live one's.
STALE_SECONDS = 24 * 3600
#: Seconds ``close()`` waits for a stopped run to end before removing its folder.
CLOSE_JOIN_SECONDS = 2.0


def sweep_stale(directory=None, *, now=None):
    """Remove the workers' folders (``FOLDER_PREFIX``) in ``directory`` (default: the temp
    directory) unchanged for ``STALE_SECONDS``: what killed actors left. Returns them."""
    directory = Path(directory or tempfile.gettempdir())
    now = time.time() if now is None else now
    removed = []
    for path in directory.glob(f"{FOLDER_PREFIX}*"):
        try:
            stale = path.is_dir() and not path.is_symlink() \
                and now - path.stat().st_mtime > STALE_SECONDS
        except OSError:
            continue  # removed meanwhile
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def relative_files(folder):
    """Files under ``folder`` as {POSIX path relative to it: Path}, temporaries left out.

    A temporary (``storage.TEMPORARY_PREFIX``) is a file being written: its final name
    shows up once it is complete.
    """
    folder = Path(folder)
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(storage.TEMPORARY_PREFIX) for part in relative.parts):
            continue
        if path.is_file():
            found[relative.as_posix()] = path
    return found


def check_relative(relative):
    """``relative`` if it names a file inside a run folder ("filters/epoch_001.npy"), else
    ValueError: files sent between the app and a worker never land outside their run."""
    parts = PurePosixPath(relative).parts if isinstance(relative, str) else ()
    if not parts or relative.startswith("/") or "\\" in relative \
            or any(part in ("..", ".") for part in parts):
        raise ValueError(f"not a path inside a run folder: {relative!r}")
    return relative


def _signature(path):
    """What tells a rewritten file from the one sent before: (modification ns, size)."""
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


class TrainingWorker:
    """One training run on a Ray worker: ``start``, ``snapshot``, ``changed_files``, ``stop``.

    ``dataset`` holds the arrays of ``DATASET_FIELDS`` (Ray hands the actor the object the
    app put in the object store once). Methods run in Ray's threads, several at a time.
    """

    def __init__(self, dataset):
        missing = [name for name in DATASET_FIELDS if name not in dataset]
        if missing:
            raise ValueError(f"the dataset sent to the worker lacks {missing}")
        self.dataset = dict(dataset)
        sweep_stale()
        self.runs_dir = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
        self.job = None
        self._lock = threading.Lock()
        self._stop_requested = False  # a stop that arrived before start()
        self._sent = {}  # relative path -> signature of the version the app has

    def start(self, config_fields, *, job_id, owner=None, resume=None, run_files=None,
              callbacks=()):
        """Start training ``config_fields`` (TrainConfig.to_dict()) in the background.

        ``run_files`` ({relative path: bytes}) is the app's copy of the run ``resume``
        continues; it is written into this worker's runs folder first. ``callbacks`` are
        extra Keras callbacks (tests' hooks). Returns where the run trains (host, pid).
        """
        from cifar_core import data
        from cifar_core.training import jobs, train_config

        config = train_config.TrainConfig.from_dict(config_fields)
        if run_files:
            if not isinstance(resume, dict) or not resume.get("run"):
                raise ValueError("run files were sent without a run to resume")
            self._receive(str(resume["run"]), run_files)
        options = {} if resume is None else {"resume": resume}
        dataset = data.Cifar10(**{name: self.dataset[name] for name in DATASET_FIELDS},
                               source="ray object store")
        job = jobs.TrainingJob(config, dataset, self.runs_dir, job_id=job_id, owner=owner,
                               callbacks=list(callbacks), **options)
        with self._lock:
            self.job = job
            stop_now = self._stop_requested
        if stop_now:
            job.stop()
        job.start()
        return {"host": socket.gethostname(), "pid": os.getpid()}

    def _receive(self, run_id, run_files):
        """Write the app's copy of run ``run_id`` here; those versions count as sent."""
        if Path(run_id).name != run_id or run_id.startswith("."):
            raise ValueError(f"not a run id: {run_id!r}")
        folder = self.runs_dir / run_id
        for relative, payload in run_files.items():
            check_relative(relative)
            path = folder / relative
            storage.write_atomic(path, payload)
            self._sent[relative] = _signature(path)

    def snapshot(self):
        """The job's progress: ``jobs.JobSnapshot``'s fields, its config as a dict (a resumed
        run's becomes the run's own), or None before ``start``. ``run_dir`` is this worker's
        folder (the app knows the run by its name)."""
        job = self.job
        if job is None:
            return None
        snapshot = job.snapshot()
        fields = {field.name: getattr(snapshot, field.name)
                  for field in dataclasses.fields(snapshot)}
        fields["config"] = snapshot.config.to_dict()
        return fields

    def changed_files(self):
        """{relative path: bytes} of the run folder's files written since the previous call,
        and {relative path: None} for files sent before that are gone since (a resumed run
        drops the filters and histograms of epochs after its checkpoint).

        Empty until the run folder exists. A file that vanishes or changes while it is
        read (the recorder renames files into place) is sent again on a later call.
        """
        try:
            os.utime(self.runs_dir)  # a heartbeat: ``sweep_stale`` leaves a polled folder
        except OSError:
            pass
        job = self.job
        run_dir = job.snapshot().run_dir if job is not None else None
        if run_dir is None:
            return {}
        changed = {}
        with self._lock:  # two overlapping calls must not both skip a file
            present = relative_files(run_dir)
            for relative in [name for name in self._sent if name not in present]:
                changed[relative] = None
                del self._sent[relative]
            for relative, path in present.items():
                try:
                    signature = _signature(path)
                    if self._sent.get(relative) == signature:
                        continue
                    changed[relative] = path.read_bytes()
                except OSError:
                    continue
                self._sent[relative] = signature
        return changed

    def stop(self):
        """End the run after the current batch (before it starts, if it has not yet)."""
        with self._lock:
            self._stop_requested = True
            job = self.job
        if job is not None:
            job.stop()
        return True

    def close(self):
        """Stop the run (waiting briefly for it to end), then remove this worker's temporary
        runs folder: the app has its copy by now, or no longer wants one."""
        self.stop()
        if self.job is not None:
            self.job.join(CLOSE_JOIN_SECONDS)
        shutil.rmtree(self.runs_dir, ignore_errors=True)
        return True
