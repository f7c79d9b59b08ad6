"""Running one marked test through an engine, and the failure text pytest shows.

The engines are imported inside the functions: a session whose tests carry no
marker never loads them.
"""

from __future__ import annotations

import functools
import os
import shlex
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from harness._pytest.config import HarnessConfig
from harness._pytest.markers import STATE, THREAD_INDEX, Plan
from harness._pytest.shards import base_nodeid

if TYPE_CHECKING:
    from harness.outcome import Result

__all__ = ["report_text", "run_explore", "run_stress", "thread_tracing_chained"]


def _test_arguments(item: pytest.Function) -> dict[str, Any]:
    """The arguments pytest would pass to the test function."""
    return {name: item.funcargs[name] for name in item._fixtureinfo.argnames}


def run_stress(item: pytest.Function, plan: Plan, config: HarnessConfig) -> Result:
    from harness import _program, _validate
    from harness.stress import DEFAULT_NOISE, MAX_RUNS, stress

    options = plan.options
    arguments = _test_arguments(item)
    threads = options["threads"]
    _validate.count("threads", threads, _program.MAX_THREADS)
    # Checked before scaling, which would turn runs=0 into 1.
    _validate.count("runs", options["runs"], MAX_RUNS)
    function = item.obj

    def actors(state: object) -> list[Callable[[], object]]:
        shared = {**arguments, STATE: state} if STATE in arguments else arguments
        if THREAD_INDEX in arguments:
            return [
                functools.partial(function, **{**shared, THREAD_INDEX: i}) for i in range(threads)
            ]
        return [functools.partial(function, **shared)] * threads

    result = stress(
        options["setup"] or _no_state,
        actors,
        options["check"],
        runs=config.scaled(options["runs"]),
        noise=DEFAULT_NOISE if options["noise"] is None else options["noise"],
        seed=plan.seed,
        timeout=options["timeout"],
        lockorder=options["lockorder"],
        leaks=options["leaks"],
        target=item.nodeid,
    )
    result.settings["threads"] = threads
    return result


def run_explore(
    item: pytest.Function, plan: Plan, config: HarnessConfig, token: str | None
) -> Result:
    from harness import _validate
    from harness.explore import explore, replay
    from harness.explore.engine import MAX_BUDGET

    options = plan.options
    body = functools.partial(item.obj, **_test_arguments(item))

    def actors(_state: object) -> list[Callable[[], object]]:
        return [body]

    target = base_nodeid(item)
    races = config.races if options["races"] is None else bool(options["races"])
    with thread_tracing_chained():
        if token is not None:
            return replay(
                token,
                _no_state,
                actors,
                max_steps=options["max_steps"],
                timeout=options["timeout"],
                target=target,
                races=races,
                races_ignore=options["races_ignore"],
            )
        _validate.count("budget", options["budget"], MAX_BUDGET)  # before scaling
        budget = config.scaled(options["budget"])
        if plan.shard is not None:
            index, count = plan.shard
            budget = budget // count + (1 if index < budget % count else 0)
        return explore(
            _no_state,
            actors,
            strategy=options["strategy"],
            budget=max(budget, 1),
            seed=plan.seed,
            bound=options["bound"],
            max_steps=options["max_steps"],
            timeout=options["timeout"],
            lockorder=options["lockorder"],
            leaks=options["leaks"],
            target=target,
            races=races,
            races_ignore=options["races_ignore"],
        )


@contextmanager
def thread_tracing_chained() -> Iterator[None]:
    """Keep the explore engine's tracer in threads that the test body starts, under a
    settrace-based tool such as coverage.py on CPython <= 3.11.

    The engine attaches its tracer to such a thread before ``Thread._bootstrap_inner``
    runs, and ``_bootstrap_inner`` then installs ``threading.settrace``'s hook
    (coverage's) in its place: the thread would run untraced by the engine, so a
    race in it could not be found. While exploring, the hook is wrapped: it
    installs the tool's tracer as before, then attaches the engine's again,
    chained in front of it, so both see the code.
    """
    hook = threading.gettrace() if sys.version_info < (3, 12) else None
    if hook is None:
        yield
        return
    from harness.sync.context import managed

    def install_both(frame: Any, event: Any, arg: Any) -> Any:
        local = hook(frame, event, arg)
        record = managed()
        if record is not None:
            record.runtime.backend.attach(record.hook)
        return local

    threading.settrace(install_both)
    try:
        yield
    finally:
        threading.settrace(hook)


def _no_state() -> None:
    """The engines' ``setup``: a marked test builds its own state in its body."""
    return None


def _headline(plan: Plan, result: Result) -> str:
    """The first line, which pytest's short summary shows: what failed, how often."""
    group = result.failures[0]
    failure = group.failure
    from harness.outcome import display_unit

    unit = display_unit(plan.engine)
    times = f"x{group.count}; " if group.count > 1 else ""
    more = len(result.failures) - 1
    also = f"; {more} other distinct failure{'s' if more > 1 else ''}" if more else ""
    return (
        f"{plan.engine}: [{failure.kind}] {failure.message} "
        f"({times}{len(result.failing_runs)} of {result.runs} {unit} failed{also})"
    )


def report_text(item: pytest.Function, plan: Plan, result: Result, replayed: bool) -> str:
    """The engine's report, with rerun instructions that fit pytest."""
    token = result.schedule
    # The engine's own text ends with `harness replay TOKEN`, which only knows
    # the catalogue: leave it out and say how to replay through pytest instead.
    # pytest names the test already, so the result need not.
    sections = dict(result.sections)
    lanes = sections.pop("interleaving", None)
    text = str(replace(result, schedule=None, target=None, sections=sections))
    nodeid = shlex.quote(base_nodeid(item))
    lines = [_headline(plan, result), text, ""]
    render = getattr(lanes, "render_text", None)
    if callable(render):
        # As wide as the terminal; every step with -vv.
        lines += [render(width=_width(item.config), full=item.config.get_verbosity() >= 2), ""]
    if token:
        lines.append(f"replay token: {token}")
        lines.append(f"replay with:  pytest --harness-replay={token} {nodeid}")
    elif replayed:
        lines.append("(replayed the schedule of --harness-replay)")
    elif plan.engine == "stress":
        if plan.seed_source.startswith("@pytest.mark"):
            rerun = f"pytest {nodeid}"
        else:
            rerun = f"pytest --harness-seed={plan.seed} {nodeid}"
        lines.append(
            f"seed {plan.seed} (from {plan.seed_source}); rerun with: {rerun}  "
            "(real threads: a rerun may interleave differently)"
        )
    return "\n".join(lines).rstrip()


def _width(config: pytest.Config) -> int:
    """The terminal's width, or 110 columns (as the CLI) when output goes to a file."""
    terminal = sys.__stdout__ is not None and sys.__stdout__.isatty()
    if terminal or os.environ.get("COLUMNS"):
        return max(config.get_terminal_writer().fullwidth, 60)
    return 110
