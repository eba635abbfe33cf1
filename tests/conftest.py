"""Shared fixtures: tiny generated archives, the real dataset when present, isolated dirs."""

import os
from pathlib import Path

import pytest

from tests import cifar_fixtures

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REAL_ARCHIVE = PROJECT_ROOT.parent / "shared" / "datasets" / "cifar-10-python.tar.gz"


def real_dataset_path():
    """The real CIFAR-10 source named by $CIFAR10_PATH (or the shared copy), if it exists."""
    candidate = os.environ.get("CIFAR10_PATH") or str(DEFAULT_REAL_ARCHIVE)
    path = Path(candidate).expanduser()
    if not path.is_absolute():
        path = (PROJECT_ROOT / path).resolve()
    return path if path.exists() else None


@pytest.fixture
def real_cifar_path():
    """Path to the real dataset; tests that need it skip where it is absent."""
    path = real_dataset_path()
    if path is None:
        pytest.skip("real CIFAR-10 not available (set CIFAR10_PATH)")
    return path


@pytest.fixture
def tiny_archive(tmp_path):
    """A tiny python-format archive: 5 x 20 training and 20 test images of random pixels."""
    path = tmp_path / "cifar-10-python.tar.gz"
    arrays = cifar_fixtures.write_archive(path)
    return path, arrays


@pytest.fixture(scope="session")
def session_cache_dir(tmp_path_factory):
    """One decoded-dataset cache for the whole test session: the real archive is parsed once."""
    return tmp_path_factory.mktemp("cifar-cache")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch, session_cache_dir):
    """Keep every test's caches and runs out of the user's home and the project."""
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(session_cache_dir))
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    real = real_dataset_path()
    if real is not None:
        monkeypatch.setenv("CIFAR10_PATH", str(real))
