"""Test-set evaluations in the background: one thread per model file, shared by the server.

A page asks ``EvaluationJobs.get_or_start`` on every run; the first ask starts
``evaluation.cached_evaluation`` in a daemon thread, later asks (any user, any tab) get the
same job and poll its progress, so a model is evaluated once however many people open it.
"""

import threading

from cifar_core.evaluation import cached_evaluation


class EvaluationJob:
    """``cached_evaluation`` in a daemon thread, so a page can poll progress and stay live.

    The thread loads its own copy of the model and never calls Streamlit; the page reads
    ``done``, ``total``, ``result`` and ``error``.
    """

    def __init__(self, model_path, images, labels, dataset_source):
        self.arguments = (model_path, images, labels, dataset_source)
        self.done, self.total = 0, len(labels)
        self.result, self.error = None, None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _progress(self, stage, done, total):
        self.done, self.total = done, total

    def _run(self):
        try:
            self.result = cached_evaluation(*self.arguments, progress=self._progress)
        except Exception as error:  # Reported on the page instead of dying silently.
            self.error = f"{type(error).__name__}: {error}"

    @property
    def finished(self):
        return self.result is not None or self.error is not None


class EvaluationJobs:
    """The server's EvaluationJobs by key (``evaluation.cache_key``), thread-safe.

    A finished job keeps only its Evaluation (the probabilities: 400 KB for the test set),
    so jobs are kept; a failed one stays until ``forget`` so every page shows the error
    rather than retrying a broken file on each poll.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._jobs = {}

    def get_or_start(self, key, model_path, images, labels, dataset_source):
        """The job under ``key``, started now if there is none."""
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                job = EvaluationJob(model_path, images, labels, dataset_source).start()
                self._jobs[key] = job
            return job

    def forget(self, key):
        """Drop the job under ``key`` (a failed one), so the next ask starts afresh."""
        with self._lock:
            self._jobs.pop(key, None)
