"""ratelimit 2.2.0: ``sleep_and_retry`` retries once, so a thread that loses the race raises.

With ``@sleep_and_retry @limits(calls=1, period=0.2)`` and three threads calling
at once, two are refused and sleep out the period; whichever retries second
is refused again, and 2.2.0 lets that ``RateLimitException`` escape from a
function whose decorator promises to wait (ratelimit issue #29, "How to make
this work for multiple threads?": RateLimitException with two threads). 2.2.1
retries in a loop until the call is allowed.

The decorator's clock is ``time.monotonic``, bound as a default argument at
import; under explore it must follow the virtual clock that ``time.sleep`` runs on.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

PACKAGE = "ratelimit"
BUGGY = "2.2.0"
FIXED = "2.2.1"
ISSUE = "https://github.com/tomasbasham/ratelimit/issues/29"
KIND = "exception"
BUG = "three callers of a 1-per-0.2s limit: the second retry raises RateLimitException"
THREADS = 3

#: frontrun's clock is real by default; explore's is virtual. Virtual here too.
FRONTRUN = {"clock": "virtual"}


def setup() -> Any:
    from ratelimit import limits, sleep_and_retry

    calls: list[int] = []

    @sleep_and_retry
    @limits(calls=1, period=0.2)
    def call(i: int) -> None:
        calls.append(i)

    return SimpleNamespace(call=call, calls=calls)


def actors(state: Any) -> list[Any]:
    return [lambda: state.call(0), lambda: state.call(1), lambda: state.call(2)]


def check(state: Any) -> None:
    assert sorted(state.calls) == [0, 1, 2], f"calls that went through: {state.calls}"
