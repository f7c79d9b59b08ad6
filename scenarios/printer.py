"""A printer thread that polls its queue, and dies with the program: lines are lost.

From "Multithreading in Python" (seed 002), whose "advanced printer" is a daemon
thread that every half second tries ``get_nowait()`` on a queue, prints what it
found and sleeps, until it meets an exit marker. Two things go wrong. It polls:
while nothing arrives it wakes up again and again for nothing (counted here as
empty polls), and a line waits up to a whole polling period before it appears.
And it is a daemon that nobody waits for: when the main thread has sent its last
line and the exit marker, the program ends, and the interpreter kills daemon
threads on the way out, so whatever the printer had not yet picked up is never
printed. Here the printer writes into the run's state instead of a terminal, and
what it had written when the main thread returned is what the user saw; what it
writes later would have died with the process.

The ``blocking`` fix lets the printer sleep in a blocking ``get()`` until a line
(or the sentinel) arrives, so it never polls and prints each line as soon as it
is sent, and the main thread joins the printer after sending the sentinel: the
program ends only after every line has been printed, once and in order.
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

#: Lines each writer sends (two in the explored run: see ``EXPLORE``).
LINES_PER_WRITER = 4
#: The main thread's work between two lines (I/O: ``time.sleep``, virtual when
#: explored), and the article's printer's pause between two polls. The article
#: used half a second for both.
WORK_SECONDS = 0.01
POLL_SECONDS = 0.005
# The fix's waits (the printer's get(), the joins) have no timeout, on purpose:
# the program is correct only if they wait until the end, so a timed-out wait
# would be a bug of its own (and the exploration engine, which may let any
# timeout expire early, reports exactly that). A stuck run is cut short by the
# engine's deadline or reported as a deadlock, and ``teardown`` releases it.

#: A run takes about LINES_PER_WRITER * WORK_SECONDS. The last line is lost unless
#: the printer happens to poll in the few microseconds between its put() and the
#: end of the program, so the bug shows in nearly every run; the fix gets the same
#: budget.
STRESS = {"runs": 30, "timeout": 2.0}
#: Explored: the smallest run (``Terminal`` with ``threads=1``), the main thread
#: and the printer with two lines. Every line the main thread sends while the
#: printer is ready to print is a handful of points where the exhaustive search
#: tries both threads: with four lines the fix has 802 schedules of at most two
#: preemptions, with two 502, and the last line is still the one the daemon loses.
EXPLORE = {"threads": 1}

SCENARIO = Scenario(
    name="printer",
    title="A polling daemon printer thread (lines lost at exit)",
    article="Multithreading in Python (seed 002)",
    description=__doc__ or "",
    threads=2,
    min_threads=1,
)

#: Sent after the last line: the printer stops when it gets it.
EXIT = object()


class Terminal:
    """One run's state: the print queue, what was printed, and when.

    ``threads`` counts the main thread and the printer; any more are extra
    writer threads that the main thread starts, each sending its own lines.
    ``threads=1`` (the explore setting) is the smallest run: the main thread and
    the printer, and two lines instead of ``LINES_PER_WRITER``.
    """

    def __init__(self, threads: int) -> None:
        self.writers = max(1, threads - 1)
        self.lines_per_writer = LINES_PER_WRITER if threads >= 2 else 2
        self.printq: queue.Queue[Any] = queue.Queue()
        #: What the printer has printed so far (stands in for the terminal).
        self.screen: list[str] = []
        #: The screen as it was when the main thread returned (None: it did not).
        self.at_exit: list[str] | None = None
        #: ``get_nowait()`` calls that found the queue empty.
        self.empty_polls = 0
        self.printer: threading.Thread | None = None
        self.helpers: list[threading.Thread] = []

    def line(self, writer: int, n: int) -> str:
        return f"writer {writer}: line {n + 1} of {self.lines_per_writer}"

    def expected(self) -> list[str]:
        return [self.line(w, n) for w in range(self.writers) for n in range(self.lines_per_writer)]

    def work(self, seconds: float = WORK_SECONDS) -> None:
        # ``seconds`` bound once, as a default: a module global read here would be
        # one more point where the exploration engine tries the other thread.
        time.sleep(seconds)


def write_lines(state: Terminal, writer: int) -> None:
    for n in range(state.lines_per_writer):
        state.work()  # compute the next line
        state.printq.put(state.line(writer, n))


def write_all(state: Terminal) -> None:
    """The main thread's lines, and those of any extra writer threads."""
    state.helpers = [
        threading.Thread(target=write_lines, args=(state, w), name=f"writer-{w}")
        for w in range(1, state.writers)
    ]
    for helper in state.helpers:
        helper.start()
    write_lines(state, 0)
    for helper in state.helpers:
        helper.join()


# -- buggy: the article's polling daemon printer ------------------------------------------


def polling_printer(state: Terminal) -> None:
    while True:
        try:
            line = state.printq.get_nowait()
        except queue.Empty:
            state.empty_polls += 1  # woke up for nothing
        else:
            state.printq.task_done()
            if line is EXIT:
                return
            state.screen.append(line)
        time.sleep(POLL_SECONDS)


def main_with_daemon_printer(state: Terminal) -> None:
    state.printer = threading.Thread(target=polling_printer, args=(state,), daemon=True)
    state.printer.start()
    write_all(state)
    state.printq.put(EXIT)
    # The end of the program: nobody waits for a daemon thread.


# -- fix: a blocking get(), a sentinel and a join ---------------------------------------------


def blocking_printer(state: Terminal) -> None:
    while True:
        line = state.printq.get()  # sleeps until a line arrives: no polling
        try:
            if line is EXIT:
                return
            state.screen.append(line)
        finally:
            state.printq.task_done()


def main_joining_printer(state: Terminal) -> None:
    state.printer = threading.Thread(target=blocking_printer, args=(state,), name="printer")
    state.printer.start()
    write_all(state)
    state.printq.put(EXIT)  # behind every line: the printer prints them all first
    state.printer.join()  # the program ends after its last line is printed


# -- running, judging, cleaning up -------------------------------------------------------------


def _program(main: Callable[[Terminal], None]) -> Callable[[Terminal], list[Callable[[], None]]]:
    """The one actor: the program's main thread, which starts the printer."""

    def actors(state: Terminal) -> list[Callable[[], None]]:
        return [functools.partial(_run_main, main, state)]

    return actors


def _run_main(main: Callable[[Terminal], None], state: Terminal) -> None:
    main(state)
    state.at_exit = list(state.screen)  # the program ends: this is what was printed


def _summary(state: Terminal) -> dict[str, Any]:
    expected = state.expected()
    shown = state.at_exit if state.at_exit is not None else []
    counts = Counter(shown)
    printed = [line for line in shown if line in expected]
    # In order: each writer's lines appear in the order it sent them.
    position = {line: i for i, line in enumerate(expected)}
    disorder = 0
    last: dict[str, int] = {}
    for line in printed:
        writer = line.split(":")[0]
        if position[line] < last.get(writer, -1):
            disorder += 1
        last[writer] = position[line]
    return {
        "expected": len(expected),
        "printed": len(set(printed)),
        "lost": [line for line in expected if line not in counts],
        "duplicated": sorted(line for line, n in counts.items() if n > 1),
        "disorder": disorder,
        "late": len(state.screen) - len(shown),
    }


def check(state: Terminal) -> None:
    s = _summary(state)
    assert state.at_exit is not None, "the main thread never finished"
    assert not s["lost"], (
        f"{len(s['lost'])} of {s['expected']} lines not printed when the program ended "
        f"(lost with the daemon printer): {s['lost']}"
    )
    assert not s["duplicated"], f"lines printed more than once: {s['duplicated']}"
    assert not s["disorder"], f"{s['disorder']} lines printed out of order: {state.at_exit}"


def observe(state: Terminal) -> str:
    s = _summary(state)
    text = f"{s['printed']} of {s['expected']} lines printed before exit"
    if s["lost"]:
        text += f", {len(s['lost'])} lost"
    if s["duplicated"] or s["disorder"]:
        text += f", {len(s['duplicated'])} duplicated, {s['disorder']} out of order"
    return text + f"; {state.empty_polls} empty polls"


def teardown(state: Terminal) -> None:
    """End the printer (and any writer) whatever happened: send it the sentinel."""
    threads = [t for t in [state.printer, *state.helpers] if t is not None]
    if state.printer is not None and state.printer.is_alive():
        state.printq.put(EXIT)
    deadline = time.monotonic() + 2.0
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))


def _variant(name: str, summary: str, main: Callable[[Terminal], None], **kw: Any) -> Variant:
    return Variant(
        name=name,
        summary=summary,
        setup=Terminal,
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
        "a daemon printer polls get_nowait() and sleeps; main sends the exit marker and ends",
        main_with_daemon_printer,
        expect=CAUGHT,
        bug_class="work lost at exit",
        kinds=("assert",),
        source=(polling_printer, main_with_daemon_printer),
    )
)
SCENARIO.add(
    _variant(
        "blocking",
        "the printer blocks in get() until the sentinel; main joins it before ending",
        main_joining_printer,
        expect=HOLDS,
        source=(blocking_printer, main_joining_printer),
    )
)
