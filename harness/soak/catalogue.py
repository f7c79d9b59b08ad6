"""Soak the fixes: every fixed variant of the catalogue under stress, many runs, no failure.

The runs of one variant are cut into batches, each a separate ``stress`` call
with its own seed, so that a long soak prints progress, spreads over worker
processes and names, for any failure, the command that repeats it. A first
small batch of each variant measures its cost per run; the remaining runs are
then cut into batches of about ``batch_seconds`` each and dealt out in turn,
one batch of each variant, the costliest variants first: a variant that mostly
waits (sockets, timeouts) runs beside one that computes, and no worker is left
alone with one long variant at the end.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import chain, zip_longest

from harness.errors import UsageError
from harness.runner import run_variant
from harness.scenario import HOLDS, catalogue, resolve

__all__ = [
    "Batch",
    "BatchResult",
    "Tally",
    "deal",
    "fixed_variants",
    "plan",
    "run_batch",
    "soak",
]

#: Runs of the first batch of each variant, which measures its cost.
PROBE_RUNS = 10


@dataclass(frozen=True)
class Batch:
    spec: str  # "scenario:variant"
    runs: int
    seed: int


@dataclass(frozen=True)
class BatchResult:
    batch: Batch
    runs: int
    failures: int
    seconds: float
    first_failure: str | None = None
    #: The machine's 1-minute load average, the higher of start and end: timing
    #: checks (a deadline, a speed-up) can fail on a machine overloaded by others.
    load: float = 0.0

    @property
    def command(self) -> str:
        """The command that repeats this batch."""
        return f"harness stress {self.batch.spec} --runs {self.batch.runs} --seed {self.batch.seed}"


@dataclass
class Tally:
    """What one variant's batches add up to."""

    spec: str
    runs: int = 0
    failures: int = 0
    seconds: float = 0.0
    failed_batches: list[BatchResult] = field(default_factory=list)

    def add(self, done: BatchResult) -> None:
        self.runs += done.runs
        self.failures += done.failures
        self.seconds += done.seconds
        if done.failures:
            self.failed_batches.append(done)


def fixed_variants(specs: Sequence[str] = ()) -> list[str]:
    """``scenario:variant`` of every fixed variant that stress can run (of ``specs``)."""
    if specs:
        pairs = [pair for spec in specs for pair in resolve(spec)]
    else:
        pairs = [(s, v) for s in catalogue().values() for v in s.variants.values()]
    found = [f"{s.name}:{v.name}" for s, v in pairs if v.expect == HOLDS and "stress" in v.engines]
    found = list(dict.fromkeys(found))  # a variant named twice is soaked once
    if not found:
        raise UsageError(f"no fixed variant to soak in {', '.join(specs) or 'the catalogue'}")
    return found


def run_batch(batch: Batch) -> BatchResult:
    """Run one batch in this process (a worker's whole job)."""
    ((scenario, variant),) = resolve(batch.spec)
    load = _load()
    started = time.perf_counter()
    run = run_variant(scenario, variant, "stress", {"runs": batch.runs, "seed": batch.seed})
    seconds = time.perf_counter() - started
    result = run.result
    failures = len(result.failing_runs) or int(result.failed)
    first = result.failures[0].failure.message if result.failures else None
    return BatchResult(batch, result.runs, failures, seconds, first, max(load, _load()))


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # not available here
        return 0.0


def plan(probe: BatchResult, total: int, batch_seconds: float) -> list[Batch]:
    """The batches after ``probe`` that bring its variant to ``total`` runs."""
    per_run = probe.seconds / max(probe.runs, 1)
    size = max(PROBE_RUNS, min(2000, int(batch_seconds / max(per_run, 1e-6))))
    batches, done, seed = [], probe.runs, probe.batch.seed + 1
    while done < total:
        runs = min(size, total - done)
        batches.append(Batch(probe.batch.spec, runs, seed))
        done, seed = done + runs, seed + 1
    return batches


def deal(plans: Sequence[tuple[float, list[Batch]]]) -> list[Batch]:
    """The batches of all ``(cost, batches)`` plans in turn, the costliest plan first."""
    ordered = sorted(plans, key=lambda item: -item[0])
    rounds = zip_longest(*(batches for _, batches in ordered))
    return [batch for batch in chain.from_iterable(rounds) if batch is not None]


def _run_all(batches: Iterable[Batch], jobs: int) -> Iterator[BatchResult]:
    """Results as they complete, from ``jobs`` worker processes (or this one)."""
    if jobs == 1:
        yield from map(run_batch, batches)
        return
    # Fresh interpreters: a worker starts from nothing the parent patched or imported.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        pending: set[Future[BatchResult]] = {pool.submit(run_batch, b) for b in batches}
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()


def soak(
    specs: Sequence[str],
    runs: int,
    *,
    jobs: int = 1,
    batch_seconds: float = 120.0,
    report: Callable[[BatchResult, Tally], None] | None = None,
) -> dict[str, Tally]:
    """Run each of ``specs`` (fixed variants) ``runs`` times; return the tallies."""
    tallies = {spec: Tally(spec) for spec in specs}

    def count(done: BatchResult) -> None:
        tally = tallies[done.batch.spec]
        tally.add(done)
        if report is not None:
            report(done, tally)

    probes = [Batch(spec, min(PROBE_RUNS, runs), 0) for spec in specs]
    rest: list[tuple[float, list[Batch]]] = []
    for probe in _run_all(probes, jobs):
        count(probe)
        cost = probe.seconds / max(probe.runs, 1) * (runs - probe.runs)
        rest.append((cost, plan(probe, runs, batch_seconds)))
    for done in _run_all(deal(rest), jobs):
        count(done)
    return tallies
