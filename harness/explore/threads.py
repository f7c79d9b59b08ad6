"""Threads of a controlled execution: the actors, and those the code under test starts.

Every thread runs :func:`thread_main`: it registers with the scheduler, waits
for its baton, runs its body and tells the scheduler it finished.
``Thread.start`` called from a managed thread registers the new thread with the
runtime before it runs, so that it, too, only runs when scheduled (this covers
``ThreadPoolExecutor`` workers and ``threading.Timer``). ``join`` and
``is_alive`` answer from the runtime's view, in which a thread has ended when
its body has returned. ``_thread.start_new_thread`` is managed the same way.
Calls from threads the runtime does not manage go to the originals.
"""

from __future__ import annotations

import _thread
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness._lifecycle import run_body
from harness.explore.records import ThreadRecord, ThreadStatus
from harness.sync import context
from harness.sync.context import managed
from harness.sync.patching import Patcher

if TYPE_CHECKING:
    from harness.explore.scheduler import Scheduler

__all__ = [
    "install_thread_patches",
    "record_of",
    "start_actor",
    "start_raw_thread",
    "start_thread",
    "thread_main",
]

_original_start = threading.Thread.start
_original_join = threading.Thread.join
_original_is_alive = threading.Thread.is_alive
_original_start_new_thread = _thread.start_new_thread

#: How long a join waits for the OS thread once the runtime has seen it end.
_EXIT_GRACE = 5.0
_get_ident = _thread.get_ident


def thread_main(
    record: ThreadRecord,
    body: Callable[[], object],
    *,
    attach: bool = True,
    arrive: Callable[[], None] | None = None,
) -> None:
    """The main function of every thread of an execution, actor or child.

    ``arrive`` tells the execution that an actor is parked and ready; ``attach``
    installs the tracing hook around the body (a ``threading.Thread`` child
    attaches in its ``run`` instead, see :func:`start_thread`).
    """
    scheduler = record.runtime
    try:
        record.ident = _get_ident()
        context.register_managed(record.ident, record)
        if arrive is not None:
            arrive()
        record.baton.acquire()
        if scheduler.aborting or scheduler.execution is not record.execution:
            context.unregister_managed(record.ident)
            return
        if attach:
            scheduler.backend.attach(record.hook)
        try:
            run_body(body, record.name, scheduler.add)
        finally:
            if attach:
                scheduler.backend.detach()
            scheduler.finish(record)
    finally:
        record.exited.release()  # the last thing the thread does with the scheduler


class _StartedNoWait:
    """An actor thread's private "started" flag whose ``wait`` does not wait.

    ``Thread.start`` waits for the new OS thread to run and set this flag: one
    round trip through the OS scheduler per thread, made one thread after the
    other. With 100 actors that was a fifth of a schedule on a loaded machine.
    The explorer waits for every actor at once instead (its start gate), and an
    actor arrives there only after its bootstrap has set the flag, registered
    the thread in ``threading._active`` and entered ``run``; until then nobody
    but the runtime holds the ``Thread`` object.
    """

    __slots__ = ("_flag",)

    def __init__(self) -> None:
        self._flag = False

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        self._flag = True

    def wait(self, timeout: float | None = None) -> bool:
        return self._flag

    def _at_fork_reinit(self) -> None:
        pass


def start_actor(
    scheduler: Scheduler, name: str, body: Callable[[], object], arrive: Callable[[], None]
) -> ThreadRecord:
    """Start an actor's thread, parked until the scheduler picks it.

    Returns without waiting for the OS thread to run: the caller waits for
    every actor's ``arrive`` (see :class:`_StartedNoWait`).
    """
    record = scheduler.new_record(name, is_actor=True)
    thread = threading.Thread(
        target=thread_main, args=(record, body), kwargs={"arrive": arrive}, name=name, daemon=True
    )
    thread._started = _StartedNoWait()  # type: ignore[attr-defined]
    record.thread = thread
    _original_start(thread)
    return record


def record_of(scheduler: Scheduler, thread: threading.Thread) -> ThreadRecord | None:
    """The record of a ``threading.Thread`` the code under test started, if managed."""
    return scheduler.by_thread.get(id(thread))


def start_thread(
    parent: ThreadRecord,
    thread: threading.Thread,
    original_start: Callable[[threading.Thread], None],
) -> None:
    """``thread.start()`` called by a managed thread: the child is managed too."""
    from harness.sync.event import Event

    scheduler = parent.runtime
    if not getattr(thread, "_initialized", False):
        raise RuntimeError("thread.__init__() not called")
    if thread._started.is_set():  # type: ignore[attr-defined]
        raise RuntimeError("threads can only be started once")
    scheduler.sync_point(parent, "start", thread)
    child = scheduler.new_record(thread.name, is_actor=False)
    if scheduler.hb is not None:
        scheduler.hb.fork(parent.index, child.index)
    child.thread = thread
    scheduler.by_thread[id(thread)] = child
    # Thread.start() waits on thread._started; it must be an instrumented
    # Event so that the wait hands control to the child.
    if not isinstance(thread._started, Event):  # type: ignore[attr-defined]
        thread._started = Event()  # type: ignore[attr-defined]
    bootstrap = thread._bootstrap  # type: ignore[attr-defined]
    body = thread.run

    def managed_bootstrap() -> None:
        thread_main(child, bootstrap, attach=False)

    def traced_run() -> None:
        # Attached here, not in the bootstrap: Thread._bootstrap_inner
        # installs threading.settrace's tracer (coverage's) first, and ours
        # must chain it rather than be replaced by it.
        scheduler.backend.attach(child.hook)
        try:
            body()
        finally:
            scheduler.backend.detach()

    thread._bootstrap = managed_bootstrap  # type: ignore[attr-defined]
    thread.run = traced_run  # type: ignore[method-assign]
    try:
        original_start(thread)
    finally:
        del thread._bootstrap  # type: ignore[attr-defined]


def start_raw_thread(
    parent: ThreadRecord,
    function: Callable[..., object],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    original: Callable[..., int],
) -> int:
    """``_thread.start_new_thread`` called by a managed thread."""
    scheduler = parent.runtime
    scheduler.sync_point(parent, "start", function)
    child = scheduler.new_record(getattr(function, "__name__", "thread"), is_actor=False)
    if scheduler.hb is not None:
        scheduler.hb.fork(parent.index, child.index)

    def body() -> None:
        try:
            function(*args, **kwargs)
        except SystemExit:
            pass

    try:
        return original(thread_main, (child, body))
    except BaseException:
        # No thread: the record must not be offered, nor waited for.
        child.status = ThreadStatus.FINISHED
        scheduler.epoch += 1
        child.exited.release()
        raise


def _start(self: threading.Thread) -> None:
    record = managed()
    if record is None:
        _original_start(self)
    else:
        start_thread(record, self, _original_start)


def _join(self: threading.Thread, timeout: float | None = None) -> None:
    record = managed()
    child = record_of(record.runtime, self) if record is not None else None
    if child is None:
        _original_join(self, timeout)
        return
    if not self._started.is_set():  # type: ignore[attr-defined]
        raise RuntimeError("cannot join thread before it is started")
    if self is threading.current_thread():
        raise RuntimeError("cannot join current thread")
    runtime = record.runtime
    runtime.sync_point(record, "join", self)
    if not _ended(child):
        runtime.block(record, "join", self, lambda: _ended(child), timeout)
    if _ended(child):
        if runtime.hb is not None:
            runtime.hb.join(record.index, child.index)
        # The body has returned; the OS thread is only tidying up.
        _original_join(self, _EXIT_GRACE)


def _ended(child: ThreadRecord) -> bool:
    return child.status is ThreadStatus.FINISHED


def _is_alive(self: threading.Thread) -> bool:
    record = managed()
    child = record_of(record.runtime, self) if record is not None else None
    if child is None:
        return bool(_original_is_alive(self))
    return bool(self._started.is_set()) and not _ended(child)  # type: ignore[attr-defined]


def _start_new_thread(function: Callable[..., object], args: Any, kwargs: Any = None) -> int:
    record = managed()
    if record is None:
        if kwargs is None:
            return _original_start_new_thread(function, args)
        return _original_start_new_thread(function, args, kwargs)
    if not isinstance(args, tuple):
        raise TypeError("2nd arg must be a tuple")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError("optional 3rd arg must be a dictionary")
    return int(start_raw_thread(record, function, args, kwargs or {}, _original_start_new_thread))


def install_thread_patches(patcher: Patcher, excepthook: Callable[[Any], None]) -> None:
    """Route thread start/join/is_alive of managed threads to their runtime."""
    patcher.set(threading.Thread, "start", _start)
    patcher.set(threading.Thread, "join", _join)
    patcher.set(threading.Thread, "is_alive", _is_alive)
    patcher.set(_thread, "start_new_thread", _start_new_thread)
    if hasattr(_thread, "start_new"):
        patcher.set(_thread, "start_new", _start_new_thread)
    patcher.set(threading, "excepthook", excepthook)
