"""The values a recorded execution read and wrote, for teaching output.

At a scheduling point the instruction has not run yet and the interpreter's value
stack is out of reach, so the object an attribute belongs to is found from the
instruction that pushed it (``LOAD_FAST shared`` before ``LOAD_ATTR theVar``),
and evaluated in the frame. A read shows the value before the instruction; a
write shows the value the name holds right after it, taken at the thread's next
step (nothing else runs in between). Subscripts and anything less simple are
left without a value.

Recording runs in the traced thread, so it must never run code of the program
(``__repr__``, ``__eq__``, ``__hash__``, properties, descriptors, ``__getattr__``):
that would change what it observes, or deadlock on the program's own locks.
Attributes are looked up statically (instance dict, slots; never a property),
and a value is shown by :func:`show`, which spells builtins (checked by exact
type, containers of them up to a few items) by value and anything else by its
type name and a short id.
"""

from __future__ import annotations

import dis
import inspect
import weakref
from types import CodeType, FrameType, MemberDescriptorType
from typing import Any

from harness._tracing.points import Point

__all__ = ["Probe", "opaque", "probe_for", "show", "static_attr"]

_MISSING = object()
#: Longest string or bytes shown, and most items of a container shown.
_MAX_TEXT = 40
_MAX_ITEMS = 6
#: Scalars shown by value (exact types: a subclass may override __repr__).
_SCALARS = (int, float, complex, bool, type(None), str, bytes)
_SEQUENCES: dict[type, tuple[str, str]] = {
    list: ("[", "]"),
    tuple: ("(", ")"),
    set: ("{", "}"),
    frozenset: ("frozenset({", "})"),
}
_type_qualname = type.__dict__["__qualname__"].__get__

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


def opaque(value: Any) -> str:
    """A value by its type name and a short id; runs no code of the value's class."""
    cls = type(value)
    try:
        name = _type_qualname(cls)
    except Exception:  # pragma: no cover - a type always has a qualname
        name = "object"
    return f"<{name} #{id(value) & 0xFFFF:04x}>"


def _scalar(value: Any) -> str:
    cls = type(value)
    if cls is int and value.bit_length() > 128:
        return f"<int of {value.bit_length()} bits>"
    if (cls is str or cls is bytes) and len(value) > _MAX_TEXT:
        half = (_MAX_TEXT - 3) // 2
        return repr(value[:half]) + "..." + repr(value[-half:])
    return repr(value)


def _plain(value: Any, depth: int) -> str | None:
    """Builtins by value (None: something else, shown opaquely)."""
    cls = type(value)
    if cls in _SCALARS:
        return _scalar(value)
    if depth <= 0:
        return None
    if cls in _SEQUENCES:
        opening, closing = _SEQUENCES[cls]
        if not value:
            return "set()" if cls is set else f"{opening}{closing}"
        parts = []
        for n, item in enumerate(value):  # exact builtin types: iteration is C code
            if n == _MAX_ITEMS:
                parts.append("...")
                break
            parts.append(_plain(item, depth - 1) or opaque(item))
        trailing = "," if cls is tuple and len(value) == 1 else ""
        return opening + ", ".join(parts) + trailing + closing
    if cls is dict:
        parts = []
        for n, (key, item) in enumerate(value.items()):
            if n == _MAX_ITEMS:
                parts.append("...")
                break
            shown_key = _plain(key, 0) or opaque(key)
            parts.append(f"{shown_key}: {_plain(item, depth - 1) or opaque(item)}")
        return "{" + ", ".join(parts) + "}"
    return None


def show(value: Any) -> str:
    """A short text for a value, safe to build in a traced thread.

    Builtins (exact types) are shown by value, containers of them up to a few
    items; anything else by its type name and a short id. No ``__repr__``,
    ``__eq__``, ``__hash__`` or property of the program runs.
    """
    try:
        return _plain(value, 2) or opaque(value)
    except Exception:  # e.g. a container changed size while it was shown
        return opaque(value)


def static_attr(owner: Any, attr: str) -> Any:
    """``owner.attr`` without running a property, descriptor or ``__getattr__``."""
    try:
        value = inspect.getattr_static(owner, attr)
    except Exception:
        return _MISSING
    if type(value) is MemberDescriptorType:  # __slots__: a C getter, safe
        try:
            return value.__get__(owner, type(owner))
        except Exception:
            return _MISSING
    if hasattr(type(value), "__get__") and hasattr(type(value), "__set__"):
        return _MISSING  # a data descriptor (property ...): would run program code
    return value


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
        return static_attr(value, self.attr)

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
