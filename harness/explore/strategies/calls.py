"""Which calls of the code under test only read: dpor's view of untraced code.

A call point runs code the tracer does not see (a C function such as
``list.append``) until the thread's next point, so dependence-aware search must
assume the call reads anything and changes containers. A call whose callable is
a read-only builtin loaded by name (``len(x)``, ``getattr(obj, name)``,
``sorted(items, key=f)``) changes nothing; this module recognises that pattern
in the bytecode: ``LOAD_GLOBAL name`` (pushing the callable, and on 3.11+ a NULL
beside it), then the arguments computed without calls or jumps (their reads are
points of their own), then the call. Anything else is a call that may write.
"""

from __future__ import annotations

import builtins
import dis
import sys
import weakref
from types import CodeType, FrameType

__all__ = ["READ_ONLY_BUILTINS", "read_only_call"]

#: Builtins that do not change their arguments (they may call back into traced
#: Python code, whose accesses are points of their own).
READ_ONLY_BUILTINS = frozenset(
    {
        "abs", "all", "any", "bool", "callable", "dict", "divmod", "enumerate", "float",
        "format", "frozenset", "getattr", "hasattr", "hash", "id", "int", "isinstance",
        "issubclass", "len", "list", "max", "min", "range", "repr", "reversed", "round",
        "set", "sorted", "str", "sum", "tuple", "type", "zip",
    }
)  # fmt: skip

_CALLS = frozenset({"CALL", "CALL_FUNCTION", "CALL_KW", "CALL_FUNCTION_KW"})
#: From 3.11 on, ``LOAD_GLOBAL`` of a callable pushes a NULL with it (stack
#: effect 2) and the call's argument counts the arguments only; on 3.10
#: ``LOAD_GLOBAL`` pushes the callable alone. ``CALL_FUNCTION_KW`` (3.10) and
#: ``CALL_KW`` (3.13+) also take the tuple of keyword names from the stack.
_NULL_WITH_CALLABLE = sys.version_info >= (3, 11)

_cache: weakref.WeakKeyDictionary[CodeType, dict[int, str]] = weakref.WeakKeyDictionary()


def _scan(code: CodeType) -> dict[int, str]:
    found: dict[int, str] = {}
    instructions = [i for i in dis.get_instructions(code) if i.opname != "CACHE"]
    for n, ins in enumerate(instructions):
        if ins.opname not in _CALLS or not isinstance(ins.arg, int):
            continue
        if _NULL_WITH_CALLABLE:
            # NULL and callable, arguments, and for 3.13's CALL_KW the keyword names
            items = ins.arg + 2 + (ins.opname == "CALL_KW")
        else:
            items = ins.arg + 1 + (ins.opname == "CALL_FUNCTION_KW")  # callable, args, names
        head = _callable_of(instructions, n, items)
        name = None if head is None else str(head.argval)
        if name in READ_ONLY_BUILTINS and getattr(builtins, str(name), None) is not None:
            found[ins.offset] = str(name)
    return found


def _callable_of(instructions: list[dis.Instruction], n: int, items: int) -> dis.Instruction | None:
    """The ``LOAD_GLOBAL`` that pushed the callable of the call at ``n``, if the
    arguments between are computed without calls or jumps; else None."""
    total = 0
    for k in range(n - 1, -1, -1):
        ins = instructions[k]
        if ins.opname in _CALLS or ins.opname.startswith(("CALL", "JUMP", "POP_JUMP", "FOR_")):
            return None
        if ins.opname in ("PRECALL", "KW_NAMES"):
            continue  # 3.11's call prologue: no stack change of its own
        if ins.opcode < dis.HAVE_ARGUMENT:
            effect = dis.stack_effect(ins.opcode)
        else:
            effect = dis.stack_effect(ins.opcode, ins.arg or 0, jump=False)
        total += effect
        if total == items:
            if ins.opname == "LOAD_GLOBAL" and effect == (2 if _NULL_WITH_CALLABLE else 1):
                return ins
            return None
        if total > items:
            return None
    return None


def read_only_call(frame: FrameType) -> bool:
    """Whether the call ``frame`` is about to make calls a read-only builtin.

    The name must still be the builtin: a module that rebinds ``len`` globally
    is not trusted.
    """
    code = frame.f_code
    table = _cache.get(code)
    if table is None:
        table = _scan(code)
        _cache[code] = table
    name = table.get(frame.f_lasti)
    return name is not None and name not in frame.f_globals
