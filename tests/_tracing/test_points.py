"""Which instructions are scheduling points, on every supported version."""

from __future__ import annotations

import sys

from harness._tracing.points import CALL, READ, WRITE, points_of

SHARED = []


def attribute_update(obj):
    obj.value = obj.value + 1


def method_call(lock):
    lock.acquire()


def subscript_update(d):
    d["k"] += 1


def global_append():
    SHARED.append(1)


def _kinds(fn):
    return [(p.kind, p.target) for p in points_of(fn.__code__).values()]


def test_attribute_read_and_write_are_points():
    assert _kinds(attribute_update) == [(READ, ".value"), (WRITE, ".value")]


def test_method_lookup_is_not_a_point_but_the_call_is():
    kinds = _kinds(method_call)
    assert (READ, ".acquire") not in kinds
    assert (CALL, "()") in kinds


def test_subscript_read_and_write_are_points():
    kinds = _kinds(subscript_update)
    assert (READ, "[]") in kinds and (WRITE, "[]") in kinds


def test_global_reads_are_resolved_at_run_time():
    table = points_of(global_append.__code__)
    globals_read = [p for p in table.values() if p.target == "SHARED"]
    assert len(globals_read) == 1 and globals_read[0].resolve


def test_points_carry_their_source_line():
    (read, write) = points_of(attribute_update.__code__).values()
    first_line = attribute_update.__code__.co_firstlineno
    assert read.line == write.line == first_line + 1


def test_table_is_cached_per_code_object():
    assert points_of(attribute_update.__code__) is points_of(attribute_update.__code__)


def test_python_version_selects_backend():
    from harness._tracing import make_backend

    expected = "sys.monitoring" if sys.version_info >= (3, 12) else "settrace"
    assert make_backend().name == expected
