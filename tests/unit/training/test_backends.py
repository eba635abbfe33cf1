"""Choosing where training runs: the setting, the job classes, and the Ray backend's plain
parts (resources, files shipped for a resume) that need no Ray installed."""

import subprocess
import sys

import pytest

from cifar_core.storage import PROJECT_ROOT
from cifar_core.training import backends, ray_cluster


@pytest.mark.parametrize("address, name", [
    (None, "process"), ("", "process"), ("   ", "process"), ("auto", "ray"),
    ("ray://head:10001", "ray"), ("local", "ray"),
])
def test_the_address_setting_picks_the_backend(address, name, monkeypatch):
    monkeypatch.delenv(backends.BACKEND_VARIABLE, raising=False)
    if address is None:
        monkeypatch.delenv(backends.ADDRESS_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(backends.ADDRESS_VARIABLE, address)
    assert backends.backend_name() == name
    assert backends.ray_address() == (address or "").strip()


@pytest.mark.parametrize("setting, name", [
    (None, "process"), ("", "process"), ("process", "process"), (" Thread ", "thread"),
    ("local", "thread"),
])
def test_the_backend_setting_picks_a_local_backend(setting, name, monkeypatch):
    monkeypatch.delenv(backends.ADDRESS_VARIABLE, raising=False)
    if setting is None:
        monkeypatch.delenv(backends.BACKEND_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(backends.BACKEND_VARIABLE, setting)
    assert backends.backend_name() == name
    monkeypatch.setenv(backends.ADDRESS_VARIABLE, "auto")  # a Ray address wins
    assert backends.backend_name() == "ray"


@pytest.mark.parametrize("setting", ["threads", "ray", "spark"])
def test_a_bad_backend_setting_is_refused_by_name(setting, monkeypatch):
    monkeypatch.delenv(backends.ADDRESS_VARIABLE, raising=False)
    monkeypatch.setenv(backends.BACKEND_VARIABLE, setting)
    with pytest.raises(ValueError, match=f"CIFAR_TRAINING_BACKEND must be one of .*{setting!r}"):
        backends.backend_name()


def test_job_factory_gives_each_backends_job_class(monkeypatch):
    from cifar_core.training import jobs, process_jobs, ray_jobs

    assert backends.job_factory("thread") is jobs.TrainingJob
    assert backends.job_factory("local") is jobs.TrainingJob  # the thread backend's old name
    assert backends.job_factory("process") is process_jobs.ProcessTrainingJob
    assert backends.job_factory("ray") is ray_jobs.RayTrainingJob
    monkeypatch.delenv(backends.BACKEND_VARIABLE, raising=False)
    monkeypatch.setenv(backends.ADDRESS_VARIABLE, "auto")
    assert backends.job_factory() is ray_jobs.RayTrainingJob
    monkeypatch.delenv(backends.ADDRESS_VARIABLE)
    assert backends.job_factory() is process_jobs.ProcessTrainingJob
    monkeypatch.setenv(backends.BACKEND_VARIABLE, "thread")
    assert backends.job_factory() is jobs.TrainingJob


@pytest.mark.parametrize("name", ["spark", "", "Ray"])
def test_job_factory_refuses_an_unknown_backend(name):
    with pytest.raises(ValueError, match="backend must be one of"):
        backends.job_factory(name)


def loaded_after(imports, candidates):
    """Which of ``candidates`` a fresh interpreter has loaded after ``imports`` (code)."""
    code = f"import sys\n{imports}\nprint(sorted(name for name in {candidates!r} " \
           "if name in sys.modules))\n"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               cwd=PROJECT_ROOT, timeout=300)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip().splitlines()[-1]


def test_reading_the_setting_imports_neither_ray_nor_tensorflow():
    assert loaded_after("from cifar_core.training import backends\nbackends.backend_name()",
                        ["ray", "tensorflow", "keras"]) == "[]"
    assert loaded_after("from cifar_core.training import backends\n"
                        "backends.job_factory('process')", ["ray", "tensorflow", "keras"]) == "[]"


def test_the_ray_backend_imports_without_ray():
    """The default install has no Ray: its modules still import (the dependency tests import
    every module), and Ray loads only when a run connects; the cluster link and the actor's
    class leave TensorFlow to the worker's start."""
    assert loaded_after("from cifar_core.training import ray_cluster, ray_worker",
                        ["ray", "tensorflow", "keras"]) == "[]"
    assert loaded_after("from cifar_core.training import ray_jobs", ["ray"]) == "[]"


@pytest.mark.parametrize("cpus, gpus, expected", [
    (None, None, (1, 0)), ("4", None, (4, 0)), ("2", "0.5", (2, 0.5)), (" 3 ", "1", (3, 1)),
])
def test_run_resources_come_from_the_settings(cpus, gpus, expected, monkeypatch):
    for name, value in (("CIFAR_RAY_CPUS", cpus), ("CIFAR_RAY_GPUS", gpus)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert ray_cluster.resources() == expected


@pytest.mark.parametrize("name, value, words", [
    ("CIFAR_RAY_CPUS", "many", "CIFAR_RAY_CPUS must be a number"),
    ("CIFAR_RAY_CPUS", "0", "at least 1"), ("CIFAR_RAY_CPUS", "0.5", "at least 1"),
    ("CIFAR_RAY_GPUS", "-1", "must not be negative"),
])
def test_bad_resource_settings_name_the_setting(name, value, words, monkeypatch):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=words):
        ray_cluster.resources()


def test_a_resume_ships_the_checkpoint_and_run_files_only(tmp_path):
    from cifar_core.training import ray_jobs

    run = tmp_path / "run-1"
    for relative in ("config.json", "status.json", "history.csv", "checkpoint/state.npz",
                     "model.keras", "filters/epoch_001.npy", "checkpoint/.tmp-1-state.npz"):
        (run / relative).parent.mkdir(parents=True, exist_ok=True)
        (run / relative).write_bytes(relative.encode())
    shipped = ray_jobs.resume_files(run)
    assert shipped == {name: name.encode() for name in
                       ("checkpoint/state.npz", "config.json", "filters/epoch_001.npy",
                        "history.csv", "status.json")}


@pytest.mark.parametrize("resume, words", [
    ({"run": "missing"}, "no run 'missing'"), ({"run": "../up"}, "not a run id"),
    ({"run": "x", "more_epochs": -1}, "more_epochs"), ("a-run", "resume must be"),
])
def test_a_resume_must_name_a_run_of_the_app(resume, words, tiny_data, tmp_path):
    from cifar_core.training import ray_jobs
    from tests.unit.training.doubles import TINY

    with pytest.raises(ValueError, match=words):
        ray_jobs.RayTrainingJob(TINY, tiny_data, tmp_path, resume=resume)
