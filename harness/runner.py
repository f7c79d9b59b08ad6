"""Run catalogue variants through an engine and judge them against expectations.

Settings are layered: the engine's defaults, then the variant's own settings,
then what the caller asked for explicitly (the command line). A *judged* run
(the whole catalogue) stops a caught variant at its first failure, since one
failure is all the judgement needs; an explicit run goes to the end of its
budget so that the histogram shows how often each outcome occurs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from harness.errors import UnknownScenarioError, UsageError
from harness.explore import explore, replay
from harness.explore.token import decode
from harness.judgement import VariantRun
from harness.scenario import CAUGHT, Scenario, Variant, resolve
from harness.stress import stress

__all__ = ["ENGINE_SETTINGS", "VariantRun", "replay_token", "run_variant", "run_variants"]

ProgressFactory = Callable[[Scenario, Variant], Any]


#: The budget of ``--strategy dfs`` when none is given: enough for every bounded
#: search of the catalogue (the largest, deadlock:timeout, takes 3,704 schedules).
DFS_BUDGET = 100_000
#: The budget of ``--strategy dpor`` when none is given (the issue's goal: every
#: catalogue fix with a finite space exhausts within it).
DPOR_BUDGET = 10_000

#: The settings each engine takes from a variant or the command line.
ENGINE_SETTINGS = {
    "stress": frozenset({"runs", "seconds", "threads", "noise", "seed", "timeout"}),
    "explore": frozenset(
        {
            "strategy",
            "budget",
            "bound",
            "depth",
            "threads",
            "seed",
            "max_steps",
            "timeout",
            "races",
        }
    ),
}


def settings_for(variant: Variant, engine: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The variant's settings for ``engine`` with explicit overrides on top."""
    known = ENGINE_SETTINGS.get(engine)
    if known is None:
        raise UsageError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINE_SETTINGS)}")
    unknown = (set(variant.settings_for(engine)) | set(overrides)) - known
    if unknown:
        raise UsageError(
            f"{engine} has no setting {', '.join(sorted(unknown))} "
            f"(it has: {', '.join(sorted(known))})"
        )
    settings = variant.settings_for(engine)
    explicit = {k: v for k, v in overrides.items() if v is not None}
    # An explicit budget of one kind replaces the variant's budget of the other.
    if "seconds" in explicit and "runs" not in explicit:
        settings.pop("runs", None)
    if "runs" in explicit and "seconds" not in explicit:
        settings.pop("seconds", None)
    # A variant's budget sizes a random search; asked for a bounded search
    # without a budget, search until the bounded space is exhausted.
    if explicit.get("strategy") == "dfs" and "budget" not in explicit:
        settings["budget"] = DFS_BUDGET
    if explicit.get("strategy") == "dpor" and "budget" not in explicit:
        settings["budget"] = DPOR_BUDGET
    settings.update(explicit)
    return settings


def run_variant(
    scenario: Scenario,
    variant: Variant,
    engine: str = "stress",
    overrides: Mapping[str, Any] | None = None,
    *,
    judged: bool = False,
    progress: Any = None,
) -> VariantRun:
    """Run one variant through ``engine``; ``judged`` stops caught ones early."""
    settings = settings_for(variant, engine, overrides or {})
    threads = scenario.thread_count(settings.pop("threads", None))
    target = f"{scenario.name}:{variant.name}"

    def setup() -> Any:
        return variant.setup(threads)

    common: dict[str, Any] = {
        "observe": variant.observe,
        "teardown": variant.teardown,
        "progress": progress,
        "target": target,
    }
    if engine == "stress":
        result = stress(
            setup,
            variant.actors,
            variant.check,
            stop_on_failure=judged and variant.expect == CAUGHT,
            **common,
            **settings,
        )
    elif engine == "explore":
        result = explore(
            setup, variant.actors, variant.check, target_threads=threads, **common, **settings
        )
    else:  # pragma: no cover - settings_for rejected it
        raise UsageError(f"unknown engine {engine!r}")
    result.settings["threads"] = threads
    return VariantRun(scenario, variant, engine, result)


def replay_token(token: str, races: bool = False) -> VariantRun:
    """Replay a token recorded on a catalogue variant (``harness replay TOKEN``).

    ``races``: run the race detector too (to see a ``race`` failure again).
    """
    schedule = decode(token)
    schedule.check_interpreter()
    if not schedule.target:
        raise UsageError(
            "this token was recorded through the Python API: replay it with "
            "harness.replay(token, setup, actors, check)"
        )
    if "::" in schedule.target:
        raise UsageError(
            "this token was recorded by the pytest plugin: replay it with "
            f"pytest --harness-replay=TOKEN {schedule.target}"
        )
    try:
        found = resolve(schedule.target)
    except UnknownScenarioError as exc:
        raise UsageError(f"the token's scenario is not in this catalogue: {exc}") from None
    if len(found) != 1:
        raise UsageError(f"the token names {schedule.target!r}, not one variant of it")
    ((scenario, variant),) = found
    if "explore" not in variant.engines:
        raise UsageError(
            f"the token names {schedule.target}, which only runs under "
            f"{', '.join(variant.engines)}: no schedule of it can be replayed"
        )
    try:
        threads = scenario.thread_count(schedule.threads)
    except UsageError as exc:
        raise UsageError(f"bad thread count in the token: {exc}") from None

    def setup() -> Any:
        return variant.setup(threads)

    result = replay(
        token,
        setup,
        variant.actors,
        variant.check,
        observe=variant.observe,
        teardown=variant.teardown,
        target=schedule.target,
        races=races,
    )
    result.settings["threads"] = threads
    return VariantRun(scenario, variant, "explore", result)


def run_variants(
    pairs: Iterable[tuple[Scenario, Variant]],
    engine: str = "stress",
    overrides: Mapping[str, Any] | None = None,
    *,
    judged: bool = False,
    progress_factory: ProgressFactory | None = None,
) -> list[VariantRun]:
    runs = []
    for scenario, variant in pairs:
        progress = progress_factory(scenario, variant) if progress_factory else None
        try:
            runs.append(
                run_variant(scenario, variant, engine, overrides, judged=judged, progress=progress)
            )
        finally:
            if progress is not None and hasattr(progress, "close"):
                progress.close()
    return runs
