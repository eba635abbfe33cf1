"""What one rerun of each page costs the server in CPU, and where it goes (cProfile).

The classroom benchmark (bench_classroom.py) measures latency with 30 tabs, which other
processes on a shared machine inflate; this measures the cost of one tab's rerun in CPU
seconds of the process (all threads), which they inflate far less, so a fix can be judged
on a busy machine. Each page is opened through app.py with AppTest (the real dataset and
shipped models), warmed up, then rerun ``--repeats`` times, each after changing one widget
as a student would (another image, layer, cell...).

    python bench/page_profile.py [--pages dataset layers evaluate] [--repeats 6]
                                 [--profile 25]   # also the 25 costliest functions
"""

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.timing import dataset_error  # noqa: E402

#: Per page: the widget a student changes before each rerun (AppTest kind, key) and the
#: values it cycles through; None reruns as it is.
CHANGES = {
    "home": None,
    "dataset": ("selectbox", "index", None),  # None: the widget's own options
    "layers": ("selectbox", "layer", ["conv1", "conv2", "conv3", "conv4"]),
    "classify": ("slider", "k", [3, 5, 7]),
    "evaluate": ("selectbox", "true", [1, 2, 3, 5]),
    "train": None,
}


def profile_page(page, repeats, profiler):
    """Medians (CPU s, wall s) of reruns of ``page`` after a widget change: of views new to
    the server, and of views it showed before (a class: another tab on the same view).

    The widget cycles through three values, so after the first three reruns every view is
    one the server has shown before.
    """
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.testing.v1 import AppTest

    original = script_runner.ScriptRunner._run_script
    state = {"profiling": False}

    def run_script(self, *args, **kwargs):  # the script thread, where cProfile must run
        if not state["profiling"] or profiler is None:
            return original(self, *args, **kwargs)
        profiler.enable()
        try:
            return original(self, *args, **kwargs)
        finally:
            profiler.disable()

    script_runner.ScriptRunner._run_script = run_script
    try:
        app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=300)
        app.run()
        app.switch_page(f"pages/{page}.py")
        app.run()
        if app.exception:
            raise RuntimeError(f"{page}: {app.exception[0].message}")
        change = CHANGES.get(page)
        timings = {"new": [], "seen": []}
        for turn in range(repeats + 1):  # the first one warms up
            if change is not None:
                kind, key, values = change
                widget = getattr(app, kind)(key=key)
                values = (values or list(widget.options)[1:])[:3]
                widget.set_value(values[turn % 3])
            state["profiling"] = turn >= 1
            started, cpu_started = time.perf_counter(), time.process_time()
            app.run()
            if turn >= 1:
                timings["new" if 1 <= turn < 3 and change else "seen"].append(
                    (time.process_time() - cpu_started, time.perf_counter() - started))
            if app.exception:
                raise RuntimeError(f"{page}: {app.exception[0].message}")
        return {kind: tuple(statistics.median(column) for column in zip(*values))
                for kind, values in timings.items() if values}
    finally:
        script_runner.ScriptRunner._run_script = original


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", nargs="+", default=list(CHANGES), choices=list(CHANGES))
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print the N functions with the most cumulative time per page")
    arguments = parser.parse_args()
    error = dataset_error()
    if error is not None:
        print(f"Nothing measured: the pages need the real CIFAR-10 ({error}).")
        return
    print(f"{'page':10} {'view':5} {'CPU s/rerun':>12} {'wall s/rerun':>13}   (medians; "
          "CPU of all threads; new: first time on the server, seen: shown before)")
    for page in arguments.pages:
        profiler = cProfile.Profile() if arguments.profile else None
        for kind, (cpu, wall) in profile_page(page, arguments.repeats, profiler).items():
            print(f"{page:10} {kind:5} {cpu:12.3f} {wall:13.3f}"
                  + ("   (profiled: slower than plain)" if profiler else ""))
        if profiler is not None:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(arguments.profile)


if __name__ == "__main__":
    main()
