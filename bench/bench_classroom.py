"""A class on one server (issue 17): 30 tabs following a teacher while a model trains.

Starts the real app (``streamlit run app.py``, headless, a free port, the real CIFAR-10, a
temporary runs folder), starts one training run, then drives ``--tabs`` WebSocket clients
(bench/streamlit_tab.py: the browser's protocol, no browser). The class follows a lesson:
the teacher moves through ``--pages`` in order, each for an equal share of ``--seconds``;
every ``--interval`` seconds (jittered +-50%) each tab either follows to the teacher's page
(a page load) or changes a widget on its page as a student exploring would (another image,
layer, class, page of the grid...). Tabs on a page with a live fragment (a training run's
progress, a background task) poll it as the browser does.

Prints per page the rerun times (send to ``script_finished``) p50/p95/slowest, the live
fragment polls apart, the server process's CPU seconds per page view over the measured
window (/proc/<pid>/stat), and the ratio of the overall p95 to the target (1 s).

Training: ``--training server`` (default) starts the Train page's default recipe through
its form in a driven tab, so the run trains inside the server like a student's would (the
server CPU then includes it); ``process`` runs ``python -m cifar_core train --preset
fast-small`` beside the server (shares the CPU, not the process); ``--no-training`` none.

    python bench/bench_classroom.py [--tabs 30] [--seconds 120] [--interval 10]
        [--training server|process] [--no-training] [--pages home dataset layers ...]
"""

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.load_statistics import cpu_seconds, summarise  # noqa: E402
from bench.streamlit_tab import Tab, widget_value  # noqa: E402
from bench.timing import dataset_error  # noqa: E402

TARGET_P95_SECONDS = 1.0
PAGES = ("home", "dataset", "layers", "classify", "evaluate", "train")
#: The widgets (by key) a student changes on each page; a page without any is rerun.
EXPLORED = {
    "home": (),
    "lessons": ("lesson",),
    "models": ("model",),
    "dataset": ("index", "page", "row", "channel", "split"),
    "layers": ("layer", "index", "filter", "per_map"),
    "classify": ("k", "heat", "explain"),
    "evaluate": ("true", "predicted"),
    "train": ("preset", "field_epochs"),
}


def changed_value(widget_id, widget, rng):
    """A WidgetState giving the widget another value, as a student's click would; None for a
    widget kind we do not drive."""
    proto = widget.proto
    if widget.kind in ("selectbox", "radio") and len(proto.options) > 1:
        return widget_value(widget_id, "string_value", rng.choice(list(proto.options)))
    if widget.kind == "number_input":
        low = proto.min if proto.has_min else 0
        high = min(proto.max if proto.has_max else low + 20, low + 999)
        return widget_value(widget_id, "double_value", float(rng.randint(int(low), int(high))))
    if widget.kind == "slider":
        return widget_value(widget_id, "double_array_value",
                            [float(rng.randint(int(proto.min), int(proto.max)))])
    if widget.kind == "checkbox":
        return widget_value(widget_id, "bool_value", rng.random() < 0.5)
    if widget.kind == "button_group" and len(proto.options) > 1:
        return widget_value(widget_id, "string_array_value",
                            [rng.choice([option.content for option in proto.options])])
    return None


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port, environment, log):
    """The app as a class meets it: ``streamlit run app.py``; waits for /_stcore/health."""
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("the app did not answer its health check within 60 s")


async def warm_up(url, pages):
    """The teacher opens every page once before class (first loads: TensorFlow, the models,
    cached results read from disk); background tasks a page starts are let finish (60 s)."""
    tab = Tab(url)
    await tab.open()
    try:
        for page in pages:
            reply = await tab.visit(page)
            deadline = time.monotonic() + 60
            while tab.fragments and time.monotonic() < deadline:
                await asyncio.sleep(1)
                await tab.rerun()
            print(f"  first {page or 'home'} load: {reply.seconds:.2f} s ({reply.status})"
                  + (f", errors: {reply.exceptions}" if reply.exceptions else ""))
    finally:
        await tab.close()


async def start_training_in_server(url):
    """A student presses "Start training" on the Train page (its default recipe); True once
    the page shows the run as the current one (a live fragment)."""
    tab = Tab(url)
    await tab.open()
    try:
        await tab.visit("train")
        found = tab.find(label="Start training", kind="button")
        if found is None:
            return False
        await tab.rerun([widget_value(found[0], "trigger_value", True)])
        await tab.visit("train")
        return bool(tab.fragments)
    finally:
        await tab.close()


class Lesson:
    """The teacher's page at any moment: ``pages`` in order, ``seconds`` shared equally."""

    def __init__(self, pages, seconds):
        self.pages, self.each = pages, seconds / len(pages)
        self.started = time.monotonic()

    def page(self):
        elapsed = time.monotonic() - self.started
        return self.pages[min(int(elapsed / self.each), len(self.pages) - 1)]


async def student(number, url, lesson, interval, until, samples, rng):
    """One tab: follows the teacher's page, explores widgets there, polls live fragments."""
    tab = Tab(url, timeout=60)
    await tab.open()
    polling = asyncio.create_task(poll_fragments(tab, until, samples))
    try:
        await asyncio.sleep(rng.uniform(0, interval))  # students arrive over one interval
        while time.monotonic() < until:
            page = lesson.page()
            if page != tab.page:
                reply = await tab.visit(page)
                action = "open"
            else:
                choices = [tab.find(key=key) for key in EXPLORED.get(page, ())]
                choices = [choice for choice in choices if choice is not None]
                change = None
                if choices:
                    change = changed_value(*rng.choice(choices), rng)
                reply = await tab.rerun([change] if change is not None else [])
                action = "change" if change is not None else "rerun"
            if time.monotonic() < until:
                samples.append((page, action, reply, time.monotonic()))
            await asyncio.sleep(interval * rng.uniform(0.5, 1.5))
    finally:
        polling.cancel()
        await asyncio.gather(polling, return_exceptions=True)
        await tab.close()


async def poll_fragments(tab, until, samples):
    """The browser's timers for ``st.fragment(run_every=...)``: each live fragment polled at
    its interval (one request at a time per tab, so a slow server stretches the interval)."""
    while time.monotonic() < until:
        if not tab.fragments:
            await asyncio.sleep(0.25)
            continue
        for fragment_id, every in list(tab.fragments.items()):
            await asyncio.sleep(every)
            if fragment_id in tab.fragments and time.monotonic() < until:
                reply = await tab.poll_fragment(fragment_id)
                if reply is not None:
                    samples.append((tab.page, "fragment", reply, time.monotonic()))


async def classroom(url, tabs, seconds, interval, pages, seed, server_pid):
    samples = []
    lesson = Lesson(pages, seconds)
    until = lesson.started + seconds
    cpu_before, wall_before = cpu_seconds(server_pid), time.monotonic()
    bench_cpu_before = time.process_time()
    await asyncio.gather(*(student(number, url, lesson, interval, until, samples,
                                   random.Random(seed + number)) for number in range(tabs)))
    server_cpu = cpu_seconds(server_pid) - cpu_before
    wall = time.monotonic() - wall_before
    return samples, server_cpu, wall, time.process_time() - bench_cpu_before


def report(samples, server_cpu, wall, bench_cpu, training):
    views = [(page or "home", reply.seconds, reply.status)
             for page, action, reply, _ in samples if action != "fragment"]
    polls = [(page or "home", reply.seconds, reply.status)
             for page, action, reply, _ in samples if action == "fragment"]
    errors = sorted({error for _, _, reply, _ in samples for error in reply.exceptions})
    print("\nPage reruns (open, widget change or rerun), seconds from send to script_finished:")
    print(f"  {'page':10} {'count':>6} {'p50':>7} {'p95':>7} {'slowest':>8} {'unfinished':>11}")
    summaries = summarise(views)
    for page, summary in summaries.items():
        print(f"  {page:10} {summary.count:6d} {summary.p50:7.2f} {summary.p95:7.2f} "
              f"{summary.slowest:8.2f} {summary.unfinished:11d}")
    if polls:
        print("Live fragment polls (training progress, background tasks), by page:")
        for page, summary in summarise(polls).items():
            print(f"  {page:10} {summary.count:6d} {summary.p50:7.2f} {summary.p95:7.2f} "
                  f"{summary.slowest:8.2f} {summary.unfinished:11d}")
    for error in errors[:5]:
        print(f"  error shown on a page: {error}")
    overall = summaries.get("all")
    print(f"\nServer CPU over the {wall:.0f} s window: {server_cpu:.1f} s "
          f"({server_cpu / wall:.2f} cores; training: {training}); "
          f"{len(views)} page views, {len(polls)} fragment polls; "
          f"{server_cpu / max(len(views), 1):.3f} CPU s per page view "
          f"({server_cpu / max(len(views) + len(polls), 1):.3f} per request)")
    print(f"This benchmark's own CPU (its WebSocket clients): {bench_cpu:.1f} s; "
          f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if overall is not None:
        print(f"Overall page rerun p95 {overall.p95:.2f} s against the target "
              f"{TARGET_P95_SECONDS:.1f} s: ratio {overall.p95 / TARGET_P95_SECONDS:.2f} "
              f"({'meets' if overall.p95 <= TARGET_P95_SECONDS else 'misses'} it)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tabs", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=100.0,
                        help="the measured window (the lesson), after the warm-up")
    parser.add_argument("--interval", type=float, default=10.0,
                        help="seconds between one tab's interactions (jittered +-50%%)")
    parser.add_argument("--pages", nargs="+", default=list(PAGES),
                        choices=sorted(EXPLORED), help="the lesson's pages, in order")
    parser.add_argument("--training", choices=("server", "process", "none"), default="server")
    parser.add_argument("--no-training", dest="training", action="store_const", const="none")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    if arguments.tabs < 1 or arguments.seconds <= 0 or arguments.interval <= 0:
        parser.error("--tabs, --seconds and --interval must be positive")
    error = dataset_error()
    if error is not None:
        print(f"Nothing measured: the classroom needs the real CIFAR-10 ({error}).")
        return
    pages = ["" if page == "home" else page for page in arguments.pages]

    with tempfile.TemporaryDirectory(prefix="bench-classroom-") as folder:
        environment = dict(os.environ, CIFAR_RUNS_DIR=str(Path(folder) / "runs"))
        port = free_port()
        url = f"ws://127.0.0.1:{port}/_stcore/stream"
        with open(Path(folder) / "server.log", "w") as log:
            started = time.perf_counter()
            server = start_server(port, environment, log)
            trainer = None
            try:
                print(f"Load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
                      "cores (other processes inflate every time below)")
                print(f"Server up in {time.perf_counter() - started:.1f} s (port {port}); "
                      f"{arguments.tabs} tabs, {arguments.seconds:.0f} s lesson over "
                      f"{', '.join(arguments.pages)}, every ~{arguments.interval:.0f} s each")
                asyncio.run(warm_up(url, pages))
                if arguments.training == "server":
                    if not asyncio.run(start_training_in_server(url)):
                        print("  the Train page did not start a run: measured without one")
                        arguments.training = "none (the Train page did not start one)"
                    else:
                        print("  training: the Train page's default recipe, in the server")
                elif arguments.training == "process":
                    trainer = subprocess.Popen(
                        [sys.executable, "-m", "cifar_core", "train", "--preset", "fast-small"],
                        cwd=PROJECT_ROOT, env=environment, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
                    print("  training: python -m cifar_core train --preset fast-small, beside")
                samples, server_cpu, wall, bench_cpu = asyncio.run(classroom(
                    url, arguments.tabs, arguments.seconds, arguments.interval, pages,
                    arguments.seed, server.pid))
                report(samples, server_cpu, wall, bench_cpu, arguments.training)
            finally:
                for process in (trainer, server):
                    if process is not None and process.poll() is None:
                        process.terminate()
                        try:
                            process.wait(timeout=15)
                        except subprocess.TimeoutExpired:
                            process.kill()


if __name__ == "__main__":
    main()
