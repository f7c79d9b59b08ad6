"""A running thread blocked on a primitive the harness does not control, found fast.

The scheduler runs one thread at a time; when that thread blocks for real (a
``_thread`` lock made before the harness patched ``threading``, a standard
``threading.Condition`` bound somewhere the swap did not reach, a
``multiprocessing`` Lock or RLock another thread holds), no scheduling
point comes any more. Rather than wait for the whole real-time ``timeout``, the
main thread samples the running thread's stack (:func:`sample`); when it has not
moved for :data:`STALL` seconds and the innermost frames see a real primitive
that is held (:func:`culprit`), the execution is a hang at once, and the report
names the object, where it was bound, and how to make it managed.

Runs in the main thread, which is not traced; it reads frames' locals and
``self``'s instance dict only (no property or ``__repr__`` of the program).
"""

from __future__ import annotations

import _thread
import os
import sys
import threading
from types import FrameType
from typing import Any

from harness._frames import current_frames, is_harness_file
from harness._tracing import processlocks
from harness.sync import early

__all__ = ["STALL", "culprit", "running", "sample"]

#: Seconds without any scheduling point (and without the stack moving) after
#: which a thread seen blocking on a real primitive is reported.
STALL = 0.5

_LOCK = type(_thread.allocate_lock())
_RLOCK = type(_thread.RLock())
_REAL_CONDITION: type = early.standard("Condition")
_FRAMES_LOOKED_AT = 6


def running(idents: list[int]) -> int | None:
    """Which of ``idents`` is running: the others are parked inside the harness."""
    frames = current_frames()
    outside = [
        ident
        for ident in idents
        if (frame := _program_side(frames.get(ident))) is not None
        and not is_harness_file(frame.f_code.co_filename)
    ]
    return outside[0] if len(outside) == 1 else None


def _program_side(frame: FrameType | None) -> FrameType | None:
    """``frame``, or its caller when it is the counting wrapper of a multiprocessing lock.

    That wrapper is the harness's, but a thread blocked in it is blocked in the
    program's acquire, not parked by the scheduler.
    """
    if frame is not None and frame.f_code.co_filename == processlocks.__file__:
        return frame.f_back
    return frame


def sample(ident: int | None) -> tuple[int, int] | None:
    """Where thread ``ident`` is right now: (id of its innermost frame, offset)."""
    if ident is None:
        return None
    frame = current_frames().get(ident)
    return None if frame is None else (id(frame), frame.f_lasti)


def _process_lock(value: Any) -> bool:
    """A ``multiprocessing`` Lock or RLock (a real semaphore), without importing multiprocessing."""
    synchronize = sys.modules.get("multiprocessing.synchronize")
    return synchronize is not None and type(value) in (synchronize.Lock, synchronize.RLock)


def _held(value: Any) -> bool:
    kind = type(value)
    if _process_lock(value):
        semlock = vars(value).get("_semlock")
        try:  # the C semaphore's own count; not available on every platform
            return semlock is not None and semlock._get_value() == 0
        except (NotImplementedError, OSError):  # pragma: no cover - macOS
            return False
    if kind is _LOCK:
        return bool(value.locked())
    if kind is _RLOCK:
        return not repr(value).startswith("<unlocked")  # the exact C type: its own repr
    if kind is _REAL_CONDITION:  # held, or waited on (a wait releases the lock)
        state = vars(value)
        inner = state.get("_lock")
        return bool(state.get("_waiters")) or (inner is not None and _held(inner))
    return False


def _candidates(frame: FrameType) -> list[tuple[str, Any]]:
    """(how the frame reaches it, value) for what a frame can see: locals, self's dict."""
    found: list[tuple[str, Any]] = []
    try:
        names = dict(frame.f_locals)
    except Exception:  # pragma: no cover - a frame being torn down
        return found
    for name, value in names.items():
        found.append((name, value))
        try:
            attrs = object.__getattribute__(value, "__dict__")
        except Exception:
            attrs = None
        if type(attrs) is dict:
            found.extend((f"{name}.{attr}", inner) for attr, inner in list(attrs.items()))
        if name == "self":
            for attr, inner in list(vars(type(value)).items()):
                found.append((f"{type(value).__qualname__}.{attr}", inner))
    for name, value in list(frame.f_globals.items()):
        found.append((f"{frame.f_globals.get('__name__', '?')}.{name}", value))
    return found


def culprit(ident: int | None) -> str | None:
    """A sentence naming the real primitive thread ``ident`` blocks on, if one is seen."""
    if ident is None:
        return None
    frame: FrameType | None = current_frames().get(ident)
    looked = 0
    while frame is not None and looked < _FRAMES_LOOKED_AT:
        code = frame.f_code
        # Frames of the harness and of threading.py itself (a standard Condition's
        # waiter lock) are skipped: the object is what the program's frame sees.
        if not is_harness_file(code.co_filename) and code.co_filename != threading.__file__:
            looked += 1
            for how, value in _candidates(frame):
                real = type(value) in (_LOCK, _RLOCK, _REAL_CONDITION) or _process_lock(value)
                if real and _held(value):
                    return _sentence(how, value, code.co_filename, frame.f_lineno)
        frame = frame.f_back
    return None


def _sentence(how: str, value: Any, filename: str, line: int) -> str:
    if _process_lock(value):
        return (
            f"blocked on a real multiprocessing.{type(value).__name__}, outside the harness's "
            f"control: {how} (seen at {os.path.basename(filename)}:{line}); the thread that "
            "holds it was preempted. Call harness.install() before the code under test is "
            "imported: explore then does not preempt a thread while it holds a "
            "multiprocessing lock made from then on"
        )
    kind = {_LOCK: "threading.Lock", _RLOCK: "threading.RLock"}.get(
        type(value), "threading.Condition"
    )
    return (
        f"blocked on a real {kind}, outside the harness's control: {how} "
        f"(seen at {os.path.basename(filename)}:{line}); it was created before the harness "
        "patched threading (at import, or outside the code under test). To make it "
        "managed, create it in setup or while the harness runs, or make the module that "
        "binds it part of the code under test (module and class attributes, closures and "
        "default arguments there are swapped)"
    )
