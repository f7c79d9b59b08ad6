"""Linearizability checking, measured: ``python -m bench.linearize [--write]``.

Prints two Markdown tables (the figures in BENCHMARKS.md's linearizability
section): for each example, scenarios and schedules to the first violation (or
checked in a fixed time with none) and the minimised scenario's size; and the
checker alone on generated histories of a FIFO queue over 4 threads.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import platform
import queue
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

import harness
from harness.linearize import Call, check
from harness.linearize.models import FifoQueue

__all__ = ["checker_rows", "example_rows", "main"]

_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = Path(__file__).resolve().parent / "linearize.md"


def _lru() -> Any:
    spec = importlib.util.spec_from_file_location("lru_example", _ROOT / "examples/lru/lru.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _examples() -> list[tuple[str, Callable[[], Any], list[Any], bool]]:
    lru = _lru()
    keys = st.integers(0, 2)

    def cache_ops(cls: Any) -> list[Any]:
        return [harness.op(cls.put, keys, st.integers(0, 3)), harness.op(cls.get, keys), cls.size]

    return [
        ("LRU cache, no lock (capacity 1)", lambda: lru.LRUCache(1), cache_ops(lru.LRUCache), True),
        ("LRU cache, no lock (capacity 2)", lambda: lru.LRUCache(2), cache_ops(lru.LRUCache), True),
        ("LRU cache, locked", lambda: lru.LockedLRUCache(1), cache_ops(lru.LockedLRUCache), False),
        (
            "queue.Queue (put, get_nowait, qsize)",
            queue.Queue,
            [
                harness.op(queue.Queue.put, st.integers(0, 3)),
                queue.Queue.get_nowait,
                queue.Queue.qsize,
            ],
            False,
        ),
        (
            "collections.deque (append, popleft, len)",
            collections.deque,
            [
                harness.op(collections.deque.append, st.integers(0, 3)),
                collections.deque.popleft,
                len,
            ],
            False,
        ),
    ]


def example_rows(seconds: float, budget: int) -> list[str]:
    rows = [
        "| example | expected | result | scenarios | schedules | seconds | minimised scenario |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, make, ops, buggy in _examples():
        # Passing examples: as many scenarios as fit in ``seconds`` (grown in steps).
        count, result, started = (100 if buggy else 25), None, time.perf_counter()
        while True:
            result = harness.linearizable(make, ops, scenarios=count, budget=budget, seed=0)
            if result.failed or time.perf_counter() - started > seconds or buggy:
                break
            count *= 2
        elapsed = result.duration
        verdict = "violation" if result.failed else "no violation"
        size = result.sections.get("scenario", "") if result.failed else ""
        rows.append(
            f"| {name} | {'bug' if buggy else 'correct'} | {verdict} | "
            f"{result.settings['scenarios']} | {result.settings['executions']} | {elapsed:.1f} | "
            f"{size} |"
        )
    return rows


def _history(size: int, rng: random.Random) -> list[Call]:
    """A linearizable history of a FIFO queue: 4 threads, each call overlapping others."""
    calls: list[Call] = []
    contents: collections.deque[int] = collections.deque()
    stamp = 0
    open_calls: list[Call] = []
    for i in range(size):
        stamp += 1
        thread = f"T{i % 4}"
        if rng.random() < 0.5 or not contents:
            call = Call(i, thread, "put", (i,), stamp)
            contents.append(i)
        else:
            call = Call(i, thread, "get", (), stamp, result=contents.popleft())
        calls.append(call)
        open_calls.append(call)
        if len(open_calls) == 4:  # the four overlap; they return in turn
            for done in open_calls:
                stamp += 1
                done.returned = stamp
            open_calls = []
    for done in open_calls:
        stamp += 1
        done.returned = stamp
    return calls


def checker_rows() -> list[str]:
    rows = ["| history | operations | verdict | states | seconds |", "|---|---|---|---|---|"]
    rng = random.Random(0)
    for size in (100, 1_000, 10_000):
        calls = _history(size, rng)
        started = time.perf_counter()
        found = check(calls, FifoQueue())
        took = time.perf_counter() - started
        rows.append(
            f"| FIFO queue, 4 threads | {size:,} | {found.verdict} | {found.states:,} | "
            f"{took:.3f} |"
        )
        for where, bad in (
            ("first", [Call(-1, "T0", "get", (), 0, 1, result=-1), *calls]),
            ("last", [*calls, Call(size, "T0", "get", (), 10**9, 10**9 + 1, result=-1)]),
        ):
            started = time.perf_counter()
            found = check(bad, FifoQueue())
            took = time.perf_counter() - started
            rows.append(
                f"| same, {where} get returns a value never put | {size + 1:,} | "
                f"{found.verdict} | {found.states:,} | {took:.3f} |"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.linearize", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="time per correct example")
    parser.add_argument("--budget", type=int, default=50, help="schedules per scenario")
    parser.add_argument(
        "--write",
        action="store_true",
        help=f"also write {OUTPUT.name} and regenerate BENCHMARKS.md",
    )
    args = parser.parse_args()
    text = "\n".join(
        [
            f"Measured with `python -m bench.linearize` ({platform.python_implementation()} "
            f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}): each example's "
            f"scenarios run under the explorer with {args.budget} schedules each, seed 0; a "
            "buggy example stops at its first violation (shrunk by hypothesis), a correct one "
            f"doubles its scenarios while under {args.seconds:g} s.",
            "",
            *example_rows(args.seconds, args.budget),
            "",
            "The checker alone, on generated linearizable histories of a FIFO queue (4 threads,",
            "each group of 4 calls overlapping), and on the same with one impossible `get` added",
            "first or last. A violation at the end of a long history is exponential for this",
            "search (every order of every earlier group leaves a different queue), and it says",
            "so: undecided at its limit of 1,000,000 states.",
            "",
            *checker_rows(),
        ]
    )
    print(text)
    if args.write:
        from bench import report, results

        OUTPUT.write_text(text + "\n")
        report.write(results.load())


if __name__ == "__main__":
    main()
