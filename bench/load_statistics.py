"""Statistics of a load benchmark: percentiles of rerun times per page, a process's CPU time.

Plain Python (no NumPy, no Streamlit), so tests/unit/test_bench_load_statistics.py checks
the numbers by hand.
"""

import math
import os
from dataclasses import dataclass


def percentile(values, fraction):
    """The ``fraction`` (0-1) percentile of ``values``, nearest rank: the smallest value with
    at least that fraction of the values at or below it (p95 of 20 values is the 19th).

    Nearest rank, not interpolation: a reported p95 is a time some request really took.
    """
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be 0-1, got {fraction!r}")
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(fraction * len(ordered)))  # 1-based
    return ordered[rank - 1]


@dataclass(frozen=True)
class Summary:
    """Seconds of one group of requests: how many, median, 95th percentile, slowest, and how
    many did not finish (timed out, interrupted by a newer run of the same tab, or errors)."""

    count: int
    p50: float
    p95: float
    slowest: float
    unfinished: int


def summarise(samples):
    """``samples`` as (group, seconds, status) -> {group: Summary}, plus "all" over every
    group. Only finished requests count in the times; the others are counted as unfinished
    (a timed-out request counts at its full time, since the student waited that long)."""
    groups = {}
    for group, seconds, status in samples:
        groups.setdefault(group, []).append((seconds, status))
    groups["all"] = [(seconds, status) for _, seconds, status in samples]
    summaries = {}
    for group, entries in groups.items():
        times = [seconds for seconds, status in entries if status in ("finished", "timeout")]
        unfinished = sum(status != "finished" for _, status in entries)
        if times:
            summaries[group] = Summary(len(times), percentile(times, 0.5),
                                       percentile(times, 0.95), max(times), unfinished)
    return summaries


def cpu_seconds(pid, *, proc="/proc"):
    """User + system CPU seconds the process ``pid`` has used so far, all its threads, read
    from ``/proc/<pid>/stat`` (fields 14 and 15, in clock ticks)."""
    with open(os.path.join(proc, str(pid), "stat")) as stat:
        text = stat.read()
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = text[text.rindex(")") + 2:].split()
    user, system = int(fields[11]), int(fields[12])  # fields 14 and 15 of the whole line
    return (user + system) / os.sysconf("SC_CLK_TCK")
