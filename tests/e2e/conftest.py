"""Browser end-to-end fixtures: a real `streamlit run app.py` and Debian's Chromium.

Playwright never downloads a browser here: it drives /usr/bin/chromium. The server runs
on a free port with the real dataset; tests skip where Chromium or the data is missing.
"""

import os
from pathlib import Path

import pytest

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, AppServer
from tests.paths import real_dataset_path


def pytest_collection_modifyitems(config, items):
    """Mark every test in this folder ``e2e`` (a conftest's ``pytestmark`` marks nothing),
    so ``pytest -m "not e2e"`` runs the rest without a browser."""
    folder = Path(__file__).parent
    for item in items:
        if Path(item.fspath).is_relative_to(folder):
            item.add_marker(pytest.mark.e2e)


def pytest_configure(config):
    """Assertions on page content wait for it: a busy 2-core machine renders slowly."""
    try:
        from playwright.sync_api import expect
    except ImportError:
        return
    expect.set_options(timeout=30_000)


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
