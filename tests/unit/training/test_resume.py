"""Resume and train more on the tiny net: a stopped run resumed ends where an uninterrupted
one ends, curves and files continue in place, extra epochs follow their own schedule."""

import dataclasses
import threading

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.models import saving
from cifar_core.training import (
    checkpoints,
    histograms,
    input_pipeline,
    jobs,
    recording,
    runs,
    schedules,
    train_config,
)
from tests.unit.training.doubles import PauseAtBatch

#: Every random draw on: a seeded subset, shuffles, flips alternating, shifts, momentum and
#: a warmup-cosine schedule whose position must carry over. 10 batches an epoch.
CONFIG = train_config.TrainConfig(model="tiny", epochs=2, batch_size=20, optimizer="nesterov",
                                  learning_rate=0.05, schedule="warmup-cosine",
                                  warmup_epochs=0.5, augment=True, flip="alternating",
                                  train_size=200, validation_size=20, seed=3)


class StopWhen(keras.callbacks.Callback):
    """Sets ``event`` at epoch ``epoch``'s end, or after its batch ``batch`` if given."""

    def __init__(self, event, epoch, batch=None):
        super().__init__()
        self.event, self.epoch, self.batch, self.current = event, epoch, batch, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.batch is not None and (self.current, batch) == (self.epoch, self.batch):
            self.event.set()

    def on_epoch_end(self, epoch, logs=None):
        if self.batch is None and epoch == self.epoch:
            self.event.set()


def stopped_run(data, directory, epoch, batch=None, config=CONFIG):
    stop = threading.Event()
    run, _ = recording.train_run(config, data, runs_directory=directory, stop_event=stop,
                                 callbacks=[StopWhen(stop, epoch, batch)])
    return runs.read_run(run.path)


def weights(run_path):
    return saving.load_model(run_path / "model.keras").get_weights()


@pytest.fixture(scope="module")
def uninterrupted(tiny_data, tmp_path_factory):
    run, _ = recording.train_run(CONFIG, tiny_data,
                                 runs_directory=tmp_path_factory.mktemp("whole"))
    return runs.read_run(run.path)


def assert_same_training(record, reference):
    """Same history (but the seconds) and the same final weights, up to float noise."""
    drop = ("seconds",)
    rows = [{key: value for key, value in row.items() if key not in drop}
            for row in record.history()]
    expected = [{key: value for key, value in row.items() if key not in drop}
                for row in reference.history()]
    assert [row["epoch"] for row in rows] == [row["epoch"] for row in expected]
    for row, other in zip(rows, expected):
        assert row == pytest.approx(other, rel=1e-4, abs=1e-5)
    for mine, theirs in zip(weights(record.path), weights(reference.path)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)


def test_a_run_stopped_after_epoch_1_and_resumed_equals_an_uninterrupted_run(
        tiny_data, tmp_path, uninterrupted):
    record = stopped_run(tiny_data, tmp_path, epoch=0)
    assert record.state == "stopped" and checkpoints.read_meta(record.path)["epoch"] == 1
    assert checkpoints.can_resume(record)
    run, result = recording.train_run(None, tiny_data, runs_directory=tmp_path,
                                      resume={"run": record.id, "more_epochs": 0})
    assert run.path == record.path and len(runs.list_runs(tmp_path)) == 1  # in place
    resumed = runs.read_run(record.path)
    assert resumed.state == "finished" and 0 <= resumed.status["test_accuracy"] <= 1
    assert [row["epoch"] for row in resumed.history()] == [1.0, 2.0]
    assert resumed.history()[1]["seconds"] >= resumed.history()[0]["seconds"]
    assert_same_training(resumed, uninterrupted)
    # On the CPU the same batches give the very same weights, bit for bit.
    for mine, theirs in zip(weights(resumed.path), weights(uninterrupted.path)):
        np.testing.assert_array_equal(mine, theirs)
    assert resumed.filter_epochs() == [0, 1, 2]
    assert histograms.epochs(resumed.path) == [0, 1, 2]
    assert len(list((resumed.path / "tensorboard").glob("events.out.tfevents*"))) == 2
    assert checkpoints.read_meta(resumed.path)["epoch"] == 2
    assert saving.load_model(resumed.model_path).name == "tiny"  # loadable as ever
    assert not checkpoints.can_resume(resumed) and checkpoints.can_train_more(resumed)


def test_a_run_stopped_mid_epoch_redoes_that_epoch(tiny_data, tmp_path, uninterrupted):
    record = stopped_run(tiny_data, tmp_path, epoch=1, batch=3)  # 4 of epoch 2's 10 batches
    assert [row["epoch"] for row in record.history()] == [1.0, 2.0]  # 2: the partial epoch
    assert checkpoints.read_meta(record.path)["epoch"] == 1  # a partial epoch is no checkpoint
    assert "Epoch 2 was cut short" in checkpoints.resume_summary(record)
    recording.train_run(None, tiny_data, runs_directory=tmp_path,
                        resume={"run": record.id, "more_epochs": 0})
    resumed = runs.read_run(record.path)
    assert resumed.state == "finished"
    assert_same_training(resumed, uninterrupted)


def test_train_more_extends_the_run_with_a_fresh_cosine(tiny_data, tmp_path, uninterrupted):
    record = stopped_run(tiny_data, tmp_path, epoch=5)  # never stops: finishes its 2 epochs
    assert record.state == "finished" and checkpoints.can_train_more(record)
    recording.train_run(None, tiny_data, runs_directory=tmp_path,
                        resume={"run": record.id, "more_epochs": 2})
    longer = runs.read_run(record.path)
    assert longer.state == "finished" and longer.config["epochs"] == 4
    assert longer.status["epochs_before"] == 2 and longer.status["segments"] == [2]
    history = longer.history()
    assert [row["epoch"] for row in history] == [1.0, 2.0, 3.0, 4.0]
    assert history[1]["learning_rate"] == pytest.approx(0.0, abs=1e-7)  # the first cosine's end
    # Half-way down the new cosine from a quarter of the peak: 0.05 * 0.25 * 0.5.
    assert history[2]["learning_rate"] == pytest.approx(0.05 * schedules.MORE_EPOCHS_PEAK / 2)
    assert history[3]["learning_rate"] == pytest.approx(0.0, abs=1e-7)
    assert longer.filter_epochs() == [0, 1, 2, 3, 4]
    assert saving.load_model(longer.model_path).name == "tiny"
    assert not np.array_equal(weights(longer.path)[0], weights(uninterrupted.path)[0])
    recording.train_run(None, tiny_data, runs_directory=tmp_path,
                        resume={"run": record.id, "more_epochs": 1})
    again = runs.read_run(record.path)
    assert again.config["epochs"] == 5 and again.status["segments"] == [2, 4]
    assert len(again.history()) == 5


def test_segments_continue_the_schedule_they_extend():
    steps = 10
    cosine = dataclasses.replace(CONFIG, epochs=4)
    first = schedules.learning_rate_schedule(CONFIG, steps)
    extended = schedules.learning_rate_schedule(cosine, steps, segments=(2,))
    for step in (0, 3, 5, 12, 19):  # the original schedule, untouched
        assert float(extended(step)) == pytest.approx(float(first(step)))
    assert float(extended(20)) == pytest.approx(0.05 * schedules.MORE_EPOCHS_PEAK)
    assert float(extended(40)) == pytest.approx(0.0, abs=1e-7)
    decay = dataclasses.replace(CONFIG, schedule="time-decay")
    schedule = schedules.learning_rate_schedule
    longer_decay = schedule(dataclasses.replace(decay, epochs=4), steps, segments=(2,))
    assert float(longer_decay(30)) == pytest.approx(float(schedule(decay, steps)(30)))
    constant = dataclasses.replace(CONFIG, schedule="constant", epochs=4)
    assert schedules.learning_rate_schedule(constant, steps, segments=(2,)) == 0.05
    with pytest.raises(ValueError, match="segments"):
        schedules.learning_rate_schedule(cosine, steps, segments=(4,))


def test_a_pipeline_started_at_epoch_k_gives_the_batches_of_epoch_k():
    images = np.random.default_rng(0).integers(0, 256, (30, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(30) % 10

    def batches(first_epoch):
        dataset = input_pipeline.make_dataset(images, labels, 8, shuffle=True, augment=True,
                                              seed=5, epochs=3, flip="alternating",
                                              first_epoch=first_epoch)
        return [batch for batch, _ in dataset.as_numpy_iterator()]

    whole, later = batches(0), batches(2)
    assert len(whole) == 12 and len(later) == 4
    for mine, theirs in zip(later, whole[8:]):
        np.testing.assert_array_equal(mine, theirs)
    assert batches(0)[0].tobytes() == whole[0].tobytes()  # draws do not depend on history
    with pytest.raises(ValueError, match="first_epoch"):
        input_pipeline.make_dataset(images, labels, 8, epochs=3, first_epoch=4)


def test_a_job_resumes_through_the_background_thread(tiny_data, tmp_path):
    record = stopped_run(tiny_data, tmp_path, epoch=0)
    job = jobs.TrainingJob(train_config.TrainConfig.from_dict(record.config), tiny_data,
                           tmp_path, resume={"run": record.id, "more_epochs": 1}).start()
    assert job.join(120)
    snapshot = job.snapshot()
    assert snapshot.state == "finished", snapshot.error
    assert snapshot.epochs == 3 and snapshot.config.epochs == 3  # 2, and 1 more
    assert [point[0] for point in snapshot.validation] == [1.0, 2.0, 3.0]  # the curve goes on
    assert snapshot.training[0][0] == 1.0  # epoch 1's end, from the history
    assert snapshot.run_dir == str(record.path)
    assert [row["epoch"] for row in runs.read_run(record.path).history()] == [1.0, 2.0, 3.0]


def test_a_refused_resume_fails_the_job_with_the_reason_and_leaves_the_run(tiny_data, tmp_path):
    pause = PauseAtBatch(epoch=0, batch=1)
    first = jobs.TrainingJob(dataclasses.replace(CONFIG, epochs=50), tiny_data, tmp_path,
                             callbacks=[pause]).start()
    assert pause.reached.wait(120)
    try:
        run_id = first.snapshot().run_dir.rsplit("/", 1)[-1]
        with pytest.raises(ValueError, match=f"{run_id} is still running"):
            recording.train_run(None, tiny_data, runs_directory=tmp_path,
                                resume={"run": run_id})
        second = jobs.TrainingJob(CONFIG, tiny_data, tmp_path,
                                  resume={"run": run_id, "more_epochs": 0}).start()
        assert second.join(60)
        assert second.snapshot().state == "failed"
        assert f"{run_id} is still running" in second.snapshot().error
        assert runs.read_run(tmp_path / run_id).state == "running"
    finally:
        first.stop()
        pause.go.set()
        assert first.join(120)
    # Stopped in its first epoch: no complete epoch, no checkpoint to resume from.
    with pytest.raises(ValueError, match=f"{run_id} has no checkpoint"):
        recording.train_run(None, tiny_data, runs_directory=tmp_path, resume={"run": run_id})
    assert runs.read_run(tmp_path / run_id).state == "stopped"


def test_a_designed_network_without_convolutions_resumes_with_dropout_and_ema(tiny_data,
                                                                              tmp_path):
    """No filters to record; dropout's seed state, batch norm's statistics and the weight
    average (``ema``) all carry over."""
    from cifar_core.models import design

    blocks = [{**design.new_block(kind), **settings} for kind, settings in (
        ("flatten", {}), ("dense", {"units": 32}), ("batch_norm", {}),
        ("dropout", {"rate": 0.3}))]
    config = dataclasses.replace(CONFIG, model="designed", ema=True, optimizer="adam",
                                 learning_rate=0.003, design={"format": design.FORMAT,
                                                              "version": design.VERSION,
                                                              "name": "dense",
                                                              "blocks": blocks})
    whole, _ = recording.train_run(config, tiny_data, runs_directory=tmp_path / "whole")
    record = stopped_run(tiny_data, tmp_path / "parts", epoch=0, config=config)
    assert checkpoints.can_resume(record) and record.filter_epochs() == []
    recording.train_run(None, tiny_data, runs_directory=tmp_path / "parts",
                        resume={"run": record.id})
    resumed = runs.read_run(record.path)
    assert resumed.state == "finished" and resumed.filter_epochs() == []
    assert_same_training(resumed, runs.read_run(whole.path))


def test_the_command_line_trains_more_and_refuses_what_cannot_continue(tiny_archive, tmp_path,
                                                                       monkeypatch, capsys):
    from cifar_core import cli, data

    archive, _ = tiny_archive
    real_load = data.load_cifar10
    monkeypatch.setattr(data, "load_cifar10", lambda path=None, progress=None: real_load(
        path, progress=progress, expected_counts=None, download=False))
    where = ["--data", str(archive), "--runs-dir", str(tmp_path / "runs")]
    assert cli.main(["train", "--preset", "demo", "--epochs", "1", "--batch-size", "20",
                     *where]) == 0
    (record,) = runs.list_runs(tmp_path / "runs")
    capsys.readouterr()
    for argv, words in ((["--resume", record.id], "ask for more epochs"),
                        (["--resume", record.id, "--epochs", "3"], "--epochs"),
                        (["--resume", record.id, "--preset", "fast"], "--preset"),
                        (["--more-epochs", "2"], "--more-epochs needs --resume"),
                        (["--resume", "gone", "--more-epochs", "1"], "no run 'gone'")):
        assert cli.main(["train", *argv, *where]) == 2, argv
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and words in error, (argv, error)
    assert cli.main(["train", "--resume", record.id, "--more-epochs", "1", *where]) == 0
    captured = capsys.readouterr()
    assert f"run: {record.path} (epochs 2)" in captured.out and "test accuracy:" in captured.out
    assert "epoch 2/2" in captured.err
    after = runs.read_run(record.path)
    assert after.state == "finished" and [row["epoch"] for row in after.history()] == [1.0, 2.0]


def test_airbench_recipe_resumes_bit_for_bit_with_its_lookahead_and_frozen_bias(
        tiny_data, tmp_path):
    """The slow weights and the step that freezes the whitening bias live in the optimizer's
    state: a resumed run must pick both up, or its weights would drift. Five epochs of 10
    steps: Lookahead runs from step 35, the stop comes after epoch 4 (step 40)."""
    config = train_config.preset("fast", model="fast-small", epochs=5, batch_size=20,
                                 train_size=200, validation_size=20, seed=3,
                                 whitening_bias_epochs=1)
    whole, _ = recording.train_run(config, tiny_data, runs_directory=tmp_path / "whole")
    record = stopped_run(tiny_data, tmp_path / "stopped", epoch=3, config=config)
    assert record.state == "stopped" and checkpoints.read_meta(record.path)["epoch"] == 4
    recording.train_run(None, tiny_data, runs_directory=tmp_path / "stopped",
                        resume={"run": record.id, "more_epochs": 0})
    resumed = runs.read_run(record.path)
    assert resumed.state == "finished"
    for mine, theirs in zip(weights(resumed.path), weights(whole.path)):
        np.testing.assert_array_equal(mine, theirs)
