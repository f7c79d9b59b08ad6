"""What ``harness explain`` tells about one bug: the lesson's data and its prose.

The lesson model sits with the data model so that its renderer
(:mod:`harness.report.lesson`) and the code that builds lessons
(:mod:`harness.explain`) both import it without a report importing the
application layer.
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any

from harness.judgement import VariantRun
from harness.outcome import display_unit
from harness.scenario import Scenario, Variant

__all__ = ["BUG_CLASSES", "DATA_RACES", "CodeListing", "Evidence", "Lesson"]

#: Each bug class in plain words: what goes wrong, for someone who has never
#: seen a race. ``Variant.bug_class`` names one of these.
BUG_CLASSES: dict[str, str] = {
    "lost update": (
        "Two threads read the same value, each computes a new value from what it read, "
        "and each writes its result back. The second write replaces the first instead "
        "of building on it, so one thread's work disappears, without any error. Reading "
        "and writing are separate steps: another thread can run between them."
    ),
    "atomicity violation": (
        "A sequence of steps that must happen as one (check, then act) is interrupted "
        "by another thread in the middle, which sees or changes a half-done state."
    ),
    "order violation": (
        "One thread uses a result before the thread that produces it has finished. "
        "Starting a thread does not mean it has done anything yet: wait until it has "
        "(join() it, wait on an Event, take the result from a Queue) before reading "
        "what it produces."
    ),
    "deadlock": (
        "Each thread holds something that another one needs, and waits for something "
        "that another one holds. Nobody can go on, and nothing will ever change that: "
        "the program hangs for ever, without an error message."
    ),
    "lost wake-up": (
        "A thread waits for a signal that was already sent before it started waiting, "
        "or that nobody will send: it sleeps for ever."
    ),
    "unsafe publication": (
        "An object is handed to other threads before it is fully built, so they can "
        "see it half-initialised."
    ),
    "resource leak": (
        "Threads, sockets or files are opened and never closed or joined, so they "
        "pile up for as long as the program runs."
    ),
    "work lost at exit": (
        "The program ended while a thread still had work to do. The interpreter does "
        "not wait for daemon threads (nor for threads of the low-level _thread "
        "module): at exit they are stopped wherever they are, and their unfinished "
        "work disappears silently."
    ),
    "thread lifecycle misuse": (
        "A Thread object has a fixed life: Thread.__init__ runs, start() is called "
        "exactly once and runs run() in a new thread, the thread ends. Calling run() "
        "yourself, starting a thread twice, skipping Thread.__init__ or changing "
        "settings such as daemon after start() breaks that life."
    ),
    "API misuse": (
        "A threading function is called with arguments it does not accept. The "
        "mistake shows every time the line runs, not by chance."
    ),
    "removed API": (
        "The program calls a method that old Python versions had and current ones "
        "no longer have (or only warn about): it fails every time, on any schedule."
    ),
    "check-then-act race": (
        "The program asks about a state (is that thread still alive?) and acts on "
        "the answer, but the answer can change right after it was given. What it "
        "prints depends on timing, not on its logic."
    ),
    "missing shutdown": (
        "Threads loop for ever waiting for more work, and nothing can tell them that "
        "the work is over. The program cannot end cleanly: its threads, sockets and "
        "memory are never given back."
    ),
    "protocol misuse": (
        "A synchronization object's rules are broken (a Queue wants exactly one "
        "task_done() per get()). Its bookkeeping goes wrong, and so does everything "
        "that relies on it, such as q.join()."
    ),
    "unresponsive stop": (
        "A thread checks its stop flag only between long sleeps. A sleep cannot be "
        "interrupted, so stopping it takes up to a whole period. Waiting on an Event "
        "with a timeout returns the moment the Event is set."
    ),
    "lost work": (
        "A call that should only wait also changes what the thread does (here join() "
        "stops it first): work the caller was waiting for is never done, and nothing "
        "says so."
    ),
    "lost result": (
        "A thread computes something and returns it, but a Thread throws its target's "
        "return value away. Joining tells you that the thread ended, not that its "
        "result went anywhere: hand results over through a Queue or shared state."
    ),
    "message framing": (
        "TCP delivers a stream of bytes, not messages: one recv() may return half a "
        "message, or several glued together. Without a length prefix (or a "
        "delimiter) the reader cannot tell where one message ends."
    ),
}

#: Bug classes that are about data touched by several threads: their story tells
#: the conflicting reads and writes. (For the others, conflicting accesses are
#: mostly a thread's constructor and its own reads, which would be noise.)
DATA_RACES = frozenset({"lost update", "atomicity violation", "unsafe publication"})


@dataclass(frozen=True)
class CodeListing:
    """The source of one function or class, and where it starts in its file."""

    name: str
    file: str
    first_line: int
    text: str

    @classmethod
    def of(cls, obj: Any) -> CodeListing:
        lines, first = inspect.getsourcelines(obj)
        return cls(
            getattr(obj, "__qualname__", repr(obj)),
            inspect.getsourcefile(obj) or "?",
            max(first, 1),
            textwrap.dedent("".join(lines)),
        )


@dataclass
class Evidence:
    """One engine run of the fix, and what it showed."""

    engine: str
    how: str
    run: VariantRun

    @property
    def held(self) -> bool:
        return not self.run.result.failed

    @property
    def exhausted(self) -> bool:
        """Whether a bounded search covered every schedule within its bound."""
        return "verified" in self.run.result.sections

    @property
    def unbounded(self) -> bool:
        """Whether the search had no preemption bound (an exhausted one is a proof)."""
        settings = self.run.result.settings
        return settings.get("strategy") == "dpor" and "preemption_bound" not in settings

    def summary(self) -> str:
        result = self.run.result
        unit = display_unit(self.engine)
        if result.failed:
            first = result.failures[0].failure
            return (
                f"FAILED ({result.kind}) in {len(result.failing_runs)} of {result.runs} "
                f"{unit}: {first.message}"
            )
        if self.exhausted and self.unbounded:
            return (
                f"{result.sections['verified']}: the search is exhausted, proved over "
                "every interleaving (dpor)"
            )
        if self.exhausted:
            return f"{result.sections['verified']}: the bounded search is exhausted"
        if self.engine == "explore":
            return f"no failure in {result.runs} {unit} (budget spent before the bound was)"
        threads = result.settings.get("threads")
        return f"no failure in {result.runs} {unit}" + (f" of {threads} threads" if threads else "")


@dataclass
class Lesson:
    """Everything `harness explain` says about one buggy variant."""

    scenario: Scenario
    buggy: Variant
    code: list[CodeListing]
    caught: VariantRun
    story: list[str]
    fix: Variant | None = None
    diff: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.scenario.name}:{self.buggy.name}"

    @property
    def bug_class(self) -> str:
        return self.buggy.bug_class or "concurrency bug"

    @property
    def meaning(self) -> str:
        return BUG_CLASSES.get(self.buggy.bug_class, "")

    @property
    def observed(self) -> bool:
        """Whether the engines saw the bug."""
        return self.caught.caught

    @property
    def fix_holds(self) -> bool:
        return bool(self.evidence) and all(e.held for e in self.evidence)

    @property
    def ok(self) -> bool:
        return self.observed and (self.fix is None or self.fix_holds)
