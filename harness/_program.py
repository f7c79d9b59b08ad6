"""The program under test in the shape both engines run: setup, actors, check.

This module turns the user's three callables into one execution's worth of work
and judges its end: it validates what ``actors`` returns, spreads the actors over
the requested thread count, runs the check and names the outcome for the
histogram.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness import _validate
from harness._frames import format_exception
from harness.errors import UsageError
from harness.outcome import Failure

__all__ = ["MAX_THREADS", "Program", "describe_exception"]

#: More threads than this in one execution is taken for a typo.
MAX_THREADS = 10_000


@dataclass(frozen=True)
class Program:
    setup: Callable[[], Any]
    actors: Callable[[Any], Sequence[Callable[[], object]]]
    check: Callable[[Any], object] | None = None
    observe: Callable[[Any], object] | None = None
    threads: int | None = None
    teardown: Callable[[Any], object] | None = None

    @classmethod
    def from_user(
        cls,
        setup: Any,
        actors: Any,
        check: Any = None,
        observe: Any = None,
        threads: Any = None,
        teardown: Any = None,
    ) -> Program:
        _validate.takes("setup", _validate.require_callable("setup", setup), 0)
        _validate.takes("actors", _validate.require_callable("actors", actors), 1)
        for name, fn in (("check", check), ("observe", observe), ("teardown", teardown)):
            if _validate.callable_or_none(name, fn) is not None:
                _validate.takes(name, fn, 1)
        if threads is not None:
            _validate.count("threads", threads, MAX_THREADS)
        return cls(setup, actors, check, observe, threads, teardown)

    def make_actors(self, state: Any) -> list[Callable[[], object]]:
        """The callables to run on ``state``, one per thread.

        Raises :class:`UsageError` when ``actors`` does not return a non-empty
        sequence of callables; exceptions from the user's own code propagate.
        """
        found = self.actors(state)
        wrong = UsageError(
            f"actors(state) must return a list of callables, got {type(found).__name__}"
        )
        if isinstance(found, (str, bytes, bytearray)):
            raise wrong  # iterable, but its items are characters, not actors
        if not isinstance(found, Sequence):
            try:
                found = list(found)
            except TypeError:
                raise wrong from None
        callables = list(found)
        if not callables:
            raise UsageError("actors(state) returned no actors: nothing to run")
        for i, fn in enumerate(callables):
            if not callable(fn):
                raise UsageError(
                    f"actors(state)[{i}] must be a zero-argument callable, got {type(fn).__name__}"
                )
        if len(callables) > MAX_THREADS:
            raise UsageError(
                f"actors(state) returned {len(callables):,} actors; at most {MAX_THREADS:,}"
            )
        if self.threads is not None and self.threads != len(callables):
            callables = [callables[i % len(callables)] for i in range(self.threads)]
        return callables

    def tear_down(self, state: Any) -> list[Failure]:
        """Release what the execution holds (servers, sockets, threads)."""
        if self.teardown is None:
            return []
        try:
            self.teardown(state)
        except Exception as exc:
            return [
                Failure(
                    "exception",
                    f"teardown raised {describe_exception(exc)}",
                    format_exception(exc),
                    "teardown",
                )
            ]
        return []

    def judge(self, state: Any) -> list[Failure]:
        """Run the check on a final state; an empty list means it passed."""
        if self.check is None:
            return []
        try:
            verdict = self.check(state)
        except AssertionError as exc:
            return [Failure("assert", _assertion_message(exc), _assertion_site(exc), "check")]
        except Exception as exc:
            return [
                Failure(
                    "exception",
                    f"check raised {type(exc).__name__}: {_first_line(exc)}",
                    format_exception(exc),
                    "check",
                )
            ]
        if verdict is False:
            return [Failure("assert", "check returned False", "", "check")]
        return []

    def outcome(self, state: Any, failures: list[Failure]) -> str:
        """The histogram label of one execution's end."""
        for failure in failures:
            if failure.kind in ("hang", "deadlock", "livelock"):
                return failure.kind
        if self.observe is not None:
            try:
                return str(self.observe(state))
            except Exception as exc:
                return f"observe raised {type(exc).__name__}"
        if not failures:
            return "check passed" if self.check is not None else "completed"
        first = failures[0]
        # Masked like Failure.key, so "id 953 handed out twice" and "id 12 ..."
        # are one outcome, not one per number.
        return f"{first.kind}: {first.key[1]}"[:120]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def _assertion_message(exc: AssertionError) -> str:
    text = _first_line(exc)
    if text:
        return text
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        return f"assertion failed: {(last.line or '').strip()} ({last.filename}:{last.lineno})"
    return "assertion failed"


def _assertion_site(exc: AssertionError) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return (
        f'File "{last.filename}", line {last.lineno}, in {last.name}\n  {(last.line or "").strip()}'
    )


def describe_exception(exc: BaseException) -> str:
    """``Type: first line of message``, the key under which failures are grouped."""
    text = _first_line(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
