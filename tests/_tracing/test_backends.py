"""The tracing backends call the hook at the points of code under test only."""

from __future__ import annotations

import gc
import os
import sys
import threading
from types import SimpleNamespace

import pytest

import harness
from harness._tracing import CodeFilter, make_backend
from harness._tracing.noise import NoiseHook, thread_rng

# The code under test lives in its own (virtual) file, so that the test's own
# functions are not traced: sys.monitoring, unlike settrace, also reports frames
# that were already running when a thread attached.
SAMPLE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample_under_test.py")
SAMPLE = """
class Obj:
    value = 0


def under_test(obj, n):
    for _ in range(n):
        obj.value = obj.value + 1
"""
_namespace: dict = {}
exec(compile(SAMPLE, SAMPLE_FILE, "exec"), _namespace)
Obj = _namespace["Obj"]
under_test = _namespace["under_test"]


def run_in_thread(fn):
    errors = []

    def body():
        try:
            fn()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=body)
    t.start()
    t.join(10)
    assert not t.is_alive()
    if errors:
        raise errors[0]


@pytest.fixture
def backend():
    be = make_backend(CodeFilter(only=[SAMPLE_FILE]))
    be.start()
    yield be
    be.stop()


def test_hook_sees_each_read_and_write(backend):
    seen = []

    def body():
        backend.attach(lambda p: seen.append(p.label))
        try:
            under_test(Obj(), 3)
        finally:
            backend.detach()

    run_in_thread(body)
    # range(n) is a call point where the backend cannot see the callee (settrace)
    assert [label for label in seen if label != "call ()"] == ["read .value", "write .value"] * 3


def test_unattached_threads_are_not_hooked(backend):
    seen = []
    attached = threading.Event()
    done = threading.Event()

    def watched():
        backend.attach(lambda p: seen.append(threading.current_thread().name))
        attached.set()
        done.wait(10)
        backend.detach()

    t = threading.Thread(target=watched, name="watched")
    t.start()
    assert attached.wait(10)
    run_in_thread(lambda: under_test(Obj(), 5))  # another, unattached thread
    done.set()
    t.join(10)
    assert seen == []


def test_code_outside_the_filter_is_not_hooked():
    be = make_backend(CodeFilter(only=[SAMPLE_FILE + ".elsewhere"]))
    be.start()
    seen = []
    try:

        def body():
            be.attach(lambda p: seen.append(p))
            try:
                under_test(Obj(), 3)
            finally:
                be.detach()

        run_in_thread(body)
    finally:
        be.stop()
    assert seen == []


def test_filter_defaults_include_and_exclude():
    import json

    default = CodeFilter()
    assert default(under_test.__code__), "user code is under test by default"
    assert not default(json.dumps.__code__), "the standard library is not"
    assert not default(make_backend.__code__), "the harness is not"
    assert not default(pytest.main.__code__), "test tooling is not"
    assert not CodeFilter(exclude=[SAMPLE_FILE])(under_test.__code__)
    assert CodeFilter(include=[os.path.dirname(json.__file__)])(json.dumps.__code__)


def test_hook_can_find_the_frame_of_the_code_under_test(backend):
    frames = []

    def hook(point):
        frames.append(sys._getframe(1 + 1).f_code.co_name)

    def body():
        backend.attach(hook)
        try:
            under_test(Obj(), 1)
        finally:
            backend.detach()

    run_in_thread(body)
    assert set(frames) == {"under_test"} and len(frames) >= 2


def _decisions(seed):
    be = make_backend(CodeFilter(only=[SAMPLE_FILE]))
    be.start()
    hook = NoiseHook(thread_rng(seed, 0, 0), 0.2, record=True)
    try:

        def body():
            be.attach(hook)
            try:
                under_test(Obj(), 200)
            finally:
                be.detach()

        run_in_thread(body)
    finally:
        be.stop()
    return hook.decisions


def test_same_seed_gives_the_same_noise_decisions():
    first, again, other = _decisions(7), _decisions(7), _decisions(8)
    assert first == again
    assert first != other
    assert 40 < len(first) < 160, "about 20% of 400-600 points"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="chaining applies to sys.settrace only")
def test_settrace_chains_a_previous_tracer_such_as_coverage():
    """A tracer installed before ours (coverage.py's) still sees line events."""
    lines = []
    points = []

    def previous(frame, event, arg):
        if frame.f_code is under_test.__code__:

            def local(frame, event, arg):
                if event == "line":
                    lines.append(frame.f_lineno)
                return local

            return local
        return None

    be = make_backend(CodeFilter(only=[SAMPLE_FILE]))

    def body():
        sys.settrace(previous)
        be.attach(points.append)
        try:
            under_test(Obj(), 2)
        finally:
            be.detach()
            assert sys.gettrace() is previous
            sys.settrace(None)

    run_in_thread(body)
    assert len([p for p in points if p.kind != "call"]) == 4
    assert len(lines) >= 4, "the previous tracer must keep receiving line events"


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring exists on 3.12+")
def test_monitoring_tool_is_released_and_reusable():
    for _ in range(3):
        seen = []
        be = make_backend(CodeFilter(only=[SAMPLE_FILE]))
        be.start()
        try:

            def body(be=be, seen=seen):
                be.attach(seen.append)
                try:
                    under_test(Obj(), 1)
                finally:
                    be.detach()

            run_in_thread(body)
        finally:
            be.stop()
        assert len([p for p in seen if p.kind != "call"]) == 2, (
            "a second session must see the code again"
        )


def _suspended(box: SimpleNamespace):
    try:
        yield 1
    finally:
        # traced code, run by whoever finalizes the generator
        box.closed_in.append(threading.current_thread())


UNTRACED_COLLECTING = """
import gc

class Counter:
    def __init__(self):
        self.value = 0

def bump(c):
    gc.collect()  # finalizers of older garbage would run here, in the explored thread
    c.value = c.value + 1

def actors(c):
    return [lambda: bump(c), lambda: bump(c)]
"""


def test_older_garbage_is_not_finalized_in_the_threads_of_a_call():
    """A suspended generator of traced code, left in a cycle before the engine
    call, must not be closed inside an explored thread (the program collects
    garbage there): its ``finally`` would be a point of an unrelated program
    (here: an untraced program read as explored)."""
    namespace: dict = {}
    exec(compile(UNTRACED_COLLECTING, "<generated by a tool>", "exec"), namespace)
    box = SimpleNamespace(closed_in=[])
    frozen_before = gc.get_freeze_count()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(3):
            holder = SimpleNamespace(box=box)
            holder.generator = _suspended(box)
            next(holder.generator)
            holder.cycle = holder
        del holder
        result = harness.explore(namespace["Counter"], namespace["actors"], None, budget=3, seed=1)
    finally:
        if enabled:
            gc.enable()
    assert gc.get_freeze_count() == frozen_before, "the collector's freeze was not undone"
    if frozen_before:
        return  # objects were frozen already (3.12.1 starts so): the collector is left alone
    # Frozen out of the call, or collected by it before its threads started.
    here = threading.current_thread()
    assert all(t is here for t in box.closed_in), f"finalized in {box.closed_in}"
    assert not result.explored, str(result)
    gc.collect()  # and after the call it is garbage like any other
    assert len(box.closed_in) == 3
