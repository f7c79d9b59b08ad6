"""Shrink a failing schedule: fewest preemptions first, then fewest steps.

Greedy, in the manner of delta debugging: drop one deviation at a time and keep
the drop when the same failure still happens; repeat until nothing can
be dropped. Then move each remaining deviation as early in its thread as it can
go while the failure persists, which shortens the failing execution. Every try
is one replayed execution, so the work is bounded by ``budget``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.explore.records import Execution

__all__ = ["shrink"]

#: A deviation as a replay token stores it: ``Deviation.plain()``,
#: ``(thread, thread_step, decision)``.
Planned = tuple[int, int, int]


def _key(execution: Execution) -> tuple[int, int, int]:
    """Smaller is better: preemptions, then deviations, then steps."""
    return (execution.preemptions, len(execution.deviations), execution.steps)


def _plain(execution: Execution) -> list[Planned]:
    return [d.plain() for d in execution.deviations]


def shrink(
    execute: Callable[[Sequence[Planned]], Execution],
    failing: Execution,
    budget: int = 400,
) -> tuple[Execution, int]:
    """The smallest failing execution found, and how many executions were tried."""
    # The same failure, not just the same kind: a shrunk schedule must show the
    # bug that was found (numbers in the message may differ).
    key = failing.failures[0].key
    best = failing
    tries = 0

    def attempt(candidate: Sequence[Planned]) -> Execution | None:
        nonlocal tries
        tries += 1
        execution = execute(candidate)
        if execution.failed and execution.failures[0].key == key:
            return execution
        return None

    # 1. Fewer deviations (hence fewer preemptions): remove chunks, halving
    #    their size whenever no chunk can go (ddmin, Zeller and Hildebrandt).
    current = _plain(best)
    parts = 2
    while current and tries < budget:
        size = max(1, -(-len(current) // parts))
        for start in range(0, len(current), size):
            if tries >= budget:
                break
            found = attempt(current[:start] + current[start + size :])
            if found is not None and _key(found) < _key(best):
                best = found
                current = _plain(best)
                parts = max(parts - 1, 2)
                break
        else:
            if size == 1:
                break
            parts = min(parts * 2, len(current))

    # 2. Earlier deviations (hence shorter executions).
    for i in range(len(current)):
        if tries >= budget or i >= len(current):
            break
        thread, step, code = current[i]
        low = _previous_step(current, i)
        while low < step and tries < budget:
            middle = (low + step) // 2
            found = attempt([*current[:i], (thread, middle, code), *current[i + 1 :]])
            if found is not None and _key(found) <= _key(best):
                best = found
                current = _plain(best)
                if i >= len(current) or current[i][0] != thread:
                    break
                step = current[i][1]
            else:
                low = middle + 1
    return best, tries


def _previous_step(deviations: Sequence[Planned], i: int) -> int:
    """The lowest step deviation ``i`` can move to without passing its predecessor."""
    thread = deviations[i][0]
    for j in range(i - 1, -1, -1):
        if deviations[j][0] == thread:
            return deviations[j][1] + 1
    return 0
