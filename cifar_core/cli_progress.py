"""The command line's one self-overwriting progress line, from Keras or from a job.

``train`` draws it from a Keras callback in its own process (``progress_callback``); with
``--backend ray`` the run trains elsewhere, so ``train_on_ray`` draws the same line from
the Ray job's snapshots (``draw_snapshot``). Nothing here imports TensorFlow or Ray until
a function is called.
"""

import sys
import time


def progress_callback(stream=None, every_seconds=0.5):
    """A Keras callback drawing one self-overwriting progress line on ``stream`` (stderr)."""
    from cifar_core.backend import keras

    stream = stream or sys.stderr

    class ProgressLine(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.started = self.shown = time.time()
            self.epochs = self.params.get("epochs") or 1
            self.steps = self.params.get("steps") or 0
            self.seen = 0
            self.first_epoch = None  # a resumed run's fit starts at a later epoch

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            self.first_epoch = epoch if self.first_epoch is None else self.first_epoch

        def on_train_batch_end(self, batch, logs=None):
            self.seen += 1
            now = time.time()
            if now - self.shown < every_seconds:
                return
            self.shown = now
            logs = logs or {}
            total = (self.epochs - self.first_epoch) * self.steps
            rate = self.seen / max(now - self.started, 1e-9)  # steps per second
            eta = (total - self.seen) / rate if total and rate else 0
            stream.write(f"\repoch {self.epoch + 1}/{self.epochs}  batch {batch + 1}/{self.steps}  "
                         f"loss {logs.get('loss', float('nan')):.3f}  "
                         f"accuracy {logs.get('accuracy', float('nan')):.3f}  "
                         f"ETA {int(eta) // 60}:{int(eta) % 60:02d}   ")
            stream.flush()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            validation = (f"  val_accuracy {logs['val_accuracy']:.3f}"
                          if "val_accuracy" in logs else "")
            stream.write(f"\repoch {epoch + 1}/{self.epochs}  loss {logs.get('loss', 0):.3f}  "
                         f"accuracy {logs.get('accuracy', 0):.3f}{validation}  "
                         f"{time.time() - self.started:.0f} s" + " " * 20 + "\n")
            stream.flush()

    return ProgressLine()


def train_on_ray(config, dataset, runs_dir=None, address=None, stream=None):
    """Train as a Ray actor, drawing the progress line from its snapshots; the finished
    run's record, or None (after one line on stderr) when the run failed on the worker."""
    from cifar_core.training import ray_jobs, runs

    stream = stream or sys.stderr
    job = ray_jobs.RayTrainingJob(config, dataset, runs_dir, address=address).start()
    try:
        shown = 0  # validation points already written as an epoch's line
        while not job.join(0.5):
            shown = draw_snapshot(job.snapshot(), shown, stream)
    except KeyboardInterrupt:
        job.stop()  # the worker saves what it has, as a stopped local run does
        job.join(60)
        raise
    snapshot = job.snapshot()
    draw_snapshot(snapshot, shown, stream)
    record = runs.read_run(snapshot.run_dir) if snapshot.run_dir else None
    if snapshot.state != "finished" or record is None:
        print(f"python -m cifar_core: error: the run {snapshot.state} on Ray: "
              f"{snapshot.error or 'no run folder came back'}", file=stream)
        return None
    return record


def draw_snapshot(snapshot, shown, stream):
    """The progress line of ``progress_callback`` drawn from a job snapshot; returns
    how many epochs' lines are written."""
    for epoch, loss, accuracy in snapshot.validation[shown:]:
        stream.write(f"\repoch {epoch:g}/{snapshot.epochs}  validation loss {loss:.3f}  "
                     f"val_accuracy {accuracy:.3f}  {snapshot.elapsed_seconds:.0f} s"
                     + " " * 20 + "\n")
    if snapshot.training and snapshot.state == "running":
        _, loss, accuracy = snapshot.training[-1]
        eta = int(snapshot.eta_seconds or 0)
        stream.write(f"\repoch {max(snapshot.epoch, 1)}/{snapshot.epochs}  batch "
                     f"{snapshot.batch}/{snapshot.batches}  loss {loss:.3f}  accuracy "
                     f"{accuracy:.3f}  ETA {eta // 60}:{eta % 60:02d}   ")
    stream.flush()
    return len(snapshot.validation)
