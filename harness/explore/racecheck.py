"""The explorer's side of the race detector: locations from frames, races as failures.

:mod:`harness.detect.races` is the pure algorithm; this module turns a scheduling
point of the code under test into a location key (the owner object's identity
and the attribute, or the module globals and the name) and a report name, and a
race into a ``race`` :class:`~harness.outcome.Failure`. Attributes are found only
when their owner is a plain local, cell or global name (``self.count``,
``shared.value``), the same rule the recorded values follow
(:mod:`harness.explore.values`); closure cells (keyed by the cell object, shared by
every closure of the variable) and items of builtin containers (keyed by the
container and a simple key) are found by :mod:`harness.explore.operands`.

Each kept access carries its stack: the code under test's frames, innermost
last, as (file, line, function), taken only when the detector stores the access
(not on FastTrack's same-epoch fast path).
"""

from __future__ import annotations

import _thread
import linecache
import types
from collections.abc import Hashable
from functools import partial
from types import FrameType
from typing import Any

from harness._tracing import CodeFilter, Point
from harness.detect.races import Access, Frames, Name, Race, RaceDetector
from harness.explore.operands import (
    CONTAINERS,
    MISSING,
    Item,
    cell_name,
    cell_of,
    item_key,
    item_name,
    item_of,
    operand_text,
)
from harness.explore.values import Probe, probe_for
from harness.outcome import Failure
from harness.sync import context

__all__ = ["benign", "check_access", "detector", "race_failure", "stack_of"]

_MISSING = object()


#: How to locate each point, by ``id(point)`` (the point is kept in the entry, so
#: its id cannot be reused): a Probe (attribute or global), ``_CELL``, an Item
#: (subscript) or None (not located). :func:`probe_for` made a new Probe at every access.
_PLANS: dict[int, tuple[Point, object]] = {}
_CELL = object()
_CELL_OPS = frozenset({"LOAD_DEREF", "STORE_DEREF", "DELETE_DEREF", "LOAD_CLASSDEREF"})


def _plan(frame: FrameType, point: Point) -> object:
    entry = _PLANS.get(id(point))
    if entry is None or entry[0] is not point:
        plan: object
        if point.op in _CELL_OPS or point.op == "LOAD_FROM_DICT_OR_DEREF":
            plan = _CELL
        elif point.target == "[]":
            plan = item_of(frame.f_code, point)
        else:
            plan = probe_for(frame.f_code, point)
        entry = _PLANS[id(point)] = (point, plan)
    return entry[1]


def _locate(frame: FrameType, point: Point) -> tuple[Hashable, Name, object] | None:
    """(key, name, object to keep alive) of what ``point`` touches, or None.

    The name is a function, called only for a location seen for the first time.
    """
    probe = _plan(frame, point)
    if probe is None:
        return None
    if probe is _CELL:
        cell = cell_of(frame, point)
        if cell is None:
            return None
        return (id(cell),), partial(cell_name, frame.f_code, point.target), cell
    if isinstance(probe, Item):
        return _locate_item(frame, probe)
    assert isinstance(probe, Probe)
    if probe.attr is None:
        if probe.scope != "global":
            return None  # (a cell: located above)
        globs = frame.f_globals
        return (id(globs), probe.name), partial(_global_name, globs, probe.name), globs
    if probe.scope == "local":
        owner = frame.f_locals.get(probe.name, _MISSING)
    else:
        owner = frame.f_globals.get(probe.name, _MISSING)
    if owner is _MISSING:
        return None
    if isinstance(owner, types.ModuleType):
        return (id(vars(owner)), probe.attr), partial(_module_name, owner, probe.attr), owner
    return (id(owner), probe.attr), partial(_attribute_name, owner, probe.attr), owner


def _locate_item(frame: FrameType, item: Item) -> tuple[Hashable, Name, object] | None:
    try:
        container = item.container.evaluate(frame)
        if type(container) not in CONTAINERS:
            return None  # not a builtin container (or not found): its __getitem__ is code
        key = item_key(container, item.key.evaluate(frame))
    except Exception:
        return None
    if key is MISSING:
        return None
    text = operand_text(item.container, frame)
    return (id(container), key), partial(item_name, container, text, key), container


def _global_name(globs: dict[str, Any], name: str) -> str:
    return f"global {globs.get('__name__', '?')}.{name}"


def _module_name(module: types.ModuleType, attr: str) -> str:
    return f"global {module.__name__}.{attr}"


def _attribute_name(owner: object, attr: str) -> str:
    return f"{type(owner).__name__}.{attr}"


def benign(obj: object, attr: str) -> None:
    """Mark ``obj.attr`` as unsynchronized on purpose: the race detector ignores it.

    For a statistics counter or a double-checked flag whose unordered accesses
    are intended. Call it in ``setup`` (each execution builds fresh objects);
    ``obj`` may be a module, for a global. Outside an exploration it does nothing.
    Locations can also be ignored by name: ``explore(..., races_ignore=["Stats.hits"])``.
    """
    runtime = context.clock_users.get(_thread.get_ident())
    detector = getattr(runtime, "hb", None)
    if not isinstance(detector, RaceDetector):
        return
    if isinstance(obj, types.ModuleType):
        detector.mark_benign((id(vars(obj)), attr), obj)
    else:
        detector.mark_benign((id(obj), attr), obj)


def check_access(
    detector: RaceDetector,
    tid: int,
    thread: str,
    point: Point,
    frame: Any,
    step: int | None = None,
) -> int:
    """Feed one read or write to the detector; the number of races it knows after."""
    found = _locate(frame, point)
    if found is not None:
        key, name, keep = found
        access = Access(tid, point.kind, point.file, point.line, "", thread, step)
        if point.kind == "read":
            detector.read(tid, key, name, access, keep, frame)
        else:
            detector.write(tid, key, name, access, keep, frame)
    return len(detector.races)


#: Frames kept in an access's stack.
STACK_DEPTH = 4
_UNDER_TEST = CodeFilter()
_TESTED: dict[object, bool] = {}


def stack_of(frame: object) -> Frames:
    """The code under test's frames from ``frame`` outwards (at most ``STACK_DEPTH``),
    innermost last, stopping at the first frame that is not under test (the harness's
    or the standard library's thread runner)."""
    out: list[tuple[str, int, str]] = []
    f = frame if isinstance(frame, FrameType) else None
    while f is not None and len(out) < STACK_DEPTH:
        code = f.f_code
        tested = _TESTED.get(code)
        if tested is None:
            if len(_TESTED) > 10_000:
                _TESTED.clear()
            tested = _TESTED[code] = _UNDER_TEST(code)
        if not tested:
            break
        out.append((code.co_filename, f.f_lineno or 0, code.co_name))
        f = f.f_back
    out.reverse()
    return tuple(out)


def detector(ignore: frozenset[str] = frozenset()) -> RaceDetector:
    """A detector whose kept accesses carry their stacks."""
    return RaceDetector(ignore, stack_of)


def _source(access: Access) -> str:
    if not access.file or access.line is None:
        return ""
    return linecache.getline(access.file, access.line).strip()


def _describe(access: Access) -> str:
    source = _source(access)
    shown = f": {source}" if source else ""
    who = access.thread_name or f"T{access.thread}"
    lines = [f"  {who} {access.kind}s at {access.where}{shown}"]
    if access.stack:
        lines.append(f"    stack of {who} (innermost last):")
        for file, line, function in access.stack:
            text = linecache.getline(file, line).strip()
            lines.append(f"      {file}:{line} in {function}" + (f": {text}" if text else ""))
    return "\n".join(lines)


def race_failure(race: Race) -> Failure:
    """The report of one race: a stable one-line message and both accesses in full."""
    a, b = sorted((race.first, race.second), key=lambda x: (x.kind, x.where))
    message = (
        f"data race on {race.location}: {a.kind} at {a.where} and {b.kind} at {b.where} "
        "from two threads, with no lock or other synchronization ordering them"
    )
    details = "\n".join(
        [
            f"data race on {race.location}",
            _describe(race.first),
            _describe(race.second),
            "No lock, condition, event, semaphore, barrier, queue, thread start or join "
            "orders these two accesses: in another schedule they can happen in the other "
            "order (or interleave), whatever this schedule's final state was.",
        ]
    )
    return Failure("race", message, details, race.second.thread_name or None)
