"""Section ``real``: explore, stress and frontrun on real libraries, buggy release against fixed.

Each driver of :mod:`bench.real_libs` names a library on PyPI with a public,
fixed threading bug, and the release before and after the fix. This installs
both releases, pinned exactly, with ``pip install --no-deps --target`` into a
directory of their own (:func:`install`), and runs each tool on each release in
a child process (``bench.real_cell``, bounded by :func:`bench.jobs.run_job`)
whose ``PYTHONPATH`` starts with that directory::

    python -m bench.real [--only NAME] [--budget N] [--stress-runs N] [--out PATH]

explore uses its default strategy with seed 0; on a failure the token is
replayed three times and each replay must fail with the same kind. stress runs
until its first failure (at most ``--stress-runs`` runs); frontrun runs its
default DPOR under its own launcher. Writes ``bench/sections/real.md``, which
``BENCHMARKS.md`` includes (``bench.report.ELSEWHERE``).
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.jobs import JobOutcome, frontrun_cli, run_job
from bench.real_libs import DRIVERS, load

__all__ = ["CACHE", "OUT", "REJECTED", "install", "judge", "main", "measure", "render"]

OUT = Path(__file__).with_name("sections") / "real.md"
#: Where the pinned releases are installed, one directory per (package, version).
CACHE = Path(os.environ.get("THREAD_HARNESS_REAL_CACHE", Path.home() / ".cache" / "harness-real"))
TOOLS = ("explore", "stress", "frontrun")
#: Candidates looked at and why they are not drivers (from their code, or from pip).
REJECTED = (
    "boltons 15.1.0 LRU (boltons#52; by its code the race is Python 2 only: there "
    "`from _thread import RLock` fails and a no-op lock is used)",
    "pytz 2013.9/2014.1 LazyDict (pip cannot build those sdists on 3.11: they import "
    "UserDict and collections.Mapping)",
    "jmespath 0.9.5/0.10.0 cache eviction (by their code both call `random.sample` on "
    "dict keys, a TypeError on 3.11)",
    "Jinja2 LRUCache (jinja#8: 2.11.3, the oldest release looked at, already locks `__getitem__`)",
    "ratelimiter 1.0.2/1.1.0 (by its code the IndexError needs a later caller while an "
    "earlier one is mid-exit; the virtual clock only advances when every thread waits)",
    "python-dateutil 2.8.0/2.8.1 (dateutil#973: by its description the race needs "
    "Python 2's pure-Python OrderedDict)",
)
PIP = (sys.executable, "-m", "pip", "install", "--quiet", "--no-deps")


def install(package: str, version: str, cache: Path = CACHE) -> Path:
    """``package==version`` in a directory of its own (reused when already there)."""
    target = cache / f"{package}-{version}"
    done = target / ".installed"
    if not done.exists():
        subprocess.run(
            [*PIP, "--target", str(target), f"{package}=={version}"],
            check=True,
            timeout=300,
        )
        done.write_text(f"{package}=={version}\n")
    return target


def _spec(name: str, tool: str, version: str, args: argparse.Namespace) -> dict[str, Any]:
    spec: dict[str, Any] = {"driver": name, "tool": tool, "version": version, "seed": 0}
    if tool == "explore":
        spec.update(budget=args.budget, replays=3)
    elif tool == "stress":
        spec.update(runs=args.stress_runs, seconds=args.seconds)
    else:
        spec.update(budget=args.budget, seconds=args.seconds)
    return spec


def measure(
    name: str, tool: str, version: str, path: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """One tool on one release, in a child process bounded by ``args.wall`` seconds."""
    env_path = os.pathsep.join([str(path), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env_path
    try:
        outcome: JobOutcome = run_job(
            _spec(name, tool, version, args),
            family="frontrun" if tool == "frontrun" else "ours",
            wall=args.wall,
            module="bench.real_cell",
        )
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    if outcome.records:
        return outcome.records[0]
    reason = "killed at the wall limit" if outcome.killed else f"exit {outcome.returncode}"
    return {"error": f"{reason}: {outcome.stderr_tail[-200:].strip()}", "seconds": args.wall}


def judge(driver: ModuleType, buggy: dict[str, Any], fixed: dict[str, Any]) -> dict[str, bool]:
    """The issue's "done when" for one library, from explore's two records."""
    found = buggy.get("first") is not None and driver.KIND in buggy.get("kinds", [])
    replays = buggy.get("replays") or []
    replayed = bool(replays) and all(driver.KIND in r["kinds"] for r in replays)
    clean = "error" not in fixed and not fixed.get("kinds")
    return {"found": found, "kind": found, "replayed": replayed, "fixed_clean": clean}


def _explore_cell(record: dict[str, Any], buggy: bool) -> str:
    if "error" in record:
        return f"error: {record['error'][:80]}"
    if buggy:
        if record.get("first") is None:
            return f"not found in {record['runs']:,} ({record['seconds']:.1f} s)"
        kinds = "+".join(dict.fromkeys(record["kinds"]))
        replays = record.get("replays") or []
        same = sum(1 for r in replays if set(r["kinds"]) & set(record["kinds"][:1]))
        where = f"at schedule {record['first']} ({record['seconds']:.1f} s)"
        return f"{kinds} {where}; replayed {same}/{len(replays)}"
    if record.get("kinds"):
        return f"FALSE {'+'.join(dict.fromkeys(record['kinds']))} ({record['seconds']:.1f} s)"
    return f"nothing in {record['runs']:,} ({record['seconds']:.1f} s)"


def _stress_cell(record: dict[str, Any], buggy: bool) -> str:
    if "error" in record:
        return f"error: {record['error'][:80]}"
    if record.get("first") is not None:
        kinds = "+".join(dict.fromkeys(record["kinds"]))
        prefix = "" if buggy else "FALSE "
        return f"{prefix}{kinds} at run {record['first']} ({record['seconds']:.1f} s)"
    return f"nothing in {record['runs']:,} runs ({record['seconds']:.1f} s)"


def _frontrun_cell(record: dict[str, Any], buggy: bool) -> str:
    false = "" if buggy else "FALSE "
    took = f"({record.get('seconds', 0.0):.1f} s)"
    if "error" in record:
        if record.get("escaped"):  # the program's own exception, out of frontrun.explore
            return f"{false}raised {record['error'][:60]} {took}"
        return f"cannot drive: {record['error'][:80]}"
    if record.get("holds") is False:
        return f"{false}violation after {record['runs']} {took}"
    if record.get("holds") is None:
        why = (record.get("inconclusive") or "")[:60]
        return f"inconclusive after {record['runs']} {took}: {why}"
    return f"holds, {record['runs']} executions {took}"


CELLS = {"explore": _explore_cell, "stress": _stress_cell, "frontrun": _frontrun_cell}


def render(rows: list[dict[str, Any]], args: argparse.Namespace, seconds: float) -> str:
    """The Markdown of the section."""
    today = datetime.date.today().isoformat()
    python = sys.version.split()[0]
    lines = [
        f"Measured with `python -m bench.real --budget {args.budget} --stress-runs "
        f"{args.stress_runs} --seconds {args.seconds:g} --wall {args.wall:g}` (CPython "
        f"{python}, {today}, 2 shared cores; the whole run took "
        f"{seconds:.0f} s). Each library is installed twice from PyPI, pinned exactly "
        "(`pip install --no-deps --target`), and driven through its public API by "
        "`bench/real_libs/<driver>.py`, whose docstring cites the public issue. explore: "
        "default strategy, seed 0, `harness.install()` first; on a failure the token is "
        "replayed 3 times. stress: until its first failure. frontrun 0.7: its default "
        "DPOR under its launcher, with the same budget.",
        "",
        "| library | issue | release | expected | explore | stress | frontrun |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        driver = row["driver"]
        for which in ("buggy", "fixed"):
            buggy = which == "buggy"
            version = driver.BUGGY if buggy else driver.FIXED
            cells = [CELLS[tool](row[which][tool], buggy) for tool in TOOLS]
            expected = driver.KIND if buggy else "nothing"
            lines.append(
                f"| {driver.PACKAGE} | [{_short(driver.ISSUE)}]({driver.ISSUE}) | {version} "
                f"({which}) | {expected} | " + " | ".join(cells) + " |"
            )
    lines += [
        "",
        "Reading the table: explore's seconds include shrinking, not the replays; "
        "`FALSE` marks a failure reported on a fixed release; frontrun's `raised` is the "
        "program's exception escaping `frontrun.explore` (a detection), `inconclusive` its "
        "own verdict (quoted). stress reports a deadlock through a `Condition` as `hang`.",
        "",
        "The engine change this section led to: explore does not preempt a thread that "
        "holds a `multiprocessing` Lock or RLock made after `harness.install()` "
        "(`harness/_tracing/processlocks.py`), and names such a lock when a thread blocks "
        "on it (`harness/explore/stall.py`). tqdm's default write lock is a multiprocessing "
        "RLock taken before a thread RLock; with the change disabled (`processlocks.held` "
        "forced false) explore reports `hang` on both tqdm releases, naming "
        "`TqdmDefaultWriteLock.mp_lock` (6.6 s each); before the stall diagnosis knew "
        "multiprocessing locks, that hang waited the whole 10 s timeout (24 s with its replay, "
        "measured with an earlier tqdm driver).",
        "",
        "Tried and not used (the buggy release does not show the bug on CPython 3.11): "
        + "; ".join(REJECTED)
        + ".",
    ]
    lines += ["", "What each driver does:", ""]
    lines += [f"- `{row['name']}` ({row['driver'].PACKAGE}): {row['driver'].BUG}" for row in rows]
    verdicts = [
        (row["name"], judge(row["driver"], row["buggy"]["explore"], row["fixed"]["explore"]))
        for row in rows
    ]
    met = [name for name, v in verdicts if all(v.values())]
    lines += [
        "",
        f"- explore met the issue's bar (bug found with its kind, every replay fails the "
        f"same way, nothing on the fix) on {len(met)} of {len(rows)} libraries"
        + (
            f"; not on: {', '.join(n for n, v in verdicts if not all(v.values()))}"
            if len(met) < len(rows)
            else ""
        ),
    ]
    return "\n".join(lines) + "\n"


def _short(url: str) -> str:
    parts = url.rstrip("/").split("/")
    return (
        f"{parts[-3]}#{parts[-1]}" if len(parts) >= 3 and parts[-2] in ("issues", "pull") else url
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.real", description=__doc__)
    parser.add_argument("--only", default="", help="drivers whose name contains this")
    parser.add_argument("--budget", type=int, default=300, help="explore/frontrun schedules")
    parser.add_argument("--stress-runs", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=15.0, help="stress/frontrun bound")
    parser.add_argument("--wall", type=float, default=60.0, help="each child's wall limit")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = []
    tools = TOOLS if frontrun_cli() is not None else TOOLS[:2]
    for name in DRIVERS:
        if args.only not in name:
            continue
        driver = load(name)
        row: dict[str, Any] = {"name": name, "driver": driver}
        for which, version in (("buggy", driver.BUGGY), ("fixed", driver.FIXED)):
            path = install(driver.PACKAGE, version)
            row[which] = {}
            for tool in TOOLS:
                if tool in tools:
                    row[which][tool] = measure(name, tool, version, path, args)
                else:
                    row[which][tool] = {"error": "frontrun is not installed"}
                print(
                    name, version, tool, CELLS[tool](row[which][tool], which == "buggy"), flush=True
                )
        rows.append(row)
    text = render(rows, args, time.perf_counter() - started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
