"""The GIL over a whole pytest session on a free-threaded build.

A session that meant to test threads running in parallel, but in which an import
re-enabled the GIL (an extension module without free-threading support does that,
with only a RuntimeWarning), tested the rest of its tests serialized. The plugin
states the GIL in the header, watches it for the session, and fails the session
when it came back, unless ``--harness-gil-ignore`` says that is expected, as
pytest-run-parallel does for its users.

Under xdist each worker watches its own process and sends its state to the
controller, which decides for the session.
"""

from __future__ import annotations

from typing import Any

from harness._gil import GilState, GilWatch, free_threaded_build, gil_enabled

__all__ = ["SessionGil"]


class SessionGil:
    """A :class:`~harness._gil.GilWatch` over a session, and the states its workers sent."""

    def __init__(self) -> None:
        self.free_threaded = free_threaded_build()
        self.disabled_at_start = self.free_threaded and not gil_enabled()
        self._watch = GilWatch().start()
        self.state: GilState | None = None
        self.workers: list[GilState] = []

    def header(self) -> str | None:
        """The header line on a free-threaded build (None on a GIL build: nothing to say)."""
        if not self.free_threaded:
            return None
        now = "disabled" if self.disabled_at_start else "enabled (PYTHON_GIL=1 or -X gil=1?)"
        return f"GIL: {now} at session start (free-threaded build)"

    def stop(self) -> GilState:
        """End this process's watch (once) and return its state."""
        if self.state is None:
            self.state = self._watch.stop()
        return self.state

    def add_worker(self, payload: dict[str, Any] | None) -> None:
        """Take the state an xdist worker sent (``GilState.as_json()``)."""
        if payload:
            self.workers.append(
                GilState(
                    bool(payload["free_threaded"]),
                    payload["gil_disabled_at_start"],
                    payload["gil_disabled_at_end"],
                    payload["gil_reenabled_by"],
                )
            )

    def reenabled(self) -> list[GilState]:
        """The states, this process's and its workers', in which an import re-enabled it."""
        states = [self.state, *self.workers] if self.state is not None else self.workers
        return [state for state in states if state.reenabled]

    def summary(self) -> str | None:
        """The terminal summary's line: how the GIL ended (None on a GIL build)."""
        if not self.free_threaded:
            return None
        bad = self.reenabled()
        if bad:
            return bad[0].describe()
        if self.state is not None and self.state.disabled_at_end is not None:
            return self.state.describe()
        return None
