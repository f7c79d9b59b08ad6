"""``python -m bench [--quick] [--sections cost,profile,detection,throughput,scale]``.

Runs the chosen sections on this interpreter, stores the run in
``bench/results.json`` under this Python version (other versions' runs are kept)
and regenerates ``BENCHMARKS.md``. ``--report-only`` just regenerates the
Markdown from the stored results.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import cost, detection, noise, profile, report, results, throughput
from harness._gil import free_threaded_build

SECTIONS: dict[str, Callable[[bool, Callable[[str], None]], dict[str, Any]]] = {
    "cost": cost.run,
    "profile": profile.run,
    "detection": detection.run,
    "throughput": throughput.run,
    "scale": detection.run_scale,
    "noise": noise.run,
}


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small bounds, for development")
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated, from {', '.join(SECTIONS)} (default: all)",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="regenerate BENCHMARKS.md and stop"
    )
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; expected {', '.join(SECTIONS)}")
    args.sections = chosen
    return args


def _exit_on_term(signum: int, frame: object) -> None:
    # SystemExit unwinds through bench.jobs, which kills the running child first.
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    args = _parse(argv)
    signal.signal(signal.SIGTERM, _exit_on_term)
    if args.report_only:
        report.write(results.load())
        return 0
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {message}", flush=True)

    backend = "sys.monitoring" if sys.version_info >= (3, 12) else "settrace"
    # A free-threaded build is a column of its own ("3.13.5t"), not the GIL build's.
    free_threaded = free_threaded_build()
    if free_threaded:
        backend += ", free-threaded"
    run: dict[str, Any] = {
        "python": sys.version.split()[0] + ("t" if free_threaded else ""),
        "backend": backend,
        "quick": args.quick,
        "command": " ".join(["python -m bench", *argv]),
        "machine": results.describe_machine(),
        "versions": results.versions(),
        "sections": {},
    }
    for name in args.sections:
        log(f"section {name} ...")
        section_started = time.perf_counter()
        section = SECTIONS[name](args.quick, log)
        section["seconds"] = round(time.perf_counter() - section_started, 1)
        section["quick"] = args.quick
        section["date"] = results.describe_machine()["date"]
        section["command"] = run["command"]
        run["sections"][name] = section
    run["seconds"] = round(time.perf_counter() - started, 1)
    data = results.save_run(run)
    report.write(data)
    log(f"done: {results.RESULTS} and {report.MARKDOWN}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
