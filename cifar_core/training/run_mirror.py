"""The app's copy of a run trained elsewhere: a folder of the app's runs folder kept in step.

A run that trains on a Ray worker writes its files in a folder of the worker's own;
``ray_jobs`` polls them and a ``RunMirror`` lands them in the app's runs folder, so the
Train page, the history, the leaderboard and the model pickers see the run as they see a
local one. The mirror:
- names the local folder once, from the worker's folder name (checked to be one plain
  path component; a name a folder of the app already has gets a random suffix, and a
  resumed run must come back under its own name);
- writes each polled file atomically, status.json last, naming this process as the run's
  (``runs.mark_interrupted`` then sees the run end if the app does) and keeping the
  worker's host, pid and folder name under "worker";
- ends the local copy when no one follows the run any more: a copy that still says
  "running" is rewritten as "interrupted" or "failed" (``end_running_run``, which
  ``process_jobs`` also uses when its child dies), and a claimed folder nothing reached is
  removed;
- lists the files a resume ships to the worker (``resume_files``).

No TensorFlow and no Ray are imported here.
"""

import json
import os
import secrets
import socket
import time
from pathlib import Path

from cifar_core import storage
from cifar_core.training import checkpoints, ray_worker, runs

#: Files of a run folder a resume ships to the worker (folders end with "/"): what
#: ``checkpoints.reopen`` reads, and the per-epoch files it trims back to the checkpoint.
RESUME_FILES = ("config.json", "status.json", "history.csv", "checkpoint/", "filters/",
                "histograms/")
#: Random suffixes tried when the worker's folder name is taken in the app's runs folder.
NAME_ATTEMPTS = 8


def plain_name(name):
    """Whether ``name`` is one plain path component, by ``runs.delete_run``'s rule for a run
    id: not empty, no separators, not starting with a dot ("." and ".." included)."""
    return isinstance(name, str) and name != "" and not name.startswith(".") \
        and not any(character in name for character in "/\\\0") and Path(name).name == name


def usable(run_path):
    """Whether a run folder holds a model or a readable checkpoint to go on from."""
    try:
        return (run_path / "model.keras").is_file() or checkpoints.read_meta(run_path) is not None
    except checkpoints.CheckpointError:
        return False


def resume_files(run_path):
    """{relative path: bytes} of the files a resume ships from the app's run folder."""
    files = {}
    for relative, path in ray_worker.relative_files(run_path).items():
        if any(relative == name or (name.endswith("/") and relative.startswith(name))
               for name in RESUME_FILES):
            files[relative] = path.read_bytes()
    return files


def end_running_run(run_path, state, error):
    """Rewrite the run at ``run_path`` as ``state`` with ``error`` if it still says
    "running": a run no one follows any more must not stay "running" under a pid that
    lives on (``runs.mark_interrupted`` would take it for alive). Returns the record as it
    was read (None: no run there); an OSError writing status.json propagates."""
    record = runs.read_run(run_path)
    if record is not None and record.state == "running":
        _rewrite_status(record, state, error)
    return record


def _rewrite_status(record, state, error):
    """Write ``record``'s status.json again as ``state`` with ``error``, updated now."""
    status = dict(record.status, state=state, updated=time.time(), error=error)
    storage.write_atomic(record.path / "status.json", json.dumps(status, indent=2))


class RunMirror:
    """The app's folder for one run trained elsewhere, named once and written as files come.

    ``runs_dir`` is the app's runs folder; ``resumed_run`` the id of the app's run that the
    worker continues (its folder is the mirror's from the start), or None for a new run.
    """

    def __init__(self, runs_dir, *, resumed_run=None):
        self.runs_dir = Path(runs_dir)
        self.resumed = resumed_run is not None
        self.run_id = resumed_run  # the app's folder name, once known
        self.worker_run = None  # the worker's name for it (the same unless it was taken)

    @property
    def path(self):
        """The app's run folder, or None while the worker has not named it."""
        return self.runs_dir / self.run_id if self.run_id else None

    def name_run(self, name):
        """Take the worker's run folder name, once: checked, and never another run's folder
        (two runs of a sweep started in the same second on two workers can share a name:
        the second gets the name with a random suffix here)."""
        if name == self.worker_run:
            return
        if self.worker_run is not None:
            raise ValueError(f"the Ray worker renamed its run folder from "
                             f"{self.worker_run!r} to {name!r}")
        if not plain_name(name):
            raise ValueError(f"the Ray worker named its run folder {name!r}, which is not a "
                             f"plain folder name; nothing was written")
        if self.resumed:
            if name != self.run_id:
                raise ValueError(f"the Ray worker continued run {name!r}, not {self.run_id!r}")
        else:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            suffixed = [f"{name}-{secrets.token_hex(3)}" for _ in range(NAME_ATTEMPTS)]
            for candidate in [name] + suffixed:
                try:
                    (self.runs_dir / candidate).mkdir()  # ours alone from here on
                except FileExistsError:
                    continue
                self.run_id = candidate
                break
            else:
                raise ValueError(f"no free run folder name like {name!r} in {self.runs_dir}")
        self.worker_run = name

    def write_files(self, files):
        """Write the worker's files into the app's run folder; status.json last, naming us.
        A file that is None was removed on the worker."""
        folder = self.path
        for relative in sorted(files, key=lambda name: name == "status.json"):
            ray_worker.check_relative(relative)
            payload = files[relative]
            if payload is None:
                (folder / relative).unlink(missing_ok=True)
                continue
            if relative == "status.json":
                payload = self.local_status(payload)
            storage.write_atomic(folder / relative, payload)

    def local_status(self, payload):
        """The worker's status.json with this process as the run's: ``runs.mark_interrupted``
        then sees the run end if the app does (Ray ends an actor whose owner dies)."""
        try:
            status = json.loads(payload)
        except ValueError:
            return payload
        if not isinstance(status, dict):
            return payload
        status["worker"] = {"host": status.get("host"), "pid": status.get("pid"),
                            "run": self.worker_run}
        status.update(host=socket.gethostname(), pid=os.getpid(),
                      process_start=runs._process_start(os.getpid()))
        return json.dumps(status, indent=2)

    def usable(self):
        """Whether the app's copy holds a model or a readable checkpoint to go on from."""
        return self.run_id is not None and usable(self.path)

    def end(self, state, error):
        """The app's copy, if it still says "running", rewritten as ``state`` with ``error``
        (as ``end_running_run`` does); a claimed folder of a new run that nothing reached is
        removed. Returns the record as read (None: no run folder yet) and the OSError that
        kept its status.json from being rewritten (None when it was, or had not to be)."""
        path = self.path
        record = runs.read_run(path) if path is not None else None
        if record is None:
            if path is not None and not self.resumed:
                try:
                    path.rmdir()  # a claimed folder nothing reached: no half run kept
                except OSError:
                    pass
            return None, None
        if record.state != "running":
            return record, None
        try:
            _rewrite_status(record, state, error)
        except OSError as problem:
            return record, problem
        return record, None
