"""Resident memory over many explore calls: it must level off, not keep growing.

Each call builds a fresh runtime, strategy, histogram and (for a failure) a
shrunk interleaving and a replay token; none of it may outlive the call. The
loop samples this process's resident set size (``VmRSS``) after every call and
judges growth against the level reached after a warm-up (imports, caches and the
allocator's pools filling up are not leaks).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.runner import run_variant
from harness.scenario import resolve

__all__ = ["MemoryTrace", "explore_loop", "rss_bytes"]

MB = 1 << 20


def rss_bytes() -> int:
    """This process's resident set size now (Linux ``/proc/self/status``)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmRSS line in /proc/self/status")


@dataclass(frozen=True)
class MemoryTrace:
    samples: tuple[int, ...]  # bytes, one after each call
    warmup: int  # calls before the baseline
    calls_failed: int  # calls whose result failed (expected for buggy targets)
    unexpected: tuple[str, ...]  # calls that did not end as their variant expects

    @property
    def baseline(self) -> int:
        return self.samples[min(self.warmup, len(self.samples)) - 1]

    @property
    def growth(self) -> int:
        """How far above the baseline memory went after the warm-up."""
        return max(self.samples[self.warmup - 1 :]) - self.baseline

    def flat(self, limit: int = 50 * MB) -> bool:
        return self.growth <= limit

    def figures(self) -> str:
        first, top, last = self.samples[0], max(self.samples), self.samples[-1]
        return (
            f"RSS first {first / MB:.1f} MB, max {top / MB:.1f} MB, last {last / MB:.1f} MB; "
            f"after {self.warmup} warm-up calls {self.baseline / MB:.1f} MB, "
            f"growth since {self.growth / MB:+.1f} MB"
        )


def explore_loop(
    calls: int,
    targets: Sequence[str] = ("thevar:buggy", "thevar:lock", "deadlock:buggy"),
    *,
    budget: int = 200,
    warmup: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MemoryTrace:
    """``calls`` explore calls cycling over ``targets``, seeds 0, 1, 2 ...; RSS after each."""
    pairs = [pair for spec in targets for pair in resolve(spec)]
    warmup = max(1, calls // 10) if warmup is None else warmup
    samples, failed, unexpected = [], 0, []
    for i, (scenario, variant) in zip(range(calls), itertools.cycle(pairs)):
        run = run_variant(scenario, variant, "explore", {"budget": budget, "seed": i})
        failed += run.result.failed
        if not run.met:
            unexpected.append(f"{run.name} seed {i}: {run.observed}")
        samples.append(rss_bytes())
        if progress is not None:
            progress(i + 1, samples[-1])
    return MemoryTrace(tuple(samples), min(warmup, calls), failed, tuple(unexpected))
