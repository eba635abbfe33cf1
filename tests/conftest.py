"""Shared fixtures: tiny generated archives, the real dataset when present, isolated dirs."""

import hashlib
import http.server
import threading

import pytest

from tests import cifar_fixtures
from tests.paths import real_dataset_path


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


@pytest.fixture(scope="module")
def tiny_model():
    """An untrained ``tiny`` model (seed 0), built once per test module."""
    from cifar_core.models import (
        architectures,  # Imported here: Keras loads only for tests that need a model.
    )

    return architectures.build_model("tiny", seed=0)


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """An untrained ``tiny`` model saved as ``tiny.keras`` in a temp models dir.

    Its JSON card is saved beside it.
    """
    from cifar_core.models import (  # Imported here: Keras loads only for tests that need a model.
        architectures,
        saving,
    )

    directory = tmp_path_factory.mktemp("models")
    model = architectures.build_model("tiny", seed=0)
    path = saving.save_model(model, directory / "tiny.keras")
    saving.write_model_card(path, architecture="tiny", recipe="tests/conftest.py (untrained)",
                            epochs=0, test_accuracy=0.1, parameters=model.count_params())
    return path


@pytest.fixture
def models_dir(tiny_model_path, monkeypatch):
    """A models directory holding the tiny model, set as $CIFAR_MODELS_DIR so pages find it."""
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(tiny_model_path.parent))
    return tiny_model_path.parent


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.payload`` at /cifar-10-python.tar.gz, cut short under /dropped/."""

    def do_GET(self):  # noqa: N802 - the name http.server calls
        self.server.requests.append(self.path)
        payload = self.server.payload
        if not self.path.endswith("/cifar-10-python.tar.gz"):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))  # always the full size
        self.end_headers()
        if self.path.startswith("/dropped/"):
            self.wfile.write(payload[: len(payload) // 2])  # then hang up half-way
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def archive_server(tmp_path):
    """A threaded HTTP server on a free local port; yields (base URL, payload, its MD5)."""
    archive = tmp_path / "served.tar.gz"
    arrays = cifar_fixtures.write_archive(archive, seed=11)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.payload = archive.read_bytes()
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{httpd.server_port}", "httpd": httpd, "arrays": arrays,
               "md5": hashlib.md5(httpd.payload).hexdigest(), "size": len(httpd.payload)}
    finally:
        httpd.shutdown()
        httpd.server_close()
