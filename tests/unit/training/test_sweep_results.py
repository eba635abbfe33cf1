"""A sweep read back: its plan joined with its run folders and the queue's states."""

import json
import math
import types

import pytest

from cifar_core.training import job_registry, runs, sweep_results, sweeps, train_config
from tests.unit.training.fake_jobs import FakeFactory

BASE = train_config.TrainConfig(model="tiny", epochs=2, validation_size=100)
DATA = types.SimpleNamespace(x_train=range(300))


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A real registry (queue under a temporary runs folder) of fake jobs that make runs."""
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(tmp_path))
    factory = FakeFactory(make_run=True)
    registry = job_registry.JobRegistry(max_jobs=1, job_factory=factory)
    registry.factory = factory
    return registry


def train(job, validation_accuracies, state="finished"):
    """Let a fake job "train": one history row per validation accuracy, then end it."""
    for epoch, accuracy in enumerate(validation_accuracies, start=1):
        job.run.record_epoch(epoch, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.0,
                                     "val_accuracy": accuracy}, seconds=1.0)
    job.run.update(test_accuracy=max(validation_accuracies))
    job.finish(state)


def test_a_sweep_reads_back_one_row_per_grid_point_with_its_state(registry):
    configs = sweeps.grid(BASE, {"learning_rate": [0.01, 0.1], "batch_size": [32, 64]})
    ids = sweeps.launch(registry, configs, DATA, owner="tab-1")
    first = registry.factory.by_id(ids[0])
    train(first, [0.30, 0.45])
    registry.factory.by_id(ids[1]).run.record_epoch(
        1, {"loss": 1, "accuracy": 0.2, "val_loss": 1, "val_accuracy": 0.25}, seconds=1)
    registry.cancel(ids[3], "tab-1")

    results = sweep_results.read_sweep(configs[0].sweep, registry=registry)
    frame = results.frame
    assert results.fields == ("learning_rate", "batch_size")
    assert results.labels == ["learning rate", "batch size"]
    assert list(frame.columns) == ["learning rate", "batch size",
                                   *sweep_results.FRAME_COLUMNS]
    assert list(frame["learning rate"]) == [0.01, 0.1, 0.01, 0.1]
    assert list(frame["batch size"]) == [32, 32, 64, 64]
    assert list(frame["state"]) == ["finished", "running", "queued", "not started"]
    assert list(frame["run label"])[0] == "learning rate 0.01 · batch size 32"
    assert frame["best validation accuracy"][0] == pytest.approx(0.45)
    assert frame["final validation accuracy"][1] == pytest.approx(0.25)
    assert frame["test accuracy"][0] == pytest.approx(0.45)
    assert list(frame["epochs done"]) == ["2 of 2", "1 of 2", "-", "-"]
    assert frame["run"][0] == first.run.id and frame["run"][2] is None
    assert list(frame["job"]) == ids
    assert results.records[0].id == first.run.id and results.records[3] is None
    assert not results.settled

    # Without the registry (another process, a restart), a point with no run is not started.
    alone = sweep_results.read_sweep(configs[0].sweep)
    assert list(alone.frame["state"]) == ["finished", "running", "not started", "not started"]


def test_a_sweep_is_settled_once_every_run_ended(registry):
    configs = sweeps.grid(BASE, {"epochs": [1, 2]})
    ids = sweeps.launch(registry, configs, DATA, owner="tab-1")
    train(registry.factory.by_id(ids[0]), [0.2])
    train(registry.factory.by_id(ids[1]), [0.3, 0.35], state="stopped")
    results = sweep_results.read_sweep(configs[0].sweep, registry=registry)
    assert results.settled and list(results.frame["state"]) == ["finished", "stopped"]
    assert list(results.frame["epochs done"]) == ["1 of 1", "2 of 2"]


def test_the_curves_are_named_by_their_swept_values(registry):
    configs = sweeps.grid(BASE, {"train_size": [100, None]})
    ids = sweeps.launch(registry, configs, DATA, owner="tab-1")
    for job_id, accuracies in zip(ids, ([0.2, 0.3], [0.25, 0.4]), strict=True):
        train(registry.factory.by_id(job_id), accuracies)
    results = sweep_results.read_sweep(configs[0].sweep)
    assert list(results.frame["training images"]) == [100, None]  # raw values, not floats
    curves = sweep_results.sweep_curves(results)
    assert sorted(set(curves["run"])) == ["training images 100", "training images all"]
    validation = curves[curves["split"] == "validation"]
    assert list(validation["accuracy"]) == [0.2, 0.3, 0.25, 0.4]


def test_no_runs_yet_gives_empty_curves(registry):
    configs = sweeps.grid(BASE, {"momentum": [0.5, 0.9]})
    registry.attach(None)
    sweeps._write_plan(configs, None)
    results = sweep_results.read_sweep(configs[0].sweep)
    assert list(results.frame["state"]) == ["not started", "not started"]
    assert sweep_results.sweep_curves(results).empty
    assert results.frame["final validation accuracy"].isna().all()


def make_run(config, accuracies, directory):
    run = runs.start_run(config, directory)
    for epoch, accuracy in enumerate(accuracies, start=1):
        run.record_epoch(epoch, {"loss": 1.0, "accuracy": 0.5, "val_accuracy": accuracy}, 1.0)
    run.finish("finished")
    return run


def test_a_sweep_without_a_plan_is_read_from_its_runs(tmp_path):
    for rate in (0.1, 0.3):
        make_run(train_config.TrainConfig(learning_rate=rate, sweep="by-hand"), [0.5], tmp_path)
    make_run(train_config.TrainConfig(learning_rate=0.2), [0.9], tmp_path)  # not in the sweep
    results = sweep_results.read_sweep("by-hand", tmp_path)
    assert results.fields == ("learning_rate",)
    assert sorted(results.frame["learning rate"]) == [0.1, 0.3]
    assert list(results.frame["job"]) == [None, None]
    with pytest.raises(ValueError, match="no sweep 'nothing'"):
        sweep_results.read_sweep("nothing", tmp_path)
    make_run(train_config.TrainConfig(epochs=3, sweep="Ada's <b>sweep</b>"), [0.4], tmp_path)
    by_name = sweep_results.read_sweep("Ada's <b>sweep</b>", tmp_path)  # no plan can exist
    assert list(by_name.frame["state"]) == ["finished"] and by_name.fields == ()
    assert set(sweep_results.sweep_curves(by_name)["run"]) == {by_name.frame["run"][0]}
    assert "Ada's <b>sweep</b>" in sweep_results.sweep_ids(tmp_path)


def test_a_damaged_plan_falls_back_to_the_runs_and_extra_runs_are_listed(tmp_path):
    configs = sweeps.grid(BASE, {"learning_rate": [0.1, 0.3]}, sweep_id="s1")
    sweeps._write_plan(configs, tmp_path)
    make_run(configs[0], [0.4], tmp_path)
    extra = make_run(train_config.TrainConfig(model="tiny", epochs=2, validation_size=100,
                                              learning_rate=0.9, sweep="s1"), [0.6], tmp_path)
    results = sweep_results.read_sweep("s1", tmp_path)
    assert list(results.frame["learning rate"]) == [0.1, 0.3, 0.9]  # the plan, then the extra
    assert list(results.frame["state"]) == ["finished", "not started", "finished"]
    assert results.frame["run"][2] == extra.id
    sweeps.plan_path("s1", tmp_path).write_text(json.dumps({"sweep": "s1", "fields": [["x"]]}))
    damaged = sweep_results.read_sweep("s1", tmp_path)
    assert sorted(damaged.frame["learning rate"]) == [0.1, 0.9]


def test_a_point_trained_twice_shows_its_latest_run(tmp_path, monkeypatch):
    configs = sweeps.grid(BASE, {"learning_rate": [0.1, 0.3]}, sweep_id="twice")
    sweeps._write_plan(configs, tmp_path)
    clock = iter(range(1000, 2000, 10))
    monkeypatch.setattr(runs.time, "time", lambda: float(next(clock)))
    make_run(configs[0], [0.2], tmp_path)
    latest = make_run(configs[0], [0.5], tmp_path)
    frame = sweep_results.read_sweep("twice", tmp_path).frame
    assert len(frame) == 2 and frame["run"][0] == latest.id
    assert frame["final validation accuracy"][0] == pytest.approx(0.5)


def test_sweeps_are_listed_newest_first_with_plans_not_started_yet(tmp_path, monkeypatch):
    clock = iter(range(1000, 5000, 100))
    monkeypatch.setattr(runs.time, "time", lambda: float(next(clock)))
    monkeypatch.setattr(sweeps.time, "time", lambda: float(next(clock)))
    make_run(train_config.TrainConfig(sweep="old"), [0.1], tmp_path)
    make_run(train_config.TrainConfig(), [0.1], tmp_path)  # no sweep
    sweeps._write_plan(sweeps.grid(BASE, {"epochs": [1, 2]}, sweep_id="planned"), tmp_path)
    make_run(train_config.TrainConfig(sweep="newest"), [0.1], tmp_path)
    (tmp_path / ".sweeps" / "broken.json").write_text("{not json")
    assert sweep_results.sweep_ids(tmp_path) == ["newest", "planned", "old"]
    assert sweep_results.sweep_ids(tmp_path / "missing") == []


def test_accuracies_are_none_before_the_first_validation(tmp_path):
    run = runs.start_run(train_config.TrainConfig(validation_size=0, sweep="quiet"), tmp_path)
    run.record_epoch(1, {"loss": 1.0, "accuracy": 0.3}, 1.0)
    frame = sweep_results.read_sweep("quiet", tmp_path).frame
    assert frame["best validation accuracy"][0] is None or \
        math.isnan(frame["best validation accuracy"][0])
    assert frame["state"][0] == "running"
