"""CPython's own conformance tests for lock types, run against our primitives.

``test.lock_tests`` ships with CPython (it is what ``test_threading`` runs against
``threading.Lock`` & co.); running it here proves that the instrumented
primitives keep the standard library's behaviour for ordinary threads.
"""

from __future__ import annotations

import pytest

from harness import sync

lock_tests = pytest.importorskip(
    "test.lock_tests", reason="this Python was built without its test package"
)


class TestLock(lock_tests.LockTests):
    locktype = staticmethod(sync.Lock)


class TestRLock(lock_tests.RLockTests):
    locktype = staticmethod(sync.RLock)


class TestConditionAsRLock(lock_tests.RLockTests):
    locktype = staticmethod(sync.Condition)
    # CPython excludes this one too: Condition does not expose _recursion_count().
    test_recursion_count = None


class TestCondition(lock_tests.ConditionTests):
    condtype = staticmethod(sync.Condition)


class TestEvent(lock_tests.EventTests):
    eventtype = staticmethod(sync.Event)


class TestSemaphore(lock_tests.SemaphoreTests):
    semtype = staticmethod(sync.Semaphore)


class TestBoundedSemaphore(lock_tests.BoundedSemaphoreTests):
    semtype = staticmethod(sync.BoundedSemaphore)


class TestBarrier(lock_tests.BarrierTests):
    barriertype = staticmethod(sync.Barrier)
