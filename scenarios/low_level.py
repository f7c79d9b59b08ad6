"""``_thread.start_new_thread``: arguments go in a tuple, and nobody waits for you.

From "Basic Threading in Python" (seed 003), which ends with the low-level
``thread`` module (``_thread`` in Python 3): ``start_new_thread(function, args)``
turns a plain function into a thread. Its example has two bugs:

* ``buggy`` passes ``('Argument')``, which is just the string ``'Argument'`` in
  parentheses, where a tuple is required: ``start_new_thread`` raises
  ``TypeError: 2nd arg must be a tuple``. A one-element tuple needs its comma:
  ``('Argument',)``.
* ``buggy_exit`` passes a proper tuple, but the main program ends right after
  starting the thread. Nothing in ``_thread`` waits: when the main thread of a
  real program ends, the interpreter exits and a ``_thread`` thread that has not
  printed yet never will. Here the main program's end is modelled by the
  transcript it leaves at that moment; the thread is still printing.

The ``tuple`` fix passes a tuple and hands the thread a lock, acquired by the
main program beforehand and released by the thread when it is done; the main
program acquires it again (with a timeout) before it ends. The ``thread`` fix
uses ``threading.Thread`` instead and ``join()``s it, which is what that class
is for.
"""

from __future__ import annotations

import _thread
import functools
import threading
from collections.abc import Callable
from typing import Any

from harness import CAUGHT, HOLDS, Scenario, Variant

from ._lifecycle_util import LONG, Tracked, say

#: ``buggy`` fails in every run. ``buggy_exit`` is missed only if a thread says
#: both of its lines before the main program, which is not waiting for anything,
#: takes its next step: rare in one program, and every run has two.
STRESS = {"runs": 20, "timeout": 5.0}
#: Explored: one program (stress runs two side by side). The programs of a run
#: are independent copies: interleaving them teaches nothing, and every thread
#: added multiplies the schedules that the bounded exhaustive search must run.
EXPLORE = {"threads": 1}

EXPECTED = ["I'm a real boy!", "Argument"]

SCENARIO = Scenario(
    name="low_level",
    title="_thread.start_new_thread: a string for the args tuple, no waiting",
    article="Basic Threading in Python (seed 003)",
    description=__doc__ or "",
    threads=2,
    min_threads=1,
)


class Program:
    def __init__(self) -> None:
        self.transcript: list[str] = []
        #: What had been printed when the main program ended.
        self.output_at_exit: list[str] | None = None
        #: Exceptions raised inside the thread (a ``_thread`` thread has no
        #: excepthook; the harness keeps them here instead).
        self.errors: list[str] = []

    def speak(self, stuff: str) -> None:
        """The article's thread function (which it named ``thread``, hiding the module)."""
        say(self.transcript, "I'm a real boy!")
        say(self.transcript, stuff)


class State(Tracked):
    def __init__(self, threads: int) -> None:
        super().__init__()
        self.programs = [Program() for _ in range(threads)]


def start_new_thread(
    state: State, program: Program, function: Callable[..., object], args: Any
) -> None:
    """``_thread.start_new_thread(function, args)``, plus bookkeeping for the harness:
    a lock that the thread releases when it ends, so that teardown can wait for it,
    and a guard that keeps the thread's exceptions instead of losing them."""
    done = threading.Lock()
    done.acquire()

    def guarded(*given: object) -> None:
        try:
            function(*given)
        except BaseException as exc:
            program.errors.append(repr(exc))
        finally:
            done.release()

    try:
        _thread.start_new_thread(guarded, args)
    except BaseException:
        done.release()
        raise
    state.raw_done.append(done)


# -- buggy: a string where the tuple goes ------------------------------------------


def string_args(state: State, program: Program) -> None:
    start_new_thread(state, program, program.speak, ("Argument"))  # a str: TypeError
    program.output_at_exit = list(program.transcript)


# -- buggy_exit: a tuple, but the main program ends at once -------------------------


def exit_at_once(state: State, program: Program) -> None:
    start_new_thread(state, program, program.speak, ("Argument",))
    program.output_at_exit = list(program.transcript)  # the main program ends here


# -- fix tuple: a tuple, and a lock the main program waits on -----------------------


def speak_then_release(program: Program, stuff: str, finished: _thread.LockType) -> None:
    try:
        program.speak(stuff)
    finally:
        finished.release()


def tuple_and_lock(state: State, program: Program) -> None:
    finished = threading.Lock()
    finished.acquire()  # held until the thread releases it
    start_new_thread(state, program, speak_then_release, (program, "Argument", finished))
    finished.acquire(timeout=LONG)  # wait for the thread before ending
    program.output_at_exit = list(program.transcript)


# -- fix thread: threading.Thread and join ------------------------------------------


def thread_and_join(state: State, program: Program) -> None:
    worker = threading.Thread(target=program.speak, args=("Argument",))
    state.track(worker)
    worker.start()
    worker.join(LONG)
    program.output_at_exit = list(program.transcript)


# -- judging ----------------------------------------------------------------------


def check(state: State) -> None:
    for i, program in enumerate(state.programs):
        assert not program.errors, f"program {i}: the thread raised {program.errors}"
        seen = program.output_at_exit
        assert seen is not None, f"program {i}: the main program raised before its end"
        assert seen == EXPECTED, (
            f"program {i}: printed {seen} by the time the main program ended, "
            f"not {EXPECTED}: it did not wait for its thread"
        )


def observe(state: State) -> str:
    printed = [len(p.output_at_exit or []) for p in state.programs]
    complete = sum(1 for n in printed if n == len(EXPECTED))
    lines = sum(printed)
    total = len(EXPECTED) * len(state.programs)
    return f"{lines}/{total} lines printed before exit, {complete}/{len(printed)} complete"


def teardown(state: State) -> None:
    state.release()


def _actors(
    body: Callable[[State, Program], None],
) -> Callable[[State], list[Callable[[], None]]]:
    def actors(state: State) -> list[Callable[[], None]]:
        return [functools.partial(body, state, p) for p in state.programs]

    return actors


def _variant(
    name: str,
    summary: str,
    body: Callable[[State, Program], None],
    source: tuple[object, ...],
    kinds: tuple[str, ...] | None = None,
    bug_class: str = "",
) -> None:
    SCENARIO.add(
        Variant(
            name=name,
            summary=summary,
            setup=State,
            actors=_actors(body),
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
    "start_new_thread(speak, ('Argument')): a string, not a tuple: TypeError",
    string_args,
    (Program.speak, string_args),
    kinds=("exception",),
    bug_class="API misuse",
)
_variant(
    "buggy_exit",
    "a proper tuple, but the main program ends without waiting: output lost",
    exit_at_once,
    (Program.speak, exit_at_once),
    kinds=("assert",),
    bug_class="work lost at exit",
)
_variant(
    "tuple",
    "args as a tuple, and a lock the thread releases and the main program waits on",
    tuple_and_lock,
    (speak_then_release, tuple_and_lock),
)
_variant(
    "thread",
    "threading.Thread(target=speak, args=(...,)), start() and join()",
    thread_and_join,
    (thread_and_join,),
)
