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
