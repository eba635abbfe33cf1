"""Browser end-to-end fixtures: a real `streamlit run app.py` and Debian's Chromium.

Playwright never downloads a browser here: it drives /usr/bin/chromium. The server runs
on a free port with the real dataset; tests skip where Chromium or the data is missing.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, real_dataset_path

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-dev-shm-usage",
]
#: The selector that says Streamlit finished running the page's script.
SCRIPT_DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'

pytestmark = pytest.mark.e2e


def pytest_configure(config):
    """Assertions on page content wait for it: a busy 2-core machine renders slowly."""
    try:
        from playwright.sync_api import expect
    except ImportError:
        return
    expect.set_options(timeout=30_000)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """`streamlit run app.py` in a child process, stopped by ``close()``."""

    def __init__(self, environment, log_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=PROJECT_ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self._wait_healthy()
        except BaseException:
            self.close()  # No caller gets a server to close: stop it here, not at exit.
            raise

    def _wait_healthy(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited early, see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not become healthy in {timeout} s")

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="session")
def app_environment(tmp_path_factory, session_cache_dir):
    """Environment for the app under test: real data, a private runs folder."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    real = real_dataset_path()
    if real is None:
        pytest.skip("real CIFAR-10 not available (set CIFAR10_PATH)")
    environment = dict(os.environ)
    environment.update(CIFAR10_PATH=str(real), CIFAR10_CACHE_DIR=str(session_cache_dir),
                       CIFAR_RUNS_DIR=str(tmp_path_factory.mktemp("e2e-runs")))
    return environment


@pytest.fixture(scope="session")
def start_app(app_environment, tmp_path_factory):
    """Factory: start another app server with extra environment variables."""
    servers = []

    def start(**overrides):
        environment = dict(app_environment, **{k: str(v) for k, v in overrides.items()})
        log_path = tmp_path_factory.mktemp("streamlit-log") / "streamlit.log"
        server = AppServer(environment, log_path)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="session")
def app_url(start_app):
    """URL of the app started once for the whole session with the default settings."""
    return start_app().url


@pytest.fixture(scope="session")
def browser():
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def wait_for_script(page, timeout=60_000):
    """Wait until Streamlit has finished running the page's script."""
    page.wait_for_selector(SCRIPT_DONE, timeout=timeout)
