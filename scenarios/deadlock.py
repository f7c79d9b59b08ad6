"""Two threads each hold one lock and wait for the other's: neither can ever go on.

From "Python threads - a first example" (seed 004), whose closing warning is that
two threads that both need the same two resources can each grab one and then
wait for ever for the other. Here thread ``i`` takes ``lock i`` and, while it is
still using that resource (slow I/O, like the article's pings), needs
``lock i+1`` too: thread 0 takes ``lock_a`` then ``lock_b``, thread 1 takes
``lock_b`` then ``lock_a``. Once each holds its first lock, each waits for a
lock that only the other can release, and nothing will ever release it. With N
threads the same thing happens around a cycle of N locks.

The ``ordered`` fix takes the locks in one global order (by name): all threads
queue up for the same first lock, so whoever holds it can always get the second
and no cycle of waiting can form. The ``timeout`` fix keeps the opposite order
but never waits for ever: if a lock does not come within a timeout it releases
everything it holds, backs off for a random while (growing with each attempt, so
that the two threads fall out of step) and tries again, a bounded number of times.
"""

from __future__ import annotations

import functools
import random
import string
import threading
import time
from collections.abc import Callable
from typing import Any

from harness import CAUGHT, HOLDS, Scenario, Variant

#: How long a thread uses its first resource before it needs the second one.
#: It is I/O (``time.sleep``; a virtual clock when explored), not CPU work, so it
#: costs nothing and both threads are inside their first lock at once: the start
#: gate releases them within a fraction of a millisecond of each other.
HOLD_SECONDS = 0.01

#: ``timeout`` fix: how long one acquire may wait, the back-off range of the
#: first retry (it doubles each time, up to the cap) and the number of attempts.
TRY_SECONDS = 0.02
BACKOFF_SECONDS = 0.04
BACKOFF_CAP_SECONDS = 0.32
MAX_ATTEMPTS = 12
BACKOFF_SEED = 2005

#: A deadlocked run is reported when it misses its deadline (``timeout``), so keep
#: that short: a correct run of either fix takes 20-130 ms (2-3 threads), and
#: the bug needs no luck (300 deadlocks in 300 runs with the machine loaded by 12
#: busy threads). ``seconds`` bounds the whole call, so an explicit run of the
#: buggy variant costs about two deadlines; the fixes get the same budget.
STRESS = {"runs": 30, "seconds": 2.0, "timeout": 1.0}

SCENARIO = Scenario(
    name="deadlock",
    title="Two locks taken in opposite orders (deadlock)",
    article="Python threads - a first example (seed 004)",
    description=__doc__ or "",
    threads=2,
    min_threads=2,
)


def lock_name(index: int) -> str:
    """``lock_a``, ``lock_b``, ... (``lock_26``, ... past the alphabet)."""
    letters = string.ascii_lowercase
    return f"lock_{letters[index]}" if index < len(letters) else f"lock_{index}"


class Resources:
    """N resources, each guarded by its own lock, bound to ``lock_a``, ``lock_b`` ...

    The locks live in attributes (not a list) so that reports can name them.
    """

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.lock_names = [lock_name(i) for i in range(threads)]
        for name in self.lock_names:
            setattr(self, name, threading.Lock())
        self.hold_seconds = HOLD_SECONDS
        #: Thread indexes, in the order the threads got both of their locks.
        self.finished: list[int] = []
        #: ``timeout`` fix: retries per thread (each thread writes only its own slot).
        self.retries = [0] * threads
        self.rng = random.Random(BACKOFF_SEED)
        self.torn_down = False

    def lock(self, index: int) -> Any:
        return getattr(self, self.lock_names[index % self.threads])

    def locks_of(self, thread: int) -> tuple[Any, Any]:
        """The two resources thread ``thread`` needs: its own, then its neighbour's."""
        return self.lock(thread), self.lock(thread + 1)

    def rank(self, lock: Any) -> int:
        """A lock's place in the one global order (its name's)."""
        for i, name in enumerate(self.lock_names):
            if getattr(self, name) is lock:
                return i
        raise ValueError("not one of this state's locks")

    def use_first_resource(self) -> None:
        time.sleep(self.hold_seconds)


# -- buggy: each thread takes its own lock first --------------------------------------


def work_opposite_orders(state: Resources, thread: int) -> None:
    first, second = state.locks_of(thread)  # thread 0: a then b; thread 1: b then a
    with first:
        state.use_first_resource()
        with second:  # held by the other thread, which waits for ``first``
            state.finished.append(thread)


# -- fix: one global order ---------------------------------------------------------------


def work_in_global_order(state: Resources, thread: int) -> None:
    first, second = sorted(state.locks_of(thread), key=state.rank)
    with first:  # everyone who needs lock_a asks for it first
        state.use_first_resource()
        with second:
            state.finished.append(thread)


# -- fix: acquire with a timeout, release everything and back off -----------------------


def work_with_timeouts(state: Resources, thread: int) -> None:
    first, second = state.locks_of(thread)  # the opposite orders are kept
    for attempt in range(MAX_ATTEMPTS):
        if first.acquire(timeout=TRY_SECONDS):
            try:
                state.use_first_resource()
                if second.acquire(timeout=TRY_SECONDS):
                    try:
                        state.finished.append(thread)
                        return
                    finally:
                        second.release()
            finally:
                first.release()  # never wait for a lock while holding another
        state.retries[thread] += 1
        limit = min(BACKOFF_SECONDS * 2**attempt, BACKOFF_CAP_SECONDS)
        time.sleep(state.rng.uniform(0.0, limit))  # seeded, never the global random
    raise TimeoutError(f"thread {thread} gave up after {MAX_ATTEMPTS} attempts")


# -- running, judging, cleaning up ----------------------------------------------------


def _actors(
    body: Callable[[Resources, int], None],
) -> Callable[[Resources], list[Callable[[], None]]]:
    def actors(state: Resources) -> list[Callable[[], None]]:
        return [functools.partial(_run, body, state, i) for i in range(state.threads)]

    return actors


def _run(body: Callable[[Resources, int], None], state: Resources, thread: int) -> None:
    try:
        body(state, thread)
    except RuntimeError as exc:
        # Teardown freed a deadlock by releasing locks it did not take, so a thread
        # may later release a lock that is already free. Only then is that expected.
        if not (state.torn_down and "release unlocked lock" in str(exc)):
            raise


def check(state: Resources) -> None:
    missing = sorted(set(range(state.threads)) - set(state.finished))
    assert not missing, f"threads {missing} never got both of their locks"
    assert len(state.finished) == state.threads, f"a thread finished twice: {state.finished}"


def observe(state: Resources) -> str:
    retries = sum(state.retries)
    text = f"{len(set(state.finished))} of {state.threads} threads finished"
    return text + (f" after {retries} {'retry' if retries == 1 else 'retries'}" if retries else "")


def teardown(state: Resources) -> None:
    """Free the threads of a deadlocked run: release each lock that is still held.

    Each deadlocked thread waits for a lock that another holds; releasing every
    held lock once lets each waiter through, so every thread ends.
    """
    state.torn_down = True
    for name in state.lock_names:
        lock = getattr(state, name)
        if lock.locked():
            try:
                lock.release()
            except RuntimeError:  # its holder released it in the meantime
                pass


def _variant(name: str, summary: str, body: Callable[[Resources, int], None], **kw: Any) -> Variant:
    return Variant(
        name=name,
        summary=summary,
        setup=Resources,
        actors=_actors(body),
        check=check,
        observe=observe,
        teardown=teardown,
        engines=("stress", "explore"),
        settings={"stress": STRESS},
        source=(body,),
        **kw,
    )


SCENARIO.add(
    _variant(
        "buggy",
        "thread i takes lock i, then lock i+1: opposite orders, a cycle of waits",
        work_opposite_orders,
        expect=CAUGHT,
        bug_class="deadlock",
        kinds=("hang", "deadlock"),
    )
)
SCENARIO.add(
    _variant(
        "ordered",
        "every thread takes its two locks in one global order (by name)",
        work_in_global_order,
        expect=HOLDS,
    )
)
SCENARIO.add(
    _variant(
        "timeout",
        "acquire with a timeout; on failure release all, back off at random, retry (bounded)",
        work_with_timeouts,
        expect=HOLDS,
    )
)
