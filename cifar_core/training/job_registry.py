"""The server's training jobs: a queue for the training slots, and who controls which run.

A ``JobRegistry`` is created once per server (``st.cache_resource``). ``submit`` puts runs
in the on-disk FIFO queue (``run_queue``); the dispatcher starts the first waiting run
whenever one of the ``$CIFAR_MAX_JOBS`` slots (default 1: a 2-core machine trains one
model at a time) is free and the dataset is attached. It runs on submit, on ``attach`` and
in a job's ``on_done`` (the job's own thread), under the registry's lock, and never touches
Streamlit. An entry's id is also its job's id, so a tab's ``?job=`` link follows its run
from the queue into training. After a ``kill -9`` the next registry reads the queue back
(in order) and starts it once ``attach`` gives it the dataset; the run that was training is
marked interrupted (``runs.mark_interrupted``).

The registry also decides which browser tab controls which run (may stop or cancel it):
the tab that started it, or (after a refresh, which is a new session) a tab that names
it in its URL once the old tab has stopped polling. Everyone else may watch. That rule
and its tables are ``run_control.RunControl``'s; the registry asks it under its lock.
"""

import os
import threading
import time

from cifar_core.training import job_state, run_control, run_queue, runs, start_estimates
from cifar_core.training.run_control import ORPHAN_AFTER_SECONDS

#: Finished jobs the registry remembers (their runs stay on disk regardless).
KEEP_FINISHED = 10
#: Submissions one tab may have waiting in the queue when $CIFAR_QUEUE_PER_TAB is not set.
DEFAULT_QUEUE_PER_TAB = 3


class TrainerBusy(Exception):
    """The run cannot be taken now; the message says why, plainly."""


class QueueFull(TrainerBusy):
    """This tab already has as many runs waiting as it may; the message says what to do."""


class AlreadyResuming(TrainerBusy):
    """The run is already queued to continue, or continuing: a second resume would train
    it twice at once in the same folder."""


def _whole_number_setting(name, default):
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {raw!r}")
    return value


def max_jobs_setting():
    """Concurrent jobs allowed on this server: ``$CIFAR_MAX_JOBS`` (default 1)."""
    return _whole_number_setting("CIFAR_MAX_JOBS", 1)


def queue_per_tab_setting():
    """Submissions one tab may have waiting: ``$CIFAR_QUEUE_PER_TAB`` (default 3)."""
    return _whole_number_setting("CIFAR_QUEUE_PER_TAB", DEFAULT_QUEUE_PER_TAB)


def default_job_factory(config, data, runs_dir, *, job_id, owner, resume, on_done, callbacks):
    """A ``jobs.TrainingJob`` in this process (imported here: TensorFlow loads only now)."""
    from cifar_core.training import jobs

    options = {} if resume is None else {"resume": resume}
    return jobs.TrainingJob(config, data, runs_dir, job_id=job_id, owner=owner,
                            on_done=on_done, callbacks=callbacks, **options)


class StartFailure:
    """A queued run whose job could not be created or started: it shows the error.

    Job-like (``id``, ``config``, ``owner``, ``snapshot()``, ``stop()``, ``join()``), so the
    tab that queued it sees "failed" with the reason where its run would have been.
    """

    def __init__(self, entry, error):
        self.id, self.config, self.owner = entry.id, entry.config, entry.owner
        self.error = f"{type(error).__name__}: {error}"
        self.stop_requested = False

    def start(self):
        return self

    def stop(self):
        pass

    def join(self, timeout=None):
        return True

    def snapshot(self):
        return job_state.JobSnapshot(job_id=self.id, config=self.config, state="failed",
                                     epoch=0, epochs=self.config.epochs, batch=0, batches=0,
                                     error=self.error)


class JobRegistry:
    """The server's queue and jobs, a limit on how many train at once, who controls which.

    Create one per server process. ``owner`` is any string naming a browser tab.
    ``job_factory(config, data, runs_dir, *, job_id, owner, resume, on_done, callbacks)``
    makes a job (default: ``jobs.TrainingJob``); ``queue_directory`` defaults to
    ``<runs dir>/.queue``; ``per_tab_limit`` to ``$CIFAR_QUEUE_PER_TAB``.
    """

    def __init__(self, max_jobs=None, *, job_factory=None, queue_directory=None,
                 per_tab_limit=None, orphan_after=ORPHAN_AFTER_SECONDS):
        self.max_jobs = max_jobs_setting() if max_jobs is None else int(max_jobs)
        if self.max_jobs < 1:
            raise ValueError(f"max_jobs must be at least 1, got {max_jobs!r}")
        self.per_tab_limit = queue_per_tab_setting() if per_tab_limit is None \
            else int(per_tab_limit)
        if self.per_tab_limit < 1:
            raise ValueError(f"per_tab_limit must be at least 1, got {per_tab_limit!r}")
        self._control = run_control.RunControl(orphan_after)  # who controls which run
        self.job_factory = job_factory or default_job_factory
        self._lock = threading.RLock()
        self._jobs = {}  # job id -> job (or StartFailure), oldest first
        self._active = set()  # ids holding a slot: starting, or training until on_done
        self._starting = {}  # id -> QueueEntry taken from the queue, its job being made
        self._estimates = start_estimates.StartEstimates()  # training seconds, the pace
        self._callbacks = {}  # entry id -> extra Keras callbacks (not kept across restarts)
        self._resumes = {}  # id of a starting or training entry -> the run id it continues
        self._data = None
        self._dispatching = False
        directory = run_queue.queue_directory() if queue_directory is None else queue_directory
        self._queue = run_queue.RunQueue(directory)
        restored = self._queue.restore()
        for folder in {entry.runs_dir for entry in restored}:
            runs.mark_interrupted(folder)  # the run a killed server was training
        for entry in restored:
            # Its tab is gone: a link may take it over.
            self._control.add(entry.id, entry.owner, seen=float("-inf"))
            self._estimates.add(entry.id, entry.estimated_seconds)

    @property
    def orphan_after(self):
        """Seconds without a poll after which another tab may take a run over (assignable)."""
        return self._control.orphan_after

    @orphan_after.setter
    def orphan_after(self, seconds):
        self._control.orphan_after = seconds

    # --- queueing ---------------------------------------------------------------------
    def submit(self, configs, data, *, owner, resume=None, runs_dir=None, callbacks=()):
        """Queue one config or a sweep's list of configs; returns their ids, in order.

        QueueFull when ``owner`` already has ``per_tab_limit`` submissions waiting (a sweep
        counts once); AlreadyResuming when ``resume`` names a run that a waiting, starting
        or training resume already continues. Runs start as slots free, so the first may
        be training on return.
        """
        configs = list(configs) if isinstance(configs, (list, tuple)) else [configs]
        if not configs:
            raise ValueError("submit needs at least one config")
        sweeps = {getattr(config, "sweep", None) for config in configs}
        if len(configs) > 1 and (len(sweeps) != 1 or not next(iter(sweeps))):
            raise ValueError(f"the configs of one submission must share a non-empty sweep id, "
                             f"got {sorted(map(repr, sweeps))}")
        if resume is not None and len(configs) > 1:
            raise ValueError("resume continues one run: submit one config with it")
        training_images = len(data.x_train) if data is not None else run_queue.REFERENCE_IMAGES
        epochs = run_queue.epochs_to_train(configs[0], resume, runs_dir) if resume else None
        entries = [run_queue.new_entry(config, owner, resume=resume, runs_dir=runs_dir,
                                       estimated_seconds=run_queue.estimate_seconds(
                                           config, training_images, epochs=epochs))
                   for config in configs]
        with self._lock:
            if resume is not None and self._resuming(resume.get("run")):
                raise AlreadyResuming(
                    f"Run {resume.get('run')} is already queued to continue or continuing: "
                    "wait until it ends before continuing it again.")
            waiting = self._control.waiting_submissions(owner, self._queue.entries())
            if entries[0].submission not in waiting and len(waiting) >= self.per_tab_limit:
                raise QueueFull(
                    f"This tab already has {len(waiting)} runs or sweeps waiting in the queue, "
                    f"the most one tab may queue ({self.per_tab_limit}; a sweep counts as one). "
                    "Cancel one of them (its Cancel button under Queue) or wait until one "
                    "starts.")
            now = time.monotonic()
            try:
                for entry in entries:
                    self._queue.add(entry)
                    self._control.add(entry.id, owner, seen=now)
                    self._estimates.add(entry.id, entry.estimated_seconds)
                    self._callbacks[entry.id] = list(callbacks)
            except OSError:  # A full disk half-way through a sweep: none of it is queued.
                for entry in entries:
                    self._queue.discard(entry.id)
                raise
            if data is not None:
                self._data = data
        self._dispatch()
        return [entry.id for entry in entries]

    def start(self, config, data, *, owner, runs_dir=None, callbacks=()):
        """Queue one config; the job if it started at once, else its queue entry (``.id``)."""
        [entry_id] = self.submit(config, data, owner=owner, runs_dir=runs_dir,
                                 callbacks=callbacks)
        return self.get(entry_id) or self.queued(entry_id)

    def attach(self, data):
        """Give the registry the dataset: waiting runs (restored after a restart) can start."""
        with self._lock:
            self._data = data
            waiting = bool(self._queue.entries())
        if waiting:
            self._dispatch()

    def cancel(self, entry_id, owner):
        """Remove a waiting run; True if it was waiting. ValueError if ``owner`` is not its own."""
        with self._lock:
            if self._queue.get(entry_id) is None:
                return False
            if self._control.owner(entry_id) != owner:
                raise ValueError(f"queued run {entry_id!r} belongs to another tab: only the tab "
                                 "that queued it may cancel it")
            self._queue.discard(entry_id)
            self._callbacks.pop(entry_id, None)
            self._estimates.forget(entry_id)
            self._control.forget(entry_id)
            return True

    # --- reading ----------------------------------------------------------------------
    def get(self, job_id):
        """The job (training or done, or a StartFailure), or None (queued, unknown)."""
        with self._lock:
            return self._jobs.get(job_id)

    def queued(self, entry_id):
        """The ``QueueEntry`` not yet a job, or None (started, cancelled, unknown).

        That is a waiting entry, or one whose job the factory is making right now (the
        first one in a server imports TensorFlow: seconds), which has no ``position``.
        """
        with self._lock:
            return self._queue.get(entry_id) or self._starting.get(entry_id)

    def queue(self):
        """The waiting entries, first in line first."""
        with self._lock:
            self._settle()
            return self._queue.entries()

    def resuming(self, run_id):
        """Whether run ``run_id`` is named by a resume that waits, starts or trains now.

        A resumed run's folder says "running" only once its job has reopened it (a process
        job imports TensorFlow first: seconds); until then this is what says it is taken.
        """
        if not isinstance(run_id, str) or not run_id:
            raise ValueError(f"run_id must be a run's id (non-empty text), not {run_id!r}")
        with self._lock:
            return self._resuming(run_id)

    def position(self, entry_id):
        """(1-based place in line, estimated seconds until it starts or None); None if not waiting.

        The estimate is ``StartEstimates.wait``'s, at this server's pace; any unknown on the
        way makes it None ("unknown", not a guess).
        """
        with self._lock:
            entries = self._queue.entries()
            ids = [entry.id for entry in entries]
            if entry_id not in ids:
                return None
            place = ids.index(entry_id)
            active = [self._jobs.get(job_id) for job_id in self._active]
            ahead = [self._estimates.scaled(job_id) for job_id in ids[:place]]
        return place + 1, self._estimates.wait(active, ahead, self.max_jobs)

    def running(self):
        """Jobs not yet done, oldest first."""
        with self._lock:
            self._settle()
            jobs = list(self._jobs.values())
        return [job for job in jobs if not job.snapshot().done]

    def owner(self, job_id):
        """The tab that controls a job or a waiting run (None when unknown)."""
        with self._lock:
            return self._control.owner(job_id)

    def controls(self, job_id, owner, *, owner_connected=None):
        """Whether ``owner`` controls the job or waiting run; records that it is polling.

        A session that is not the owner takes it over when the owner has not polled for
        ``orphan_after`` seconds, unless ``owner_connected`` (a function of an owner, the
        UI's) says the owner's tab is still open (``RunControl.controls``).
        """
        now = time.monotonic()
        with self._lock:
            self._settle()
            if job_id not in self._jobs and self.queued(job_id) is None:
                return False
            return self._control.controls(job_id, owner, owner_connected=owner_connected,
                                          now=now)

    # --- dispatching ------------------------------------------------------------------
    def _dispatch(self):
        """Start waiting runs while a slot is free and the dataset is attached.

        One thread dispatches at a time; the factory runs outside the lock (a Ray backend
        may take a moment), with the slot already reserved. A factory that raises marks
        that entry failed (its tab shows why) and the next entry gets the slot.
        """
        while True:
            with self._lock:
                waiting = self._queue.entries()
                if self._dispatching or not waiting or self._data is None \
                        or len(self._active) >= self.max_jobs:
                    return
                self._dispatching = True
                entry = self._queue.take(waiting[0].id)
                self._active.add(entry.id)
                self._starting[entry.id] = entry
                if entry.resume:
                    self._resumes[entry.id] = entry.resume.get("run")
                data, callbacks = self._data, self._callbacks.pop(entry.id, [])
            try:
                job = self.job_factory(entry.config, data, entry.runs_dir, job_id=entry.id,
                                       owner=entry.owner, resume=entry.resume,
                                       on_done=lambda job_id=entry.id: self._job_done(job_id),
                                       callbacks=callbacks)
                with self._lock:
                    self._jobs[entry.id] = job
                job.start()
            except Exception as error:  # noqa: BLE001 -- the tab shows it; the queue goes on
                with self._lock:
                    self._jobs[entry.id] = StartFailure(entry, error)
                    self._active.discard(entry.id)
                    self._resumes.pop(entry.id, None)
                    self._queue.discard(entry.id)
            finally:
                with self._lock:
                    self._starting.pop(entry.id, None)
                    self._dispatching = False
                    self._forget_old()

    def _job_done(self, job_id):
        """The job's ``on_done`` (its own thread): free the slot, start the next run."""
        job, estimate = self._jobs.get(job_id), self._estimates.estimate(job_id)
        snapshot = job.snapshot() if job is not None and estimate else None
        with self._lock:
            self._estimates.learn(estimate, snapshot)  # how long it took against its estimate
            self._active.discard(job_id)
            self._resumes.pop(job_id, None)
            self._queue.discard(job_id)  # ended before its run folder existed: nothing to redo
        self._dispatch()

    def _resuming(self, run_id):
        """``resuming`` with the lock held: a waiting entry, or a starting or training job
        (not done) that continues ``run_id``."""
        if any((entry.resume or {}).get("run") == run_id for entry in self._queue.entries()):
            return True
        for job_id, resumed in self._resumes.items():
            job = self._jobs.get(job_id)
            if resumed == run_id and (job is None or not job.snapshot().done):
                return True
        return False

    def _settle(self):
        """Delete the files of started entries whose run folder now exists (lock held)."""
        for job_id in list(self._active):
            job = self._jobs.get(job_id)
            if job is not None and self._queue.has_file(job_id) and job.snapshot().run_dir:
                self._queue.discard(job_id)

    def _forget_old(self):
        done = [job_id for job_id in self._jobs if job_id not in self._active]
        for job_id in done[:-KEEP_FINISHED] if len(done) > KEEP_FINISHED else []:
            del self._jobs[job_id]
            self._estimates.forget(job_id)
            self._control.forget(job_id)
