"""Lock order over the whole session: instrumented locks from before the test modules
are imported until the session ends, and the edges as plain data so that the xdist
controller can merge the graphs of its workers
(:func:`harness.detect.lockorder.merge_inversions`)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.detect.lockorder import Edge

__all__ = ["LockWatch", "inversions"]


class LockWatch:
    """Instrumented locks for the whole session, feeding one lock-order graph.

    Installed before the test modules are imported, so that locks the code under
    test creates at import time are instrumented too (those created earlier,
    by a conftest's imports, are swapped in place).
    """

    def __init__(self) -> None:
        from harness._tracing.codefilter import CodeFilter
        from harness.detect.lockorder import LockOrderGraph
        from harness.sync.patching import Patcher

        self.filter = CodeFilter()
        self.graph = LockOrderGraph()
        self.patcher = Patcher()
        self._paused = 0
        self._first_test: dict[tuple[int, int], str] = {}
        self._started = False

    # the monitor protocol of harness.sync.context
    def acquired(self, lock: object, site: Any, can_block: bool) -> None:
        if not self._paused:
            self.graph.acquired(lock, site, can_block)

    def released(self, lock: object) -> None:
        self.graph.released(lock)

    def start(self) -> None:
        from harness.sync import context
        from harness.sync.patching import install_primitives

        install_primitives(self.patcher, self.filter)
        context.monitors.append(self)
        self._started = True

    def rescan(self) -> None:
        from harness.sync.patching import install_primitives

        install_primitives(self.patcher, self.filter)

    def paused(self) -> _Pause:
        return _Pause(self)

    def after_test(self, nodeid: str) -> None:
        for edge in self.graph.edges():
            self._first_test.setdefault((id(edge.held), id(edge.taken)), nodeid)

    def stop(self) -> None:
        if not self._started:
            return
        from harness.sync import context

        self._started = False
        if self in context.monitors:
            context.monitors.remove(self)
        self.patcher.restore()

    def export(self) -> list[dict[str, Any]]:
        """The edges seen, as plain data that can cross to the xdist controller.

        A lock is named by its module-level name or its creation line; when this
        process saw only one lock by that name, the name is its identity across
        processes, so that edges seen by different workers join up. Other locks
        are identified by this process and object.
        """
        edges = self.graph.edges()
        objects: dict[str, set[int]] = {}
        for edge in edges:
            for lock in (edge.held, edge.taken):
                objects.setdefault(_lock_key(lock) or "", set()).add(id(lock))
        pid = os.getpid()
        names = _module_names({id(e.held) for e in edges} | {id(e.taken) for e in edges})

        def node(lock: object) -> str:
            key = _lock_key(lock)
            if key is not None and len(objects[key]) == 1:
                return key
            return f"object:{pid}:{id(lock)}"

        return [
            {
                "held": node(edge.held),
                "taken": node(edge.taken),
                "held_name": names.get(id(edge.held)) or _lock_name(edge.held),
                "taken_name": names.get(id(edge.taken)) or _lock_name(edge.taken),
                "held_site": list(edge.held_site) if edge.held_site else None,
                "taken_site": list(edge.taken_site) if edge.taken_site else None,
                "thread": edge.thread,
                "test": self._first_test.get((id(edge.held), id(edge.taken))),
                "user": self._is_user(edge),
            }
            for edge in edges
        ]

    def _is_user(self, edge: Edge) -> bool:
        sites = (edge.held_site, edge.taken_site)
        return any(site is not None and self.filter.covers_file(site[0]) for site in sites)


class _Pause:
    def __init__(self, watch: LockWatch) -> None:
        self.watch = watch

    def __enter__(self) -> None:
        self.watch._paused += 1

    def __exit__(self, *exc: object) -> None:
        self.watch._paused -= 1


def _lock_key(lock: object) -> str | None:
    label = getattr(lock, "_label", None)
    if label:
        return f"name:{label}"
    created = getattr(lock, "_created", None)
    if created:
        return f"site:{created[0]}:{created[1]}"
    return None


def _module_names(wanted: set[int]) -> dict[int, str]:
    """``module.name`` of the objects in ``wanted`` that are module globals."""
    import sys
    from types import ModuleType

    found: dict[int, str] = {}
    for module in list(sys.modules.values()):
        if not isinstance(module, ModuleType):
            continue
        for name, value in list(getattr(module, "__dict__", {}).items()):
            if id(value) in wanted and id(value) not in found:
                found[id(value)] = f"{module.__name__}.{name}"
    return found


def _lock_name(lock: object) -> str:
    """The harness's label of a swapped module-level lock, else where it was created."""
    label = getattr(lock, "_label", None)
    if label:
        return str(label)
    created = getattr(lock, "_created", None)
    kind = type(lock).__name__
    if created:
        return f"the {kind} created at {os.path.basename(created[0])}:{created[1]}"
    return f"a {kind}"


def inversions(edges: list[dict[str, Any]], rootdir: str) -> list[dict[str, Any]]:
    """Cycles among the edges of every process, with sites relative to ``rootdir``."""
    from harness.detect.lockorder import merge_inversions

    return merge_inversions(edges, lambda site: _where(site, rootdir))


def _where(site: tuple[str, int] | None, rootdir: str) -> str:
    if not site:
        return "an unknown line"
    path = str(site[0])
    try:
        relative = os.path.relpath(path, rootdir)
    except ValueError:  # another drive (Windows)
        relative = path
    if not relative.startswith(".."):
        path = relative
    return f"{path}:{site[1]}"
