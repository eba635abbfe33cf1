"""Sweeps: typed values checked in TrainConfig's words, the grid, its limit, the launch."""

import dataclasses
import json
import time
import types

import numpy as np
import pytest

from cifar_core.training import job_registry, run_queue, sweeps, train_config
from tests.unit.training.fake_jobs import FakeFactory

BASE = train_config.preset("minute", student="Ada")
#: What the registry reads of a dataset before a fake job "trains" on it.
DATA = types.SimpleNamespace(x_train=range(50000))


@pytest.mark.parametrize("name, typed, expected", [
    ("learning_rate", "0.01, 0.03, 0.1", [0.01, 0.03, 0.1]),
    ("learning_rate", " 1e-3;0.2  3 ", [0.001, 0.2, 3.0]),
    ("batch_size", "64,128,256", [64, 128, 256]),
    ("batch_size", "32 64.0", [32, 64]),
    ("epochs", "1, 2", [1, 2]),
    ("weight_decay", "0, 5e-4", [0.0, 0.0005]),
    ("label_smoothing", "0, 0.1, 0.2", [0.0, 0.1, 0.2]),
    ("momentum", "0.5, 0.9", [0.5, 0.9]),
    ("train_size", "1000, 5000, all", [1000, 5000, None]),
    ("train_size", "0, 300", [None, 300]),
    ("augment", "off, ON", [False, True]),
])
def test_typed_values_are_read_in_typed_order(name, typed, expected):
    values = sweeps.parse_values(name, typed, BASE)
    assert values == expected
    assert [type(value) for value in values] == [type(value) for value in expected]


@pytest.mark.parametrize("name, typed, message", [
    ("learning_rate", "0.01, 0", "learning rate 0: must be greater than 0"),
    ("learning_rate", "0.1, 500", r"learning rate 500: must be a number in \[0.0, 100.0\]"),
    ("learning_rate", "0.1, fast", "learning rate: 'fast' is not a number"),
    ("learning_rate", "nan", "learning rate nan: must be a number"),
    ("batch_size", "64, 0", "batch size 0: must be an integer >= 1"),
    ("batch_size", "64, 9000", "batch size 9000: must be at most 8192"),
    ("batch_size", "64, 96.5", "batch size: '96.5' is not a whole number"),
    ("epochs", "2, -1", "epochs -1: must be an integer >= 1"),
    ("label_smoothing", "0.1, 1", "label smoothing 1: must be below 1"),
    ("momentum", "0.9, 1.5", r"momentum 1.5: must be a number in \[0.0, 1.0\]"),
    ("train_size", "300, -5", r"training images -5: must be None \(all\) or an integer >= 1"),
    ("augment", "on, maybe", "augmentation: 'maybe' is not on or off"),
    ("learning_rate", "0.1, 0.10", "learning rate 0.1 is typed twice"),
    ("learning_rate", " , ", "type the values to compare"),
    ("learning_rate", ", ".join(["0.1"] * 13), "13 values are more than a sweep's 12 runs"),
])
def test_a_bad_value_is_named_in_trainconfigs_words(name, typed, message):
    with pytest.raises(ValueError, match=message):
        sweeps.parse_values(name, typed, BASE)


@pytest.mark.parametrize("name", ["optimizer", "seed", "model", "student", "sweep"])
def test_only_the_sweepable_fields_may_be_swept(name):
    with pytest.raises(ValueError, match=f"cannot sweep {name!r}"):
        sweeps.parse_values(name, "1, 2")


def test_values_are_checked_on_the_base_recipe():
    designed = train_config.TrainConfig()  # any base; the check is TrainConfig's own
    assert sweeps.parse_values("batch_size", "8, 16", designed) == [8, 16]
    with pytest.raises(ValueError, match="expected typed text"):
        sweeps.parse_values("batch_size", 64)


@pytest.mark.parametrize("preset", sorted(train_config.PRESETS))
def test_the_forms_suggestions_parse_and_make_a_sweep(preset):
    base = train_config.preset(preset)
    for name in sweeps.SWEEP_FIELDS:
        values = sweeps.parse_values(name, sweeps.suggested_text(name, base), base)
        assert len(values) >= 2, (name, values)
        assert sweeps.grid(base, {name: values})


def test_the_grid_varies_the_first_field_fastest_and_labels_one_sweep():
    configs = sweeps.grid(BASE, {"learning_rate": [0.1, 0.2, 0.3], "batch_size": [64, 256]})
    assert [(config.learning_rate, config.batch_size) for config in configs] == [
        (0.1, 64), (0.2, 64), (0.3, 64), (0.1, 256), (0.2, 256), (0.3, 256)]
    sweep_ids = {config.sweep for config in configs}
    assert len(sweep_ids) == 1 and next(iter(sweep_ids)).startswith("sweep-")
    for config in configs:  # the rest of the recipe and the student's name are kept
        assert dataclasses.replace(config, learning_rate=BASE.learning_rate,
                                   batch_size=BASE.batch_size, sweep="") == BASE
    assert sweeps.swept_fields(configs) == ["learning_rate", "batch_size"]
    assert sweeps.swept_fields([config.to_dict() for config in configs[:3]]) == ["learning_rate"]


def test_each_grid_gets_a_fresh_sweep_id_that_trainconfig_accepts():
    first, second = sweeps.new_sweep_id(), sweeps.new_sweep_id()
    assert first != second
    assert len(first) <= train_config.LABEL_LENGTH
    assert train_config.TrainConfig(sweep=first).sweep == first
    assert sweeps.grid(BASE, {"epochs": [1, 2]}, sweep_id="mine")[0].sweep == "mine"


@pytest.mark.parametrize("axes, message", [
    ({"learning_rate": [0.1, 0.2, 0.3, 0.4], "batch_size": [32, 64, 128, 256]},
     r"a sweep of 16 runs \(4 x 4\) is more than 12"),
    ({"learning_rate": [0.001 * number for number in range(1, 14)]},
     r"a sweep of 13 runs \(13\) is more than 12"),
    ({}, "one or two fields, not 0"),
    ({"learning_rate": [0.1, 0.2], "epochs": [1, 2], "momentum": [0.5, 0.9]},
     "one or two fields, not 3"),
    ({"learning_rate": [0.1]}, "learning rate: type at least 2 values"),
    ({"optimizer": ["adam", "sgd"]}, "cannot sweep 'optimizer'"),
])
def test_a_grid_beyond_the_limits_is_refused_with_its_count(axes, message):
    with pytest.raises(ValueError, match=message):
        sweeps.grid(BASE, axes)


def test_twelve_runs_are_allowed():
    axes = {"learning_rate": [0.05, 0.1, 0.2, 0.4], "batch_size": [64, 128, 256]}
    assert len(sweeps.grid(BASE, axes)) == sweeps.MAX_RUNS == 12


def test_the_estimate_is_the_queues_own_summed():
    configs = sweeps.grid(BASE, {"learning_rate": [0.1, 0.3, 0.4]})
    each = [run_queue.estimate_seconds(config, 50000) for config in configs]
    assert each[0] > 0 and sweeps.estimated_seconds(configs, 50000) == pytest.approx(sum(each))
    smaller = sweeps.grid(dataclasses.replace(BASE, train_size=5000),
                          {"learning_rate": [0.1, 0.3, 0.4]})
    assert sweeps.estimated_seconds(smaller) == pytest.approx(sum(each) / 10)
    designed_like = sweeps.grid(train_config.TrainConfig(), {"epochs": [1, 2]})  # never timed
    assert sweeps.estimated_seconds(designed_like) is None


@pytest.mark.parametrize("value, text", [(0.01, "0.01"), (64, "64"), (None, "all"),
                                         (True, "on"), (False, "off"), (1e-4, "0.0001")])
def test_values_are_written_as_a_teacher_reads_them(value, text):
    assert sweeps.value_text(value) == text
    assert sweeps.run_label({"train_size": 300, "augment": True}) == \
        "training images 300 · augmentation on"


# --- launching ---------------------------------------------------------------------------
@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A real registry (queue on disk under a temporary runs folder) of fake jobs."""
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(tmp_path))
    factory = FakeFactory(make_run=True)
    registry = job_registry.JobRegistry(max_jobs=1, job_factory=factory, per_tab_limit=1)
    registry.factory = factory
    return registry


def test_a_launch_queues_one_submission_and_keeps_the_plan(registry, tmp_path):
    configs = sweeps.grid(BASE, {"learning_rate": [0.1, 0.2, 0.3]})
    ids = sweeps.launch(registry, configs, DATA, owner="tab-1")
    assert len(ids) == 3 and registry.get(ids[0]) is not None  # the first one trains at once
    assert [registry.queued(job_id) is not None for job_id in ids[1:]] == [True, True]
    plan = json.loads((tmp_path / ".sweeps" / f"{configs[0].sweep}.json").read_text())
    assert plan["fields"] == ["learning_rate"] and plan["jobs"] == ids
    assert plan["points"] == [{"learning_rate": value} for value in (0.1, 0.2, 0.3)]
    assert plan["base"]["student"] == "Ada" and sweeps.read_plan(configs[0].sweep) == plan

    # A sweep counts as one submission: this tab's limit (1) is reached, the plan is not kept.
    more = sweeps.grid(BASE, {"epochs": [1, 2]})
    with pytest.raises(job_registry.QueueFull, match="a sweep counts as one"):
        sweeps.launch(registry, more, DATA, owner="tab-1")
    assert sweeps.read_plan(more[0].sweep) is None
    assert sweeps.launch(registry, more, DATA, owner="tab-2")  # another tab may


def test_a_launch_needs_one_sweep_id(registry):
    configs = sweeps.grid(BASE, {"epochs": [1, 2]})
    for bad in ([], [configs[0], dataclasses.replace(configs[1], sweep="other")],
                [dataclasses.replace(config, sweep="") for config in configs]):
        with pytest.raises(ValueError, match="same, non-empty sweep id"):
            sweeps.launch(registry, bad, DATA, owner="tab-1")
    assert registry.queue() == []


@pytest.mark.parametrize("sweep_id", ["../escape", "", ".hidden", "a/b", None])
def test_a_plan_path_is_only_made_of_a_plain_id(sweep_id):
    with pytest.raises(ValueError, match="not a sweep id"):
        sweeps.plan_path(sweep_id)


# --- end to end ---------------------------------------------------------------------------
def wait_until_done(registry, ids, seconds=300):
    """Poll the registry as the page does until every run of ``ids`` has ended."""
    deadline = time.monotonic() + seconds
    while True:
        jobs = [registry.get(job_id) for job_id in ids]
        if all(job is not None and job.snapshot().done for job in jobs):
            return jobs
        assert time.monotonic() < deadline, [registry.queued(job_id) for job_id in ids]
        time.sleep(0.2)


def test_a_real_sweep_of_three_tiny_runs_lands_in_three_run_folders(tmp_path, monkeypatch):
    from cifar_core import data
    from cifar_core.training import sweep_results

    runs_folder = tmp_path / "runs"
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(runs_folder))
    generator = np.random.default_rng(0)
    images = generator.integers(0, 256, size=(450, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(450, dtype=np.int64) % 10
    dataset = data.Cifar10(images[:300], labels[:300], images[300:], labels[300:], source="test")
    base = train_config.TrainConfig(model="tiny", epochs=1, batch_size=50, optimizer="adam",
                                    schedule="constant", train_size=300, validation_size=100,
                                    student="Ada")
    configs = sweeps.grid(base, {"learning_rate": sweeps.parse_values(
        "learning_rate", "0.001, 0.003, 0.01", base)})
    registry = job_registry.JobRegistry(max_jobs=1)
    ids = sweeps.launch(registry, configs, dataset, owner="tab-1")
    jobs = wait_until_done(registry, ids)
    assert [job.snapshot().state for job in jobs] == ["finished"] * 3, \
        [job.snapshot().error for job in jobs]

    folders = [path for path in runs_folder.iterdir() if not path.name.startswith(".")]
    configs_on_disk = [json.loads((path / "config.json").read_text()) for path in folders]
    assert len(folders) == 3
    assert {fields["sweep"] for fields in configs_on_disk} == {configs[0].sweep}
    assert sorted(fields["learning_rate"] for fields in configs_on_disk) == [0.001, 0.003, 0.01]
    assert {fields["student"] for fields in configs_on_disk} == {"Ada"}

    results = sweep_results.read_sweep(configs[0].sweep, registry=registry)
    assert len(results.frame) == 3 and results.settled
    assert list(results.frame["learning rate"]) == [0.001, 0.003, 0.01]
    assert list(results.frame["state"]) == ["finished"] * 3
    assert results.frame["final validation accuracy"].between(0, 1).all()
    assert sorted(results.frame["run"]) == sorted(path.name for path in folders)
    assert sweep_results.sweep_ids() == [configs[0].sweep]
    assert set(sweep_results.sweep_curves(results)["run"]) == {
        "learning rate 0.001", "learning rate 0.003", "learning rate 0.01"}
