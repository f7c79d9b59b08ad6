"""``harness.linearizable``: is this class thread-safe, in the sense of linearizability?

For each generated scenario (:mod:`.scenario`), the engine runs the scenario's
threads on a fresh object, every operation recorded with its invocation and
response (:mod:`.history`); the check of each execution asks the checker
(:mod:`.checker`) whether some sequential order explains the results. The
explorer (the default) tries ``budget`` schedules per scenario; stress, ``budget``
runs in real threads. A violation is shrunk by hypothesis to the smallest
scenario that still fails, and reported with the explorer's interleaving of the
failing schedule. This is Lincheck's design (Koval, Alistarh and Elizarov,
"Lincheck: A Practical Framework for Testing Concurrent Data Structures on JVM",
CAV 2023) on the harness's engines.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from harness.errors import UsageError
from harness.explore import explore
from harness.explore import replay as explore_replay
from harness.linearize.checker import DEFAULT_MAX_STATES, Check, Model, ObjectModel, check
from harness.linearize.history import Recorder, describe_call
from harness.linearize.scenario import (
    Operation,
    Scenario,
    decode_token,
    encode_token,
)
from harness.linearize.scenario import (
    scenarios as scenario_strategy,
)
from harness.outcome import Result
from harness.stress import stress

__all__ = ["ENGINES", "linearizable", "replay"]

ENGINES = ("explore", "stress")


class _Violation(Exception):
    """Raised inside hypothesis' test function so that it shrinks the scenario."""


def _operations(operations: Sequence[Operation | Callable[..., Any]]) -> list[Operation]:
    if (
        isinstance(operations, (str, bytes))
        or not isinstance(operations, Sequence)
        or not operations
    ):
        raise UsageError("operations must be a non-empty list of callables or harness.op(...)")
    return [o if isinstance(o, Operation) else Operation(o) for o in operations]


def _positive(name: str, value: object, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise UsageError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


class _Program:
    """The setup/actors/check of one scenario, for either engine."""

    def __init__(
        self,
        make: Callable[[], Any],
        ops: list[Operation],
        scenario: Scenario,
        model: Model | None,
        max_states: int,
    ) -> None:
        self.make = make
        self.ops = ops
        self.scenario = scenario
        self.model = model
        self.max_states = max_states
        self.last: Check | None = None

    def _run(self, recorder: Recorder, obj: Any, thread: str, part: Sequence[Any]) -> None:
        for inv in part:
            operation = self.ops[inv.operation]
            recorder.call(thread, operation.label, operation.function, obj, inv.args)

    def setup(self) -> tuple[Recorder, Any]:
        recorder, obj = Recorder(), self.make()
        self._run(recorder, obj, "init", self.scenario.init)
        return recorder, obj

    def actors(self, state: tuple[Recorder, Any]) -> list[Callable[[], None]]:
        recorder, obj = state
        return [
            functools.partial(self._run, recorder, obj, f"T{n}", part)
            for n, part in enumerate(self.scenario.parallel)
        ]

    def observe(self, state: tuple[Recorder, Any]) -> str:
        """The histogram's label: the check has run by then."""
        found = self.last
        if found is None:
            return "not checked"
        if found.ok:
            return "linearizable"
        stuck = found.stuck
        return "not linearizable" + (f": {describe_call(stuck)}" if stuck is not None else "")

    def check(self, state: tuple[Recorder, Any]) -> None:
        recorder, obj = state
        self._run(recorder, obj, "post", self.scenario.post)
        model = self.model or ObjectModel(self.make, {o.label: o.function for o in self.ops})
        found = check(recorder.calls, model, max_states=self.max_states)
        self.last = found
        if not found.ok:
            raise AssertionError(found.explain())


def _as_linearizability(result: Result, program: _Program) -> None:
    """Relabel the check's failures: the kind says what was violated."""
    for group in result.failures:
        if group.failure.kind == "assert" and group.failure.thread == "check":
            found = program.last
            details = group.failure.details
            if found is not None:
                history = "\n".join(
                    f"  {c.thread:>4}  {describe_call(c)}  "
                    f"[invoked {c.invoked}, returned {c.returned}]"
                    for c in sorted(found.calls, key=lambda c: c.invoked)
                )
                details = f"history (stamps in real-time order):\n{history}"
            group.failure = dataclasses.replace(
                group.failure, kind="linearizability", details=details
            )


def _engine_run(program: _Program, engine: str, budget: int, seed: int, timeout: float) -> Result:
    if engine == "explore":
        return explore(
            program.setup,
            program.actors,
            program.check,
            budget=budget,
            seed=seed,
            timeout=timeout,
            observe=program.observe,
        )
    return stress(
        program.setup,
        program.actors,
        program.check,
        runs=budget,
        seed=seed,
        timeout=timeout,
        observe=program.observe,
    )


def linearizable(
    make: Callable[[], Any],
    operations: Sequence[Operation | Callable[..., Any]],
    *,
    model: Model | None = None,
    threads: int = 2,
    ops_per_thread: int = 2,
    init_ops: int = 1,
    post_ops: int = 1,
    scenarios: int = 50,
    engine: str = "explore",
    budget: int = 100,
    seed: int = 0,
    timeout: float = 10.0,
    max_states: int = DEFAULT_MAX_STATES,
) -> Result:
    """Check that every concurrent use of ``make()``'s objects is linearizable.

    ``operations`` are callables ``f(obj)`` or ``harness.op(f, *strategies)`` for
    ``f(obj, *args)`` with generated arguments. ``scenarios`` scenarios of
    ``threads`` threads of up to ``ops_per_thread`` operations each (plus up to
    ``init_ops`` before and ``post_ops`` after) run under ``engine`` with
    ``budget`` schedules (explore) or runs (stress) each. ``model`` is the
    sequential specification (:class:`harness.linearize.Model`); by default the
    object itself, one operation at a time. The result fails with kind
    ``"linearizability"`` and the smallest failing scenario.
    """
    ops = _operations(operations)
    if not callable(make):
        raise UsageError(f"make must be a callable that builds a fresh object, got {make!r}")
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    _positive("threads", threads, 2)
    _positive("ops_per_thread", ops_per_thread)
    _positive("init_ops", init_ops, 0)
    _positive("post_ops", post_ops, 0)
    _positive("scenarios", scenarios)
    _positive("budget", budget)
    _positive("seed", seed, 0)
    started = time.perf_counter()
    tried: list[Scenario] = []
    executions = [0]
    failing: list[tuple[Scenario, Result, _Program]] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=scenarios,
        database=None,
        deadline=None,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
    )
    @given(
        scenario_strategy(
            ops,
            threads=threads,
            ops_per_thread=ops_per_thread,
            init_ops=init_ops,
            post_ops=post_ops,
        )
    )
    def probe(scenario: Scenario) -> None:
        tried.append(scenario)
        program = _Program(make, ops, scenario, model, max_states)
        result = _engine_run(program, engine, budget, seed, timeout)
        executions[0] += result.runs
        if result.failed:
            failing.append((scenario, result, program))
            raise _Violation

    try:
        probe()
    except _Violation:
        pass
    settings_used = {
        "executions": executions[0],
        "engine": engine,
        "threads": threads,
        "ops_per_thread": ops_per_thread,
        "scenarios": len(set(tried)),
        "budget": budget,
    }
    target = f"linearizable({getattr(make, '__qualname__', repr(make))})"
    if not failing:
        return Result(
            engine=engine,
            runs=executions[0],
            seed=seed,
            duration=time.perf_counter() - started,
            settings=settings_used,
            target=target,
            sections={
                "linearizability": f"{len(set(tried))} scenarios, every execution linearizable"
            },
        )
    scenario, result, program = failing[-1]  # hypothesis ends on the minimal one
    _as_linearizability(result, program)
    result.target = target
    result.settings = {**result.settings, **settings_used}
    result.duration = time.perf_counter() - started
    result.sections["scenario"] = f"{scenario.describe(ops)} ({scenario.size} operations)"
    if engine == "explore":
        result.schedule = encode_token(scenario, result.schedule)
    return result


def replay(
    token: str,
    make: Callable[[], Any],
    operations: Sequence[Operation | Callable[..., Any]],
    *,
    model: Model | None = None,
    timeout: float = 10.0,
    max_states: int = DEFAULT_MAX_STATES,
) -> Result:
    """Re-run the scenario and schedule of a violation's token (``result.schedule``)."""
    scenario, schedule = decode_token(token)
    ops = _operations(operations)
    if any(
        i.operation >= len(ops)
        for part in (scenario.init, *scenario.parallel, scenario.post)
        for i in part
    ):
        raise UsageError("the token names more operations than were given")
    if schedule is None:
        raise UsageError("the token carries no schedule (it came from the stress engine)")
    program = _Program(make, ops, scenario, model, max_states)
    result = explore_replay(
        schedule,
        program.setup,
        program.actors,
        program.check,
        timeout=timeout,
        observe=program.observe,
    )
    _as_linearizability(result, program)
    result.target = f"linearizable({getattr(make, '__qualname__', repr(make))})"
    result.schedule = token
    result.sections["scenario"] = f"{scenario.describe(ops)} ({scenario.size} operations)"
    return result
