"""The job registry: training slots, one job per tab, who controls a job, $CIFAR_MAX_JOBS."""

import dataclasses

import pytest

from cifar_core.training import job_registry
from tests.unit.training.doubles import TINY, PauseAtBatch


def test_one_slot_one_controlling_tab_and_a_plain_busy_message(tiny_data, tmp_path):
    config = dataclasses.replace(TINY, epochs=1, validation_size=0)
    registry = job_registry.JobRegistry(max_jobs=1, orphan_after=3600)
    pause = PauseAtBatch()
    first = registry.start(config, tiny_data, owner="tab-1", runs_dir=tmp_path, callbacks=[pause])
    assert pause.reached.wait(120)
    with pytest.raises(job_registry.TrainerBusy, match="The trainer is busy"):
        registry.start(config, tiny_data, owner="tab-2", runs_dir=tmp_path)
    assert registry.running() == [first]

    with pytest.raises(job_registry.TrainerBusy, match="already training"):
        registry.start(config, tiny_data, owner="tab-1", runs_dir=tmp_path)  # one per tab
    assert registry.controls(first.id, "tab-1")
    assert not registry.controls(first.id, "tab-2")  # tab 1 still polls: tab 2 only watches
    registry.orphan_after = 0.0  # tab 1 went quiet (refreshed or closed)
    assert registry.controls(first.id, "tab-2") and registry.owner(first.id) == "tab-2"
    assert not registry.controls("no-such-job", "tab-2")

    first.stop()
    pause.go.set()
    assert first.join(120) and registry.running() == []
    second = registry.start(config, tiny_data, owner="tab-3", runs_dir=tmp_path)
    second.stop()  # the slot was freed; no need to train it through
    assert second.join(120) and second.snapshot().state == "stopped"
    assert registry.get(first.id) is first


@pytest.mark.parametrize("setting, expected", [(None, 1), ("3", 3)])
def test_max_jobs_setting(monkeypatch, setting, expected):
    if setting is None:
        monkeypatch.delenv("CIFAR_MAX_JOBS", raising=False)
    else:
        monkeypatch.setenv("CIFAR_MAX_JOBS", setting)
    assert job_registry.max_jobs_setting() == expected


@pytest.mark.parametrize("setting", ["0", "-2", "two", "1.5"])
def test_bad_max_jobs_setting_names_the_value(monkeypatch, setting):
    monkeypatch.setenv("CIFAR_MAX_JOBS", setting)
    with pytest.raises(ValueError, match=repr(setting).replace(".", r"\.")):
        job_registry.max_jobs_setting()
