"""A strategy that follows a function of each choice (kept in its own file so that
the tests can exclude it from tracing: a strategy is harness code, not code under test)."""

from __future__ import annotations

from collections.abc import Callable

from harness.explore.strategies import Choice, Strategy

__all__ = ["Scripted"]


class Scripted(Strategy):
    """Chooses with ``policy`` and keeps a copy of every choice it was offered."""

    name = "scripted"

    def __init__(self, policy: Callable[[Choice], int]) -> None:
        self.policy = policy
        self.seen: list[tuple[int, tuple[int, ...], tuple[int, ...], int]] = []
        self.threads: list[int] = []
        self.ended: tuple[int, bool] | None = None

    def on_thread(self, index: int) -> None:
        self.threads.append(index)

    def choose(self, choice: Choice) -> int:
        self.seen.append((choice.current, choice.runnable, choice.timed, choice.default))
        return self.policy(choice)

    def end_execution(self, steps: int, failed: bool) -> None:
        self.ended = (steps, failed)


# Policies live here too: a policy runs inside the strategy, so it must not be traced.


def default(choice: Choice) -> int:
    """The non-preemptive default, always."""
    return choice.default


def lowest(choice: Choice) -> int:
    """Always the lowest-numbered runnable thread."""
    return choice.runnable[0] * 2 if choice.runnable else choice.default


def highest(choice: Choice) -> int:
    """Always the highest-numbered runnable thread."""
    return choice.runnable[-1] * 2 if choice.runnable else choice.default


def invalid(code: int) -> Callable[[Choice], int]:
    """Always ``code``, legal or not."""
    return lambda choice: code


def switch_when(flag: list[int], thread: int, to: int) -> Callable[[Choice], int]:
    """Switch from ``thread`` to ``to`` at its first decision once ``flag[thread]`` is set."""

    def policy(choice: Choice) -> int:
        if choice.current == thread and flag[thread] and to in choice.runnable:
            return to * 2
        return choice.default

    return policy
