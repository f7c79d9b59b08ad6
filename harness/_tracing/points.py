"""Scheduling points: the instructions of the code under test that touch shared state.

A thread switch right before an instruction that only touches the frame's own
locals (``LOAD_FAST``, arithmetic, jumps) is equivalent to a switch before the next
instruction that does touch shared state, so only the latter need a hook. We keep:

* reads and writes of attributes, globals, closure cells and subscripts;
* calls (a C function such as ``list.append`` may touch shared state; a call
  into Python code is filtered out at run time where the backend can see the
  callable, i.e. with ``sys.monitoring``).

Method look-ups (``LOAD_METHOD``, and ``LOAD_ATTR`` in method form on 3.12+) read
the type, not the instance, and are not points. Reads of globals and cells are
*resolved* the first time they run: a name bound to a module, function, class or
builtin is taken to be constant and stops being a point.
"""

from __future__ import annotations

import dis
import sys
import weakref
from dataclasses import dataclass
from types import CodeType, FrameType

__all__ = [
    "CALL",
    "READ",
    "RESUME",
    "WRITE",
    "Point",
    "is_constant_binding",
    "points_of",
    "resume_point",
]

READ, WRITE, CALL = "read", "write", "call"
#: A thread enters a generator or coroutine frame (its start or a resumption).
RESUME = "resume"

#: CO_GENERATOR | CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR
_RESUMABLE = 0x20 | 0x80 | 0x100 | 0x200

_READ_ATTR = {"LOAD_ATTR"}
_READ_NAME = {"LOAD_GLOBAL", "LOAD_NAME", "LOAD_FROM_DICT_OR_GLOBALS"}
_READ_CELL = {"LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_FROM_DICT_OR_DEREF"}
_READ_ITEM = {"BINARY_SUBSCR", "BINARY_SLICE"}
_WRITE_ATTR = {"STORE_ATTR", "DELETE_ATTR"}
_WRITE_NAME = {"STORE_GLOBAL", "DELETE_GLOBAL", "STORE_NAME", "DELETE_NAME"}
_WRITE_CELL = {"STORE_DEREF", "DELETE_DEREF"}
_WRITE_ITEM = {"STORE_SUBSCR", "DELETE_SUBSCR", "STORE_SLICE"}
_CALLS = {
    "CALL",
    "CALL_KW",
    "CALL_FUNCTION",
    "CALL_FUNCTION_KW",
    "CALL_FUNCTION_EX",
    "CALL_METHOD",
}

_METHOD_FLAG_IN_LOAD_ATTR = sys.version_info >= (3, 12)

#: From 3.14 on, the dis documentation lists BINARY_SUBSCR as gone: a subscript
#: read is BINARY_OP with the oparg NB_SUBSCR, which ``dis`` renders as ``[]``.
#: The oparg's index, where this ``dis`` knows it.
_NB_SUBSCR = next(
    (i for i, (name, _) in enumerate(getattr(dis, "_nb_ops", ())) if name == "NB_SUBSCR"), None
)


@dataclass(frozen=True, slots=True)
class Point:
    """One scheduling point: an instruction of the code under test.

    ``target`` names what is touched: ``.value`` for an attribute, ``theVar`` for
    a global or cell, ``[]`` for a subscript, ``()`` for a call.
    """

    offset: int
    kind: str
    op: str
    target: str
    line: int | None
    file: str = ""
    #: True for global and cell reads, whose binding is checked on first use.
    resolve: bool = False

    @property
    def label(self) -> str:
        return f"{self.kind} {self.target}"


def _line_table(code: CodeType) -> dict[int, int | None]:
    lines: dict[int, int | None] = {}
    for start, end, line in code.co_lines():
        for offset in range(start, end, 2):
            lines[offset] = line
    return lines


def _classify(ins: dis.Instruction) -> tuple[str, str, bool] | None:
    op = ins.opname
    if op in _READ_ATTR:
        if _METHOD_FLAG_IN_LOAD_ATTR and ins.arg is not None and ins.arg & 1:
            return None  # method look-up
        return READ, f".{ins.argval}", False
    if op in _READ_NAME:
        return READ, str(ins.argval), True
    if op in _READ_CELL:
        return READ, str(ins.argval), True
    if op in _READ_ITEM:
        return READ, "[]", False
    if op == "BINARY_OP" and (
        ins.argrepr == "[]" or (_NB_SUBSCR is not None and ins.arg == _NB_SUBSCR)
    ):
        return READ, "[]", False  # 3.14: a subscript is a BINARY_OP
    if op in _WRITE_ATTR:
        return WRITE, f".{ins.argval}", False
    if op in _WRITE_NAME or op in _WRITE_CELL:
        return WRITE, str(ins.argval), False
    if op in _WRITE_ITEM:
        return WRITE, "[]", False
    if op in _CALLS:
        return CALL, "()", False
    return None


_cache: weakref.WeakKeyDictionary[CodeType, dict[int, Point]] = weakref.WeakKeyDictionary()


def points_of(code: CodeType) -> dict[int, Point]:
    """The scheduling points of ``code``, by instruction offset (cached).

    The returned dict is shared: backends delete the entries of global reads that
    resolve to constants, so that each is checked only once per process.
    """
    table = _cache.get(code)
    if table is None:
        lines = _line_table(code)
        table = {}
        for ins in dis.get_instructions(code):
            found = _classify(ins)
            if found is not None:
                kind, target, resolve = found
                table[ins.offset] = Point(
                    ins.offset,
                    kind,
                    ins.opname,
                    target,
                    lines.get(ins.offset),
                    code.co_filename,
                    resolve,
                )
        _cache[code] = table
    return table


_CONSTANT_TYPES: tuple[type, ...] = (
    type,
    type(sys),  # module
    type(points_of),  # Python function
    type(len),  # builtin function
)


_resume_points: weakref.WeakKeyDictionary[CodeType, Point] = weakref.WeakKeyDictionary()


def resume_point(code: CodeType) -> Point | None:
    """The point where a thread enters a generator or coroutine frame of ``code``.

    A generator body that only touches its locals has no point inside it; two
    threads sharing one generator (``ValueError: generator already executing``)
    then had no switch to find. Entering the frame is the shared access: a
    switch right after it, while the frame is marked running, is that bug.
    None for ordinary functions, and on CPython 3.10, where parking a thread in the
    'call' trace event of a generator frame while another thread resumes the same
    generator crashed the interpreter (a segfault in the CI rehearsal of stop 21).
    """
    if not code.co_flags & _RESUMABLE or sys.version_info < (3, 11):
        return None
    point = _resume_points.get(code)
    if point is None:
        point = _resume_points[code] = Point(
            -1,
            RESUME,
            "RESUME",
            getattr(code, "co_qualname", code.co_name),
            code.co_firstlineno,
            code.co_filename,
        )
    return point


def is_constant_binding(frame: FrameType, point: Point) -> bool:
    """Whether a global or cell read at ``point`` fetches a de-facto constant.

    Modules, functions, classes and builtins are rebound by almost no program
    while it runs threads; treating their reads as points would multiply the
    schedules to explore for nothing.
    """
    name = point.target
    if point.op in _READ_CELL:
        value = frame.f_locals.get(name, _MISSING)
    else:
        value = frame.f_globals.get(name, _MISSING)
        if value is _MISSING:
            return True  # a builtin
    return value is not _MISSING and isinstance(value, _CONSTANT_TYPES)


_MISSING = object()
