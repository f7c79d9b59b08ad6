"""``harness.install()``: the instrumented primitives, before the code under test imports.

The engines swap ``threading.Lock`` & co. only for the duration of a call, and
then find the real primitives the code under test already made (module and class
attributes, closures, default arguments: :mod:`harness.sync.bound`). Primitives
made at import by code the scan does not cover (site-packages, objects it does
not walk) stay real, and a thread that blocks on one is a hang.

Calling :func:`install` first, before the code under test is imported, makes
every primitive it creates an instrumented one from the start. They are
dual-mode: outside an exploration they behave as the standard library's (they
block for real, in short slices); inside one, the scheduler manages them. So::

    import harness
    harness.install()        # first thing: e.g. at the top of conftest.py
    import the_library       # its Lock(), RLock(), Condition() ... are managed

:func:`uninstall` puts the standard names back (primitives already made stay
instrumented, which is harmless).

It also starts counting which thread holds a ``multiprocessing`` Lock or RLock
(:mod:`harness._tracing.processlocks`): such a lock stays a real semaphore, so
explore does not preempt a thread that holds one.
"""

from __future__ import annotations

import threading
from typing import Any

from harness._tracing import processlocks
from harness.sync.replacements import THREADING_REPLACEMENTS

__all__ = ["install", "installed", "standard", "uninstall"]

#: The standard objects :func:`install` replaced, to put back (empty: not installed).
_saved: dict[str, Any] = {}


def install() -> None:
    """Replace ``threading``'s primitives with the harness's dual-mode ones (idempotent)."""
    if _saved:
        return
    for name, replacement in THREADING_REPLACEMENTS.items():
        _saved[name] = threading.__dict__[name]
        setattr(threading, name, replacement)
    processlocks.watch()


def uninstall() -> None:
    """Put the standard library's names back."""
    for name, original in _saved.items():
        setattr(threading, name, original)
    _saved.clear()
    processlocks.unwatch()


def standard(name: str) -> Any:
    """The standard library's ``threading.<name>``, installed or not."""
    return _saved.get(name, threading.__dict__[name])


def installed() -> bool:
    """Whether :func:`install` is in effect."""
    return bool(_saved)
