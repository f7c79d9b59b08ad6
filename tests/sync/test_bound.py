"""Real primitives bound at import are managed under explore (issue 15)."""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType

import harness
from harness.sync import locks
from harness.sync.patching import Patcher, install_primitives

LIB = "tests.sync.libs.boundlib"


def fresh() -> ModuleType:
    """The library imported anew, so its primitives are real ones made at import."""
    sys.modules.pop(LIB, None)
    return importlib.import_module(LIB)


def scenario(lib: ModuleType):
    def setup():
        lib.reset()
        return lib.Cache()

    def threads(cache):
        def writer() -> None:
            cache.store_locked("a", 1)
            lib.set_flag()

        def reader() -> None:
            assert lib.wait_flag()
            cache.box.take()
            cache.box.take()

        return [writer, cache.audit, reader]

    return setup, threads, lambda cache: cache.data == {"a": 1}


def test_the_library_binds_real_primitives_at_import():
    lib = fresh()
    real = (type(threading._allocate_lock()), type(threading._CRLock()))
    assert isinstance(lib.Cache._lock, real)
    assert lib.Mailbox.__init__.__defaults__[0] is threading.Condition
    assert type(lib.set_flag.__defaults__[0]) is threading.Condition


def test_install_swaps_class_closure_and_default_bindings_and_puts_them_back():
    lib = fresh()
    from harness._tracing.codefilter import CodeFilter

    before = lib.Cache._lock
    cell = lib.register.__closure__[lib.register.__code__.co_freevars.index("lock")]
    real_rlock = cell.cell_contents
    patcher = Patcher()
    try:
        install_primitives(patcher, CodeFilter())
        assert isinstance(lib.Cache._lock, locks.Lock)
        assert isinstance(cell.cell_contents, locks.RLock)
        assert lib.Mailbox.__init__.__defaults__[0] is threading.Condition  # patched name
        assert type(lib.set_flag.__defaults__[0]).__module__ == "harness.sync.condition"
        assert lib.wait_flag.__defaults__[0] is lib.set_flag.__defaults__[0]
        assert lib.Cache._lock._label == f"{LIB}.Cache._lock"
    finally:
        patcher.restore()
    assert lib.Cache._lock is before and cell.cell_contents is real_rlock
    assert type(lib.set_flag.__defaults__[0]) is threading.Condition


def test_the_buggy_library_deadlocks_with_its_real_kind():
    lib = fresh()
    lib.BUGGY = True
    result = harness.explore(*scenario(lib), seed=0, budget=300, timeout=3.0)
    assert result.failed and result.kind == "deadlock", str(result)
    assert "Cache._lock" in str(result), str(result)
    again = harness.replay(result.schedule, *scenario(lib), timeout=3.0)
    assert again.failed and again.kind == "deadlock", str(again)


def test_the_fixed_library_holds_for_300_schedules_without_hang():
    lib = fresh()
    lib.BUGGY = False
    result = harness.explore(*scenario(lib), seed=0, budget=300, timeout=3.0)
    assert not result.failed, str(result)
    assert result.runs == 300


def test_early_install_manages_what_the_library_makes_at_import(monkeypatch):
    from harness.sync import early, patching

    monkeypatch.setattr(patching, "swap_bound", lambda *args: None)  # the install alone
    harness.install()
    try:
        assert early.installed() and threading.Lock is locks.Lock
        lib = fresh()
        assert isinstance(lib.Cache._lock, locks.Lock)
        lib.BUGGY = False
        held = harness.explore(*scenario(lib), seed=1, budget=100, timeout=3.0)
        lib.BUGGY = True
        found = harness.explore(*scenario(lib), seed=1, budget=300, timeout=3.0)
    finally:
        early.uninstall()
        sys.modules.pop(LIB, None)
    assert not early.installed() and threading.Lock is early.standard("Lock")
    assert not held.failed and held.runs == 100, str(held)
    assert found.failed and found.kind == "deadlock", str(found)
