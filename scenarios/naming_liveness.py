"""Thread names and liveness: the modern API, and what ``is_alive()`` can tell you.

From "Basic Threading in Python" (seed 003). Its threads greet with
``self.getName()`` after ``setName('Cazaril')``, and a "doctor" asks
``isAlive()`` of a patient thread right after ``start()``: "No." (you will not
die) while it is alive, "Next!" once it is gone. The dying patient only says one
line, so the article expects "Next!" for it, and "No." for a second patient that
lingers (it sleeps ten seconds).

* ``buggy`` is the article's program as written. ``setName``/``getName`` still
  work but warn (DeprecationWarning since 3.10; use the ``name`` attribute), and
  ``isAlive`` no longer exists (removed in 3.9): the doctor's first question
  raises AttributeError.
* ``racy`` modernizes the names (``name``, ``is_alive()``) but keeps the logic:
  asking right after ``start()`` is a race. The dying patient is usually still
  speaking (printing takes a moment) and is told "No."; now and then it has
  already finished and is told "Next!". The outcome histogram shows both answers:
  the program's output depends on timing, not on its logic.
* The ``event`` fix asks each question only after the synchronization that
  decides its answer: ``join()`` the dying patient before asking whether it is
  gone; wait on an Event that the lingering patient sets once it has spoken
  before asking whether it is still there (it stays until the doctor releases it).
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterator

from harness import CAUGHT, HOLDS, Scenario, Variant

from ._lifecycle_util import LONG, Tracked, join_all, say, still_running

#: Every run is a fresh draw of the race; ``racy`` is wrong whenever the dying
#: patient is still speaking at the check (nearly always), so 20 runs miss it
#: only if every patient of every run finished first. The bug in ``buggy`` needs
#: no luck at all.
STRESS = {"runs": 20, "timeout": 5.0}
#: Explored: one program (stress runs two side by side), which greets nobody
#: (``names_for``) and goes straight to the doctor.
EXPLORE = {"threads": 1}

NAMES = ("Cazaril", "Ista", None)  # the third keeps its default name, Thread-N
NO, NEXT = "Doctor: No.", "Doctor: Next!"
#: What the article means the doctor to say: the dying patient is gone, the
#: lingering one is not.
EXPECTED = {"dying": NEXT, "lingering": NO}


def names_for(threads: int) -> tuple[str | None, ...]:
    """The greeters' names: all of ``NAMES`` once there are two programs or more.

    A lone program (the explore setting) greets nobody and goes straight to the
    doctor. Naming is an API lesson that no interleaving changes (stress runs
    show it, with two programs), whereas the doctor's questions are a race; each
    thread a program starts multiplies the schedules the exhaustive search must
    run, so the explored program keeps only the threads the race is about.
    """
    return NAMES if threads >= 2 else ()


SCENARIO = Scenario(
    name="naming_liveness",
    title="setName/getName/isAlive, and is_alive() right after start()",
    article="Basic Threading in Python (seed 003)",
    description=__doc__ or "",
    threads=2,
    min_threads=1,
)


class Program:
    def __init__(self) -> None:
        self.transcript: list[str] = []
        #: Deprecated or missing API the program used, as observed.
        self.deprecated: list[str] = []
        #: Patient -> what the doctor said.
        self.told: dict[str, str] = {}
        #: Patient -> whether it was alive when the doctor asked.
        self.alive_when_asked: dict[str, bool] = {}
        self.alive_at_end: list[str] = []


class State(Tracked):
    def __init__(self, threads: int) -> None:
        super().__init__()
        self.names = names_for(threads)
        self.programs = [Program() for _ in range(threads)]
        #: ``warnings.catch_warnings`` changes process-wide state: one program at
        #: a time may be inside it.
        self.warnings_lock = threading.Lock()


@contextlib.contextmanager
def deprecations_noted(state: State, program: Program) -> Iterator[None]:
    """Record in ``program.deprecated`` the deprecated calls made inside the block.

    Explicit, so that the outcome does not depend on the warning filters of
    whoever runs the harness (pytest's, ``-W error``, ``PYTHONWARNINGS``).
    """
    if not state.warnings_lock.acquire(timeout=LONG):
        raise RuntimeError(f"another program held the warnings for {LONG:g}s")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        state.warnings_lock.release()
    for warning in caught:
        if issubclass(warning.category, DeprecationWarning):
            name = str(warning.message).split("(", 1)[0]  # "setName() is deprecated..."
            if name not in program.deprecated:
                program.deprecated.append(name)


# -- the article's threads, as written ---------------------------------------------


class ArticleThread(threading.Thread):
    def __init__(self, program: Program) -> None:
        super().__init__()
        self.program = program

    def run(self) -> None:
        say(self.program.transcript, "Hello, my name is " + self.getName())


def article_program(state: State, program: Program) -> None:
    with deprecations_noted(state, program):
        greeters = []
        for name in state.names:
            greeter = ArticleThread(program)
            if name is not None:
                greeter.setName(name)
            state.track(greeter)
            greeter.start()
            greeters.append(greeter)
        join_all(greeters, LONG)  # their getName() warnings are noted too

    dying = Patient(program)
    state.track(dying)
    dying.start()
    if dying.isAlive():  # type: ignore[attr-defined]  # AttributeError since 3.9
        say(program.transcript, NO)
    else:
        say(program.transcript, NEXT)


# -- modern names, same racy question ------------------------------------------------


class Greeter(threading.Thread):
    def __init__(self, program: Program, name: str | None) -> None:
        super().__init__(name=name)
        self.transcript = program.transcript

    def run(self) -> None:
        say(self.transcript, "Hello, my name is " + self.name)


class Patient(threading.Thread):
    """The article's TestThread: says one line and is done."""

    role = "dying"

    def __init__(self, program: Program) -> None:
        super().__init__()
        self.transcript = program.transcript
        self.spoken = threading.Event()
        self.release = threading.Event()

    def run(self) -> None:
        say(self.transcript, "Patient: Doctor, am I going to die?")
        self.spoken.set()


class LingeringPatient(Patient):
    """The article's AnotherThread: speaks, then stays (there: ``sleep(10)``)."""

    role = "lingering"

    def run(self) -> None:
        super().run()
        self.release.wait(LONG)  # until the doctor lets it go


def greet(state: State, program: Program) -> None:
    with deprecations_noted(state, program):
        greeters = [Greeter(program, name) for name in state.names]
        state.track(*greeters)
        for greeter in greeters:
            greeter.start()
        join_all(greeters, LONG)


def ask(program: Program, patient: Patient) -> None:
    alive = patient.is_alive()
    answer = NO if alive else NEXT
    role = patient.role
    program.alive_when_asked[role] = alive
    program.told[role] = answer
    say(program.transcript, answer)


def _admit(state: State, patient: Patient) -> Patient:
    state.wake.append(patient.release)
    state.track(patient)
    patient.start()
    return patient


def racy_program(state: State, program: Program) -> None:
    greet(state, program)
    dying = _admit(state, Patient(program))
    ask(program, dying)  # right after start(): a race
    lingering = _admit(state, LingeringPatient(program))
    ask(program, lingering)
    lingering.release.set()
    program.alive_at_end = join_all([dying, lingering], LONG)


def handshake_program(state: State, program: Program) -> None:
    greet(state, program)
    dying = _admit(state, Patient(program))
    dying.join(LONG)  # "is it gone?" is decided by its end: join first
    ask(program, dying)
    lingering = _admit(state, LingeringPatient(program))
    lingering.spoken.wait(LONG)  # "is it still here?": it has spoken and is waiting for us
    ask(program, lingering)
    lingering.release.set()
    lingering.join(LONG)
    program.alive_at_end = still_running([dying, lingering])


# -- judging ----------------------------------------------------------------------

_DEFAULT_NAME = re.compile(r"^Thread-\d+$")


def _greeted(program: Program) -> list[str]:
    names = []
    for line in program.transcript:
        if line.startswith("Hello, my name is "):
            name = line.removeprefix("Hello, my name is ")
            names.append("Thread-N" if _DEFAULT_NAME.match(name) else name)
    return sorted(names)


def check(state: State) -> None:
    wanted_names = sorted(name or "Thread-N" for name in state.names)
    for i, program in enumerate(state.programs):
        assert _greeted(program) == wanted_names, f"program {i}: greeted {_greeted(program)}"
        assert not program.deprecated, f"program {i}: deprecated API used: {program.deprecated}"
        for role, wanted in EXPECTED.items():
            told = program.told.get(role)
            when = "alive" if program.alive_when_asked.get(role) else "gone"
            assert told == wanted, (
                f"program {i}: the doctor told the {role} patient {told!r}, not {wanted!r}: "
                f"is_alive() said it was {when} when asked"
            )
        assert not program.alive_at_end, f"program {i}: still running: {program.alive_at_end}"


def observe(state: State) -> str:
    parts = []
    for role in EXPECTED:
        told = Counter(p.told.get(role, "-") for p in state.programs)
        shown = ", ".join(f"{answer.removeprefix('Doctor: ')!r} x{n}" for answer, n in told.items())
        parts.append(f"{role} told {shown}")
    deprecated = sorted({name for p in state.programs for name in p.deprecated})
    parts.append("deprecated: " + (", ".join(deprecated) if deprecated else "none"))
    return "; ".join(parts)


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
    "the article as written: setName/getName (deprecated) and isAlive (removed in 3.9)",
    article_program,
    (ArticleThread, article_program),
    kinds=("exception",),
    bug_class="removed API",
)
_variant(
    "racy",
    "name and is_alive(), but is_alive() asked right after start(): the answer is a race",
    racy_program,
    (Patient, ask, racy_program),
    kinds=("assert",),
    bug_class="check-then-act race",
)
_variant(
    "event",
    "join() before asking if a patient is gone; an Event handshake before asking if it stays",
    handshake_program,
    (LingeringPatient, handshake_program),
)
