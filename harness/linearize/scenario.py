"""Concurrent scenarios: what each thread calls, generated and shrunk by hypothesis.

A scenario has an *init* part run sequentially before the threads start, a
*parallel* part (one list of operations per thread) and a *post* part run
sequentially after they end, as Lincheck's scenarios do. Hypothesis draws them
and, when one fails, shrinks it towards fewer operations and simpler arguments.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from harness.errors import TokenError, UsageError

__all__ = ["Invocation", "Operation", "Scenario", "decode_token", "encode_token", "op", "scenarios"]

TOKEN_PREFIX = "hxl1_"


@dataclass(frozen=True)
class Operation:
    """One operation of the object under test: ``function(obj, *args)``."""

    function: Callable[..., Any]
    strategies: tuple[st.SearchStrategy[Any], ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if not callable(self.function):
            raise UsageError(f"an operation must be callable, got {self.function!r}")
        for strategy in self.strategies:
            if not isinstance(strategy, st.SearchStrategy):
                raise UsageError(
                    f"op({self.label}, ...): each argument must be a hypothesis strategy, "
                    f"got {strategy!r}"
                )

    @property
    def label(self) -> str:
        return self.name or getattr(self.function, "__name__", "op")


def op(
    function: Callable[..., Any], *strategies: st.SearchStrategy[Any], name: str = ""
) -> Operation:
    """An operation whose further arguments hypothesis generates, one per strategy."""
    return Operation(function, tuple(strategies), name)


@dataclass(frozen=True)
class Invocation:
    operation: int  # index into the operation list
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Scenario:
    init: tuple[Invocation, ...]
    parallel: tuple[tuple[Invocation, ...], ...]
    post: tuple[Invocation, ...]

    @property
    def size(self) -> int:
        return len(self.init) + sum(map(len, self.parallel)) + len(self.post)

    def describe(self, operations: Sequence[Operation]) -> str:
        def show(part: Sequence[Invocation]) -> str:
            return (
                ", ".join(
                    f"{operations[i.operation].label}({', '.join(map(repr, i.args))})" for i in part
                )
                or "-"
            )

        threads = " ∥ ".join(f"T{n}: {show(part)}" for n, part in enumerate(self.parallel))
        return f"init: {show(self.init)}; parallel: {threads}; post: {show(self.post)}"

    def to_json(self) -> Any:
        def part(p: Sequence[Invocation]) -> list[Any]:
            return [[i.operation, list(i.args)] for i in p]

        return {
            "init": part(self.init),
            "parallel": [part(p) for p in self.parallel],
            "post": part(self.post),
        }

    @classmethod
    def from_json(cls, data: Any) -> Scenario:
        def part(p: Any) -> tuple[Invocation, ...]:
            return tuple(Invocation(int(i), tuple(a)) for i, a in p)

        return cls(part(data["init"]), tuple(part(p) for p in data["parallel"]), part(data["post"]))


def scenarios(
    operations: Sequence[Operation],
    *,
    threads: int,
    ops_per_thread: int,
    init_ops: int,
    post_ops: int,
) -> st.SearchStrategy[Scenario]:
    """Scenarios over ``operations``; shrinking removes operations first."""

    def invocation(index: int) -> st.SearchStrategy[Invocation]:
        strategies = operations[index].strategies
        return st.tuples(*strategies).map(lambda args: Invocation(index, tuple(args)))

    one = st.integers(0, len(operations) - 1).flatmap(invocation)
    return st.builds(
        lambda init, parallel, post: Scenario(
            tuple(init), tuple(map(tuple, parallel)), tuple(post)
        ),
        st.lists(one, max_size=init_ops),
        st.lists(
            st.lists(one, min_size=1, max_size=ops_per_thread), min_size=threads, max_size=threads
        ),
        st.lists(one, max_size=post_ops),
    )


def encode_token(scenario: Scenario, schedule: str | None) -> str:
    """The replay token of a violation: the scenario, and the engine's token."""
    try:
        text = json.dumps({"scenario": scenario.to_json(), "schedule": schedule})
    except TypeError as exc:
        raise UsageError(f"the scenario's arguments cannot go into a token: {exc}") from None
    return TOKEN_PREFIX + base64.urlsafe_b64encode(zlib.compress(text.encode())).decode()


def decode_token(token: str) -> tuple[Scenario, str | None]:
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
        raise TokenError(f"not a linearizability token (expected {TOKEN_PREFIX}...): {token!r:.60}")
    try:
        data = json.loads(zlib.decompress(base64.urlsafe_b64decode(token[len(TOKEN_PREFIX) :])))
        return Scenario.from_json(data["scenario"]), data["schedule"]
    except Exception:
        raise TokenError(f"malformed linearizability token: {token!r:.60}") from None
