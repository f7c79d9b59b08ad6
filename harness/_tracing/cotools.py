"""Other ``sys.monitoring`` tools (coverage.py's, a debugger's) beside ours.

CPython 3.12 and 3.13 (3.13t included) lose one of our INSTRUCTION events when
another tool's LINE callback returns ``DISABLE`` at the same instruction: the
first instruction of a line, on the first execution of that line. coverage.py's
``sysmon`` core does exactly that, once per line (it has seen the line and wants
no more events there). So under ``COVERAGE_CORE=sysmon`` the first execution of
a program reaches one scheduling point fewer per fresh line than its replays,
and a bounded search (``dfs``, ``dpor``) stops with a NondeterminismError
("decision 9 offered [0] after the same prefix that offered [0, 2]"): the CI
failure of the free-threaded leg, reproduced on 3.12.1, 3.13.0 and 3.13.5t with
two bare tools and no harness code (see ``tests/_tracing/test_cotools.py``). A
callback that returns None loses nothing.

:class:`Shield` therefore wraps the LINE, JUMP and BRANCH callbacks of every
other registered tool for as long as our backend runs: the wrapper calls the
tool's own callback as before and passes its answer on, except that a
``DISABLE`` for a code object we instrument becomes None. The other tool keeps
receiving those events (coverage.py records a line again, which changes nothing
it reports) on code that is slow anyway under our INSTRUCTION events; everything
else it sees exactly as without us. :meth:`Shield.uninstall` puts the original
callbacks back, unless the tool has since registered another one or was freed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Container
from types import CodeType
from typing import Any

__all__ = ["Shield"]

#: Tool ids sys.monitoring has (0-5).
_TOOL_IDS = range(6)


def _instruction_events() -> tuple[int, ...]:
    """The events that fire at an instruction, before it runs, besides ours."""
    events = sys.monitoring.events  # type: ignore[attr-defined]
    names = ("LINE", "JUMP", "BRANCH", "BRANCH_LEFT", "BRANCH_RIGHT")
    return tuple(getattr(events, name) for name in names if hasattr(events, name))


class Shield:
    """The other tools' instruction-level callbacks, wrapped while we trace.

    ``instrumented`` is a live container of the code objects that carry our
    local INSTRUCTION events (the backend's point tables).
    """

    def __init__(self, own_tool: int, instrumented: Container[CodeType]) -> None:
        self._own = own_tool
        self._instrumented = instrumented
        #: (tool, tool name, event, original callback, our wrapper)
        self._wrapped: list[tuple[int, str, int, Callable[..., Any], Callable[..., Any]]] = []

    def install(self) -> None:
        """Wrap the callbacks of every tool registered now (not ours)."""
        monitoring = sys.monitoring  # type: ignore[attr-defined]
        for tool in _TOOL_IDS:
            name = monitoring.get_tool(tool)
            if tool == self._own or name is None:
                continue
            for event in _instruction_events():
                original = monitoring.register_callback(tool, event, None)
                if original is None:
                    continue
                wrapper = self._wrap(original)
                monitoring.register_callback(tool, event, wrapper)
                self._wrapped.append((tool, name, event, original, wrapper))

    def uninstall(self) -> None:
        """Give every wrapped tool its own callback back."""
        monitoring = sys.monitoring  # type: ignore[attr-defined]
        for tool, name, event, original, wrapper in self._wrapped:
            if monitoring.get_tool(tool) != name:
                continue  # freed (and maybe reused by another tool) meanwhile
            current = monitoring.register_callback(tool, event, original)
            if current is not wrapper:  # the tool registered a new callback: keep it
                monitoring.register_callback(tool, event, current)
        self._wrapped.clear()

    def _wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        instrumented = self._instrumented
        disable = sys.monitoring.DISABLE  # type: ignore[attr-defined]

        def shielded(code: CodeType, *args: Any) -> Any:
            answer = original(code, *args)
            if answer is disable and code in instrumented:
                return None  # a DISABLE here would swallow our INSTRUCTION event
            return answer

        shielded.__wrapped__ = original  # type: ignore[attr-defined]
        return shielded
