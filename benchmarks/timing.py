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


def best_of(call: Callable[[], Any], repeats: int) -> float:
    """Seconds of the fastest of ``repeats`` timed runs, after one untimed warm-up."""
    call()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20
