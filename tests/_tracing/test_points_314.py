"""The 3.14 bytecode changes the dis documentation makes certain, on faked instructions.

CI has no 3.14, so these rewrite real instructions of this interpreter into their
3.14 forms: a subscript read as ``BINARY_OP`` with ``NB_SUBSCR``, and fused
borrowed local loads in front of an attribute access.
"""

from __future__ import annotations

import dis
import sys

import pytest

from harness._tracing import points
from harness._tracing.points import READ, Point
from harness.explore import values


def _instruction(fn, opname):
    return next(ins for ins in dis.get_instructions(fn) if ins.opname == opname)


needs_binary_op = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="BINARY_OP exists from CPython 3.11 on"
)


@needs_binary_op
def test_binary_op_subscript_shown_as_brackets_is_a_read():
    add = _instruction(lambda a, b: a + b, "BINARY_OP")
    assert points._classify(add) is None  # an addition touches no shared state
    assert points._classify(add._replace(argrepr="[]")) == (READ, "[]", False)


@needs_binary_op
def test_binary_op_with_the_nb_subscr_oparg_is_a_read(monkeypatch):
    add = _instruction(lambda a, b: a + b, "BINARY_OP")
    monkeypatch.setattr(points, "_NB_SUBSCR", 26)
    assert points._classify(add._replace(arg=26, argrepr="")) == (READ, "[]", False)
    assert points._classify(add._replace(arg=0, argrepr="+")) is None


def test_fused_borrowed_loads_name_the_owner(monkeypatch):
    def read(counter):
        return counter.value

    load = _instruction(read, "LOAD_ATTR")
    owner = load._replace(opname="LOAD_FAST_BORROW_LOAD_FAST_BORROW", argval=("other", "counter"))
    monkeypatch.setattr(values, "_owner_loads", lambda code: {load.offset: owner})
    point = Point(load.offset, READ, "LOAD_ATTR", ".value", None)
    probe = values.probe_for(read.__code__, point)
    assert probe is not None and probe.scope == "local" and probe.name == "counter", probe
    assert probe.attr == "value"


def test_borrowed_load_is_an_owner_load(monkeypatch):
    def read(counter):
        return counter.value

    load = _instruction(read, "LOAD_ATTR")
    owner = load._replace(opname="LOAD_FAST_BORROW", argval="counter")
    monkeypatch.setattr(values, "_owner_loads", lambda code: {load.offset: owner})
    probe = values.probe_for(read.__code__, Point(load.offset, READ, "LOAD_ATTR", ".value", None))
    assert probe is not None and probe.name == "counter", probe
