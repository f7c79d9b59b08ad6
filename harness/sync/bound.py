"""Real primitives that the code under test bound at import, found and swapped.

A module-level ``threading.Lock()`` is a module attribute, swapped by
:func:`harness.sync.patching.install_primitives`. Libraries also bind them where
a module scan does not look (issue 15):

* a class attribute, ``_lock = threading.Lock()``;
* the closure of a function made at import, e.g. by a decorator
  (``lock = threading.RLock()`` in the decorator, used by the wrapper);
* a default argument, ``condition_cls=threading.Condition`` (the class) or
  ``cond=threading.Condition()`` (an instance).

:func:`swap_bound` walks the functions and classes of one module under test and
swaps each such real primitive (or standard class) for an instrumented one,
through the :class:`~harness.sync.patching.Patcher`, so it is put back after the
call. A real lock that is held right now is left alone (swapping it would lose
its holder). Only objects defined by that module are walked, one level into
classes; nothing of the program is called.
"""

from __future__ import annotations

import _thread
from types import CellType, FunctionType, ModuleType
from typing import Any

from harness.sync import condition, early, locks

__all__ = ["swap_bound"]

_LOCK = type(_thread.allocate_lock())
_RLOCK = type(_thread.RLock())
#: The standard library's Condition class, as imported before any patching.
_REAL_CONDITION: type = early.standard("Condition")


def _held(value: Any) -> bool:
    """Whether a real lock is held by anyone (a held one must not be swapped)."""
    if type(value) is _LOCK:
        return bool(value.locked())
    if type(value) is _RLOCK:
        if getattr(value, "_is_owned")():  # noqa: B009 - not in the type stubs
            return True
        if value.acquire(False):
            value.release()
            return False
        return True
    return True  # pragma: no cover - only called for real locks


def _replacement(value: Any, label: str, originals: dict[int, Any]) -> Any:
    """The instrumented stand-in for ``value``, or None if it is not a real primitive.

    ``originals`` maps id(original) to its stand-in (the standard classes, and
    every real primitive swapped so far in this install): one real object bound
    in two places gets one stand-in. The patcher keeps the originals alive, so
    their ids are not reused meanwhile.
    """
    found = originals.get(id(value))
    if found is None:
        found = _new_replacement(value, label)
        if found is not None:
            originals[id(value)] = found
    return found


def _new_replacement(value: Any, label: str) -> Any:
    kind = type(value)
    if kind is _LOCK or kind is _RLOCK:
        if _held(value):
            return None
        replacement: Any = locks.RLock() if kind is _RLOCK else locks.Lock()
        replacement._label = label
        return replacement
    if kind is _REAL_CONDITION:
        inner = getattr(value, "_lock", None)
        if value._waiters or inner is None or type(inner) not in (_LOCK, _RLOCK) or _held(inner):
            return None
        lock: Any = locks.RLock() if type(inner) is _RLOCK else locks.Lock()
        lock._label = label
        return condition.Condition(lock)
    return None


def _swap_function(patcher: Any, func: FunctionType, label: str, originals: dict[int, Any]) -> None:
    defaults = func.__defaults__
    if defaults:
        swapped = tuple(_replacement(d, label, originals) or d for d in defaults)
        if any(a is not b for a, b in zip(swapped, defaults, strict=True)):
            patcher.set(func, "__defaults__", swapped)
    kwdefaults = func.__kwdefaults__
    if kwdefaults:
        new = {k: _replacement(v, label, originals) or v for k, v in kwdefaults.items()}
        if any(new[k] is not kwdefaults[k] for k in kwdefaults):
            patcher.set(func, "__kwdefaults__", new)
    for name, cell in zip(func.__code__.co_freevars, func.__closure__ or (), strict=False):
        if type(cell) is not CellType:  # pragma: no cover - closures hold cells
            continue
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        replacement = _replacement(value, f"{label}.<closure {name}>", originals)
        if replacement is not None:
            patcher.set(cell, "cell_contents", replacement)


def _functions_of(value: Any) -> list[FunctionType]:
    """``value`` as plain functions: itself, or what a method wrapper holds."""
    if type(value) is FunctionType:
        found = [value]
        wrapped = value.__dict__.get("__wrapped__")  # functools.wraps: the original too
        if type(wrapped) is FunctionType:
            found.append(wrapped)
        return found
    if type(value) in (staticmethod, classmethod):
        return _functions_of(value.__func__)
    if type(value) is property:
        return [f for f in (value.fget, value.fset, value.fdel) if type(f) is FunctionType]
    return []


def swap_bound(patcher: Any, module: ModuleType, originals: dict[int, Any]) -> None:
    """Swap the real primitives bound in ``module``'s functions and classes."""
    name = module.__name__
    for attr, value in list(vars(module).items()):
        for func in _functions_of(value):
            if func.__module__ == name:
                _swap_function(patcher, func, f"{name}.{attr}", originals)
        if isinstance(value, type) and value.__module__ == name:
            for member, inner in list(vars(value).items()):
                label = f"{name}.{value.__qualname__}.{member}"
                replacement = _replacement(inner, label, originals)
                if replacement is not None:
                    patcher.set(value, member, replacement)
                for func in _functions_of(inner):
                    _swap_function(patcher, func, label, originals)
