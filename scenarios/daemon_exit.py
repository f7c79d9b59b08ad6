"""A daemon thread dies with the interpreter, its work unfinished; set daemon before start.

From "Basic Threading in Python" (seed 003), whose ``DaemonThread`` calls
``self.setDaemon(True)`` inside its own ``run()``, and "Multithreading in Python"
(seed 002), which runs its workers as daemons (``daemon=True``). Each program here
is a whole Python program, run in a subprocess so that its interpreter really
exits; the harness reads what it printed.

* ``buggy`` hands twenty items to a daemon worker and lets the main thread end.
  The interpreter does not wait for daemon threads: it exits, and the worker is
  stopped wherever it was. Most items are never done, and nothing says so.
* ``buggy_setdaemon`` is the article's ``DaemonThread``: daemon status can only
  be set before ``start()``; inside ``run()`` the thread is already active, so
  ``setDaemon(True)`` raises RuntimeError (after a DeprecationWarning: the
  attribute ``daemon`` replaced it in 3.10) and the thread dies before doing any
  work.

The ``event`` fix makes the worker a non-daemon thread (decided in the
constructor, before ``start()``), lets the main thread set a stop Event once every
item is queued, and joins the worker. The worker finishes what is queued before
it honours the stop: it leaves only when the Event is set *and* the queue is
empty, and since every item was queued before the Event was set, an empty queue
then means no more work. Every item is done, and the program says so.

(The workers write with ``os.write``, one system call per line, rather than
``print``: a daemon thread caught inside ``print`` at exit can make the
interpreter abort while flushing stdout, which is a different lesson.)
"""

from __future__ import annotations

import functools
import inspect
import textwrap
from collections.abc import Callable

from harness import CAUGHT, HOLDS, Scenario, Variant

from ._lifecycle_util import Finished, Tracked, run_python

#: The bugs need no luck (twenty items at 2 ms each cannot be done in the
#: microseconds before the interpreter exits; setDaemon raises every time), so
#: a few runs suffice. Each run starts an interpreter per program: the deadline
#: is generous for a loaded machine, and the subprocess's own timeout is shorter.
STRESS = {"runs": 5, "timeout": 30.0}
SUBPROCESS_SECONDS = 20.0

ITEMS = 20
WORK_SECONDS = 0.002

SCENARIO = Scenario(
    name="daemon_exit",
    title="Daemon threads at interpreter exit; setDaemon inside run()",
    article="Basic Threading in Python (seed 003); Multithreading in Python (seed 002)",
    description=__doc__ or "",
    threads=2,
    min_threads=1,
)


# -- the programs (each runs as ``__main__`` of its own interpreter) --------------


def daemon_worker_program(items: int, work_seconds: float) -> None:
    import os
    import queue
    import threading
    import time

    work: queue.Queue[int] = queue.Queue()

    def worker() -> None:
        while True:  # a daemon serves for ever: the interpreter's exit ends it
            try:
                item = work.get(timeout=1.0)
            except queue.Empty:
                continue
            time.sleep(work_seconds)  # the work takes a moment
            os.write(1, f"done {item}\n".encode())

    threading.Thread(target=worker, daemon=True).start()
    for item in range(items):
        work.put(item)
    print("main: leaving", flush=True)


def set_daemon_in_run_program(items: int, work_seconds: float) -> None:
    import os
    import threading
    import time

    class DaemonThread(threading.Thread):
        def run(self) -> None:
            self.setDaemon(True)  # the thread is running already: RuntimeError
            for item in range(items):
                time.sleep(work_seconds)
                os.write(1, f"done {item}\n".encode())

    DaemonThread().start()
    print("main: leaving", flush=True)


def stop_event_program(items: int, work_seconds: float) -> None:
    import os
    import queue
    import threading
    import time

    work: queue.Queue[int] = queue.Queue()
    stop = threading.Event()

    def worker() -> None:
        while True:
            try:
                item = work.get(timeout=0.05)
            except queue.Empty:
                if stop.is_set() and work.empty():  # asked to stop, and nothing left
                    break
                continue
            time.sleep(work_seconds)
            os.write(1, f"done {item}\n".encode())

    thread = threading.Thread(target=worker, daemon=False)  # decided before start()
    thread.start()
    for item in range(items):
        work.put(item)
    stop.set()  # every item is queued: finish them, then leave
    thread.join(timeout=10.0)
    print("main: worker joined" if not thread.is_alive() else "main: worker still running")


def program_source(program: Callable[[int, float], None]) -> str:
    """The program's function, and a call to it, as the text of ``python -c``."""
    body = textwrap.dedent(inspect.getsource(program))
    return f"{body}\n{program.__name__}({ITEMS!r}, {WORK_SECONDS!r})\n"


# -- running and judging ----------------------------------------------------------


class State(Tracked):
    def __init__(self, threads: int) -> None:
        super().__init__()
        self.finished: list[Finished | None] = [None] * threads


def run_program(state: State, index: int, source: str) -> None:
    state.finished[index] = run_python(state, source, SUBPROCESS_SECONDS)


def _done_items(finished: Finished) -> list[int]:
    return [int(line.split()[1]) for line in finished.lines if line.startswith("done ")]


def check(state: State) -> None:
    for i, finished in enumerate(state.finished):
        assert finished is not None, f"program {i} never ran"
        assert not finished.timed_out, f"program {i} ran past {SUBPROCESS_SECONDS:g}s"
        done = _done_items(finished)
        error = finished.last_error_line()
        assert done == list(range(ITEMS)), (
            f"program {i}: {len(done)} of {ITEMS} items done when the interpreter exited"
            + (f"; stderr: {error}" if error else "")
        )
        assert not finished.stderr.strip(), f"program {i}: stderr: {error}"
        assert finished.returncode == 0, f"program {i}: exit status {finished.returncode}"


def observe(state: State) -> str:
    ran = [f for f in state.finished if f is not None]
    done = sum(len(_done_items(f)) for f in ran)
    errors = sorted({f.last_error_line() for f in ran if f.stderr.strip()})
    stderr = "; ".join(errors) if errors else "clean"
    return f"{done}/{ITEMS * len(state.finished)} items done; stderr: {stderr}"


def teardown(state: State) -> None:
    state.release()


def _actors(
    program: Callable[[int, float], None],
) -> Callable[[State], list[Callable[[], None]]]:
    source = program_source(program)

    def actors(state: State) -> list[Callable[[], None]]:
        return [
            functools.partial(run_program, state, i, source) for i in range(len(state.finished))
        ]

    return actors


def _variant(
    name: str,
    summary: str,
    program: Callable[[int, float], None],
    kinds: tuple[str, ...] | None = None,
    bug_class: str = "",
) -> None:
    SCENARIO.add(
        Variant(
            name=name,
            summary=summary,
            setup=State,
            actors=_actors(program),
            check=check,
            observe=observe,
            teardown=teardown,
            expect=CAUGHT if kinds else HOLDS,
            kinds=kinds,
            bug_class=bug_class,
            engines=("stress",),  # a subprocess: real interpreter exit, real time
            settings={"stress": STRESS},
            source=(program,),
        )
    )


_variant(
    "buggy",
    "queue work for a daemon worker and let the main thread end: the work dies with it",
    daemon_worker_program,
    kinds=("assert",),
    bug_class="work lost at exit",
)
_variant(
    "buggy_setdaemon",
    "setDaemon(True) called inside run(): RuntimeError, the thread dies at once",
    set_daemon_in_run_program,
    kinds=("assert",),
    bug_class="thread lifecycle misuse",
)
_variant(
    "event",
    "a non-daemon worker, a stop Event set after the last item, join(): all work done",
    stop_event_program,
)
