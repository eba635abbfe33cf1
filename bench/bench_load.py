"""Load test: several browser sessions open every page while one training job runs.

Issue 5 asks that the server keeps answering while it trains. One `streamlit run app.py`
serves SESSIONS headless Chromium sessions that open each page at the same time, first
with the trainer idle (the baseline, measured in the same run) and then while a demo run
trains on the Train page (which polls its live curves every second). Printed per page:
median seconds until the page's script has finished, idle and while training, and the
ratio; then the health check's latency and how long Stop took to end the run.

    CIFAR10_PATH=../shared/datasets/cifar-10-python.tar.gz python bench/bench_load.py
"""

import argparse
import asyncio
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.async_api import async_playwright

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, SCRIPT_DONE, AppServer  # noqa: E402

PAGES = ("", "dataset", "layers", "train", "classify", "evaluate")  # "" is Home
PAGE_TIMEOUT_MS = 90_000


async def open_page(context, url):
    """Seconds from navigation until the page's title shows and its script has finished."""
    page = await context.new_page()
    started = time.perf_counter()
    try:
        await page.goto(url, timeout=PAGE_TIMEOUT_MS)
        await page.wait_for_selector("h1", timeout=PAGE_TIMEOUT_MS)
        await page.wait_for_selector(SCRIPT_DONE, timeout=PAGE_TIMEOUT_MS)
        return time.perf_counter() - started
    except Exception:  # noqa: BLE001 - a page that never answers is what we count
        return None
    finally:
        await page.close()


async def one_round(browser, base_url, sessions):
    """Every session opens every page (each in its own order, all sessions at once)."""
    contexts = [await browser.new_context(viewport={"width": 1400, "height": 1000})
                for _ in range(sessions)]

    async def visit_all(number, context):
        order = PAGES[number % len(PAGES):] + PAGES[:number % len(PAGES)]
        return [(name, await open_page(context, f"{base_url}/{name}")) for name in order]

    results = await asyncio.gather(*(visit_all(n, c) for n, c in enumerate(contexts)))
    for context in contexts:
        await context.close()
    timings = {name: [] for name in PAGES}
    for visits in results:
        for name, seconds in visits:
            timings[name].append(seconds)
    return timings


def health_latency_ms(base_url, samples=10):
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=30) as reply:
            reply.read()
        timings.append((time.perf_counter() - started) * 1000)
        time.sleep(0.2)
    return statistics.median(timings)


async def start_training(browser, base_url, epochs):
    """A teacher's tab starts the demo recipe with many epochs; returns the tab."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(180_000)
    await page.goto(f"{base_url}/train?preset=demo")
    await page.wait_for_selector(SCRIPT_DONE)
    await page.get_by_label("Epochs").fill(str(epochs))
    await page.get_by_role("button", name="Start training").click()
    await page.get_by_text("images/s").wait_for()
    return page


def summary(timings):
    answered = [seconds for seconds in timings if seconds is not None]
    return (statistics.median(answered) if answered else None), len(timings) - len(answered)


def print_table(idle, busy):
    print(f"{'page':10} {'idle s':>8} {'training s':>11} {'ratio':>6} {'no answer':>10}")
    for name in PAGES:
        (idle_median, idle_missing), (busy_median, busy_missing) = (summary(idle[name]),
                                                                    summary(busy[name]))
        ratio = f"{busy_median / idle_median:6.2f}" if idle_median and busy_median else "     -"
        print(f"{name or 'home':10} {idle_median or float('nan'):8.2f} "
              f"{busy_median or float('nan'):11.2f} {ratio} {idle_missing + busy_missing:>10}")


async def main(sessions, epochs):
    scratch = Path(tempfile.mkdtemp(prefix="bench-load-"))  # runs and the server's log
    environment = dict(os.environ, CIFAR_RUNS_DIR=str(scratch / "runs"))
    server = AppServer(environment, scratch / "streamlit.log")
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            await one_round(browser, server.url, 1)  # warm-up: caches, TensorFlow import
            idle = await one_round(browser, server.url, sessions)
            idle_health = health_latency_ms(server.url)
            teacher = await start_training(browser, server.url, epochs)
            busy = await one_round(browser, server.url, sessions)
            busy_health = await asyncio.to_thread(health_latency_ms, server.url)
            progress = await teacher.locator('[data-testid="stProgress"]').first.inner_text()
            still_training = "images/s" in progress and "Run " not in progress
            started = time.perf_counter()
            await teacher.get_by_role("button", name=re.compile(r"^Stop \(keeps")).click()
            await teacher.get_by_text("Run stopped").wait_for(timeout=300_000)
            stop_seconds = time.perf_counter() - started
            await browser.close()
    finally:
        server.close()
        shutil.rmtree(scratch, ignore_errors=True)  # the demo run's model, TensorBoard logs
    print(f"{sessions} browser sessions, each opening all {len(PAGES)} pages at once; "
          f"training: demo recipe, tiny model ({'still training' if still_training else 'ENDED'}"
          f" when the round finished)")
    print_table(idle, busy)
    print(f"health check median: idle {idle_health:.0f} ms, training {busy_health:.0f} ms "
          f"(ratio {busy_health / idle_health:.2f})")
    print(f"Stop click to 'Run stopped' shown (includes test-set evaluation and save): "
          f"{stop_seconds:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=4, help="browser sessions at once")
    parser.add_argument("--epochs", type=int, default=200, help="epochs of the background run")
    arguments = parser.parse_args()
    if not os.environ.get("CIFAR10_PATH"):
        sys.exit("bench_load: set CIFAR10_PATH to the CIFAR-10 archive")
    asyncio.run(main(arguments.sessions, arguments.epochs))
