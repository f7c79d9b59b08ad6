"""The soak: ``python -m harness.soak`` (``nox -s soak``); not part of the default gate.

Two long checks that a short test cannot make:

* every fixed variant of the catalogue holds over ``--runs`` stress runs
  (10,000 by default) with zero failures (:mod:`harness.soak.catalogue`);
* resident memory stays flat, within ``--limit-mb`` after a warm-up, over a loop
  of ``--calls`` explore calls (:mod:`harness.soak.memory`).

It prints runs, failures and seconds per variant and the RSS figures, and exits
0 when both hold, 1 when either does not, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from harness.errors import HarnessError
from harness.soak.catalogue import BatchResult, Tally, fixed_variants, soak
from harness.soak.memory import MB, explore_loop

__all__ = ["main"]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness.soak", description=__doc__)
    parser.add_argument("targets", nargs="*", metavar="SCENARIO[:VARIANT]", help="default: all")
    parser.add_argument("--runs", type=_positive, default=10_000, help="stress runs per variant")
    parser.add_argument(
        "--jobs",
        type=_positive,
        default=2 * (os.cpu_count() or 1),
        help="worker processes (default: twice the cores; most fixes wait on sockets and timers)",
    )
    parser.add_argument(
        "--batch-seconds", type=_positive, default=120, help="about how long one batch runs"
    )
    parser.add_argument("--calls", type=_positive, default=2000, help="explore calls of the loop")
    parser.add_argument("--limit-mb", type=_positive, default=50, help="allowed RSS growth")
    parser.add_argument("--only", choices=("stress", "memory"), help="run one of the two parts")
    return parser


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def _memory(args: argparse.Namespace) -> bool:
    _say(f"memory: {args.calls} explore calls (thevar:buggy, thevar:lock, deadlock:buggy)")

    def progress(done: int, rss: int) -> None:
        if done % 50 == 0 or done == args.calls:
            _say(f"memory: {done}/{args.calls} calls, RSS {rss / MB:.1f} MB")

    started = time.perf_counter()
    trace = explore_loop(args.calls, progress=progress)
    seconds = time.perf_counter() - started
    flat = trace.flat(args.limit_mb * MB)
    _say(f"memory: {trace.figures()} over {args.calls} calls in {seconds:.0f} s")
    for line in trace.unexpected:
        _say(f"memory: UNEXPECTED {line}")
    _say(f"memory: {'flat' if flat else 'GROWING'} (limit {args.limit_mb} MB)")
    return flat and not trace.unexpected


def _stress(args: argparse.Namespace, specs: list[str]) -> bool:
    _say(f"stress: {len(specs)} fixed variants x {args.runs:,} runs, {args.jobs} worker(s)")
    started = time.perf_counter()

    def report(done: BatchResult, tally: Tally) -> None:
        status = f"{done.failures} FAILED: {done.first_failure}" if done.failures else "ok"
        _say(
            f"{tally.spec:28} {tally.runs:>6,}/{args.runs:,} runs  "
            f"(+{done.runs} in {done.seconds:.0f} s, seed {done.batch.seed}, "
            f"load {done.load:.1f}) {status}"
        )

    tallies = soak(
        specs, args.runs, jobs=args.jobs, batch_seconds=args.batch_seconds, report=report
    )
    wall = time.perf_counter() - started
    print(f"\n{'variant':28} {'runs':>7} {'failures':>8} {'seconds':>8} {'ms/run':>7}")
    for tally in tallies.values():
        per_run = tally.seconds / max(tally.runs, 1) * 1000
        print(
            f"{tally.spec:28} {tally.runs:>7,} {tally.failures:>8} "
            f"{tally.seconds:>8.0f} {per_run:>7.1f}"
        )
    runs = sum(t.runs for t in tallies.values())
    failures = sum(t.failures for t in tallies.values())
    print(f"{'total':28} {runs:>7,} {failures:>8}   wall {wall:.0f} s\n", flush=True)
    for tally in tallies.values():
        for batch in tally.failed_batches:
            _say(
                f"stress: {tally.spec} failed {batch.failures}x at load {batch.load:.1f}; "
                f"repeat with: {batch.command}"
            )
    return failures == 0 and all(t.runs >= args.runs for t in tallies.values())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:  # every usage error before anything runs
        specs = fixed_variants(args.targets) if args.only != "memory" else []
    except HarnessError as exc:
        print(f"harness.soak: error: {exc}", file=sys.stderr)
        return 2
    ok = True
    if args.only in (None, "memory"):
        ok = _memory(args) and ok
    if args.only in (None, "stress"):
        ok = _stress(args, specs) and ok
    _say("soak: PASSED" if ok else "soak: FAILED")
    return 0 if ok else 1
