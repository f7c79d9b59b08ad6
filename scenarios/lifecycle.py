"""A Thread object is started once, by ``start()``, after ``Thread.__init__`` ran.

From "Multithreading in Python" (seed 002), which warns that starting a finished
thread again raises RuntimeError, and "Basic Threading in Python" (seed 003),
whose thread subclasses override ``__init__`` and ``run``. A program here wants
two jobs done, each in a thread of its own, and gets the lifecycle wrong in the
three classic ways:

* ``buggy`` reuses one Thread object for the second job: ``start()`` on a thread
  that has already run raises ``RuntimeError: threads can only be started once``.
* ``buggy_run`` calls ``run()`` instead of ``start()``: no thread is created and
  the job runs, synchronously, in the caller's own thread.
* ``buggy_init`` subclasses Thread and overrides ``__init__`` without calling
  ``Thread.__init__``: ``start()`` raises ``RuntimeError: thread.__init__() not
  called``, because the object never got the state a thread needs.

The ``start`` fix calls ``super().__init__()`` first, creates a fresh Thread for
each job, calls ``start()`` once on each and ``join()`` on each; its ``run``
keeps any exception the job raised so that the caller sees it after the join
instead of losing it to a printed traceback. The ``target`` fix does the same
without subclassing: ``Thread(target=job, args=...)`` has no ``__init__`` to
forget. The harness observes which thread each job ran in.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from threading import current_thread

from harness import CAUGHT, HOLDS, Scenario, Variant

from ._lifecycle_util import LONG, Tracked, join_all

#: The bugs need no luck (every run shows them), so a few runs suffice; the fixes
#: get the same budget.
STRESS = {"runs": 20, "timeout": 5.0}
#: Explored: one program (stress runs two side by side). The programs of a run
#: are independent copies: interleaving them teaches nothing, and every thread
#: added multiplies the schedules that the bounded exhaustive search must run.
EXPLORE = {"threads": 1}

#: Each program wants this many jobs done, each in a thread of its own.
JOBS = 2

SCENARIO = Scenario(
    name="lifecycle",
    title="Thread lifecycle: start once, start not run, call Thread.__init__",
    article="Multithreading in Python (seed 002); Basic Threading in Python (seed 003)",
    description=__doc__ or "",
    threads=2,
    min_threads=1,
)


class Program:
    """One program: the caller (an actor) and the jobs it wants run in threads."""

    def __init__(self) -> None:
        self.caller: threading.Thread | None = None
        #: ``(job, the thread it ran in)`` for each job that ran. Thread objects,
        #: not idents: the OS hands a finished thread's ident to the next one.
        self.ran: list[tuple[int, threading.Thread]] = []
        #: Exceptions that the jobs raised, as the caller saw them after joining.
        self.errors: list[str] = []
        #: Threads still alive after the caller joined them.
        self.alive_after_join: list[str] = []


class State(Tracked):
    def __init__(self, threads: int) -> None:
        super().__init__()
        self.programs = [Program() for _ in range(threads)]


def job(program: Program, n: int) -> None:
    """The work: note which thread it runs in."""
    # current_thread, not threading.current_thread: a module attribute read is
    # one more point where the exploration engine must try every other thread.
    program.ran.append((n, current_thread()))


# -- buggy: one Thread object started twice -------------------------------------


def next_job(program: Program) -> None:
    job(program, len(program.ran) + 1)


def start_twice(state: State, program: Program) -> None:
    program.caller = threading.current_thread()
    worker = threading.Thread(target=next_job, args=(program,))
    state.track(worker)
    worker.start()  # job 1
    worker.join(LONG)
    worker.start()  # job 2? RuntimeError: threads can only be started once
    worker.join(LONG)


# -- buggy_run: run() instead of start() -----------------------------------------


class Greeter(threading.Thread):
    def __init__(self, program: Program, n: int) -> None:
        super().__init__()
        self.program = program
        self.n = n

    def run(self) -> None:
        job(self.program, self.n)


def call_run(state: State, program: Program) -> None:
    program.caller = threading.current_thread()
    for n in range(1, JOBS + 1):
        Greeter(program, n).run()  # runs the job right here, in the caller's thread


# -- buggy_init: an __init__ that forgets Thread.__init__ ------------------------


class ForgetfulGreeter(threading.Thread):
    def __init__(self, program: Program, n: int) -> None:
        # Thread.__init__ is never called: the object has no thread state.
        self.program = program
        self.n = n

    def run(self) -> None:
        job(self.program, self.n)


def forget_init(state: State, program: Program) -> None:
    program.caller = threading.current_thread()
    for n in range(1, JOBS + 1):
        greeter = ForgetfulGreeter(program, n)
        greeter.start()  # RuntimeError: thread.__init__() not called
        state.track(greeter)  # (after start: before, there is no thread state to track)


# -- fix start: super().__init__() first, a fresh Thread per job, start, join ----


class CarefulGreeter(threading.Thread):
    def __init__(self, program: Program, n: int) -> None:
        super().__init__(name=f"greeter-{n}")  # first: the thread machinery
        self.program = program
        self.n = n
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            job(self.program, self.n)
        except BaseException as exc:  # kept for the caller, not lost to stderr
            self.error = exc


def start_each(state: State, program: Program) -> None:
    program.caller = threading.current_thread()
    greeters = [CarefulGreeter(program, n) for n in range(1, JOBS + 1)]
    state.track(*greeters)
    for greeter in greeters:
        greeter.start()  # once per object
    program.alive_after_join = join_all(greeters, LONG)
    program.errors = [repr(g.error) for g in greeters if g.error is not None]


# -- fix target: Thread(target=...) has no __init__ to forget --------------------


def start_targets(state: State, program: Program) -> None:
    program.caller = threading.current_thread()
    errors: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            job(program, n)
        except BaseException as exc:
            errors.append(exc)

    workers = [
        threading.Thread(target=guarded, args=(n,), name=f"job-{n}") for n in range(1, JOBS + 1)
    ]
    state.track(*workers)
    for worker in workers:
        worker.start()
    program.alive_after_join = join_all(workers, LONG)
    # In the order the jobs raised, which threads decide; sorted, so that one
    # failure gets one label (and one message) however the threads finished.
    program.errors = sorted(repr(exc) for exc in errors)


# -- judging ----------------------------------------------------------------------


def _problems(program: Program) -> list[str]:
    problems = []
    jobs = sorted(n for n, _ in program.ran)
    if jobs != list(range(1, JOBS + 1)):
        problems.append(f"jobs that ran: {jobs}, wanted each of 1..{JOBS} once")
    here = sorted(n for n, thread in program.ran if thread is program.caller)
    if here:
        problems.append(f"jobs {here} ran in the caller's own thread, not a new one")
    threads = [id(thread) for _, thread in program.ran]
    if len(set(threads)) != len(threads):
        problems.append("two jobs ran in the same thread")
    if program.alive_after_join:
        problems.append(f"threads still alive after join: {program.alive_after_join}")
    if program.errors:
        problems.append(f"jobs raised: {program.errors}")
    return problems


def check(state: State) -> None:
    for i, program in enumerate(state.programs):
        problems = _problems(program)
        assert not problems, f"program {i}: " + "; ".join(problems)


def observe(state: State) -> str:
    wanted = JOBS * len(state.programs)
    ran = [(p, thread) for p in state.programs for _, thread in p.ran]
    in_caller = sum(1 for p, thread in ran if thread is p.caller)
    errors = sum(len(p.errors) for p in state.programs)
    return (
        f"{len(ran)}/{wanted} jobs ran: {len(ran) - in_caller} in new threads, "
        f"{in_caller} in the caller's; {errors} errors"
    )


def teardown(state: State) -> None:
    state.release()


def _each_program(
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
            actors=_each_program(body),
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
    "one Thread object reused for the second job: start() twice raises RuntimeError",
    start_twice,
    source=(next_job, start_twice),
    kinds=("exception",),
    bug_class="thread lifecycle misuse",
)
_variant(
    "buggy_run",
    "run() called instead of start(): the jobs run in the caller's own thread",
    call_run,
    source=(Greeter, call_run),
    kinds=("assert",),
    bug_class="thread lifecycle misuse",
)
_variant(
    "buggy_init",
    "a subclass __init__ that never calls Thread.__init__: start() raises RuntimeError",
    forget_init,
    source=(ForgetfulGreeter, forget_init),
    kinds=("exception",),
    bug_class="thread lifecycle misuse",
)
_variant(
    "start",
    "super().__init__() first, a fresh Thread per job, start() once, join(); errors kept",
    start_each,
    source=(CarefulGreeter, start_each),
)
_variant(
    "target",
    "Thread(target=job) per job, no subclass: start() once, join(); errors kept",
    start_targets,
    source=(start_targets,),
)
