"""Timing helpers shared by the benchmark scripts (run as ``python benchmarks/NAME.py``).

Every ratio a benchmark reports is two ``best_of`` times measured in the same run, so the
noise of a shared machine cancels as far as it can.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from typing import Any


def best_of(call: Callable[[], Any], repeats: int, *, clock: Callable[[], float] = time.perf_counter) -> float:
    """Seconds of the fastest of ``repeats`` timed runs, after one untimed warm-up.

    ``clock`` is wall time unless given (``time.thread_time``: CPU time of the calling
    thread, which on a loaded machine does not count the time other processes hold the
    core; meaningful when the work runs on that thread).
    """
    call()
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        call()
        best = min(best, clock() - start)
    return best


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20
