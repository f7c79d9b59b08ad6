"""Unmodified test suites in threads: ``--harness-threads=4`` against pytest-run-parallel.

Each target's suite runs three ways in a subprocess of this interpreter: once,
plainly (the baseline); with pytest-run-parallel 0.10 (``--parallel-threads=4``, the
harness plugin disabled); with ``--harness-threads=4`` (pytest-run-parallel
disabled). The targets are ``examples/inventory`` (four known thread-safety bugs
beside their fixes) and the test suites of two pure-Python libraries from their PyPI
source distributions, unmodified. The table says, per tool, how many tests failed
that pass when run once, which of those are the known bugs, and the wall time.

    python -m bench.suite            # print the table
    python -m bench.suite --write    # and write bench/suite-<python>.md (BENCHMARKS.md §8)

Needs ``pytest-run-parallel==0.10.0`` and the harness installed in this interpreter,
and pip access to PyPI for the two sdists.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: (name, sdist spec, test folder inside the unpacked sdist)
LIBRARIES = (("cachetools", "cachetools==8.0.2", "tests"), ("toolz", "toolz==1.2.0", "toolz/tests"))
#: The inventory example's tests that exercise a real thread-safety bug.
KNOWN_BUGS = {
    "test_every_id_is_new",
    "test_withdrawing_never_overdraws",
    "test_restock_then_audit",
    "test_refresher_refreshes",
}
TIMEOUT = 900.0
MODES = {
    "once": ["-p", "no:run-parallel"],
    "pytest-run-parallel": ["-p", "no:harness", "--parallel-threads=4"],
    "thread-harness": ["-p", "no:run-parallel", "--harness-threads=4"],
}


@dataclass
class Row:
    target: str
    mode: str
    failed: set[str]
    passed: int
    seconds: float
    once: int  # tests the harness ran once, in one thread (as thread-unsafe)
    parallel: int | None = None  # tests pytest-run-parallel says it runs in threads


def _run(folder: Path, tests: str, mode: str) -> Row:
    command = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider"]
    command += ["-p", "no:randomly", *MODES[mode], tests]
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=folder, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    seconds = time.perf_counter() - started
    out = done.stdout
    failed = set(re.findall(r"^(?:PARALLEL )?(?:FAILED|ERROR) \S*?::(\S+)", out, re.M))
    passed = int(m.group(1)) if (m := re.search(r"(\d+) passed", out)) else 0
    once = int(m.group(1)) if (m := re.search(r"; (\d+) ran once, in one thread", out)) else 0
    parallel = re.search(r"Collected (\d+) items to run in parallel", out)
    return Row(folder.name, mode, failed, passed, seconds, once, parallel and int(parallel[1]))


def _sdist(spec: str, into: Path) -> Path:
    pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
    subprocess.run(
        [*pip, spec, "-d", str(into)],
        check=True,
        timeout=300,
    )
    archive = next(into.glob(spec.split("==")[0] + "-*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / archive.name[: -len(".tar.gz")]


def measure() -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [(ROOT / "examples" / "inventory", "test_inventory.py")]
        for _name, spec, tests in LIBRARIES:
            targets.append((_sdist(spec, Path(tmp)), tests))
        for folder, tests in targets:
            for mode in MODES:
                rows.append(_run(folder, tests, mode))
                print(f"  {rows[-1].target} {mode}: {len(rows[-1].failed)} failed", flush=True)
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| suite | tool | passed | failed (not when run once) | known bugs found | ran once "
        "| wall s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    baseline = {row.target: row.failed for row in rows if row.mode == "once"}
    tests = {row.target: row.passed + len(row.failed) for row in rows if row.mode == "once"}
    for row in rows:
        new = row.failed - baseline[row.target]
        known = f"{len(new & KNOWN_BUGS)} of {len(KNOWN_BUGS)}" if row.target == "inventory" else ""
        once = "" if row.mode == "once" else str(row.once)
        if row.parallel is not None:
            once = str(tests[row.target] - row.parallel)
        lines.append(
            f"| {row.target} | {row.mode} | {row.passed} | {len(new)} | {known} | {once} "
            f"| {row.seconds:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write bench/suite-<python>.md")
    args = parser.parse_args()
    rows = measure()
    text = table(rows)
    print(text)
    if args.write:
        version = sys.version.split()[0] + ("t" if "free-threading" in sys.version else "")
        short = ".".join(version.split(".")[:2]) + ("t" if version.endswith("t") else "")
        (ROOT / "bench" / f"suite-{short}.md").write_text(
            f"Measured with `python -m bench.suite --write` on CPython {version}, "
            f"{time.strftime('%Y-%m-%d')}.\n\n{text}\n"
        )


if __name__ == "__main__":
    main()
