"""What the race detector would cost in stress runs: the 2 x 1,000 counter in real threads.

The stress engine has no race hook: without noise it does not trace at all, so
the detector (:mod:`harness.detect.races`) would need every access traced and
fed to it, from threads that on a free-threaded build run in parallel, so its
shared state behind a lock. This measures the parts of that cost on the
program of the cost benchmark (:mod:`bench.counter`), each as milliseconds per
run of 2 threads x 1,000 iterations, the median of ``ROUNDS`` rounds (the
variants alternate within a round, each timed over ``RUNS`` runs):

* ``stress``: ``harness.stress(..., noise=0)``, the untraced stress run;
* ``untraced``: the same threads started by hand (no engine around them);
* ``tracing``: the threads with the tracing backend attached and a hook that
  does nothing (what stress with noise pays before any noise);
* ``tracing+detector``: the hook locates each access (owner object and
  attribute, as the explorer does) and feeds it to one shared
  :class:`~harness.detect.races.RaceDetector` under a lock, with thread start
  and join as fork and join: a prototype of the wiring, not the stress engine;
* ``fasttrack``: the detector's operations alone, in one thread, on the same
  access stream (a read and a write of ``Counter.value`` per iteration, the two
  threads' iterations interleaved in chunks of 50), with and without the lock,
  as nanoseconds per access; multiplied by the accesses of a run it gives the
  least that the detector adds to an untraced run.

``python -m bench.races_stress [--rounds N] [--runs N]`` prints a JSON record and
a Markdown summary; run it on the free-threaded build to measure that case.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import harness
from bench.counter import Counter, actors_for, bump, run_untraced
from harness._gil import free_threaded_build, gil_enabled
from harness._tracing import Point, make_backend
from harness.detect.races import Access, RaceDetector
from harness.explore.racecheck import check_access

__all__ = ["fasttrack_ns", "main", "measure"]

THREADS, ITERATIONS = 2, 1000
ROUNDS = 7
RUNS = 20
CHUNK = 50


def _stress(runs: int) -> float:
    result = harness.stress(
        Counter, actors_for(THREADS, ITERATIONS), None, runs=runs, noise=0, leaks=False
    )
    assert result.runs == runs, result.runs
    return result.runs


def _untraced(runs: int) -> float:
    for _ in range(runs):
        run_untraced(THREADS, ITERATIONS)
    return runs


class _Traced:
    """The counter's threads under the tracing backend, with or without the detector."""

    def __init__(self, detect: bool) -> None:
        self.detect = detect
        self.points = 0
        self.races = 0

    def __call__(self, runs: int) -> float:
        backend = make_backend()
        backend.start()
        try:
            for _ in range(runs):
                self._one(backend)
        finally:
            backend.stop()
        return runs

    def _one(self, backend: Any) -> None:
        counter = Counter()
        detector = RaceDetector() if self.detect else None
        lock = threading.Lock()
        seen = [0]

        def body(tid: int) -> None:
            name = f"T{tid}"
            if detector is None:

                def hook(point: Point) -> None:
                    seen[0] += 1

            else:

                def hook(point: Point) -> None:
                    if point.kind == "call":
                        return
                    frame = sys._getframe(2)  # hook <- backend callback <- code under test
                    with lock:
                        seen[0] += 1
                        check_access(detector, tid, name, point, frame)

            backend.attach(hook)  # before the traced frame is entered
            try:
                bump(counter, ITERATIONS)
            finally:
                backend.detach()

        workers = [threading.Thread(target=body, args=(i + 1,)) for i in range(THREADS)]
        for i, worker in enumerate(workers):
            if detector is not None:
                with lock:
                    detector.fork(0, i + 1)
            worker.start()
        for i, worker in enumerate(workers):
            worker.join()
            if detector is not None:
                with lock:
                    detector.join(0, i + 1)
        self.points = seen[0]
        if detector is not None:
            self.races = len(detector.races)


def fasttrack_ns(locked: bool, repeat: int = 20) -> float:
    """Nanoseconds per access of the detector alone on the counter's access stream."""
    stream: list[tuple[int, str]] = []
    per_thread = [[(t, k) for _ in range(ITERATIONS) for k in ("read", "write")] for t in (1, 2)]
    step = 2 * CHUNK
    for start in range(0, 2 * ITERATIONS, step):
        for accesses in per_thread:
            stream.extend(accesses[start : start + step])
    owner = Counter()
    key = (id(owner), "value")
    file = bump.__code__.co_filename
    line = bump.__code__.co_firstlineno + 2
    lock = threading.Lock()
    best: list[float] = []
    for _ in range(repeat):
        detector = RaceDetector()
        detector.fork(0, 1)
        detector.fork(0, 2)
        started = time.perf_counter()
        if locked:
            for tid, kind in stream:
                with lock:
                    access = Access(tid, kind, file, line, "", f"T{tid}")
                    if kind == "read":
                        detector.read(tid, key, "Counter.value", access, owner)
                    else:
                        detector.write(tid, key, "Counter.value", access, owner)
        else:
            for tid, kind in stream:
                access = Access(tid, kind, file, line, "", f"T{tid}")
                if kind == "read":
                    detector.read(tid, key, "Counter.value", access, owner)
                else:
                    detector.write(tid, key, "Counter.value", access, owner)
        best.append((time.perf_counter() - started) / len(stream) * 1e9)
        assert detector.races, "the counter's race was not seen"
    return statistics.median(best)


def measure(rounds: int = ROUNDS, runs: int = RUNS) -> dict[str, Any]:
    traced = _Traced(False)
    detected = _Traced(True)
    variants: dict[str, Callable[[int], float]] = {
        "stress": _stress,
        "untraced": _untraced,
        "tracing": traced,
        "tracing+detector": detected,
    }
    for call in variants.values():
        call(2)  # warm-up
    times: dict[str, list[float]] = {name: [] for name in variants}
    for index in range(rounds):
        names = list(variants) if index % 2 == 0 else list(reversed(variants))
        for name in names:
            started = time.perf_counter()
            done = variants[name](runs)
            times[name].append((time.perf_counter() - started) * 1000 / done)
    medians = {name: statistics.median(values) for name, values in times.items()}
    ft = fasttrack_ns(False)
    ft_locked = fasttrack_ns(True)
    accesses = THREADS * ITERATIONS * 2
    base = medians["stress"]
    return {
        "python": sys.version.split()[0] + ("t" if free_threaded_build() else ""),
        "gil_enabled": gil_enabled(),
        "threads": THREADS,
        "iterations": ITERATIONS,
        "rounds": rounds,
        "runs": runs,
        "ms_per_run": {name: round(v, 3) for name, v in medians.items()},
        "rounds_ms": {name: [round(v, 3) for v in values] for name, values in times.items()},
        "points_per_run": traced.points,
        "accesses_fed_per_run": detected.points,
        "races_reported": detected.races,
        "fasttrack_ns_per_access": round(ft, 1),
        "fasttrack_locked_ns_per_access": round(ft_locked, 1),
        "accesses_per_run": accesses,
        "ratio_to_stress": {name: round(v / base, 2) for name, v in medians.items()},
        "fasttrack_only_ratio": round((base + ft_locked * accesses / 1e6) / base, 2),
        "detector_over_tracing": round(medians["tracing+detector"] / medians["tracing"], 2),
    }


def render(data: dict[str, Any]) -> str:
    ms = data["ms_per_run"]
    ratio = data["ratio_to_stress"]
    lines = [
        f"CPython {data['python']} (GIL enabled: {data['gil_enabled']}), "
        f"{data['threads']} x {data['iterations']:,} counter, median of {data['rounds']} "
        f"rounds of {data['runs']} runs:",
        "",
        "| variant | ms/run | vs untraced stress |",
        "|---|---|---|",
        *(f"| {name} | {ms[name]:.2f} | {ratio[name]:.2f}x |" for name in ms),
        "",
        f"FastTrack alone: {data['fasttrack_ns_per_access']:.0f} ns per access, "
        f"{data['fasttrack_locked_ns_per_access']:.0f} ns under a lock; x "
        f"{data['accesses_per_run']:,} accesses = "
        f"{data['fasttrack_only_ratio']:.2f}x the untraced stress run. "
        f"Detector over tracing alone: {data['detector_over_tracing']:.2f}x.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.races_stress", description=__doc__)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args(argv)
    data = measure(args.rounds, args.runs)
    print(json.dumps(data))
    print(render(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
