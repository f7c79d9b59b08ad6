"""A stoppable thread must wait on its stop Event, and join() must not stop it.

From "Multithreading in Python" (seed 002), whose StoppableThread loops while its
stop Event is not set, printing "Still running!" and sleeping two seconds, and
overrides ``join()`` to call ``stop()`` first. Each program here drives two such
threads: a *periodic* one that runs until it is told to stop, and a *batch* one
that works through five items and is joined to wait until it is done.

* ``buggy`` checks a plain ``stopped`` flag between long sleeps. ``stop()`` only
  sets the flag; the thread is asleep, and a sleep cannot be woken, so it stops
  a whole period later (0.2 s here, 2 s in the article).
* ``buggy_join`` keeps the article's ``join()`` override. A caller who joins the
  batch thread to wait for its work silently stops it: the batch ends after its
  first item and the other four are lost, with no error anywhere.

The ``event`` fix waits with ``stop_event.wait(period)`` instead of sleeping: the
wait returns ``True`` the moment ``stop()`` sets the Event, so the stop latency is
bounded by the time to wake a thread (measured below, in the outcome), not by
the period. ``join()`` is left alone: stopping and waiting are different requests.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

from harness import CAUGHT, HOLDS, Scenario, Variant

from ._lifecycle_util import LONG, Tracked, latency_bucket, say

#: ``buggy`` fails in every run (no luck needed) and costs ``PERIOD`` per run;
#: ``buggy_join`` needs the caller to reach join() before the batch has done four
#: gaps' worth of work (0.2 s). A few runs suffice; the fix gets the same budget.
STRESS = {"runs": 6, "timeout": 5.0}

#: How long the periodic thread pauses between rounds (the article: 2 s).
PERIOD = 0.2
#: The batch: this many items, with this pause after each (its steady pace).
ITEMS = 5
GAP = 0.05
#: Explored: one program (stress runs two side by side), whose batch has two
#: items (``items_for``). The programs of a run are independent copies, and more
#: items only repeat the same round: each would multiply the schedules that the
#: bounded exhaustive search must run, and two are enough for a join() that
#: stops the batch to lose one.
EXPLORE = {"threads": 1}

SCENARIO = Scenario(
    name="stoppable",
    title="StoppableThread: a flag between sleeps, a join() that stops",
    article="Multithreading in Python (seed 002)",
    description=__doc__ or "",
    threads=2,
    min_threads=1,
)


class Task:
    """What a thread does in each round; ``step()`` returns False when the job is done."""

    def __init__(self, name: str, pause: float) -> None:
        self.name = name
        self.pause = pause
        self.transcript: list[str] = []
        #: Whether each pause was cut short by a stop request.
        self.pauses: list[bool] = []

    def step(self) -> bool:
        raise NotImplementedError


class Periodic(Task):
    def __init__(self, name: str, pause: float) -> None:
        super().__init__(name, pause)
        self.running = threading.Event()  # set by the first round

    def step(self) -> bool:
        say(self.transcript, "Still running!")
        self.running.set()
        return True


class Batch(Task):
    def __init__(self, name: str, pause: float, items: int) -> None:
        super().__init__(name, pause)
        self.todo = list(range(items))
        self.done: list[int] = []

    def step(self) -> bool:
        todo = self.todo
        self.done.append(todo.pop(0))
        return todo != []


# -- buggy: a plain flag, checked between uninterruptible sleeps ------------------


class FlagThread(threading.Thread):
    def __init__(self, task: Task) -> None:
        super().__init__(name=task.name)
        self.task = task
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True

    def run(self) -> None:
        while not self.stopped and self.task.step():
            time.sleep(self.task.pause)  # nothing can wake a sleep
            self.task.pauses.append(False)
        say(self.task.transcript, "stopped!")


# -- buggy_join: the Event is right, the join() override is not -------------------


class EventThread(threading.Thread):
    """The fix: stop() sets an Event, and the thread waits on it between rounds."""

    def __init__(self, task: Task) -> None:
        super().__init__(name=task.name)
        self.task = task
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def stopped(self) -> bool:
        return self._stop_event.is_set()

    def run(self) -> None:
        # Locals, read once: every attribute read in the loop would be one more
        # point where the exploration engine tries each other thread.
        task, stop_event = self.task, self._stop_event
        while not stop_event.is_set() and task.step():
            woken = stop_event.wait(task.pause)  # returns at once on stop()
            task.pauses.append(woken)
        say(task.transcript, "stopped!")


class JoinStopsThread(EventThread):
    def join(self, timeout: float | None = None) -> None:
        self.stop()  # whoever waits for this thread also ends it
        super().join(timeout)


# -- the program: stop the periodic thread, join the batch thread -----------------


def items_for(threads: int) -> int:
    """Items in each program's batch: ``ITEMS``, or two in a lone program."""
    return ITEMS if threads >= 2 else 2


class Program:
    def __init__(self, items: int = ITEMS) -> None:
        self.periodic = Periodic("periodic", PERIOD)
        self.batch = Batch("batch", GAP, items)
        self.items = items
        #: Seconds from stop() to the periodic thread's end (as join saw it).
        self.stop_latency: float | None = None
        self.alive_after_join: list[str] = []


class State(Tracked):
    def __init__(self, threads: int) -> None:
        super().__init__()
        self.programs = [Program(items_for(threads)) for _ in range(threads)]


ThreadClass = Callable[[Task], FlagThread | EventThread]


def drive(thread_class: ThreadClass, state: State, program: Program) -> None:
    periodic = thread_class(program.periodic)
    state.track(periodic)
    periodic.start()
    program.periodic.running.wait(LONG)  # it is in its loop: now stop it
    began = time.monotonic()
    periodic.stop()
    periodic.join(LONG)
    program.stop_latency = time.monotonic() - began

    batch = thread_class(program.batch)
    state.track(batch)
    batch.start()
    batch.join(LONG)  # wait for the batch to be done
    program.alive_after_join = [t.name for t in (periodic, batch) if t.is_alive()]


# -- judging ----------------------------------------------------------------------


def check(state: State) -> None:
    for i, program in enumerate(state.programs):
        latency = program.stop_latency
        shown = f"{latency:.3f}s" if latency is not None else "?"
        pauses = program.periodic.pauses
        assert pauses and pauses[-1], (
            f"program {i}: stop() took {shown}: the thread was in a {PERIOD:g}s pause that "
            "the stop request could not cut short"
        )
        done = len(program.batch.done)
        assert done == program.items, (
            f"program {i}: join() returned with {done} of {program.items} batch items done: "
            "the join stopped the thread it was meant to wait for"
        )
        assert not program.alive_after_join, f"program {i}: alive: {program.alive_after_join}"


def observe(state: State) -> str:
    latencies = [p.stop_latency for p in state.programs if p.stop_latency is not None]
    worst = latency_bucket(max(latencies)) if latencies else "?"
    cut = sum(1 for p in state.programs if p.periodic.pauses and p.periodic.pauses[-1])
    done = sum(len(p.batch.done) for p in state.programs)
    wanted = sum(p.items for p in state.programs)
    n = len(state.programs)
    return (
        f"stop latency {worst} ({PERIOD:g}s pauses, {cut}/{n} cut short); "
        f"batch items done {done}/{wanted}"
    )


def teardown(state: State) -> None:
    for thread in state.threads:
        stop = getattr(thread, "stop", None)
        if stop is not None:
            stop()
    state.release()


def _actors(thread_class: ThreadClass) -> Callable[[State], list[Callable[[], None]]]:
    def actors(state: State) -> list[Callable[[], None]]:
        return [functools.partial(drive, thread_class, state, p) for p in state.programs]

    return actors


def _variant(
    name: str,
    summary: str,
    thread_class: ThreadClass,
    source: tuple[object, ...],
    kinds: tuple[str, ...] | None = None,
    bug_class: str = "",
) -> None:
    SCENARIO.add(
        Variant(
            name=name,
            summary=summary,
            setup=State,
            actors=_actors(thread_class),
            check=check,
            observe=observe,
            teardown=teardown,
            expect=CAUGHT if kinds else HOLDS,
            kinds=kinds,
            bug_class=bug_class,
            engines=("stress", "explore"),
            settings={"stress": STRESS, "explore": EXPLORE},
            source=source,
        )
    )


_variant(
    "buggy",
    "a plain stopped flag checked between time.sleep(period): stop() waits out the sleep",
    FlagThread,
    (FlagThread,),
    kinds=("assert",),
    bug_class="unresponsive stop",
)
_variant(
    "buggy_join",
    "join() overridden to call stop() first: joining the batch to wait for it ends it",
    JoinStopsThread,
    (EventThread.run, JoinStopsThread),
    kinds=("assert",),
    bug_class="lost work",
)
_variant(
    "event",
    "the loop waits with stop_event.wait(period); join() only waits",
    EventThread,
    (EventThread, drive),
)
