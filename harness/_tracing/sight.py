"""Never a silent pass: whether the tracing sees the code it is meant to schedule.

Both engines find their scheduling points by reading bytecode (``points.py``).
On an interpreter whose bytecode the tables do not know, or for code the filter
does not trace, they see no point at all, and "no failure in 200 runs" would then
say nothing about the program. Two checks keep that from reading as a pass:

* :func:`check_interpreter`, before a process's first engine call: a tiny racy
  canary (``box.value = box.value + 1``) is run once under this interpreter's
  backend, and it must show a read and then a write of ``.value``; otherwise the
  call stops with :class:`UnsupportedInterpreter`, one line;
* :func:`unexplored_reason`, after each engine call: when no hook fired in any
  run or schedule, the reason, naming the untraced pseudo-files that ran.
"""

from __future__ import annotations

import platform
import threading
from types import CodeType, SimpleNamespace

from harness._tracing.backends import UNTRACED, Backend, make_backend
from harness._tracing.codefilter import CodeFilter
from harness._tracing.points import Point, points_of
from harness.errors import UsageError

__all__ = ["UnsupportedInterpreter", "check_interpreter", "unexplored_reason"]

_CANARY_FILE = "<thread-harness canary>"
_CANARY_SOURCE = "def bump(box):\n    box.value = box.value + 1\n"
_EXPECTED = ["read .value", "write .value"]


class UnsupportedInterpreter(UsageError):
    """The tracing cannot see scheduling points on this interpreter."""


class _CanaryOnly(CodeFilter):
    """Traces the canary and nothing else."""

    @property
    def key(self) -> tuple[object, ...]:
        return ("thread-harness canary",)

    def __call__(self, code: CodeType) -> bool:
        return code.co_filename == _CANARY_FILE


_checked = False
_checking = threading.Lock()  # tests run in threads (pytest-run-parallel) may race here


def _interpreter() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}"


def check_interpreter() -> None:
    """Run the canary once per process; raise :class:`UnsupportedInterpreter` if blind."""
    global _checked
    if _checked:
        return
    with _checking:
        if _checked:
            return
        seen = canary_points()
        if [label for label in seen if label in _EXPECTED] != _EXPECTED:
            shown = ", ".join(seen) or "nothing"
            raise UnsupportedInterpreter(
                f"thread-harness does not support {_interpreter()}: its tracing saw {shown} "
                f"instead of {' then '.join(_EXPECTED)} in `box.value = box.value + 1` "
                "(bytecode unknown to harness/_tracing/points.py)"
            )
        _checked = True


def canary_points() -> list[str]:
    """The point labels the backend reports for one run of the canary, in order."""
    namespace: dict[str, object] = {}
    exec(compile(_CANARY_SOURCE, _CANARY_FILE, "exec"), namespace)
    bump = namespace["bump"]
    assert callable(bump)
    if not points_of(bump.__code__):  # type: ignore[attr-defined]
        return []
    seen: list[str] = []

    def hook(point: Point) -> None:
        seen.append(point.label)

    backend = make_backend(_CanaryOnly())
    box = SimpleNamespace(value=0)
    backend.start()
    try:
        backend.attach(hook)
        try:
            bump(box)
        finally:
            backend.detach()
    finally:
        backend.stop()
    if box.value != 1:  # pragma: no cover - the tracing broke the program itself
        return []
    return seen


def unexplored_reason(backend: Backend) -> str | None:
    """Why an engine call explored nothing, or None when a point was reached."""
    if backend.reached:
        return None
    if UNTRACED:
        files = ", ".join(sorted(UNTRACED))
        return (
            f"the code under test reached no scheduling point; code from {files} ran untraced "
            "(exec'd strings cannot be told apart from code that libraries generate, such as "
            "dataclass and namedtuple methods): put the code under test in a .py file"
        )
    return (
        "the code under test reached no scheduling point: no read or write of shared state, "
        "call or lock operation in traced code (the standard library, the harness and test "
        "tooling are not traced)"
    )


def _reset_for_tests() -> None:
    global _checked
    _checked = False
