"""The operands of a scheduling point: the closure cell or container item it touches.

At a scheduling point the instruction has not run yet, so what it will touch is
recovered from the frame, running no code of the program:

* **closure cells** (``LOAD_DEREF``/``STORE_DEREF``/``DELETE_DEREF``): the cell
  object itself, so that two closures sharing one variable, and the function that
  defines it, share one location. On CPython 3.11-3.13 the instruction's argument
  is the cell's slot in the frame's "fast locals", which no Python API exposes:
  the slot is read with :mod:`ctypes` at the interpreter frame's address, and only
  after three of that frame's fields (its code, its globals, its frame object)
  were checked to hold exactly the objects the frame reports, so a layout this
  module does not know is never dereferenced (and a self-test at import turns the
  reading off if it does not find a known closure's cell). On 3.10 the frame
  object's garbage-collector referents are its locals, cells and stack in order;
  the cells are taken when exactly the code's cells are there.
* **container items** (``d[k]``, ``lst[i]``; ``BINARY_SUBSCR``, ``STORE_SUBSCR``,
  ``DELETE_SUBSCR``, 3.14's ``BINARY_OP []``): container and key from the simple
  loads right before the instruction (a local, cell or global name, optionally
  followed by plain attribute loads, or a constant key), as
  :func:`harness.explore.values.probe_for` does for attribute owners, evaluated in
  the frame with static attribute look-ups. Only builtin containers (exact types)
  are located; an item is keyed by ``(id(container), key)`` when the key is a
  plain scalar (or a tuple of them), else by the container as a whole.
"""

from __future__ import annotations

import ctypes
import dis
import gc
import sys
import weakref
from collections import Counter, OrderedDict, defaultdict, deque
from types import CellType, CodeType, FrameType
from typing import Any, NamedTuple

from harness._tracing import Point
from harness.explore.values import static_attr

__all__ = [
    "CONTAINERS",
    "MISSING",
    "WHOLE",
    "Item",
    "Operand",
    "cell_name",
    "cell_of",
    "item_key",
    "item_name",
    "item_of",
    "operand_text",
]

_MISSING = MISSING = object()


class _Whole:
    def __repr__(self) -> str:
        return "*"


#: The key of a container location as a whole (the key was not simple).
WHOLE = _Whole()

# -- closure cells ---------------------------------------------------------------
#: Offsets in ``_PyInterpreterFrame`` of (code, globals, frame object, localsplus).
_LAYOUTS = {(3, 11): (32, 8, 40, 72), (3, 12): (0, 24, 48, 72), (3, 13): (0, 24, 48, 72)}
_LAYOUT = _LAYOUTS.get(sys.version_info[:2])
#: ``PyFrameObject`` starts with its object header, ``f_back``, then ``f_frame``.
_F_FRAME = object.__basicsize__ + ctypes.sizeof(ctypes.c_void_p)
_WORD = ctypes.sizeof(ctypes.c_void_p)
_DEREF_OPS = frozenset(
    {
        "LOAD_DEREF",
        "STORE_DEREF",
        "DELETE_DEREF",
        "LOAD_CLASSDEREF",
        "LOAD_FROM_DICT_OR_DEREF",
    }
)

_args: weakref.WeakKeyDictionary[CodeType, dict[int, int]] = weakref.WeakKeyDictionary()


def _deref_args(code: CodeType) -> dict[int, int]:
    table = _args.get(code)
    if table is None:
        table = {
            ins.offset: ins.arg
            for ins in dis.get_instructions(code)
            if ins.opname in _DEREF_OPS and ins.arg is not None
        }
        _args[code] = table
    return table


def _word(address: int) -> int:
    return ctypes.c_size_t.from_address(address).value


def _cell_in_slot(frame: FrameType, slot: int) -> object:
    """The object in fast-locals slot ``slot`` of a live frame (3.11-3.13), or _MISSING."""
    if _LAYOUT is None:
        return _MISSING
    code = frame.f_code
    if not 0 <= slot < code.co_nlocals + len(code.co_cellvars) + len(code.co_freevars):
        return _MISSING
    code_at, globals_at, frame_at, locals_at = _LAYOUT
    base = _word(id(frame) + _F_FRAME)
    if not base:
        return _MISSING
    if (
        _word(base + code_at) != id(code)
        or _word(base + globals_at) != id(frame.f_globals)
        or _word(base + frame_at) != id(frame)
    ):
        return _MISSING  # not the layout this module knows: read nothing further
    if not _word(base + locals_at + slot * _WORD):
        return _MISSING
    return ctypes.py_object.from_address(base + locals_at + slot * _WORD).value


def _cell_in_referents(frame: FrameType, index: int) -> object:
    """3.10: the frame's referents hold its cells then free variables, in order."""
    code = frame.f_code
    wanted = len(code.co_cellvars) + len(code.co_freevars)
    cells = [r for r in gc.get_referents(frame) if type(r) is CellType]
    if len(cells) != wanted or not 0 <= index < wanted:
        return _MISSING  # a local or stack slot holds a cell too: ambiguous
    return cells[index]


_read_cell: Any = _cell_in_referents if sys.version_info < (3, 11) else _cell_in_slot


def cell_of(frame: FrameType, point: Point) -> CellType | None:
    """The closure cell that the ``*_DEREF`` instruction at ``point`` touches."""
    slot = _deref_args(frame.f_code).get(point.offset)
    if slot is None:
        return None
    try:
        cell = _read_cell(frame, slot)
    except Exception:  # pragma: no cover - a defensive net around ctypes
        return None
    return cell if type(cell) is CellType else None


_qualnames: weakref.WeakKeyDictionary[CodeType, str | None] = weakref.WeakKeyDictionary()


def _qualname(code: CodeType) -> str | None:
    """``co_qualname`` (3.11+), or on 3.10 a function's ``__qualname__`` of ``code``."""
    if hasattr(code, "co_qualname"):
        return code.co_qualname  # type: ignore[no-any-return]
    if code not in _qualnames:  # once per code: a referrer search walks the heap
        functions = [f for f in gc.get_referrers(code) if getattr(f, "__code__", None) is code]
        _qualnames[code] = functions[0].__qualname__ if functions else None
    return _qualnames[code]


def cell_name(code: CodeType, name: str) -> str:
    """``cell outer.count``: the variable and the function that defines it."""
    qualname = _qualname(code)
    if name in code.co_cellvars:
        definer: str | None = qualname or code.co_name
    elif qualname and ".<locals>." in qualname:
        definer = qualname.rsplit(".<locals>.", 1)[0]
    else:
        definer = None
    return f"cell {definer}.{name}" if definer else f"cell {name}"


def _self_test() -> bool:
    """Whether :func:`cell_of` finds a known closure's cell on this interpreter."""
    shared = 0

    def inner() -> tuple[object, int]:
        frame = sys._getframe()
        points = []
        for ins in dis.get_instructions(frame.f_code):
            if ins.opname == "LOAD_DEREF" and ins.argval == "shared":
                points.append(Point(ins.offset, "read", ins.opname, "shared", None))
        return (cell_of(frame, points[0]) if points else None), shared

    found, _ = inner()
    return found is not None and found is (inner.__closure__ or (None,))[-1]


if not _self_test():  # pragma: no cover - an interpreter whose frames we misread

    def _never(frame: FrameType, slot: int) -> object:
        return _MISSING

    _read_cell = _never


# -- container items ---------------------------------------------------------------
#: Builtin containers whose items are located (exact types: no program code runs).
CONTAINERS: frozenset[type] = frozenset(
    {dict, list, deque, OrderedDict, defaultdict, Counter, bytearray}
)
_SEQUENCES = (list, deque, bytearray)
_SCALAR_KEYS = frozenset({int, str, bytes, bool, float, type(None)})

_SUBSCRIPTS = frozenset({"BINARY_SUBSCR", "STORE_SUBSCR", "DELETE_SUBSCR", "BINARY_OP"})
_NAME_LOADS = {
    "LOAD_FAST": "local",
    "LOAD_FAST_CHECK": "local",
    "LOAD_FAST_BORROW": "local",
    "LOAD_DEREF": "local",
    "LOAD_GLOBAL": "global",
    "LOAD_NAME": "global",
}
_CONST_LOADS = frozenset({"LOAD_CONST", "LOAD_SMALL_INT"})
_FUSED = frozenset({"LOAD_FAST_LOAD_FAST", "LOAD_FAST_BORROW_LOAD_FAST_BORROW"})
_NULL_BIT_IN_LOAD_GLOBAL = sys.version_info >= (3, 11)
_METHOD_BIT_IN_LOAD_ATTR = sys.version_info >= (3, 12)


class Operand(NamedTuple):
    """A simple expression: a name (local or global) with attributes, or a constant."""

    scope: str  # "local", "global" or "const"
    value: Any  # the name, or the constant
    attrs: tuple[str, ...] = ()

    def evaluate(self, frame: FrameType) -> Any:
        if self.scope == "const":
            value = self.value
        elif self.scope == "local":
            value = frame.f_locals.get(self.value, _MISSING)
        else:
            value = frame.f_globals.get(self.value, _MISSING)
            if value is _MISSING:
                value = frame.f_builtins.get(self.value, _MISSING)
        for attr in self.attrs:
            if value is _MISSING:
                break
            value = static_attr(value, attr)
        return value


class Item(NamedTuple):
    """What a subscript point touches: the container's and the key's expressions."""

    container: Operand
    key: Operand


class _Ins(NamedTuple):
    opname: str
    arg: int | None
    argval: Any
    argrepr: str
    target: bool  # a jump target


def _flat(code: CodeType) -> tuple[list[_Ins], dict[int, int]]:
    """The instructions, fused loads split in two, and each offset's index."""
    out: list[_Ins] = []
    index: dict[int, int] = {}
    for ins in dis.get_instructions(code):
        if ins.opname in ("CACHE", "EXTENDED_ARG"):
            continue
        if ins.opname in _FUSED and isinstance(ins.argval, tuple):
            first, second = ins.argval
            out.append(_Ins("LOAD_FAST", None, first, "", ins.is_jump_target))
            index[ins.offset] = len(out)
            out.append(_Ins("LOAD_FAST", None, second, "", False))
            continue
        index[ins.offset] = len(out)
        out.append(_Ins(ins.opname, ins.arg, ins.argval, ins.argrepr, ins.is_jump_target))
    return out, index


def _operand(code: list[_Ins], j: int) -> tuple[Operand, int] | None:
    """The simple expression whose last instruction is ``code[j]``, and where it starts."""
    attrs: list[str] = []
    while j >= 0:
        ins = code[j]
        if ins.opname == "LOAD_ATTR":
            if _METHOD_BIT_IN_LOAD_ATTR and ins.arg is not None and ins.arg & 1:
                return None
            attrs.append(str(ins.argval))
            if ins.target:
                return None  # reached from elsewhere: the owner is not the load before
            j -= 1
            continue
        if ins.opname in _CONST_LOADS:
            return None if attrs else (Operand("const", ins.argval), j)
        scope = _NAME_LOADS.get(ins.opname)
        if scope is None or not isinstance(ins.argval, str):
            return None
        if ins.opname == "LOAD_GLOBAL" and _NULL_BIT_IN_LOAD_GLOBAL and (ins.arg or 0) & 1:
            return None  # also pushes NULL: a call follows, not a subscript
        return Operand(scope, ins.argval, tuple(reversed(attrs))), j
    return None


def _pair(code: list[_Ins], j: int) -> tuple[Item, int] | None:
    """Container and key pushed by the instructions ending at ``code[j]``."""
    key = _operand(code, j)
    if key is None or key[1] == 0:
        return None
    container = _operand(code, key[1] - 1)
    if container is None:
        return None
    start = container[1]
    if any(ins.target for ins in code[start + 1 : j + 1]):
        return None  # control can enter between the loads
    return Item(container[0], key[0]), start


def _duplicated(code: list[_Ins], i: int) -> int | None:
    """The index before ``COPY 2; COPY 2`` or ``DUP_TOP_TWO`` ending at ``i - 1``."""
    if i >= 1 and code[i - 1].opname == "DUP_TOP_TWO":
        return i - 2
    if i >= 2 and all(code[k].opname == "COPY" and code[k].arg == 2 for k in (i - 1, i - 2)):
        return i - 3
    return None


def _is_subscript(ins: _Ins) -> bool:
    if ins.opname == "BINARY_OP":
        return ins.argrepr == "[]"
    return ins.opname in _SUBSCRIPTS


def _shuffled(code: list[_Ins], i: int) -> bool:
    """Whether ``SWAP 3; SWAP 2`` (3.11+) or ``ROT_THREE`` (3.10) ends at ``i - 1``."""
    if code[i - 1].opname == "ROT_THREE":
        return True
    return (
        i >= 2
        and (code[i - 1].opname, code[i - 1].arg) == ("SWAP", 2)
        and (code[i - 2].opname, code[i - 2].arg) == ("SWAP", 3)
    )


def _item_at(code: list[_Ins], i: int) -> Item | None:
    ins = code[i]
    if ins.target or i == 0:
        return None
    if ins.opname != "STORE_SUBSCR" or not _shuffled(code, i):
        j = _duplicated(code, i) if ins.opname != "STORE_SUBSCR" else None
        found = _pair(code, i - 1 if j is None else j)
        return None if found is None else found[0]
    # d[k] op= v: LOAD d, LOAD k, duplicate both, BINARY_SUBSCR, ..., shuffle, STORE_SUBSCR
    for k in range(i - 1, max(i - 40, 0), -1):
        op = code[k].opname
        if op.startswith(("STORE_", "DELETE_", "POP_", "RETURN_")):
            return None  # another statement: not this one's read half
        if _is_subscript(code[k]):
            j = _duplicated(code, k)
            if j is None:
                continue  # a subscript inside the right-hand side
            found = _pair(code, j)
            return None if found is None else found[0]
    return None


_items: weakref.WeakKeyDictionary[CodeType, dict[int, Item | None]] = weakref.WeakKeyDictionary()


def item_of(code: CodeType, point: Point) -> Item | None:
    """The container and key expressions of the subscript at ``point``, when simple."""
    if point.target != "[]":
        return None
    table = _items.get(code)
    if table is None:
        table = {}
        flat, index = _flat(code)
        for offset, i in index.items():
            if _is_subscript(flat[i]):
                table[offset] = _item_at(flat, i)
        _items[code] = table
    return table.get(point.offset)


def item_key(container: Any, key: Any) -> Any:
    """The location key of ``container[key]``'s item (``WHOLE``: the container)."""
    cls = type(key)
    if cls is tuple:
        simple = all(type(k) in _SCALAR_KEYS for k in key)
    else:
        simple = cls in _SCALAR_KEYS
    if not simple:
        return WHOLE
    if cls is int and key < 0 and type(container) in _SEQUENCES:
        key += len(container)  # lst[-1] and lst[len - 1] are one item
    return key


def operand_text(operand: Operand, frame: FrameType) -> str:
    """``buffer`` or ``Registry.items``: the container's expression for a report."""
    if not operand.attrs:
        return str(operand.value)
    owner = Operand(operand.scope, operand.value).evaluate(frame)
    head = type(owner).__name__ if owner is not _MISSING else str(operand.value)
    return ".".join((head, *operand.attrs))


def item_name(container: Any, text: str, key: Any) -> str:
    """``dict Registry.items['a']``, ``list buffer[3]``, ``dict d[*]`` (the whole)."""
    return f"{type(container).__name__} {text}[{key!r}]"
