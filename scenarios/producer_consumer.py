"""Producers and consumers share a Queue: the consumers never end, or end it wrong.

From "Multithreading in Python" (seed 002), whose consumer loops for ever on
``get()`` and calls ``task_done()`` after each item. Its producers here make a
finite batch, but nothing tells the consumers that the batch is over: each one
blocks in ``get()`` for good, so a program that waits for its threads (as the
interpreter does at exit for every non-daemon thread) never ends. The
``task_done_twice`` variant shows the other classic misuse: a consumer that
acknowledges its stop signal once by hand and once more in a ``finally``.
``task_done()`` is then called more often than ``put()``: the surplus call raises
``ValueError: task_done() called too many times`` and kills the consumer that
makes it. The count of unfinished tasks is wrong from then on, so ``q.join()``
may return while a consumer still holds an item, or never return, when the
consumer that died had a sentinel still to take.

The ``sentinel`` fix bounds the queue (producers wait when consumers fall
behind), waits for the producers, then puts one sentinel per consumer behind the
items: a consumer that gets one stops. Every ``get()`` is matched by exactly one
``task_done()`` (in a ``finally``), so ``q.join()`` returns exactly when every
item and sentinel has been processed; then the consumers are joined. Every item
is consumed exactly once, and because the queue is FIFO each consumer sees each
producer's items in the order they were produced.
"""

from __future__ import annotations

import functools
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from harness import CAUGHT, HOLDS, Scenario, Variant
from harness.stress import RunAborted

#: Items each producer makes: few, so that the controlled exploration of every
#: interleaving stays small; stress makes up for it with runs.
ITEMS_PER_PRODUCER = 2
#: The bounded queue of the fix holds this many items (fewer if the run makes
#: fewer, so that a small run too meets a full queue).
QUEUE_SIZE = 2
# No wait in this module has a timeout, on purpose. In the fix, every wait is
# one the program's correctness relies on (a timed-out join() or get() would be
# a bug of its own, and the exploration engine, which may let any timeout expire
# early, reports exactly that); in the buggy variants, the endless wait is the
# bug. A stuck run is cut short by the engine's deadline (stress) or reported at
# once as a deadlock (explore), and ``teardown`` can release every one of them.

#: The bugs need no luck (they happen in every run), so a few runs suffice; a
#: hanging run costs its whole deadline (``timeout``) and ``seconds`` bounds the
#: call, so an explicit run of ``buggy`` costs about two deadlines.
STRESS = {"runs": 200, "seconds": 2.0, "timeout": 1.0}
#: Explored: one consumer thread, and the main thread makes a single item itself
#: (``Pipeline`` with ``threads=1``). With a producer thread and two items, the
#: fix has about 7,000 schedules of at most two preemptions; this program keeps
#: every step of the protocol (a full bounded queue, the sentinel behind the item,
#: ``task_done()`` per ``get()``, ``q.join()``, the consumer joined) in about 500.
EXPLORE = {"threads": 1}

SCENARIO = Scenario(
    name="producer_consumer",
    title="Producers and consumers on a Queue with task_done",
    article="Multithreading in Python (seed 002)",
    description=__doc__ or "",
    threads=4,
    min_threads=1,
)

#: The stop signal of the fixes: one per consumer, after every item.
STOP = object()
#: What teardown feeds a consumer stuck in ``get()`` to unwind it (not program code).
_HALT = object()


class Pipeline:
    """One run's state: the queue, what each consumer took, the program's threads.

    ``threads`` is the number of producer and consumer threads the program starts
    (half of each, rounded in the consumers' favour), besides its main thread.
    With ``threads=1`` the one thread is a consumer, and the main thread makes a
    single item itself.
    """

    def __init__(self, threads: int, maxsize: int = 0) -> None:
        #: Producer threads; with none, the main thread produces (as producer 0).
        self.producer_threads = threads // 2
        self.producers = max(1, self.producer_threads)
        self.consumers = max(1, threads - self.producer_threads)
        self.items_per_producer = ITEMS_PER_PRODUCER if self.producer_threads else 1
        self.q: queue.Queue[Any] = queue.Queue(maxsize)
        #: What each consumer took off the queue, in order: ``(producer, seq)``.
        self.taken: list[list[tuple[int, int]]] = [[] for _ in range(self.consumers)]
        #: The threads the program started, for teardown.
        self.threads: list[threading.Thread] = []
        #: Items not yet processed when ``q.join()`` returned (None: never called).
        self.unprocessed_at_join: int | None = None
        #: Names of the program's threads still running when its main thread ended.
        self.still_running: list[str] = []
        self.main_done = False
        #: The thread that runs the program's main thread (for teardown).
        self.main_thread: threading.Thread | None = None

    def expected(self) -> int:
        return self.producers * self.items_per_producer

    def consumed(self) -> int:
        return sum(len(items) for items in self.taken)

    def record(self, consumer: int, item: Any) -> None:
        """Process one item (here: write down who took it)."""
        if item is _HALT:
            raise RunAborted  # teardown is unwinding this thread: see tear_down
        self.taken[consumer].append(item)

    def note_join(self) -> None:
        self.unprocessed_at_join = self.expected() - self.consumed()

    def note_end(self) -> None:
        self.still_running = [t.name for t in self.threads if t.is_alive()]
        self.main_done = True


def bounded(threads: int) -> Pipeline:
    state = Pipeline(threads)
    state.q = queue.Queue(min(QUEUE_SIZE, state.expected()))
    return state


def produce(state: Pipeline, producer: int) -> None:
    for seq in range(state.items_per_producer):
        state.q.put((producer, seq))  # waits while a bounded queue is full


def start_threads(
    state: Pipeline, consumer: Callable[[Pipeline, int], None]
) -> tuple[list[threading.Thread], list[threading.Thread]]:
    consumers = [
        threading.Thread(target=consumer, args=(state, c), name=f"consumer-{c}")
        for c in range(state.consumers)
    ]
    producers = [
        threading.Thread(target=produce, args=(state, p), name=f"producer-{p}")
        for p in range(state.producer_threads)
    ]
    state.threads = consumers + producers
    for thread in state.threads:
        thread.start()
    if not producers:  # a lone consumer: the main thread makes the items
        produce(state, 0)
    return consumers, producers


# -- buggy: the article's consumers loop for ever -----------------------------------------


def consume_forever(state: Pipeline, consumer: int) -> None:
    while True:  # nothing ever ends this loop
        item = state.q.get()  # once the batch is done: blocks for good
        state.record(consumer, item)
        state.q.task_done()


def main_without_ending(state: Pipeline) -> None:
    consumers, producers = start_threads(state, consume_forever)
    # The program's main thread is done; the interpreter now waits for every
    # non-daemon thread before it exits. The consumers never end: neither does it.
    for thread in producers + consumers:
        thread.join()


# -- buggy: task_done() once too often ---------------------------------------------------------


def consume_ack_twice(state: Pipeline, consumer: int) -> None:
    while True:
        item = state.q.get()
        try:
            if item is STOP:
                state.q.task_done()  # acknowledge the stop signal...
                return
            state.record(consumer, item)
        finally:
            state.q.task_done()  # ...and once more here, on the way out


# -- fix: bounded queue, q.join(), one sentinel per consumer ------------------------------------


def consume_until_sentinel(state: Pipeline, consumer: int) -> None:
    while True:
        item = state.q.get()
        try:
            if item is STOP:
                return
            state.record(consumer, item)
        finally:
            state.q.task_done()  # exactly once per get(), sentinel included


def main_with_sentinels(state: Pipeline, consumer: Callable[[Pipeline, int], None]) -> None:
    consumers, producers = start_threads(state, consumer)
    for thread in producers:
        thread.join()
    for _ in consumers:  # behind every item: a consumer that gets one has no more to do
        state.q.put(STOP)
    state.q.join()  # returns once every item and sentinel has been processed
    state.note_join()
    for thread in consumers:
        thread.join()


# -- running, judging, cleaning up -------------------------------------------------------------


def _program(main: Callable[[Pipeline], None]) -> Callable[[Pipeline], list[Callable[[], None]]]:
    """The one actor: the program's main thread, which starts all the others."""

    def actors(state: Pipeline) -> list[Callable[[], None]]:
        return [functools.partial(_run_main, main, state)]

    return actors


def _run_main(main: Callable[[Pipeline], None], state: Pipeline) -> None:
    state.main_thread = threading.current_thread()
    try:
        main(state)
    finally:
        state.note_end()


def _summary(state: Pipeline) -> dict[str, Any]:
    wanted = {(p, s) for p in range(state.producers) for s in range(state.items_per_producer)}
    counts = Counter(item for items in state.taken for item in items)
    # Each consumer must see each producer's items in increasing order.
    disorder = 0
    for items in state.taken:
        last: dict[int, int] = {}
        for producer, seq in items:
            if seq < last.get(producer, -1):
                disorder += 1
            last[producer] = seq
    return {
        "expected": len(wanted),
        "once": sum(1 for item in wanted if counts[item] == 1),
        "duplicated": sorted(item for item, n in counts.items() if n > 1),
        "missing": sorted(item for item in wanted if counts[item] == 0),
        "disorder": disorder,
    }


def check(state: Pipeline) -> None:
    s = _summary(state)
    assert not state.still_running, (
        f"threads still running when the program ended: {state.still_running}"
    )
    assert not s["missing"], f"items never consumed: {s['missing']}"
    assert not s["duplicated"], f"items consumed more than once: {s['duplicated']}"
    assert not s["disorder"], (
        f"{s['disorder']} items taken out of their producer's order: {state.taken}"
    )


def observe(state: Pipeline) -> str:
    s = _summary(state)
    text = f"{s['once']} of {s['expected']} items consumed once"
    if s["disorder"]:
        text += f", {s['disorder']} out of order"
    if state.unprocessed_at_join:
        text += f"; q.join() returned with {state.unprocessed_at_join} unprocessed"
    if state.still_running:
        text += f"; {len(state.still_running)} threads still running"
    return text


def teardown(state: Pipeline) -> None:
    """End every thread the program started, and its main thread, whatever their state.

    A consumer stuck in ``get()`` is fed ``_HALT``, which unwinds it; a producer
    (or the main thread) stuck on a full queue is freed by draining it; a
    ``q.join()`` that would wait for ever is released by finishing the
    outstanding tasks. Does nothing after a run that ended well.
    """
    deadline = time.monotonic() + 2.0
    last: tuple[object, ...] = ()
    still = 0
    while time.monotonic() < deadline:
        alive = [t for t in state.threads if t.is_alive()]
        main_gone = state.main_thread is not None and not state.main_thread.is_alive()
        if not alive and (state.main_done or main_gone or not state.threads):
            break  # (gone without being done: the exploration engine unwound it)
        # Threads that no longer move are not ours to free (the exploration
        # engine parks them and unwinds them itself): stop after a few passes.
        now = (len(alive), state.main_done, state.q.qsize(), state.consumed())
        still = still + 1 if now == last else 0
        if still >= 3:
            break
        last = now
        try:
            while True:  # free whoever waits to put into a full queue
                state.q.get_nowait()
        except queue.Empty:
            pass
        try:
            for thread in alive:
                if thread.name.startswith("consumer-"):
                    state.q.put_nowait(_HALT)
        except queue.Full:
            pass
        try:
            while getattr(state.q, "unfinished_tasks", 0) > 0:
                state.q.task_done()  # free a main thread waiting in q.join()
        except ValueError:
            pass
        for thread in alive:
            thread.join(0.05)
        if not alive:
            time.sleep(0.01)  # only the main thread is left: give it time to go on


def _variant(name: str, summary: str, main: Callable[[Pipeline], None], **kw: Any) -> Variant:
    return Variant(
        name=name,
        summary=summary,
        actors=_program(main),
        check=check,
        observe=observe,
        teardown=teardown,
        engines=("stress", "explore"),
        settings={"stress": STRESS, "explore": EXPLORE},
        **kw,
    )


SCENARIO.add(
    _variant(
        "buggy",
        "consumers loop for ever on get() + task_done(): the program never ends",
        main_without_ending,
        setup=Pipeline,
        expect=CAUGHT,
        bug_class="missing shutdown",
        kinds=("hang", "deadlock"),
        source=(consume_forever, main_without_ending),
    )
)
SCENARIO.add(
    _variant(
        "task_done_twice",
        "the stop signal is task_done() twice: q.join() returns early, then ValueError",
        functools.partial(main_with_sentinels, consumer=consume_ack_twice),
        setup=bounded,
        expect=CAUGHT,
        bug_class="protocol misuse",
        kinds=("exception",),
        source=(consume_ack_twice, main_with_sentinels),
    )
)
SCENARIO.add(
    _variant(
        "sentinel",
        "bounded Queue, producers joined, q.join(), one sentinel per consumer, consumers joined",
        functools.partial(main_with_sentinels, consumer=consume_until_sentinel),
        setup=bounded,
        expect=HOLDS,
        source=(produce, consume_until_sentinel, main_with_sentinels),
    )
)
