"""Child side of ``bench.real``: one tool on one release of one library, in a process of its own.

``python -m bench.real_cell SPEC`` where SPEC is JSON with ``driver`` (a module of
:mod:`bench.real_libs`), ``tool`` (``explore``, ``stress`` or ``frontrun``) and the
tool's bounds. The release under test is whatever ``sys.path`` finds first (the
parent puts its install directory on ``PYTHONPATH``). Prints one
:data:`bench.jobs.MARK` line with what it measured. explore and stress run after
``harness.install()``, the documented way to have primitives that a library makes
at import managed; frontrun runs under its own launcher without it.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from bench.jobs import MARK

__all__ = ["main", "run_explore", "run_frontrun", "run_stress"]


def _kinds(result: Any) -> list[str]:
    return [g.failure.kind for g in result.failures]


def _messages(result: Any) -> list[str]:
    return [g.failure.message[:160] for g in result.failures]


def run_explore(driver: ModuleType, budget: int, seed: int, replays: int) -> dict[str, Any]:
    """Explore with the default strategy; replay the token ``replays`` times."""
    import harness

    settings = dict(getattr(driver, "EXPLORE", {}))
    started = time.perf_counter()
    result = harness.explore(
        driver.setup, driver.actors, driver.check, seed=seed, budget=budget, **settings
    )
    seconds = time.perf_counter() - started
    record: dict[str, Any] = {
        "runs": result.runs,
        "seconds": round(seconds, 3),
        "kinds": _kinds(result),
        "messages": _messages(result),
        "first": (result.failing_runs[0] + 1) if result.failing_runs else None,
        "token": result.schedule,
        "replays": [],
    }
    if result.schedule:
        timeout = settings.get("timeout", 10.0)
        for _ in range(replays):
            again = time.perf_counter()
            replayed = harness.replay(
                result.schedule, driver.setup, driver.actors, driver.check, timeout=timeout
            )
            record["replays"].append(
                {"kinds": _kinds(replayed), "seconds": round(time.perf_counter() - again, 3)}
            )
    return record


def run_stress(driver: ModuleType, runs: int, seconds: float, seed: int) -> dict[str, Any]:
    """Stress in real threads until the first failure, ``runs`` runs or ``seconds``."""
    import harness

    timeout = float(getattr(driver, "STRESS_TIMEOUT", 5.0))
    started = time.perf_counter()
    result = harness.stress(
        driver.setup,
        driver.actors,
        driver.check,
        runs=runs,
        seconds=seconds,
        seed=seed,
        timeout=timeout,
        stop_on_failure=True,
    )
    return {
        "runs": result.runs,
        "seconds": round(time.perf_counter() - started, 3),
        "kinds": _kinds(result),
        "messages": _messages(result),
        "first": (result.failing_runs[0] + 1) if result.failing_runs else None,
    }


def _frontrun_program(driver: ModuleType) -> tuple[Callable[[], Any], list[Any], Any]:
    """The driver in frontrun's form: workers take the state, the invariant returns a bool.

    The library is first imported inside frontrun's own call to ``setup``: an
    import before it binds the real clock and primitives (measured: with an early
    ``setup()`` to count the actors, frontrun reported a false violation on
    prometheus-client 0.3.1, whose timer then read the real clock).
    """
    count = int(driver.THREADS)

    def worker(i: int) -> Callable[[Any], None]:
        def run(state: Any) -> None:
            driver.actors(state)[i]()

        return run

    def invariant(state: Any) -> bool:
        try:
            driver.check(state)
        except AssertionError:
            return False
        return True

    return driver.setup, [worker(i) for i in range(count)], invariant


def run_frontrun(driver: ModuleType, budget: int, seconds: float, seed: int) -> dict[str, Any]:
    """frontrun 0.7's ``explore`` (its default DPOR), bounded in executions and seconds."""
    frontrun = importlib.import_module("frontrun")  # in the bench's environment only

    setup, workers, invariant = _frontrun_program(driver)
    options = dict(getattr(driver, "FRONTRUN", {}))
    started = time.perf_counter()
    result = frontrun.explore(
        setup=setup,
        workers=workers,
        invariant=invariant,
        max_executions=budget,
        total_timeout=seconds,
        reproduce_on_failure=0,
        **options,
    )
    holds = result.property_holds
    explanation = (getattr(result, "explanation", None) or "").strip().splitlines()
    return {
        "runs": int(getattr(result, "num_explored", 0) or 0),
        "seconds": round(time.perf_counter() - started, 3),
        "holds": holds,
        "inconclusive": getattr(result, "inconclusive_reason", None),
        "explanation": explanation[0][:160] if explanation else "",
    }


def _raised_by_program(error: BaseException) -> bool:
    """Whether ``error`` was raised in the library's or the driver's code (not a tool's)."""
    tb = error.__traceback__
    innermost = None
    while tb is not None:
        innermost = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    if innermost is None:
        return False
    tools = ("/harness/", "/frontrun/", "/bench/real_cell.py")
    return not any(part in innermost for part in tools)


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    if spec["tool"] in ("explore", "stress"):
        import harness

        harness.install()
    from bench.real_libs import load

    driver = load(spec["driver"])
    started = time.perf_counter()
    try:
        if spec["tool"] == "explore":
            record = run_explore(
                driver, spec["budget"], spec.get("seed", 0), spec.get("replays", 3)
            )
        elif spec["tool"] == "stress":
            record = run_stress(driver, spec["runs"], spec["seconds"], spec.get("seed", 0))
        elif spec["tool"] == "frontrun":
            record = run_frontrun(driver, spec["budget"], spec["seconds"], spec.get("seed", 0))
        else:
            raise ValueError(f"unknown tool {spec['tool']!r}")
    except Exception as error:  # reported, not raised: the parent writes it in the table
        record = {
            "error": f"{type(error).__name__}: {error}"[:300],
            "seconds": round(time.perf_counter() - started, 3),
            # frontrun re-raises a worker's exception: then it found a failure
            "escaped": _raised_by_program(error),
        }
    record.update(driver=spec["driver"], tool=spec["tool"], version=spec.get("version"))
    print(MARK + json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
