"""After every engine call, also one ended by an exception or a KeyboardInterrupt,
the interpreter is as it was: primitives, time, thread methods, trace and
monitoring hooks, switch interval, excepthook, and no harness thread left."""

from __future__ import annotations

import _thread
import queue
import sys
import threading
import time
from concurrent.futures import Future

import pytest

import harness
from harness.sync import _state


def snapshot():
    return {
        "threading": {
            n: getattr(threading, n)
            for n in (
                "Lock",
                "RLock",
                "Condition",
                "Event",
                "Semaphore",
                "BoundedSemaphore",
                "Barrier",
                "excepthook",
                "_time",
            )
        },
        "thread": {n: getattr(threading.Thread, n) for n in ("start", "join", "is_alive")},
        "_thread": _thread.start_new_thread,
        "queue": (queue.SimpleQueue, queue.time),
        "time": tuple(getattr(time, n) for n in ("sleep", "monotonic", "time", "perf_counter")),
        "future": tuple(getattr(Future, n) for n in ("set_exception", "result", "exception")),
        "switch": sys.getswitchinterval(),
        "trace": sys.gettrace(),
        "monitors": list(_state.monitors),
        "managed": dict(_state._managed),
        "aborted": set(_state.aborted),
        "threads": {t for t in threading.enumerate()},
    }


def assert_restored(before):
    after = snapshot()
    for key in before:
        if key == "threads":
            continue
        assert after[key] == before[key], f"{key} not restored"
    leftover = [t.name for t in threading.enumerate() if t not in before["threads"]]
    deadline = time.monotonic() + 5
    while leftover and time.monotonic() < deadline:
        for t in threading.enumerate():
            if t not in before["threads"]:
                t.join(0.1)
        leftover = [t.name for t in threading.enumerate() if t not in before["threads"]]
    assert not leftover, f"threads left behind: {leftover}"


def interrupt(*_):
    raise KeyboardInterrupt


def boom(*_):
    raise RuntimeError("user code failed")


class Counter:
    def __init__(self):
        self.value = 0
        self.lock = threading.Lock()


def bump(c):
    with c.lock:
        c.value += 1


ENGINES = {
    "stress": lambda **k: harness.stress(**{"runs": 3, **k}),
    "explore": lambda **k: harness.explore(**{"budget": 3, **k}),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("where", ["setup", "actors", "check", "teardown", "observe"])
def test_keyboard_interrupt_leaves_the_interpreter_as_it_was(engine, where):
    before = snapshot()
    parts = {
        "setup": Counter,
        "actors": lambda c: [lambda: bump(c), lambda: bump(c)],
        "check": lambda c: True,
        "teardown": lambda c: None,
        "observe": lambda c: "ok",
    }
    parts[where] = interrupt
    with pytest.raises(KeyboardInterrupt):
        ENGINES[engine](**parts)
    assert_restored(before)


@pytest.mark.parametrize("engine", ENGINES)
def test_interrupt_inside_a_thread_of_the_code_under_test(engine):
    before = snapshot()
    result = ENGINES[engine](setup=Counter, actors=lambda c: [interrupt, lambda: bump(c)])
    assert result.kind == "exception" and "KeyboardInterrupt" in result.failures[0].failure.message
    assert_restored(before)


@pytest.mark.parametrize("engine", ENGINES)
def test_exceptions_in_user_code_leave_nothing_behind(engine):
    before = snapshot()
    result = ENGINES[engine](
        setup=Counter, actors=lambda c: [lambda: boom(), lambda: bump(c)], check=boom
    )
    assert result.failed
    assert_restored(before)


@pytest.mark.parametrize("engine", ENGINES)
def test_usage_error_leaves_nothing_behind(engine):
    before = snapshot()
    with pytest.raises(harness.UsageError):
        ENGINES[engine](setup=Counter, actors=lambda c: [])
    assert_restored(before)
