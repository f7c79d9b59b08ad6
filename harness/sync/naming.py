"""Names for primitives in reports: the attribute or variable they are bound to.

"T0 waits for lock_b held by T1" reads better than an address. A primitive is
looked up, breadth first, in the state an execution was built from (so
``state.lock_b`` is found as ``lock_b`` and a queue's internal mutex as
``q.mutex``), then among the local variables of the threads' frames, and is
named by the line that created it when it is bound to nothing visible.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from types import FrameType
from typing import Any

from harness._frames import is_harness_file

__all__ = ["Namer"]

_MAX_DEPTH = 4
_MAX_OBJECTS = 5_000
_ATOMS = (str, bytes, int, float, complex, bool, type(None), range, type)


def _children(obj: Any) -> Iterator[tuple[str, Any]]:
    """(path fragment, child) pairs of an object, public attributes first."""
    if isinstance(obj, dict):
        for key, value in list(obj.items())[:200]:
            yield f"[{key!r}]", value
        return
    if isinstance(obj, (list, tuple, deque)):
        for i, value in enumerate(list(obj)[:200]):
            yield f"[{i}]", value
        return
    names: list[tuple[str, Any]] = []
    try:
        names.extend(vars(obj).items())
    except TypeError:
        pass
    for cls in type(obj).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if (
                isinstance(slot, str)
                and slot not in ("__weakref__", "__dict__")
                and hasattr(obj, slot)
            ):
                names.append((slot, getattr(obj, slot)))
    names.sort(key=lambda item: item[0].startswith("_"))
    for name, value in names:
        yield f".{name}", value


class Namer:
    """Finds names for objects reachable from an execution's state."""

    def __init__(self, root: Any, root_name: str = "state") -> None:
        self._root = root
        self._root_name = root_name
        self._cache: dict[int, str | None] = {}

    def _search(self, target: Any, roots: Iterable[tuple[str, Any]]) -> str | None:
        queue: deque[tuple[str, Any, int]] = deque((name, obj, 0) for name, obj in roots)
        seen: set[int] = set()
        while queue and len(seen) < _MAX_OBJECTS:
            path, obj, depth = queue.popleft()
            if obj is target:
                return path
            if id(obj) in seen or depth >= _MAX_DEPTH or isinstance(obj, _ATOMS):
                continue
            seen.add(id(obj))
            for fragment, child in _children(obj):
                queue.append((path + fragment, child, depth + 1))
        return None

    def _in_state(self, obj: Any) -> str | None:
        key = id(obj)
        if key not in self._cache:
            path = self._search(obj, [("", self._root)])
            if path is None:
                self._cache[key] = None
            elif path == "":
                self._cache[key] = self._root_name
            elif path.startswith("."):
                self._cache[key] = path[1:]
            else:
                self._cache[key] = self._root_name + path
        return self._cache[key]

    def name(self, obj: Any, frames: Iterable[FrameType] = ()) -> str:
        """The best name for ``obj``: a path in the state, a local, or its creation line."""
        label = getattr(obj, "_label", None)
        if label:
            return str(label)
        found = self._in_state(obj)
        if found:
            return found
        for frame in frames:
            f: FrameType | None = frame
            while f is not None:
                if not is_harness_file(f.f_code.co_filename):
                    for local, value in f.f_locals.items():
                        if value is obj:
                            return f"{local} (in {f.f_code.co_name})"
                f = f.f_back
        created = getattr(obj, "_created", None)
        kind = type(obj).__name__
        if created:
            return f"the {kind} created at {os.path.basename(created[0])}:{created[1]}"
        return f"a {kind}"

    def describe(self, obj: Any, kind: str, frames: Iterable[FrameType] = ()) -> str:
        """``lock_b (Lock)``: the name with the primitive's type."""
        return f"{self.name(obj, frames)} ({type(obj).__name__})"
