"""Helpers shared by the benchmark scripts in this folder: timing, and the images to time on.

``cifar_core`` is imported inside the dataset helpers: each script puts the project on
``sys.path`` itself, and ``median_ms`` needs nothing of it.
"""

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


def dataset_error():
    """Why the real CIFAR-10 cannot be loaded (its ``DatasetError``), or None where it can.

    Benchmarks that time a page on the real dataset check it first, each saying in its own
    words that nothing was measured.
    """
    from cifar_core import data

    try:
        data.load_cifar10(download=False)
    except data.DatasetError as error:
        return error
    return None


def test_images_or_random():
    """(images, where they came from): the 10,000 real test images, or as many random ones
    of the same shape where CIFAR-10 is absent, so the benchmark still times the same work."""
    import numpy as np

    from cifar_core import data

    try:
        return data.load_cifar10(download=False).x_test, "real CIFAR-10 test set"
    except data.DatasetError:
        images = np.random.default_rng(0).integers(0, 256, (10000, 32, 32, 3), dtype=np.uint8)
        return images, "10,000 random images (CIFAR-10 not found)"
