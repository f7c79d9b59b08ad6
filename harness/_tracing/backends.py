"""Two ways to run a hook before each scheduling point of the code under test.

* :class:`SettraceBackend` (CPython <= 3.11): a per-thread ``sys.settrace``
  function turns on ``frame.f_trace_opcodes`` for frames of code under test and
  looks each executed offset up in that code's point table. A previously
  installed tracer (coverage.py's, typically) is chained, not replaced, so code
  run by the harness is still measured.
* :class:`MonitoringBackend` (CPython >= 3.12): ``sys.monitoring`` INSTRUCTION
  events on code under test only; an instruction that is not a point returns
  ``DISABLE`` on its first event and costs nothing afterwards. Calls use the CALL
  event, which sees the callable: a call into traced Python code is not a point,
  since the callee's own instructions are.

``settrace`` only affects frames created after it is set, so :meth:`Backend.attach`
must be called *before* the function to be traced is entered.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Callable
from types import CodeType, FrameType, FunctionType
from typing import Any, Protocol

from harness._frames import CATALOGUE_DIR, HARNESS_DIR
from harness._tracing.codefilter import CodeFilter
from harness._tracing.cotools import Shield
from harness._tracing.garbage import freeze_old_garbage, thaw_old_garbage
from harness._tracing.points import CALL, Point, is_constant_binding, points_of, resume_point

__all__ = ["UNTRACED", "Backend", "Hook", "MonitoringBackend", "SettraceBackend", "make_backend"]

#: Called in the thread that reaches the point, before the instruction runs. A
#: hook that needs the frame of the code under test finds it at ``sys._getframe(2)``.
Hook = Callable[[Point], None]


#: Pseudo-files (``<string>`` ...) whose code ran in this process but is not
#: traced: what a result names when its code under test reached no point. Kept
#: for the whole process, since sys.monitoring never restarts refused code.
UNTRACED: set[str] = set()


#: CO_GENERATOR | CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR
_RESUMABLE_FLAGS = 0x20 | 0x80 | 0x100 | 0x200


def _pseudo_file(filename: str) -> bool:
    """Code from a string (``<string>``, ``<ipython-input-1>``), not a frozen module."""
    return filename.startswith("<") and not filename.startswith("<frozen")


class Backend(Protocol):
    name: str
    #: Set once any hook has been called for a point: the code under test was
    #: seen. An engine call that ends with it still False explored nothing.
    reached: bool

    def start(self) -> None:
        """Install process-wide machinery (once per engine call)."""

    def stop(self) -> None:
        """Remove everything :meth:`start` installed."""

    def attach(self, hook: Hook) -> None:
        """Call ``hook`` at every point reached by the *current* thread."""

    def detach(self) -> None:
        """Stop calling the current thread's hook."""


def _resolve(table: dict[int, Point], point: Point, frame: FrameType) -> Point | None:
    """Check a global/cell read once; drop it from the table if it is constant."""
    if is_constant_binding(frame, point):
        table.pop(point.offset, None)
        return None
    resolved = dataclasses.replace(point, resolve=False)
    table[point.offset] = resolved
    return resolved


class _ThreadTracer:
    """The settrace machinery of one thread."""

    def __init__(self, backend: SettraceBackend, hook: Hook, prev: Any) -> None:
        self.backend = backend
        self.filter = backend.filter
        self.hook = hook
        self.prev = prev
        self.tables: dict[CodeType, dict[int, Point]] = {}
        #: Generator and coroutine code under test: its frame's entries are points.
        self.resumes: dict[CodeType, Point] = {}
        self.global_fn = self.on_event  # one bound method, so identity checks work

    def on_event(self, frame: FrameType, event: str, arg: Any) -> Any:
        prev_local = None
        if self.prev is not None:
            prev_local = self.prev(frame, event, arg)
            # coverage's C tracer re-installs itself natively when called for a
            # 'call' event; put ourselves back in front of it.
            if sys.gettrace() is not self.global_fn:
                sys.settrace(self.global_fn)
        if event != "call":
            return prev_local
        code = frame.f_code
        table = self.tables.get(code)
        if table is None:
            table = self.tables[code] = points_of(code) if self.filter(code) else {}
            if _pseudo_file(code.co_filename) and not self.filter(code):
                UNTRACED.add(code.co_filename)
            resumed = resume_point(code) if self.filter(code) else None
            if resumed is not None:
                self.resumes[code] = resumed
        resumed = self.resumes.get(code)
        if resumed is not None:  # a generator or coroutine frame entered
            self.backend.reached = True
            self.hook(resumed)
        if not table:
            return prev_local
        frame.f_trace_opcodes = True
        if prev_local is None:
            frame.f_trace_lines = False
        return self._local(table, prev_local)

    def _local(self, table: dict[int, Point], prev_local: Any) -> Any:
        hook = self.hook
        backend = self.backend

        def local(frame: FrameType, event: str, arg: Any) -> Any:
            nonlocal prev_local
            if event == "opcode":
                point = table.get(frame.f_lasti)
                if point is not None:
                    if point.resolve:
                        point = _resolve(table, point, frame)
                        if point is None:
                            return local
                    backend.reached = True
                    hook(point)
            elif prev_local is not None:
                prev_local = prev_local(frame, event, arg)
            return local

        return local


class SettraceBackend:
    """Per-thread ``sys.settrace`` with opcode events (CPython <= 3.11)."""

    name = "settrace"

    def __init__(self, code_filter: CodeFilter | None = None) -> None:
        self.filter = code_filter or CodeFilter()
        self._local = threading.local()
        self.reached = False
        self._froze = False

    def start(self) -> None:
        self.reached = False
        self._froze = freeze_old_garbage()

    def stop(self) -> None:
        thaw_old_garbage(self._froze)
        self._froze = False

    def attach(self, hook: Hook) -> None:
        tracer = _ThreadTracer(self, hook, sys.gettrace())
        self._local.tracer = tracer
        sys.settrace(tracer.global_fn)

    def detach(self) -> None:
        tracer = getattr(self._local, "tracer", None)
        if tracer is not None:
            self._local.tracer = None
            sys.settrace(tracer.prev)


_last_filter_key: object = None


def _free_tool_id() -> int:
    monitoring = sys.monitoring  # type: ignore[attr-defined]
    # 0-2 and 5 are the ids CPython suggests for debuggers, coverage, profilers
    # and optimizers; prefer the unassigned ones.
    for tool in (4, 3, 2, 0, 5):
        if monitoring.get_tool(tool) is None:
            return tool
    raise RuntimeError("no free sys.monitoring tool id: too many tools are active")


class MonitoringBackend:
    """``sys.monitoring`` INSTRUCTION and CALL events (CPython >= 3.12)."""

    name = "sys.monitoring"

    def __init__(self, code_filter: CodeFilter | None = None) -> None:
        self.filter = code_filter or CodeFilter()
        self._hooks: dict[int, Hook] = {}
        self._tables: dict[CodeType, dict[int, Point]] = {}
        self._tool: int | None = None
        self._shield: Shield | None = None
        self._froze = False
        self.reached = False

    def start(self) -> None:
        self.reached = False
        monitoring = sys.monitoring  # type: ignore[attr-defined]
        events = monitoring.events
        tool = _free_tool_id()
        monitoring.use_tool_id(tool, "thread-harness")
        self._tool = tool
        self._tables = {}
        global _last_filter_key
        if _last_filter_key not in (None, self.filter.key):
            # Code that an earlier call's filter disabled may be under test now.
            monitoring.restart_events()
        _last_filter_key = self.filter.key
        monitoring.register_callback(tool, events.PY_START, self._on_start)
        monitoring.register_callback(tool, events.INSTRUCTION, self._on_instruction)
        monitoring.register_callback(tool, events.CALL, self._on_call)
        monitoring.register_callback(tool, events.PY_RESUME, self._on_resume)
        monitoring.set_events(tool, events.PY_START)
        self._shield = Shield(tool, self._tables)
        self._shield.install()
        self._froze = freeze_old_garbage()  # last: a start that raised above froze nothing

    def stop(self) -> None:
        thaw_old_garbage(self._froze)
        self._froze = False
        tool = self._tool
        if tool is None:
            return
        monitoring = sys.monitoring  # type: ignore[attr-defined]
        events = monitoring.events
        self._tool = None  # callbacks still running in other threads stand down
        if self._shield is not None:
            self._shield.uninstall()
            self._shield = None
        # Unregister first: a thread of an abandoned run may still be executing
        # code under test, and must not add to the tables while we clear them.
        for event in (events.PY_START, events.INSTRUCTION, events.CALL, events.PY_RESUME):
            monitoring.register_callback(tool, event, None)
        monitoring.set_events(tool, 0)
        for code in list(self._tables):
            monitoring.set_local_events(tool, code, 0)
        monitoring.free_tool_id(tool)
        self._tables = {}
        self._hooks.clear()

    def attach(self, hook: Hook) -> None:
        self._hooks[threading.get_ident()] = hook

    def detach(self) -> None:
        self._hooks.pop(threading.get_ident(), None)

    # -- callbacks (run in whichever thread executes the code) -------------
    def _on_start(self, code: CodeType, offset: int) -> Any:
        # A DISABLE returned for PY_START outlives free_tool_id() (seen on 3.12
        # and 3.13), so code under test must never be disabled here, or the next
        # engine call would not see it start.
        monitoring = sys.monitoring  # type: ignore[attr-defined]
        tool = self._tool
        if tool is None:
            return None  # stopped while this thread was on its way here
        if code in self._tables:
            if code.co_flags & _RESUMABLE_FLAGS:
                self._on_resume(code, offset)  # another generator of the same code starts
            return None
        if not self.filter(code):
            if _pseudo_file(code.co_filename):
                UNTRACED.add(code.co_filename)
            return monitoring.DISABLE
        table = points_of(code)
        self._tables[code] = table
        resumed = resume_point(code)
        if table or resumed is not None:
            events = monitoring.events
            wanted = events.INSTRUCTION | events.CALL
            if resumed is not None:
                wanted |= events.PY_RESUME
            monitoring.set_local_events(tool, code, wanted)
        if resumed is not None:
            self._on_resume(code, offset)  # the first entry, seen before the table was made
        return None

    def _on_resume(self, code: CodeType, offset: int) -> Any:
        """A generator or coroutine frame of code under test is entered."""
        hook = self._hooks.get(threading.get_ident())
        point = resume_point(code)
        if hook is None or point is None:
            return None
        self.reached = True
        hook(point)
        return None

    def _on_instruction(self, code: CodeType, offset: int) -> Any:
        table = self._tables.get(code)
        point = table.get(offset) if table is not None else None
        if point is None or point.kind == CALL:
            return sys.monitoring.DISABLE  # type: ignore[attr-defined]
        hook = self._hooks.get(threading.get_ident())
        if hook is None:
            return None
        if point.resolve:
            assert table is not None
            point = _resolve(table, point, sys._getframe(1))
            if point is None:
                return sys.monitoring.DISABLE  # type: ignore[attr-defined]
        self.reached = True
        hook(point)
        return None

    def _on_call(self, code: CodeType, offset: int, callee: object, arg0: object) -> Any:
        hook = self._hooks.get(threading.get_ident())
        if hook is None or isinstance(callee, type):
            return None
        func = getattr(callee, "__func__", callee)
        if isinstance(func, FunctionType):
            callee_code = func.__code__
            filename = callee_code.co_filename
            if filename.startswith(HARNESS_DIR) and not filename.startswith(CATALOGUE_DIR):
                self.reached = True  # an instrumented primitive: its own decision point
                return None
            if self.filter(callee_code):
                return None  # traced Python code: its instructions are the points
        table = self._tables.get(code)
        point = table.get(offset) if table is not None else None
        if point is not None:
            self.reached = True
            hook(point)
        return None


def make_backend(code_filter: CodeFilter | None = None) -> Backend:
    """The backend for this interpreter: settrace up to 3.11, sys.monitoring after."""
    if sys.version_info >= (3, 12):
        return MonitoringBackend(code_filter)
    return SettraceBackend(code_filter)
