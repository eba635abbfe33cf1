"""Timing helpers shared by the benchmark scripts in this folder."""

import statistics
import time


def median_ms(function, repeats, *, warmup=2, clock=time.perf_counter):
    """Median milliseconds of ``function()`` over ``repeats`` calls, by ``clock``.

    The first ``warmup`` calls are not timed: they trace tf.functions and fill caches,
    which is a one-off cost a user pays once per server, not per click. Pass
    ``clock=time.process_time`` for CPU time (all threads), which other processes on a
    busy machine inflate far less than wall-clock time.
    """
    for _ in range(warmup):
        function()
    timings = []
    for _ in range(repeats):
        started = clock()
        function()
        timings.append((clock() - started) * 1000)
    return statistics.median(timings)


#: An AppTest script that runs the page file ``{page}`` and leaves in session_state what
#: the server spent on it: "script_ms" (wall) and "script_cpu_ms" (CPU, all threads).
TIMED_PAGE = """
import runpy, time
import streamlit as st
started, cpu_started = time.perf_counter(), time.process_time()
try:
    runpy.run_path({page!r}, run_name="__main__")
finally:
    st.session_state["script_ms"] = (time.perf_counter() - started) * 1000
    st.session_state["script_cpu_ms"] = (time.process_time() - cpu_started) * 1000
"""


def timed_reruns(page, query, change, repeats):
    """Medians (script ms, script CPU ms, AppTest round trip ms) of reruns of the page file
    ``page`` opened at ``query``; ``change(app, turn)`` sets a widget before each rerun.

    The first of ``repeats + 1`` reruns warms caches and is not counted.
    """
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_string(TIMED_PAGE.format(page=str(page)), default_timeout=120)
    app.query_params.update(query)
    app.run()
    assert not app.exception, app.exception
    scripts, cpus, round_trips = [], [], []
    for turn in range(repeats + 1):
        change(app, turn)
        started = time.perf_counter()
        app.run()
        round_trips.append((time.perf_counter() - started) * 1000)
        assert not app.exception, app.exception
        scripts.append(app.session_state["script_ms"])
        cpus.append(app.session_state["script_cpu_ms"])
    return tuple(statistics.median(values[1:]) for values in (scripts, cpus, round_trips))
