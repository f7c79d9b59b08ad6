"""Section 3: stress throughput, and the largest thread count per run handled cleanly.

Throughput is threads started and joined per second: ``threads`` threads that
do nothing, started and joined ``runs`` times, by raw ``threading``, by our
stress engine (without noise and with its default noise) and by
pytest-run-parallel's wrapper (the peer's plain stress). Rounds alternate the
four, and the median round is kept.

The thread-count ladder runs the stress engine with more and more threads per
run, each incrementing a counter under an (instrumented) lock, and calls a
count *clean* when every run ended, the check held, no failure was reported and
no thread was left behind.
"""

from __future__ import annotations

import importlib
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench.jobs import run_job

__all__ = ["measure_job", "run"]

RATE_TOOLS = ("threading", "stress", "stress-noise", "run-parallel")


def _nothing() -> None:
    pass


def _raw(threads: int, runs: int) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        workers = [threading.Thread(target=_nothing) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    return time.perf_counter() - started


def _stress(noise: float) -> Callable[[int, int], float]:
    def timed(threads: int, runs: int) -> float:
        import harness

        started = time.perf_counter()
        result = harness.stress(
            object, lambda state: [_nothing], threads=threads, runs=runs, noise=noise, seed=1
        )
        elapsed = time.perf_counter() - started
        if result.failed:
            raise RuntimeError(f"stress reported a failure on an empty program: {result.kind}")
        return elapsed

    return timed


def _run_parallel(threads: int, runs: int) -> float:
    # installed by the bench session only
    wrap_function_parallel = importlib.import_module(
        "pytest_run_parallel.plugin"
    ).wrap_function_parallel

    def body(thread_index: int = 0) -> None:
        pass

    started = time.perf_counter()
    for _ in range(runs):
        wrap_function_parallel(body, threads, 1)(thread_index=0)
    return time.perf_counter() - started


_RATES: dict[str, Callable[[int, int], float]] = {
    "threading": _raw,
    "stress": _stress(0.0),
    "stress-noise": _stress(0.001),
    "run-parallel": _run_parallel,
}


class _Tally:
    def __init__(self) -> None:
        self.value = 0
        self.lock = threading.Lock()  # created in setup: instrumented by the engine


def _tally_actor(tally: _Tally) -> Callable[[], None]:
    def bump() -> None:
        with tally.lock:
            tally.value = tally.value + 1

    return bump


def _ladder_step(threads: int, runs: int, timeout: float) -> dict[str, Any]:
    import harness

    started = time.perf_counter()
    result = harness.stress(
        _Tally,
        lambda tally: [_tally_actor(tally)],
        lambda tally: tally.value == threads,
        threads=threads,
        runs=runs,
        noise=0.001,
        seed=1,
        timeout=timeout,
    )
    elapsed = time.perf_counter() - started
    abandoned = int(result.settings.get("abandoned_threads", 0))
    clean = not result.failed and abandoned == 0 and result.runs == runs
    return {
        "threads": threads,
        "runs": result.runs,
        "clean": clean,
        "seconds_per_run": round(elapsed / max(result.runs, 1), 4),
        "failures": [f"{g.failure.kind}: {g.failure.message}"[:160] for g in result.failures],
        "abandoned_threads": abandoned,
    }


def measure_job(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Child side: rates, or the thread-count ladder."""
    if spec["mode"] == "rate":
        threads, runs = spec["threads"], spec["runs"]
        for tool in RATE_TOOLS:
            _RATES[tool](threads, 2)  # warm-up: imports, first patches
        for round_index in range(spec["rounds"]):
            for tool in RATE_TOOLS:
                seconds = _RATES[tool](threads, runs)
                yield {
                    "mode": "rate",
                    "tool": tool,
                    "round": round_index,
                    "threads": threads,
                    "runs": runs,
                    "seconds": round(seconds, 6),
                    "per_second": round(threads * runs / seconds, 1),
                }
    else:
        deadline = time.perf_counter() + spec["seconds"]
        for threads in spec["ladder"]:
            # Beyond the aim of 1,000 threads one run tells whether it is clean.
            runs = spec["runs"] if threads <= 1000 else 1
            step = _ladder_step(threads, runs, spec["timeout"])
            yield {"mode": "ladder", **step}
            if not step["clean"] or time.perf_counter() > deadline:
                break


def run(quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    rate_plan = [(10, 50), (100, 10)] if quick else [(10, 200), (100, 30)]
    rounds = 1 if quick else 3
    rates = []
    for threads, runs in rate_plan:
        spec = {"job": "throughput", "mode": "rate", "threads": threads, "runs": runs}
        spec["rounds"] = rounds
        job = run_job(spec, family="ours", wall=600.0)
        per_tool: dict[str, list[float]] = {}
        for record in job.records:
            per_tool.setdefault(record["tool"], []).append(record["per_second"])
        medians = {tool: statistics.median(v) for tool, v in per_tool.items()}
        log(f"throughput {threads} threads x {runs} runs: {medians}")
        rates.append(
            {
                "threads": threads,
                "runs": runs,
                "per_second": medians,
                "rounds": per_tool,
                "error": None if job.records else _tail(job.stderr_tail),
            }
        )
    ladder = [100, 250, 500, 1000] if quick else [100, 250, 500, 1000, 2000, 4000]
    spec = {
        "job": "throughput",
        "mode": "ladder",
        "ladder": ladder,
        "runs": 2 if quick else 3,
        "timeout": 30.0,
        "seconds": 60.0 if quick else 180.0,
    }
    job = run_job(spec, family="ours", wall=900.0)
    steps = job.records
    for step in steps:
        clean_text = "clean" if step["clean"] else "NOT clean"
        log(f"ladder {step['threads']} threads: {clean_text}, {step['seconds_per_run']} s/run")
    clean = [s["threads"] for s in steps if s["clean"]]
    return {
        "rates": rates,
        "ladder": steps,
        "ladder_plan": ladder,
        "largest_clean": max(clean) if clean else None,
        "ladder_error": None if steps else _tail(job.stderr_tail),
    }


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""
