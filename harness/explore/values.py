"""The values a recorded execution read and wrote, for teaching output.

At a scheduling point the instruction has not run yet and the interpreter's value
stack is out of reach, so the object an attribute belongs to is found from the
instruction that pushed it (``LOAD_FAST shared`` before ``LOAD_ATTR theVar``),
and evaluated in the frame. A read shows the value before the instruction; a
write shows the value the name holds right after it, taken at the thread's next
step (nothing else runs in between). Subscripts and anything less simple are
left without a value.
"""

from __future__ import annotations

import dis
import reprlib
import weakref
from types import CodeType, FrameType
from typing import Any

from harness._tracing.points import Point

__all__ = ["Probe", "probe_for", "show"]

_MISSING = object()
_repr = reprlib.Repr()
_repr.maxstring = 40
_repr.maxother = 40
_repr.maxlist = 6
_repr.maxdict = 6

_OWNER_LOADS = {
    "LOAD_FAST": "local",
    "LOAD_FAST_CHECK": "local",
    "LOAD_FAST_BORROW": "local",
    "LOAD_FAST_LOAD_FAST": "local",
    "LOAD_FAST_BORROW_LOAD_FAST_BORROW": "local",  # 3.14
    "LOAD_DEREF": "local",
    "LOAD_GLOBAL": "global",
    "LOAD_NAME": "global",
}

_owners: weakref.WeakKeyDictionary[CodeType, dict[int, dis.Instruction]] = (
    weakref.WeakKeyDictionary()
)

#: Two local loads in one instruction (3.13; borrowed references on 3.14).
_FUSED_LOADS = ("LOAD_FAST_LOAD_FAST", "LOAD_FAST_BORROW_LOAD_FAST_BORROW")

#: Stack shuffles of an augmented assignment (``obj.x += 1``) before its store.
_SHUFFLES = ("SWAP", "ROT_TWO")
_DUPLICATES = ("COPY", "DUP_TOP")


def _owner_loads(code: CodeType) -> dict[int, dis.Instruction]:
    """For each attribute access, the instruction that pushed its object, if simple."""
    table = _owners.get(code)
    if table is None:
        table = {}
        instructions = [
            ins
            for ins in dis.get_instructions(code)
            if ins.opname not in ("CACHE", "EXTENDED_ARG", "NOP")
        ]
        for i, ins in enumerate(instructions):
            if ins.opname not in ("LOAD_ATTR", "STORE_ATTR") or i == 0:
                continue
            before = instructions[i - 1]
            if ins.opname == "LOAD_ATTR" and before.opname in _DUPLICATES and i >= 2:
                before = instructions[i - 2]  # the read half of obj.x += v
            elif ins.opname == "STORE_ATTR" and before.opname in _SHUFFLES:
                # obj.x += v: LOAD obj, COPY/DUP_TOP, LOAD_ATTR x, ..., SWAP, STORE_ATTR x
                for j in range(i - 2, 1, -1):
                    load = instructions[j]
                    if load.opname == "LOAD_ATTR" and load.argval == ins.argval:
                        if instructions[j - 1].opname in _DUPLICATES:
                            before = instructions[j - 2]
                        break
            table[ins.offset] = before
        _owners[code] = table
    return table


def show(value: Any) -> str:
    """A short repr for reports."""
    try:
        return _repr.repr(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _lookup(frame: FrameType, scope: str, name: str) -> Any:
    if scope == "local":
        return frame.f_locals.get(name, _MISSING)
    value = frame.f_globals.get(name, _MISSING)
    if value is _MISSING:
        value = frame.f_builtins.get(name, _MISSING)
    return value


class Probe:
    """How to read the current value of what one point touches."""

    __slots__ = ("attr", "name", "scope")

    def __init__(self, scope: str, name: str, attr: str | None) -> None:
        self.scope = scope  # "local" or "global": where ``name`` is looked up
        self.name = name
        self.attr = attr  # None: the name itself

    def read(self, frame: FrameType) -> Any:
        value = _lookup(frame, self.scope, self.name)
        if value is _MISSING or self.attr is None:
            return value
        return getattr(value, self.attr, _MISSING)

    def owner_id(self, frame: FrameType) -> int | None:
        """Identity of the object whose attribute is touched (None: a plain name)."""
        if self.attr is None:
            return id(frame.f_globals) if self.scope == "global" else None
        try:
            owner = _lookup(frame, self.scope, self.name)
        except Exception:
            return None
        return None if owner is _MISSING else id(owner)

    def value_text(self, frame: FrameType) -> str | None:
        try:
            value = self.read(frame)
        except Exception:
            return None
        return None if value is _MISSING else show(value)


def probe_for(code: CodeType, point: Point) -> Probe | None:
    """A probe for the value behind ``point``, when the code makes it easy."""
    if point.kind not in ("read", "write"):
        return None
    op = point.op
    if op in ("LOAD_GLOBAL", "STORE_GLOBAL", "LOAD_NAME", "STORE_NAME"):
        return Probe("global", point.target, None)
    if op in ("LOAD_DEREF", "STORE_DEREF", "LOAD_CLASSDEREF"):
        return Probe("local", point.target, None)
    if op in ("LOAD_ATTR", "STORE_ATTR"):
        owner = _owner_loads(code).get(point.offset)
        if owner is None or owner.opname not in _OWNER_LOADS:
            return None
        name = owner.argval
        if isinstance(name, tuple) and owner.opname in _FUSED_LOADS:
            name = name[-1]  # 3.13 fuses two loads (3.14: borrowed); the second is the owner
        if not isinstance(name, str):
            return None
        return Probe(_OWNER_LOADS[owner.opname], name, point.target.lstrip("."))
    return None
