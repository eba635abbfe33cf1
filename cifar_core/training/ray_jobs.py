"""Training runs on a Ray cluster: the app's side of the Ray backend.

``RayTrainingJob`` has the interface of ``jobs.TrainingJob`` (``start``, ``stop``,
``join``, ``snapshot``, ``stop_requested``, ``id``, ``config``, ``owner``), so the job
registry, the queue and sweeps use it unchanged. Instead of a training thread it starts a
``ray_worker.TrainingWorker`` actor with the run's resources (``ray_cluster.resources``)
on whichever worker has them, and a daemon thread that polls the actor every
``POLL_SECONDS`` for its progress and the run folder's new files. Those files are written
(atomically) into the app's runs folder under the worker's run id, so the Train page, the
history, the leaderboard and the model pickers see the run as they see a local one; the
app's status.json names this process (the run's owner: when the app dies, Ray ends the
actor) and keeps the worker's host, pid and folder name under "worker". The worker's
folder name is checked, and a name a folder of the app already has gets a random suffix
here. ``stop()`` forwards to the actor: the run ends within one batch. A worker that dies
marks the run "interrupted" (resumable) with the reason; a failure inside training shows
the worker's error, as a local failure does; a failure on the app's side (a full disk)
ends the actor and marks the app's copy "interrupted" when it holds a model or a
checkpoint, else "failed", with the error. A resume ships the app's copy of the run
(``run_mirror.RESUME_FILES``) to the worker, which continues it (``checkpoints.reopen``)
and sends every change back. The app's copy itself (naming its folder, writing the files,
ending it) is ``run_mirror.RunMirror``'s.

Connecting, the settings and the dataset in the object store are ``ray_cluster``'s. Ray
is imported on first use: this module imports without it (the default install).
"""

import threading
import time
import uuid
from pathlib import Path

from cifar_core.training import (
    checkpoints,
    job_state,
    ray_cluster,
    run_mirror,
    runs,
    train_config,
)
from cifar_core.training.run_mirror import RESUME_FILES, resume_files  # noqa: F401 - as before

#: Seconds between two polls of a running actor.
POLL_SECONDS = 0.5
#: Seconds a poll may wait for the actor's answer before trying again next time.
CALL_SECONDS = 30.0
#: Seconds ``stop()`` waits for the actor to acknowledge (it never blocks longer).
STOP_ACKNOWLEDGE_SECONDS = 2.0
#: Seconds the app gives a worker to stop its run and remove its folder before ending it.
CLOSE_SECONDS = 5.0
#: Calls the actor answers at once (a poll and a stop while training runs).
ACTOR_CONCURRENCY = 4

def _error_text(error):
    """A worker's exception as a page shows it: "Type: message" of the original error."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException):
        error = cause
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0] if message else ''}".rstrip(": ")


def _end_actor(ray, actor):
    """Let the worker stop its run and remove its folder (briefly), then end the actor."""
    try:
        ray.get(actor.close.remote(), timeout=CLOSE_SECONDS)
    except ray.exceptions.RayError:
        pass  # dead or slow: a later worker sweeps its folder once stale (ray_worker)
    ray.kill(actor)


class RayTrainingJob(job_state.JobProgress):
    """One training run as a Ray actor, seen from the app like a ``jobs.TrainingJob``.

    ``resume`` is ``{"run": run_id, "more_epochs": n}`` (the registry's): the app's copy of
    that run folder goes to the worker, which continues it. ``callbacks`` are extra Keras
    callbacks run on the worker (they must pickle: tests' hooks). ``address`` overrides
    ``$CIFAR_RAY_ADDRESS`` for ``ray_cluster.connect``.
    """

    def __init__(self, config, data, runs_dir=None, *, job_id=None, owner=None, resume=None,
                 on_done=None, callbacks=(), address=None):
        if not hasattr(config, "to_dict"):
            raise ValueError(f"config must be a TrainConfig, not {type(config).__name__}")
        config = train_config.TrainConfig.from_dict(config.to_dict())
        self.runs_dir = runs.runs_dir(runs_dir)
        if resume is not None:
            resume = checkpoints.request(resume)
            if runs.read_run(self.runs_dir / resume["run"]) is None:
                raise ValueError(f"no run {resume['run']!r} in {self.runs_dir} to resume")
        self.id = job_id or uuid.uuid4().hex[:10]
        self.owner = owner
        self.config = config
        self.data = data
        self.resume = resume
        self.address = address
        self.worker = None  # {"host": ..., "pid": ...} once the actor has started
        self._on_done = on_done
        self._callbacks = list(callbacks)
        self._actor = None
        self._start_progress()
        # The app's copy of the run: its folder, named by the worker unless resumed.
        self._copy = run_mirror.RunMirror(self.runs_dir,
                                          resumed_run=resume["run"] if resume else None)
        self._thread = threading.Thread(target=self._run, name=f"ray-training-{self.id}",
                                        daemon=True)

    # --- the page's side --------------------------------------------------------------
    def start(self):
        """Start the actor and the polling thread; returns self."""
        self._started()
        self._thread.start()
        return self

    def stop(self):
        """Ask the run to end after the current batch; waits briefly for the worker's answer."""
        self._stop.set()
        actor = self._actor
        if actor is None:
            return  # the polling thread forwards it once the actor exists
        ray = ray_cluster.import_ray()
        try:
            ray.get(actor.stop.remote(), timeout=STOP_ACKNOWLEDGE_SECONDS)
        except ray.exceptions.RayError:
            pass  # a dead or slow worker: the polling thread sees to it

    @property
    def _run_id(self):
        """The app's run folder name (None until the worker names it): the mirror's."""
        return self._copy.run_id

    @_run_id.setter
    def _run_id(self, run_id):
        self._copy.run_id = run_id

    # --- the polling thread -----------------------------------------------------------
    def _run(self):
        ray = None
        try:
            ray = ray_cluster.connect(self.address)
            self._actor = self._create_actor(ray)
            if self._stop.is_set():  # asked while the worker started (stop() saw no actor)
                self._actor.stop.remote()
            self._poll(ray)
        except _StoppedBeforeStart:
            self._update(state="stopped", eta_seconds=0.0)
        except Exception as error:  # noqa: BLE001 - any failure is the run's, never the app's
            if ray is not None and isinstance(error, (ray.exceptions.RayActorError,
                                                      ray.exceptions.WorkerCrashedError,
                                                      ray.exceptions.LocalRayletDiedError)):
                self._interrupted(error)
            else:
                self._failed(error)
        finally:
            self._close(ray)
            self._finished()
            if self._on_done is not None:
                self._on_done()

    def _create_actor(self, ray):
        """The worker actor with the run's resources, started on the shipped files."""
        cpus, gpus = ray_cluster.resources()
        threads = str(max(1, int(cpus)))
        actor = ray_cluster.worker_class().options(
            num_cpus=cpus, num_gpus=gpus, max_concurrency=ACTOR_CONCURRENCY,
            # TensorFlow on the worker uses the CPUs the run reserved, no more.
            runtime_env={"env_vars": {"CIFAR_TF_INTRA_THREADS": threads,
                                      "CIFAR_TF_INTER_THREADS": str(min(2, int(threads)))}},
        ).remote(ray_cluster.dataset_ref(self.data))
        try:
            run_files = resume_files(self.runs_dir / self._run_id) if self.resume else None
            started = actor.start.remote(self.config.to_dict(), job_id=self.id,
                                         owner=self.owner, resume=self.resume,
                                         run_files=run_files, callbacks=self._callbacks)
            patience = ray_cluster.start_timeout()
            deadline = time.monotonic() + patience
            while not ray.wait([started], timeout=POLL_SECONDS)[0]:
                if self._stop.is_set():
                    raise _StoppedBeforeStart
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no Ray worker had {cpus:g} CPU(s) and {gpus:g} GPU(s) "
                                       f"free for {patience:g} s (CIFAR_RAY_CPUS, CIFAR_RAY_GPUS)")
            self.worker = ray.get(started)
        except BaseException:
            _end_actor(ray, actor)  # still waiting for a worker, or its start failed
            raise
        return actor

    def _poll(self, ray):
        """Mirror the worker's progress and files until its job is done."""
        done = False
        while True:
            try:
                # Files first: any file means the run folder existed, so the snapshot asked
                # next names it. Once a snapshot says done, one more call brings the last files.
                files = ray.get(self._actor.changed_files.remote(), timeout=CALL_SECONDS)
                if done:
                    self._mirror(None, files)
                    return
                remote = ray.get(self._actor.snapshot.remote(), timeout=CALL_SECONDS)
            except (ray.exceptions.GetTimeoutError, ray.exceptions.ActorUnavailableError):
                time.sleep(POLL_SECONDS)  # busy or briefly unreachable; a dead one raises
                continue  # ActorDiedError instead
            self._mirror(remote, files)
            done = remote is not None and remote["state"] in job_state.DONE_STATES
            if not done:
                time.sleep(POLL_SECONDS)

    def _mirror(self, remote, files):
        """Write ``files`` into the app's run folder, then show ``remote``'s progress."""
        if remote is not None and remote.get("run_dir"):
            self._name_run(Path(remote["run_dir"]).name)
        if files:
            assert self._run_id, "files came before the worker named its run folder"
            self._write_files(files)
        if remote is None:
            return
        fields = {name: remote[name] for name in self._fields if name in remote}
        local = self.runs_dir / self._run_id if self._run_id else None
        fields["run_dir"] = str(local) if local and (local / "status.json").is_file() else None
        self._replace_progress(fields, remote.get("training", ()), remote.get("validation", ()),
                               config=remote.get("config"))  # a resumed run's own config

    def _name_run(self, name):
        """Take the worker's run folder name, once (``RunMirror.name_run``)."""
        self._copy.name_run(name)

    def _write_files(self, files):
        """Write the worker's files into the app's run folder (``RunMirror.write_files``)."""
        self._copy.write_files(files)

    def _end_local_run(self, state, error):
        """The app's copy of the run, if it still says "running", rewritten as ``state`` with
        ``error`` (``RunMirror.end``). Returns the record (None: no run folder yet) and a
        note for the page if the write failed."""
        record, problem = self._copy.end(state, error)
        if problem is not None:
            return record, f"; its status.json could not be updated ({_error_text(problem)})"
        return record, ""

    def _interrupted(self, error):
        """The worker died: the app's copy of the run becomes "interrupted" (resumable)."""
        reason = f"the Ray worker ended before the run did ({_error_text(error)})"
        record, note = self._end_local_run("interrupted", reason)
        kept = "; the run is kept as interrupted and can be resumed" if record is not None else ""
        self._update(state="failed", error=reason[0].upper() + reason[1:] + kept + note,
                     eta_seconds=None)

    def _failed(self, error):
        """Following the run failed on the app's side (a full disk, a refused file, a failed
        start): the job fails with the error, ``_close`` ends the actor, and the app's copy
        becomes "interrupted" if it holds a model or checkpoint, else "failed"."""
        text = _error_text(error)
        usable = self._copy.usable()
        record, note = self._end_local_run("interrupted" if usable else "failed", text)
        kept = "; the run is kept as interrupted" \
            if record is not None and record.state == "running" and usable and not note else ""
        self._update(state="failed", error=text + kept + note, eta_seconds=None)

    def _close(self, ray):
        """Let the worker stop and remove its temporary folder, then end the actor."""
        actor, self._actor = self._actor, None
        if actor is not None and ray is not None:
            _end_actor(ray, actor)


class _StoppedBeforeStart(Exception):
    """Stop was asked while the run still waited for a worker: nothing trained."""
