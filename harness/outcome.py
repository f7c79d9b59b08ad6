"""What a run of either engine observed: failures, an outcome histogram, the result.

The vocabulary follows jcstress: every run (stress) or schedule (explore) ends in
an *outcome*, a short description of the final state, and each outcome is
ACCEPTABLE (the run met its check) or FORBIDDEN (it did not). Failures are grouped
by kind and message so that a thousand threads failing the same way read as one
line with a count, and a rare second failure is not drowned out.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from harness._gil import GilState

__all__ = [
    "FAILURE_KINDS",
    "Failure",
    "FailureGroup",
    "Histogram",
    "HistogramEntry",
    "Result",
    "Verdict",
    "replay_command",
]


def display_unit(engine: str) -> str:
    """What one execution is called in reports: a schedule explored, a run stressed."""
    return "schedules" if engine == "explore" else "runs"


#: The documented failure kinds, in the order a report lists them.
FAILURE_KINDS = (
    "assert",  # the check rejected the final state
    "exception",  # some thread (or setup/check) raised
    "deadlock",  # every thread blocked for good
    "lock-order",  # locks taken in inconsistent orders: a deadlock waiting to happen
    "leak",  # threads of the code under test still alive after the run
    "livelock",  # an execution exceeded its step limit
    "hang",  # a run missed its deadline (stress); stacks attached
    "linearizability",  # no sequential order explains the results (harness.linearizable)
    "race",  # two conflicting accesses with no happens-before order (explore, races=True)
)


_NUMBERS = re.compile(r"0x[0-9a-fA-F]+|\d+")


class Verdict(str, enum.Enum):
    """Whether an observed outcome is allowed for the variant under test."""

    ACCEPTABLE = "ACCEPTABLE"
    FORBIDDEN = "FORBIDDEN"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Failure:
    """One failure seen in one run.

    ``message`` is a single line fit for a table; ``details`` holds what a person
    needs to act on it (tracebacks of every thread that raised, the stacks of a
    hang, the cycle of a deadlock).
    """

    kind: str
    message: str
    details: str = ""
    thread: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {self.kind!r}; expected one of {FAILURE_KINDS}")

    @property
    def key(self) -> tuple[str, str]:
        """Failures with the same key are counted together.

        Numbers and addresses are masked, so "lost 3 updates" and "lost 5
        updates" are one failure seen twice, not two failures.
        """
        return (self.kind, _NUMBERS.sub("#", self.message))


@dataclass
class FailureGroup:
    """All occurrences of one distinct failure: the first example and a count."""

    failure: Failure
    count: int = 0
    first_run: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.failure.kind,
            "message": self.failure.message,
            "details": self.failure.details,
            "thread": self.failure.thread,
            "count": self.count,
            "first_run": self.first_run,
        }


@dataclass
class HistogramEntry:
    outcome: str
    verdict: Verdict
    count: int = 0
    first_run: int = 0

    def to_dict(self, total: int) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "verdict": self.verdict.value,
            "count": self.count,
            "share": (self.count / total) if total else 0.0,
            "first_run": self.first_run,
        }


class Histogram:
    """Counts of distinct outcomes, each with its verdict (jcstress style)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, Verdict], HistogramEntry] = {}
        self.total = 0

    def add(self, outcome: str, verdict: Verdict, run: int) -> None:
        key = (outcome, verdict)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = HistogramEntry(outcome, verdict, 0, run)
        entry.count += 1
        self.total += 1

    def __iter__(self) -> Iterator[HistogramEntry]:
        """Entries, most frequent first; forbidden before acceptable on ties."""
        return iter(
            sorted(
                self._entries.values(),
                key=lambda e: (-e.count, e.verdict != Verdict.FORBIDDEN, e.first_run),
            )
        )

    def __len__(self) -> int:
        return len(self._entries)

    def count(self, verdict: Verdict) -> int:
        return sum(e.count for e in self._entries.values() if e.verdict == verdict)

    def share(self, entry: HistogramEntry) -> float:
        return entry.count / self.total if self.total else 0.0

    def to_list(self) -> list[dict[str, Any]]:
        return [e.to_dict(self.total) for e in self]


@dataclass
class Result:
    """What one engine call observed. Both engines return this type.

    ``failed`` is true when any run or schedule failed; ``kind`` is the kind of
    the first failure seen (``None`` when nothing failed); ``schedule`` is the
    replay token of the reported failing schedule (explore only).
    """

    engine: str
    runs: int = 0
    seed: int = 0
    duration: float = 0.0
    histogram: Histogram = field(default_factory=Histogram)
    failures: list[FailureGroup] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    target: str | None = None
    schedule: str | None = None
    #: Extra sections that an engine or detector adds (lock-order cycles, the
    #: interleaving of a failing schedule, exhaustion of a bounded search ...).
    sections: dict[str, Any] = field(default_factory=dict)
    #: Runs that failed, by index (the first failing run is ``failing_runs[0]``).
    failing_runs: list[int] = field(default_factory=list)
    #: The GIL around the call (``harness._gil.GilState``): on a free-threaded
    #: build, whether it was disabled at the start and end, and which import
    #: re-enabled it. ``None`` when the engine did not record it.
    gil: GilState | None = None
    #: Why nothing was explored, when the code under test reached no scheduling
    #: point in any run or schedule (e.g. it lives in an untraced ``<string>``):
    #: such a result is not a pass. ``None`` when points were reached.
    unexplored: str | None = None

    # -- building -------------------------------------------------------
    def record(self, run: int, failures: list[Failure]) -> None:
        """Count the failures of one run (an empty list is a passing run)."""
        if failures:
            self.failing_runs.append(run)
        for failure in failures:
            self.add_failure(failure, run)

    def add_failure(self, failure: Failure, run: int) -> None:
        """Count one failure seen in ``run`` under its group."""
        for group in self.failures:
            if group.failure.key == failure.key:
                group.count += 1
                return
        self.failures.append(FailureGroup(failure, 1, run))

    # -- reading ----------------------------------------------------------
    @property
    def failed(self) -> bool:
        return bool(self.failures)

    @property
    def kind(self) -> str | None:
        return self.failures[0].failure.kind if self.failures else None

    @property
    def explored(self) -> bool:
        """False when the code under test reached no scheduling point: not a pass."""
        return self.unexplored is None

    @property
    def first_failing_run(self) -> int | None:
        return self.failing_runs[0] if self.failing_runs else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "target": self.target,
            "failed": self.failed,
            "kind": self.kind,
            "runs": self.runs,
            "failing_runs": len(self.failing_runs),
            "first_failing_run": self.first_failing_run,
            "seed": self.seed,
            "duration": round(self.duration, 6),
            "settings": dict(self.settings),
            "histogram": self.histogram.to_list(),
            "failures": [g.to_dict() for g in self.failures],
            "schedule": self.schedule,
            "sections": {k: _jsonable(v) for k, v in self.sections.items()},
            "explored": self.explored,
            "unexplored": self.unexplored,
            "gil": None if self.gil is None else self.gil.as_json(),
        }

    def __str__(self) -> str:
        return format_result(self)


def _jsonable(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def replay_command(result: Result) -> str:
    """How to re-run the reported schedule, depending on where it was recorded."""
    token = result.schedule or "TOKEN"
    target = result.target or ""
    if "::" in target:  # a pytest node id
        return f"pytest --harness-replay={token} {target}"
    if ":" in target:  # a catalogue variant
        return f"harness replay {token}"
    if target.startswith("linearizable("):  # harness.linearizable: scenario + schedule
        return f"harness.linearize.replay({token!r}, make, operations)"
    return f"harness.replay({token!r}, setup, actors, check)"


def format_result(result: Result) -> str:
    """A plain-text report: verdict line, histogram, then each distinct failure."""
    unit = display_unit(result.engine)
    name = f"{result.target}: " if result.target else ""
    if result.failed:
        head = (
            f"{name}FAILED ({result.kind}) in {len(result.failing_runs)} of {result.runs} "
            f"{unit}; first at {unit[:-1]} {result.first_failing_run}"
        )
    elif not result.explored:
        head = f"{name}NOTHING EXPLORED in {result.runs} {unit} (not a pass)"
    else:
        head = f"{name}no failure in {result.runs} {unit}"
    lines = [f"{head} [{result.engine}, seed {result.seed}, {result.duration:.2f}s]"]
    if result.unexplored:
        lines.append(f"nothing explored: {result.unexplored}")
    if result.gil is not None and result.gil.free_threaded:
        lines.append(result.gil.describe())
    if len(result.histogram):
        lines.append("")
        lines.append("outcomes:")
        width = max(len(e.outcome) for e in result.histogram)
        for entry in result.histogram:
            share = result.histogram.share(entry)
            lines.append(
                f"  {entry.outcome:<{width}}  {entry.count:>7}  {share:>6.1%}  {entry.verdict}"
            )
    for group in result.failures:
        f = group.failure
        where = f" in {f.thread}" if f.thread else ""
        lines.append("")
        lines.append(f"[{f.kind}] x{group.count}{where}: {f.message}")
        if f.details:
            lines.extend("    " + line for line in f.details.rstrip().splitlines())
    for name, section in result.sections.items():
        render = getattr(section, "render_text", None)
        if callable(render):
            lines.append("")
            lines.append(render())
        elif isinstance(section, str):
            lines.append("")
            lines.append(f"{name}: {section}")
    if result.schedule:
        lines.append("")
        lines.append(f"replay token: {result.schedule}")
        lines.append(f"replay with:  {replay_command(result)}")
    return "\n".join(lines)
