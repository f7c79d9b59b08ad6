"""``harness explain``: a scenario's bug, told so that someone new to threads can follow it.

For each buggy variant of a scenario a :class:`Lesson` holds

1. the buggy code, with its line numbers in the scenario's file;
2. what the engines saw: the minimal failing interleaving that exploration found
   (with the values read and written at the conflicting steps), or, for programs
   the explorer cannot run (real sockets, subprocesses, interpreter exit), what a
   short stress run observed;
3. the bug's class in plain words (``Variant.bug_class``, defined in
   :data:`BUG_CLASSES`);
4. the fix (the first fixed variant declared after the buggy one), as a diff
   against the buggy code, and the evidence that it holds where the explorer
   can run it: dynamic partial-order reduction (``strategy="dpor"``, unbounded),
   a proof over every interleaving when it exhausts within the budget, else the
   bounded exhaustive search (``strategy="dfs"``); and stress runs with the
   catalogue's settings. A lesson says which fixes are proved unbounded.

Nothing here knows an answer in advance: every observation comes from running the
engines on the catalogue's code.
"""

from __future__ import annotations

import difflib
import linecache
import re
from collections.abc import Callable, Sequence
from typing import Any

from harness.errors import UsageError
from harness.explore.engine import DEFAULT_BOUND
from harness.explore.interleaving import Interleaving
from harness.judgement import VariantRun
from harness.lesson import BUG_CLASSES, DATA_RACES, CodeListing, Evidence, Lesson
from harness.outcome import Failure, Result
from harness.runner import run_variant, settings_for
from harness.scenario import CAUGHT, HOLDS, Scenario, Variant, resolve
from harness.trace import Step

__all__ = [
    "BUG_CLASSES",
    "DATA_RACES",
    "DEFAULT_EVIDENCE_BUDGET",
    "CodeListing",
    "Evidence",
    "Lesson",
    "explain",
    "nearest_fix",
    "source_diff",
    "tell",
]

#: Most schedules the bounded exhaustive search of a fix may run: enough to
#: exhaust thevar (104), printer (938) and deadlock (1374) fixes; the larger
#: programs spend it (about 25 s for naming_liveness:event) and say so.
DEFAULT_EVIDENCE_BUDGET = 1500

_WAIT = re.compile(r"(?P<waiter>\S+) waits for (?P<lock>\S+) held by (?P<holder>\S+)")


# -- choosing what to explain -----------------------------------------------------


def _source_text(variant: Variant) -> str:
    return "\n".join(listing.text for listing in map(CodeListing.of, variant.source))


def nearest_fix(scenario: Scenario, buggy: Variant) -> Variant | None:
    """The fix of ``buggy``: the first fixed variant declared after it.

    Scenario modules declare each bug followed by its fixes (``buggy, join,
    buggy_join, event``), so declaration order pairs them; a buggy variant
    declared after every fix gets the first fix.
    """
    variants = list(scenario.variants.values())
    fixes = [v for v in variants if v.expect == HOLDS]
    if not fixes:
        return None
    after = variants[variants.index(buggy) + 1 :]
    return next((v for v in after if v.expect == HOLDS), fixes[0])


def _nearest_buggy(scenario: Scenario, fix: Variant) -> Variant | None:
    """The buggy variant that ``fix`` fixes (see :func:`nearest_fix`)."""
    buggy = [v for v in scenario.variants.values() if v.expect == CAUGHT]
    return next((b for b in buggy if nearest_fix(scenario, b) is fix), buggy[0] if buggy else None)


def _pairs(spec: str) -> list[tuple[Scenario, Variant, Variant | None]]:
    """(scenario, buggy variant, fix) for each lesson that ``spec`` asks for."""
    resolved = resolve(spec)
    scenario = resolved[0][0]
    if ":" in spec:
        ((_, variant),) = resolved
        if variant.expect == CAUGHT:
            return [(scenario, variant, nearest_fix(scenario, variant))]
        buggy = _nearest_buggy(scenario, variant)
        if buggy is None:
            raise UsageError(f"{scenario.name} has no buggy variant to explain")
        return [(scenario, buggy, variant)]
    pairs = [(scenario, v, nearest_fix(scenario, v)) for _, v in resolved if v.expect == CAUGHT]
    if not pairs:
        raise UsageError(f"{scenario.name} has no buggy variant to explain")
    return pairs


# -- the diff -----------------------------------------------------------------------


def source_diff(buggy: Variant, fix: Variant, buggy_label: str, fix_label: str) -> list[str]:
    """A unified diff from the buggy variant's code to the fix's."""
    before = _source_text(buggy).splitlines()
    after = _source_text(fix).splitlines()
    return list(
        difflib.unified_diff(before, after, fromfile=buggy_label, tofile=fix_label, lineterm="")
    )


# -- the story of a failing run -----------------------------------------------------


def _thread_name(threads: Sequence[str], index: int) -> str:
    return threads[index] if 0 <= index < len(threads) else f"T{index}"


def _name(step: Step) -> str:
    return step.label.lstrip(".") or "a value"


def _lock_names(
    failures: Sequence[Failure], steps: Sequence[Step], threads: Sequence[str]
) -> dict[int, str]:
    """Names of the locks in a deadlock report, by id of the lock object.

    The report says "T0 waits for lock_b held by T1"; the recorded step where T0
    blocked holds the lock object itself, so the name can be put on every step
    that touches that lock.
    """
    names: dict[int, str] = {}
    waits = {}
    for failure in failures:
        for match in _WAIT.finditer(failure.message):
            waits[match["waiter"]] = match["lock"]
    for step in steps:
        if step.kind == "block" and step.obj is not None:
            lock = waits.get(_thread_name(threads, step.thread))
            if lock:
                names[id(step.obj)] = lock
    return names


def _where(step: Step) -> str:
    """`` (line 66: number = shared.theVar)``: the line and its code, comment cut."""
    if not step.line:
        return ""
    code = linecache.getline(step.file, step.line).strip() if step.file else ""
    code = code.split("  #", 1)[0].strip()
    return f" (line {step.line}: {code})" if code else f" (line {step.line})"


def tell(result: Result, data_race: bool = True, limit: int = 14) -> list[str]:
    """The failing run in numbered plain sentences, from the recorded interleaving.

    Only the steps that matter are told: the conflicting reads and writes (with the
    values they read and wrote), and the lock operations of a deadlock. A write
    that replaces another thread's write, computed from a value read before that
    write, is called what it is: a lost update. ``data_race=False`` leaves the
    reads and writes out. Without an interleaving (a stress run) the story is
    what the failures say.
    """
    interleaving = result.sections.get("interleaving")
    failures = [group.failure for group in result.failures]
    if not isinstance(interleaving, Interleaving):
        return [_failure_sentence(f) for f in failures]
    steps = interleaving.steps
    threads = interleaving.threads
    locks = _lock_names(failures, steps, threads)
    blocked_on = {id(s.obj) for s in steps if s.kind == "block" and id(s.obj) in locks}
    told: list[str] = []
    last_access: dict[tuple[int, str], int] = {}
    for i, step in enumerate(steps):
        who = _thread_name(threads, step.thread)
        sentence = None
        if data_race and step.kind in ("read", "write") and i in interleaving.conflicts:
            value = f" = {step.value}" if step.value is not None else ""
            verb = "reads" if step.kind == "read" else "writes"
            sentence = f"{who} {verb} {_name(step)}{value}{_where(step)}"
            if step.kind == "write":
                previous = last_access.get((step.thread, step.label))
                overwritten = _overwritten(steps, i, previous)
                if overwritten is not None and previous is not None:
                    other = _thread_name(threads, steps[overwritten].thread)
                    sentence += (
                        f": {who} computed it from the {steps[previous].value} it read "
                        f"before {other} wrote {steps[overwritten].value}, so {other}'s "
                        "update is overwritten and lost"
                    )
        elif step.kind == "acquire" and id(step.obj) in blocked_on:
            following = next((s for s in steps[i + 1 :] if s.thread == step.thread), None)
            if following is None or following.kind != "block" or following.obj is not step.obj:
                sentence = f"{who} takes {locks[id(step.obj)]}{_where(step)}"
        elif step.kind == "block" and id(step.obj) in locks:
            holder = next(
                (
                    _thread_name(threads, s.thread)
                    for s in steps[:i]
                    if s.kind == "acquire" and s.obj is step.obj
                ),
                "another thread",
            )
            sentence = (
                f"{who} wants {locks[id(step.obj)]}{_where(step)}, which {holder} holds: "
                f"{who} waits"
            )
        if step.kind in ("read", "write"):
            last_access[(step.thread, step.label)] = i
        if sentence:
            told.append(sentence)
    if len(told) > limit:
        skipped = len(told) - limit
        told = [
            *told[: limit // 2],
            f"... {skipped} more steps ...",
            *told[-(limit - limit // 2) :],
        ]
    if result.kind == "deadlock":
        told.append("now every thread waits for another one, and none can ever go on: deadlock")
    told.extend(_failure_sentence(f) for f in failures)
    return told


def _overwritten(steps: Sequence[Step], write: int, own_previous: int | None) -> int | None:
    """The other thread's write that ``steps[write]`` replaces without having seen it."""
    if own_previous is None or steps[own_previous].kind != "read":
        return None
    label = steps[write].label
    for j in range(write - 1, own_previous, -1):
        other = steps[j]
        if other.kind == "write" and other.label == label and other.thread != steps[write].thread:
            return j
    return None


def _failure_sentence(failure: Failure) -> str:
    where = f" ({failure.thread})" if failure.thread and failure.thread != "check" else ""
    if failure.kind == "assert":
        return f"the check of the final state fails{where}: {failure.message}"
    if failure.kind == "exception":
        return f"an exception is raised{where}: {failure.message}"
    return f"{failure.kind}{where}: {failure.message}"


# -- running it all -------------------------------------------------------------------


Progress = Callable[[Scenario, Variant, str], Any]


def _observe_bug(
    scenario: Scenario, buggy: Variant, seed: int, progress: Progress | None
) -> VariantRun:
    """Catch the bug: by exploration when the variant allows it, else by stress."""
    engines = [e for e in ("explore", "stress") if e in buggy.engines]
    run = None
    for engine in engines:
        bar = progress(scenario, buggy, engine) if progress else None
        try:
            run = run_variant(scenario, buggy, engine, {"seed": seed}, judged=True, progress=bar)
        finally:
            if bar is not None and hasattr(bar, "close"):
                bar.close()
        if run.caught:
            break
    assert run is not None  # every variant has an engine
    return run


def _evidence(
    scenario: Scenario, fix: Variant, seed: int, budget: int, progress: Progress | None
) -> list[Evidence]:
    plans: list[tuple[str, dict[str, Any], str]] = []
    evidence = []
    if "explore" in fix.engines:
        proof = _run(
            scenario, fix, "explore", {"strategy": "dpor", "budget": budget, "seed": seed}, progress
        )
        if "verified" in proof.result.sections or proof.result.failed:
            how = "exploration, every interleaving up to equivalence (dpor, unbounded)"
            evidence.append(Evidence("explore", how, proof))
        else:
            bound = settings_for(fix, "explore", {}).get("bound", DEFAULT_BOUND)
            plans.append(
                (
                    "explore",
                    {"strategy": "dfs", "budget": budget, "seed": seed},
                    f"exploration, every schedule with at most {bound} preemptions (dfs; "
                    f"dpor did not exhaust within {budget} schedules)",
                )
            )
    if "stress" in fix.engines:
        plans.append(("stress", {"seed": seed}, "stress, real threads with noise injection"))
    for engine, overrides, how in plans:
        evidence.append(Evidence(engine, how, _run(scenario, fix, engine, overrides, progress)))
    return evidence


def _run(
    scenario: Scenario,
    fix: Variant,
    engine: str,
    overrides: dict[str, Any],
    progress: Progress | None,
) -> VariantRun:
    bar = progress(scenario, fix, engine) if progress else None
    try:
        return run_variant(scenario, fix, engine, overrides, progress=bar)
    finally:
        if bar is not None and hasattr(bar, "close"):
            bar.close()


def explain(
    spec: str,
    *,
    seed: int = 0,
    budget: int = DEFAULT_EVIDENCE_BUDGET,
    progress: Progress | None = None,
) -> list[Lesson]:
    """The lessons of ``SCENARIO`` (every buggy variant) or ``SCENARIO:VARIANT``.

    A buggy variant is explained with the first fix declared after it; a fixed
    variant is explained as the fix of the buggy variant it follows.
    ``progress(scenario, variant, engine)`` may return a progress callback for
    each engine run.
    """
    lessons = []
    for scenario, buggy, fix in _pairs(spec):
        caught = _observe_bug(scenario, buggy, seed, progress)
        lesson = Lesson(
            scenario=scenario,
            buggy=buggy,
            code=[CodeListing.of(obj) for obj in buggy.source],
            caught=caught,
            story=tell(caught.result, data_race=buggy.bug_class in DATA_RACES),
            fix=fix,
        )
        if fix is not None:
            lesson.diff = source_diff(
                buggy, fix, f"{scenario.name}:{buggy.name}", f"{scenario.name}:{fix.name}"
            )
            lesson.evidence = _evidence(scenario, fix, seed, budget, progress)
        lessons.append(lesson)
    return lessons
