"""prometheus_client 0.3.0: ``Summary.time()`` used as a decorator shares one timer between threads.

The decorator keeps the start time on the timer object it was made with, so a
second thread entering the decorated function overwrites the first's start and
the first observes a duration that is too short (prometheus/client_python issue
#287, "time() decorator is not thread-safe?"; 0.3.1 makes a new timer per call).
The timer reads ``timeit.default_timer``, imported into the library's module at
import; under explore ``time.sleep`` and that clock are virtual.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

PACKAGE = "prometheus-client"
BUGGY = "0.3.0"
FIXED = "0.3.1"
ISSUE = "https://github.com/prometheus/client_python/issues/287"
KIND = "assert"
BUG = "two threads in a function decorated with Summary.time(): the summed durations are short"
THREADS = 2

#: frontrun's clock is real by default; explore's is virtual. Virtual here too.
FRONTRUN = {"clock": "virtual"}


def setup() -> Any:
    from prometheus_client import CollectorRegistry, Summary

    registry = CollectorRegistry()
    summary = Summary("work_seconds", "time spent in work()", registry=registry)

    @summary.time()
    def work() -> None:
        time.sleep(1.0)

    return SimpleNamespace(registry=registry, work=work)


def actors(state: Any) -> list[Any]:
    def late() -> None:
        time.sleep(0.5)
        state.work()

    return [state.work, late]


def check(state: Any) -> None:
    total = state.registry.get_sample_value("work_seconds_sum")
    count = state.registry.get_sample_value("work_seconds_count")
    # The bug loses the late caller's 0.5 s head start; the margin is for stress
    # and frontrun, whose clocks are real (explore's virtual durations are exact).
    assert count == 2 and abs(total - 2.0) < 0.25, (
        f"2 calls of 1 s observed as {count} calls, {total} s"
    )
