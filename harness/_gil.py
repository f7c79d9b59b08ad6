"""Whether the interpreter runs with a GIL, and whether that changed during a run.

On a free-threaded CPython (3.13t, built with ``--disable-gil``) threads really run
in parallel, which is where many races show up; but the GIL comes back, for the
rest of the process, the moment an extension module that has not declared
free-threading support (``Py_mod_gil``) is imported, or when the user starts Python
with ``PYTHON_GIL=1`` / ``-X gil=1``. A run that silently went back to a GIL tested
something else than what its report says, so every result records the state at
its start and end, and names the module whose import re-enabled it.

API (all a report needs)::

    free_threaded_build() -> bool      # built with --disable-gil (Py_GIL_DISABLED)
    gil_enabled() -> bool              # the GIL's state now (True on every GIL build)
    watch = GilWatch(); watch.start(); ...; state = watch.stop()   # or `with GilWatch() as w`
    state.reenabled              # disabled at start, enabled at end
    state.reenabled_by           # e.g. "gilmod", or None when not known
    state.describe()             # one line for text reports and session headers
    state.as_json()              # {"free_threaded": ..., "gil_disabled_at_start": ...}

How the module is named: CPython warns ``RuntimeWarning: The global interpreter
lock (GIL) has been enabled to load module 'NAME' ...``; while a watch is running
it wraps ``warnings._showwarnmsg`` (which the C warnings machinery calls for every
shown warning, also under ``catch_warnings(record=True)`` and pytest's capture) to
read NAME, and leaves the warning to go on as it would have. When that warning was
filtered out (``-W ignore``, or already shown once), it falls back to the
extension modules from outside the standard library imported during the run,
which is where the re-enabling import must be.
"""

from __future__ import annotations

import os
import re
import sys
import sysconfig
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.machinery import ExtensionFileLoader
from types import TracebackType
from typing import Any

__all__ = ["GilState", "GilWatch", "free_threaded_build", "gil_enabled"]

_REENABLED = re.compile(r"GIL\) has been enabled to load module '([^']+)'")


def free_threaded_build() -> bool:
    """True when this CPython was built free-threaded (``--disable-gil``)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    """The GIL's state now: always True on a GIL build; on 3.13t False unless re-enabled."""
    is_enabled: Callable[[], bool] | None = getattr(sys, "_is_gil_enabled", None)
    return True if is_enabled is None else bool(is_enabled())


@dataclass(frozen=True)
class GilState:
    """The GIL around one run.  ``None`` for the two ``disabled`` fields on GIL builds."""

    free_threaded: bool
    disabled_at_start: bool | None
    disabled_at_end: bool | None
    reenabled_by: str | None = None

    @property
    def reenabled(self) -> bool:
        """The run started without a GIL and ended with one: its later part ran serialized."""
        return bool(self.disabled_at_start) and self.disabled_at_end is False

    def describe(self) -> str:
        """One line: ``GIL: ...`` as text reports and the pytest header print it."""
        if not self.free_threaded:
            return "GIL: enabled (not a free-threaded build)"
        if self.reenabled:
            by = f"importing {self.reenabled_by!r}" if self.reenabled_by else "an import"
            return f"GIL: disabled at start, RE-ENABLED during the run by {by} (free-threaded)"
        if self.disabled_at_start:
            return "GIL: disabled at start and end (free-threaded build)"
        return (
            "GIL: enabled at start (free-threaded build run with PYTHON_GIL=1 or -X gil=1,"
            " or re-enabled by an earlier import)"
        )

    def as_json(self) -> dict[str, Any]:
        """The JSON keys every result carries (added keys only; never renamed)."""
        return {
            "free_threaded": self.free_threaded,
            "gil_disabled_at_start": self.disabled_at_start,
            "gil_disabled_at_end": self.disabled_at_end,
            "gil_reenabled_by": self.reenabled_by,
        }


class GilWatch:
    """Records the GIL's state when a run starts and ends, and who re-enabled it.

    Start and stop it from one thread (the one that runs the harness); the code under
    test may import from any thread. Watches nest: each wraps the warnings hook it
    found and puts it back.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._start: bool | None = None
        self._modules_before: set[str] = set()
        self._named: str | None = None
        self._saved_hook: Callable[..., Any] | None = None
        self._hook: Callable[..., Any] | None = None

    def start(self) -> GilWatch:
        """Record the state now and begin listening for the re-enabling warning."""
        self._start = not gil_enabled()
        self._named = None
        if free_threaded_build() and self._start:
            self._modules_before = set(sys.modules)
            self._install_hook()
        return self

    def stop(self) -> GilState:
        """Stop listening and return the state of the whole run."""
        self._remove_hook()
        ft = free_threaded_build()
        if not ft:
            return GilState(False, None, None)
        end = not gil_enabled()
        by = None
        if self._start and not end:
            by = self._named or self._new_extension_module()
        return GilState(True, self._start, end, by)

    def __enter__(self) -> GilWatch:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.state = self.stop()

    state: GilState
    """Set when a ``with GilWatch() as w:`` block ends."""

    def _install_hook(self) -> None:
        saved = getattr(warnings, "_showwarnmsg", None)
        if saved is None:  # not CPython's warnings module: rely on the module fallback
            return

        def listen(msg: Any) -> Any:
            if issubclass(msg.category, RuntimeWarning):
                found = _REENABLED.search(str(msg.message))
                if found:
                    with self._lock:
                        self._named = self._named or found.group(1)
            return saved(msg)

        self._saved_hook, self._hook = saved, listen
        warnings._showwarnmsg = listen  # type: ignore[attr-defined]

    def _remove_hook(self) -> None:
        if self._hook is None:
            return
        if getattr(warnings, "_showwarnmsg", None) is self._hook:
            warnings._showwarnmsg = self._saved_hook  # type: ignore[attr-defined]
        self._hook = self._saved_hook = None

    def _new_extension_module(self) -> str | None:
        """An extension module from outside the standard library imported since ``start``.

        Used when the warning was hidden; the standard library's extensions all
        declare free-threading support on a free-threaded build.
        """
        stdlib = tuple(
            os.path.join(os.path.abspath(path), "")
            for path in {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
            if path
        )
        for name in sorted(set(sys.modules) - self._modules_before):
            spec = getattr(sys.modules.get(name), "__spec__", None)
            if not isinstance(getattr(spec, "loader", None), ExtensionFileLoader):
                continue
            origin = os.path.abspath(getattr(spec, "origin", None) or "")
            if not origin.startswith(stdlib):
                return name
        return None
