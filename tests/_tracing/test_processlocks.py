"""A thread holding a multiprocessing lock is not preempted (after ``harness.install()``).

Without this, explore preempted a thread inside a section guarded by a
multiprocessing RLock (tqdm's default write lock) and the next thread blocked
on the real semaphore: a false ``hang`` after the full timeout on a correct
program (measured on tqdm 4.32.2 in ``bench.real``).
"""

from __future__ import annotations

import importlib
import multiprocessing
import sys
import threading
import time
from types import ModuleType, SimpleNamespace

import pytest

import harness
from harness._tracing import processlocks
from harness.sync import early

LIB = "tests._tracing.libs.mplocklib"


@pytest.fixture
def lib():
    """The library imported anew after ``harness.install()``, as a user would."""
    harness.install()
    sys.modules.pop(LIB, None)
    try:
        yield importlib.import_module(LIB)
    finally:
        early.uninstall()
        sys.modules.pop(LIB, None)


def program(lib: ModuleType, locked: bool, own_lock: bool = False):
    def setup():
        # own_lock: a thread lock of this run's own, so that a run abandoned as a
        # hang (its holder parked for good) leaves the class's lock free for the next.
        registry = lib.Registry(threading.RLock() if own_lock else None)
        keep = [lib.Item(0), lib.Item(1)]
        for item in keep:  # setup is alone: no lock needed
            registry.items.add(item)
        return SimpleNamespace(registry=registry, keep=keep, seen=None)

    def actors(state):
        def scan() -> None:
            scan = state.registry.scan_locked if locked else state.registry.scan_unlocked
            state.seen = scan()

        def add() -> None:
            state.keep.append(state.registry.add(2))
            state.keep.append(state.registry.add(3))

        return [scan, add]

    return setup, actors, None


@pytest.mark.timeout(120)
def test_the_locked_scan_holds_without_hang(lib):
    started = time.perf_counter()
    result = harness.explore(*program(lib, locked=True), budget=150, seed=0, timeout=3)
    seconds = time.perf_counter() - started
    kinds = [g.failure.kind for g in result.failures]
    assert not kinds, f"the locked scan failed: {[g.failure.message for g in result.failures]}"
    assert result.runs == 150
    assert seconds < 60, f"150 schedules took {seconds:.1f} s (a hang waits its timeout)"


@pytest.mark.timeout(120)
def test_the_unlocked_scan_is_found_as_the_exception_and_replays(lib):
    setup, actors, check = program(lib, locked=False)
    result = harness.explore(setup, actors, check, budget=300, seed=0, timeout=3)
    messages = [g.failure.message for g in result.failures]
    assert [g.failure.kind for g in result.failures][:1] == ["exception"], messages
    assert "changed size during iteration" in messages[0], messages
    replayed = harness.replay(result.schedule, setup, actors, check, timeout=3)
    assert [g.failure.kind for g in replayed.failures][:1] == ["exception"], replayed.failures


@pytest.mark.timeout(120)
def test_without_the_count_the_locked_scan_is_a_fast_named_hang(lib, monkeypatch):
    # The control: the same program, the count ignored. A preempted holder leaves
    # the other thread on the real semaphore; the stall diagnosis names it.
    monkeypatch.setattr(processlocks, "held", lambda: False)
    started = time.perf_counter()
    program_ = program(lib, locked=True, own_lock=True)
    result = harness.explore(*program_, budget=150, seed=0, timeout=30)
    seconds = time.perf_counter() - started
    hangs = [g.failure for g in result.failures if g.failure.kind == "hang"]
    assert hangs, f"expected a hang without the count, got {result.failures}"
    assert "multiprocessing.RLock" in hangs[0].message + hangs[0].details, hangs[0]
    assert seconds < 25, f"the hang took {seconds:.1f} s: not diagnosed before the 30 s timeout"


@pytest.mark.timeout(30)
def test_watch_counts_lock_and_rlock_holds_per_thread_not_semaphores():
    early.uninstall()
    harness.install()
    try:
        lock, rlock, sem = (
            multiprocessing.Lock(),
            multiprocessing.RLock(),
            multiprocessing.Semaphore(),
        )
        assert not processlocks.held()
        with lock:
            assert processlocks.held()
        assert not processlocks.held()
        rlock.acquire()
        rlock.acquire()
        rlock.release()
        assert processlocks.held(), "one of two RLock acquisitions is still held"
        rlock.release()
        assert not processlocks.held()
        assert lock.acquire(block=False) and processlocks.held()
        lock.release()
        sem.acquire()
        assert not processlocks.held(), "a semaphore is not counted"
        sem.release()
        assert not processlocks.held()
    finally:
        early.uninstall()
