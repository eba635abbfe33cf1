"""Training runs in a child process, so the app's server keeps its GIL and its CPUs.

A ``jobs.TrainingJob`` thread inside the Streamlit server shares the interpreter lock and
the cores with every page rerun of every tab (``bench/bench_classroom.py`` measures it with
``CIFAR_TRAINING_BACKEND=thread`` and ``process``). ``ProcessTrainingJob``
has the same interface (``start``, ``stop``, ``join``, ``snapshot``, ``stop_requested``,
``id``, ``config``, ``owner``, ``resume=``), so the registry, the queue and sweeps take it
from ``backends.job_factory()``, but it trains in a fresh Python interpreter started at a
lower CPU priority (``process_child.CHILD_NICENESS``): the pages come first, training gets the
rest. The child runs an ordinary ``jobs.TrainingJob`` writing straight into the app's runs
folder (same machine, same disk), and reports over a pipe every quarter second and when
it ends; a daemon thread here keeps the latest report for ``snapshot()``.

- The dataset: arrays memory-mapped from the decoded cache (``data.load_cifar10``'s) are
  mapped again by the child from the same ``.npy`` files; other arrays (tests' generated
  data) are sent through the pipe.
- ``stop()`` sends "stop": the run ends within one batch, as a thread's does.
- The child exits as soon as this process is gone (the pipe closes or its parent changes),
  leaving its run "running" with the child's pid, which ``runs.mark_interrupted`` then
  marks "interrupted" (resumable), as it does for a killed server's thread.
- A child that dies (killed, out of memory) fails the job with its exit status and marks
  its run "interrupted"; an error inside training shows the child's message, as a thread's.

The child is a plain ``subprocess`` running ``python -c`` rather than a
``multiprocessing`` spawn: Streamlit replaces ``sys.modules["__main__"]`` with the page
script, which a spawned child would execute first. Keras callbacks cannot cross into the
child: ``callbacks`` must be empty (``jobs.TrainingJob`` takes them, for tests). Neither
TensorFlow nor Keras is imported here until a snapshot is built or the child trains.
"""

import os
import signal
import subprocess
import sys
import threading
import uuid
from multiprocessing import connection as connections
from pathlib import Path

from cifar_core import storage
from cifar_core.training import (
    checkpoints,
    job_state,
    process_child,
    run_mirror,
    runs,
    train_config,
)

#: Seconds the parent waits for a child that has reported its end to exit, before killing it.
EXIT_SECONDS = 30.0


def _exit_text(returncode):
    """A child's exit status in words: "exit code 1", "signal SIGKILL"."""
    if returncode is not None and returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


class ProcessTrainingJob(job_state.JobProgress):
    """One training run in a child process, seen from the app like a ``jobs.TrainingJob``.

    ``data`` is a ``Cifar10``; ``runs_dir`` defaults to ``runs.runs_dir()`` (resolved here,
    so the child writes where the app reads). ``resume`` is ``{"run": run id,
    "more_epochs": n}`` (the registry's), continued in place by the child. ``on_done`` is
    called once from the job's thread when it ends. ``pid`` is the child's, once started.
    """

    def __init__(self, config, data, runs_dir=None, *, job_id=None, owner=None, resume=None,
                 on_done=None, callbacks=()):
        if not hasattr(config, "to_dict"):
            raise ValueError(f"config must be a TrainConfig, not {type(config).__name__}")
        if callbacks:
            raise ValueError("Keras callbacks cannot reach a training process: use "
                             "jobs.TrainingJob (the thread backend) for them")
        self.config = train_config.TrainConfig.from_dict(config.to_dict())
        self.id = job_id or uuid.uuid4().hex[:10]
        self.owner = owner
        self.data = data
        self.runs_dir = runs.runs_dir(runs_dir).absolute()
        self.resume = None if resume is None else checkpoints.request(resume)
        self.pid = None
        self._on_done = on_done
        self._process = self._connection = None
        self._start_progress()  # the latest report
        self._send_lock = threading.Lock()  # one message at a time into the pipe
        self._job_sent = False
        self._thread = threading.Thread(target=self._run, name=f"process-training-{self.id}",
                                        daemon=True)

    # --- the page's side --------------------------------------------------------------
    def start(self):
        """Start the child process and the thread that listens to it; returns self."""
        self._started()
        ours, theirs = connections.Pipe()
        code = (f"import sys; sys.path.insert(0, {str(storage.PROJECT_ROOT)!r}); "
                "from cifar_core.training import process_child; "
                f"process_child.child_main({theirs.fileno()}, {os.getpid()})")
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", code], pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                start_new_session=True)  # a Ctrl+C in the server's terminal is the server's
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.pid = self._process.pid
        self._connection = ours
        self._thread.start()
        return self

    def stop(self):
        """Ask the run to end after the current batch; it saves what it has."""
        self._stop.set()
        if self._job_sent:  # else the thread sends it right after the job
            self._send("stop")

    # --- the listening thread ---------------------------------------------------------
    def _send(self, message):
        """Send ``message`` to the child; one that has ended (or is ending) misses it."""
        with self._send_lock:
            try:
                self._connection.send(message)
            except OSError:
                pass  # a closed pipe; a message that cannot be pickled raises

    def _run(self):
        ended = False
        try:
            self._send({"config": self.config.to_dict(), "runs_dir": str(self.runs_dir),
                        "job_id": self.id, "owner": self.owner, "resume": self.resume,
                        "dataset": process_child.dataset_message(self.data)})
            self._job_sent = True
            if self._stop.is_set():
                self._send("stop")
            while not ended:
                try:
                    report = self._connection.recv()
                except (EOFError, OSError):
                    break
                ended = self._receive(report)
        except Exception as error:  # noqa: BLE001 - the run's failure, never the server's
            self._update(state="failed", error=f"{type(error).__name__}: {error}",
                         eta_seconds=None)
            ended = True
        finally:
            self._end_child(ended)
            self._finished()
            if self._on_done is not None:
                self._on_done()

    def _receive(self, report):
        """Keep one report of the child; True when it is the last (the job has ended)."""
        fields = {name: report[name] for name in process_child.REPORTED if name in report}
        self._replace_progress(fields, report.get("training"), report.get("validation"),
                               config=report.get("config"))  # a resumed run's own config
        return bool(report.get("final"))

    def _end_child(self, ended):
        """Close the pipe and wait for the child; one that died first fails the job."""
        with self._send_lock:
            self._connection.close()
        try:
            returncode = self._process.wait(EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()  # its pipe is closed, yet it hangs on exit
            returncode = self._process.wait()
        if not ended:
            self._interrupted(returncode)

    def _interrupted(self, returncode):
        """The child ended before its run did: the run becomes "interrupted" (resumable)."""
        reason = f"the training process ended before the run did ({_exit_text(returncode)})"
        run_dir = self._fields["run_dir"]
        record = run_mirror.end_running_run(Path(run_dir), "interrupted", reason) \
            if run_dir else None
        kept = "; the run is kept as interrupted and can be resumed" \
            if record is not None and record.state == "running" else ""
        self._update(state="failed", error=reason[0].upper() + reason[1:] + kept,
                     eta_seconds=None)
