"""A real `streamlit run app.py` and Debian's Chromium, for browser tests and benchmarks.

A plain module (not a conftest), so ``bench/`` scripts share it with ``tests/e2e``.
Playwright never downloads a browser here: it drives /usr/bin/chromium.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cifar_core.storage import PROJECT_ROOT

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-dev-shm-usage",
]
#: axe-core's browser build, installed from npm by .ci/run (never downloaded by a test).
AXE_CORE = Path(os.environ.get("AXE_CORE_PATH") or Path.home() / ".cache" / "cifar10-explorer"
                / "axe" / "node_modules" / "axe-core" / "axe.min.js")
#: The selector that says Streamlit finished running the page's script.
SCRIPT_DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


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


def wait_for_script(page, timeout=60_000):
    """Wait until Streamlit has finished running the page's script."""
    page.wait_for_selector(SCRIPT_DONE, timeout=timeout)


def axe_violations(page, impacts=("critical", "serious")):
    """axe-core's WCAG violations of the page as it is now, of the given impacts: a list of
    (rule id, help text, [target selector, HTML]) to print when a test fails."""
    page.add_script_tag(path=str(AXE_CORE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [(violation["id"], violation["help"],
             [(node["target"], node["html"][:200]) for node in violation["nodes"]])
            for violation in result["violations"] if violation["impact"] in impacts]


def tab_to(page, description, matches, presses=200):
    """Press Tab until the focused element satisfies ``matches`` (a JavaScript predicate on
    ``document.activeElement``): proof that a keyboard user can reach it."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const element = document.activeElement; "
                         f"return Boolean(element && ({matches})(element)); }}"):
            return
    raise AssertionError(f"{description} cannot be reached with the Tab key")
