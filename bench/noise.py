"""What noise injection adds, per build: detections per run at noise 0, the default and 0.05.

Without a GIL (3.13t) threads really run in parallel and the switch interval
means nothing, so the question is whether the stress engine's random yields still
help there, and what default each build should get. For each target (the
catalogue's buggy stress variants and the plain 4-thread counter of
:mod:`bench.counter`), this counts the failing runs out of ``--runs`` at each
noise level, with seed 0: one line of JSON per measurement on the command line,
or the ``noise`` section of ``python -m bench`` (the two targets that depend on it).

Usage: ``python -m bench.noise [--runs N] [--counter-runs N] [TARGET ...]``
(the defaults are the figures quoted in README.md and BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import harness
from bench.counter import Counter, actors_for
from harness._gil import free_threaded_build
from harness.runner import run_variant
from harness.scenario import catalogue

__all__ = ["NOISES", "measure", "run"]

#: 0 turns noise off; 0.001 the fixed floor (the default before "auto"); 0.05 the
#: catalogue's usual; "auto" the adaptive level (harness._tracing.noise.AUTO).
NOISES: tuple[float | str, ...] = (0.0, 0.001, 0.05, "auto")
COUNTER = "counter (4 threads x 10,000 c.value = c.value + 1)"
LAZY = "lazy global (2 threads, check-then-set of a module global)"


#: What the lazily made singleton below made, one entry per instance: a library's
#: check-then-set of a module global, a window of one bytecode in a short body.
_lazy_made: list[object] = []
_lazy_instance: object | None = None


def _lazy_setup() -> None:
    global _lazy_instance
    _lazy_instance = None
    _lazy_made.clear()


def _lazy_get() -> object:
    global _lazy_instance
    if _lazy_instance is None:
        _lazy_instance = object()
        _lazy_made.append(_lazy_instance)
    return _lazy_instance


def _lazy_check(_: None) -> None:
    assert len(_lazy_made) == 1, f"made {len(_lazy_made)} instances"


def _build() -> str:
    version = ".".join(map(str, sys.version_info[:2]))
    return version + ("t" if free_threaded_build() else "")


def _counter_check(counter: Counter) -> None:
    assert counter.value == 4 * 10_000, f"lost {4 * 10_000 - counter.value} updates"


def measure(
    targets: list[str], runs: int, counter_runs: int, echo: bool = False
) -> list[dict[str, Any]]:
    rows = []
    scenarios = catalogue()
    for target in targets:
        for noise in NOISES:
            started = time.perf_counter()
            if target == "lazy_global":
                result = harness.stress(
                    _lazy_setup,
                    lambda _: [_lazy_get, _lazy_get],
                    _lazy_check,
                    runs=runs,
                    noise=noise,
                    seed=0,
                )
                name, total = LAZY, runs
            elif target == "counter":
                result = harness.stress(
                    Counter,
                    actors_for(4, 10_000),
                    _counter_check,
                    runs=counter_runs,
                    noise=noise,
                    seed=0,
                )
                name, total = COUNTER, counter_runs
            else:
                scenario_name, variant_name = target.split(":")
                scenario = scenarios[scenario_name]
                run = run_variant(
                    scenario,
                    scenario.variants[variant_name],
                    "stress",
                    {"noise": noise, "runs": runs, "seed": 0},
                )
                result, name, total = run.result, target, runs
            row = {
                "build": _build(),
                "target": name,
                "noise": noise,
                "detected": len(result.failing_runs),
                "runs": result.runs or total,
                "seconds": round(time.perf_counter() - started, 2),
            }
            if echo:
                print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


#: The section's targets: the one-bytecode window that the fixed rates miss (what
#: made "auto" the default), the catalogue's only stress bug whose detection depends on
#: noise (every other buggy variant is caught in 20 of 20 runs at every level on
#: both builds: ``python -m bench.noise --runs 20``), and the plain counter.
SECTION_TARGETS = ("thevar:buggy", "lazy_global", "counter")


def run(quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    """The ``noise`` section of ``python -m bench``: detections per 100 runs."""
    runs = 20 if quick else 100
    rows = measure(list(SECTION_TARGETS), runs, runs)
    for row in rows:
        log(f"noise {row['target']} at {row['noise']}: {row['detected']}/{row['runs']}")
    return {"build": _build(), "runs": runs, "seed": 0, "rows": rows}


def buggy_stress_variants() -> list[str]:
    return [
        f"{scenario.name}:{variant.name}"
        for scenario in catalogue().values()
        for variant in scenario.variants.values()
        if "stress" in variant.engines and variant.expect == "caught"
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.noise")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--counter-runs", type=int, default=20)
    parser.add_argument("targets", nargs="*")
    args = parser.parse_args(argv)
    targets = args.targets or [*buggy_stress_variants(), "counter"]
    measure(targets, args.runs, args.counter_runs, echo=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
