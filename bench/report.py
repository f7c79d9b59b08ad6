"""Regenerate ``BENCHMARKS.md`` from ``bench/results.json``: ``python -m bench --report-only``.

Every number in the Markdown comes from the stored results; the verdicts on the
targets of issue 8 are computed here, from those numbers, the same way every time.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["MARKDOWN", "render", "targets", "write"]

MARKDOWN = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"

#: The engine's default strategy (harness.explore.DEFAULT_STRATEGY): the targets are its.
DEFAULT = "explore-mixed"
DEFAULT_LABEL = "explore mixed (default)"
OUR_EXPLORE = (DEFAULT, "explore-pct", "explore-random", "explore-dfs")
OUR_TOOLS = (*OUR_EXPLORE, "stress", "stress-noise", "stress-noise-high")
FRONTRUN = ("frontrun-random", "frontrun-dpor")
#: The tools of the per-increment and growth tables of the cost section.
PER_INCREMENT = ("untraced", DEFAULT, "explore-pct", "explore-random", *FRONTRUN)
INF = float("inf")


# -- formatting -----------------------------------------------------------------


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _s(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 0.01:
        return f"{value * 1000:.1f} ms"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 10:
        return f"{value:.2f} s"
    return f"{value:.0f} s"


def _ratio(value: float | None) -> str:
    if value is None or value != value:
        return "–"
    if value == INF:
        return "∞"
    return f"{value:.1f}x" if value < 100 else f"{value:,.0f}x"


def _table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _met(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "**missed**")


# -- computations shared by the tables and the verdicts ------------------------------


def _cost_at(section: dict[str, Any], threads: int, iterations: int) -> dict[str, Any] | None:
    for size in section.get("sizes", []):
        if size["threads"] == threads and size["iterations"] == iterations:
            tools: dict[str, Any] = size["tools"]
            return tools
    return None


def _ms_of(tools: dict[str, Any], name: str) -> float | None:
    entry = tools.get(name, {})
    value = entry.get("ms_per_schedule")
    return float(value) if value is not None else None


def _frontrun_best_ms(tools: dict[str, Any]) -> float | None:
    found = [v for v in (_ms_of(tools, t) for t in FRONTRUN) if v is not None]
    return min(found) if found else None


def _median_seconds(entry: dict[str, Any] | None) -> float:
    if not entry or entry.get("median_seconds") is None:
        return INF
    return float(entry["median_seconds"])


def _measured(section: dict[str, Any], name: str) -> bool:
    """Whether the detection section ran the tool ``name`` (older runs predate some)."""
    return any(name in row["tools"] for row in section.get("programs", []))


def _corpus_ratio(section: dict[str, Any], ours: str = DEFAULT) -> dict[str, Any]:
    """Median time to first detection on the corpus, ours against frontrun's faster."""
    if not _measured(section, ours):
        return {"programs": [], "ours": None, "frontrun": None, "ratio": None}
    per_program = []
    for row in section.get("programs", []):
        if row["source"] != "corpus" or not row["buggy"]:
            continue
        mine = _median_seconds(row["tools"].get(ours))
        theirs = min(_median_seconds(row["tools"].get(t)) for t in FRONTRUN)
        per_program.append((row["program"], mine, theirs))
    if not per_program:
        return {"programs": [], "ours": None, "frontrun": None, "ratio": None}
    # The ratio of the two medians can be far from the typical program's ratio
    # (the medians may fall on different programs): report both.
    ratios = [_program_ratio(m, t) for _, m, t in per_program if not m == t == INF]
    ours_median = statistics.median(m for _, m, _ in per_program)
    theirs_median = statistics.median(t for _, _, t in per_program)
    if ours_median == INF:
        ratio = 0.0
    elif ours_median == 0:
        ratio = INF
    else:
        ratio = theirs_median / ours_median
    return {
        "programs": per_program,
        "ours": ours_median,
        "frontrun": theirs_median,
        "ratio": ratio,
        "median_ratio": statistics.median(ratios) if ratios else None,
    }


def _program_ratio(mine: float, theirs: float) -> float:
    """frontrun's seconds over ours on one program (misses are infinite)."""
    if mine == INF:
        return 0.0
    if mine == 0:
        return INF
    return theirs / mine


def _status_count(section: dict[str, Any], tools: Iterable[str], status: str, buggy: bool) -> int:
    count = 0
    for row in section.get("programs", []):
        if row["buggy"] != buggy:
            continue
        for name in tools:
            entry = row["tools"].get(name)
            if entry:
                count += int(entry["statuses"].get(status, 0))
    return count


def targets(run: dict[str, Any]) -> list[list[str]]:
    """Rows: target, measured, verdict."""
    sections = run["sections"]
    rows: list[list[str]] = []
    detection = sections.get("detection")
    if detection:
        buggy = [r for r in detection["programs"] if r["buggy"]]
        missed_any = [
            r["program"]
            for r in buggy
            if not any(r["tools"].get(t, {}).get("found", 0) for t in OUR_EXPLORE)
        ]
        if _measured(detection, DEFAULT):
            missed = [
                r["program"] for r in buggy if r["tools"].get(DEFAULT, {}).get("found", 0) == 0
            ]
            text = f"{len(buggy) - len(missed)}/{len(buggy)} by {DEFAULT_LABEL}"
            if missed:
                text += f" (missed: {', '.join(missed)})"
            verdict = _met(not missed)
        else:
            text = f"{DEFAULT_LABEL} not measured (the stored run predates it)"
            verdict = _met(None)
        text += f"; {len(buggy) - len(missed_any)}/{len(buggy)} by some strategy"
        rows.append(["every corpus and catalogue bug found", text, verdict])
        alarms = _status_count(detection, OUR_TOOLS, "false alarm", buggy=False)
        rows.append(
            [
                "zero false alarms (our tools, fixed twins)",
                str(alarms),
                _met(alarms == 0),
            ]
        )
        ours_bad = sum(
            _status_count(detection, OUR_TOOLS, s, b)
            for s in ("inconclusive", "error")
            for b in (True, False)
        )
        theirs_bad = sum(
            _status_count(detection, FRONTRUN, s, b)
            for s in ("inconclusive", "error")
            for b in (True, False)
        )
        rows.append(
            [
                'zero "inconclusive" results',
                f"ours {ours_bad} inconclusive or errors; frontrun {theirs_bad}",
                _met(ours_bad == 0),
            ]
        )
    cost = sections.get("cost")
    if cost:
        tools = _cost_at(cost, 2, 1000) or {}
        best = _frontrun_best_ms(tools)
        mixed = _ms_of(tools, DEFAULT)
        others = [(n, _ms_of(tools, f"explore-{n}")) for n in ("pct", "random")]
        if best:
            shown = [("mixed (default)", mixed), *others]
            text = (
                ", ".join(f"{n} {_ms(v)} ms" for n, v in shown)
                + f" vs frontrun's faster {_ms(best)} ms: "
                + ", ".join(f"{n.split()[0]} {v / best:.2f}" for n, v in shown if v is not None)
                + " of it"
            )
            if mixed is None:
                text += f"; {DEFAULT_LABEL} not measured (the stored run predates it)"
            rows.append(
                [
                    "exploration <= 1/5 of frontrun per schedule (2x1000)",
                    text,
                    _met(None if mixed is None else mixed <= best / 5),
                ]
            )
    if detection:
        corpus = _corpus_ratio(detection)
        if not _measured(detection, DEFAULT):
            rows.append(
                [
                    "median time to first detection >= 5x lower (corpus)",
                    f"{DEFAULT_LABEL} not measured (the stored run predates it)",
                    _met(None),
                ]
            )
        elif corpus["ratio"] is not None:
            text = (
                f"median over the corpus: ours (mixed, default) {_s(corpus['ours'])}, "
                f"frontrun's faster {_s(corpus['frontrun'])}: {_ratio(corpus['ratio'])} lower "
                f"(median of the per-program ratios: {_ratio(corpus['median_ratio'])})"
            )
            for name in ("pct", "random"):
                other = _corpus_ratio(detection, f"explore-{name}")
                if other["ratio"] is not None:
                    text += f"; {name} {_s(other['ours'])} ({_ratio(other['ratio'])})"
            rows.append(
                [
                    "median time to first detection >= 5x lower (corpus)",
                    text,
                    _met(corpus["ratio"] >= 5),
                ]
            )
    through = sections.get("throughput")
    if through:
        for rate in through.get("rates", []):
            per = rate["per_second"]
            if "threading" in per and "stress" in per:
                share = per["stress"] / per["threading"]
                text = (
                    f"{rate['threads']} threads/run: stress {per['stress']:,.0f}/s, "
                    f"threading {per['threading']:,.0f}/s ({share:.0%})"
                )
                rows.append(
                    [
                        "stress start+join >= 1/2 of raw threading",
                        text,
                        _met(share >= 0.5),
                    ]
                )
        largest = through.get("largest_clean")
        rows.append(
            [
                "1,000 threads per run handled cleanly",
                f"largest clean: {largest if largest else 'none'}",
                _met(largest is not None and largest >= 1000),
            ]
        )
    return rows


# -- sections -----------------------------------------------------------------------


def _cost_section(cost: dict[str, Any]) -> list[str]:
    out = [
        f"Program: {cost['program']}. Milliseconds per schedule, median of {cost['rounds']} "
        + ("rounds, that is their mean " if cost["rounds"] == 2 else "rounds ")
        + "(each: a warm-up call, then as many schedules as fit in "
        f"{cost['target_seconds']:g} s, at most {cost['max_schedules']}).",
        "",
    ]
    tools = [
        "untraced",
        "tracing-only",
        "explore-serial",
        DEFAULT,
        "explore-pct",
        "explore-random",
        "explore-dfs",
        "frontrun-random",
        "frontrun-dpor",
    ]
    header = [
        "threads x iterations",
        *tools,
        "mixed (default) / frontrun's faster",
        "pct / frontrun's faster",
    ]
    rows = []
    for size in cost["sizes"]:
        t = size["tools"]
        best = _frontrun_best_ms(t)
        ratios = []
        for name in (DEFAULT, "explore-pct"):
            ours = _ms_of(t, name)
            ratios.append(f"{ours / best:.2f}" if best and ours else "–")
        cells = []
        for name in tools:
            value = _ms_of(t, name)
            if value is not None:
                cells.append(_ms(value))
            else:
                cells.append("error" if name in t else "not run")
        rows.append([f"{size['threads']} x {size['iterations']:,}", *cells, *ratios])
    out += _table(header, rows)
    notes = {
        size["tools"].get("frontrun-random", {}).get("note", "")
        for size in cost["sizes"]
        if size["tools"].get("frontrun-random", {}).get("note")
    }
    if notes:
        out += [
            "",
            f"frontrun random ran with the smallest sufficient {', '.join(sorted(notes))}.",
        ]
    out += [
        "",
        "Microseconds per increment (cost per schedule / (threads x iterations)):",
        "",
    ]
    rows = []
    for size in cost["sizes"]:
        n = size["threads"] * size["iterations"]
        cells = []
        for name in PER_INCREMENT:
            value = _ms_of(size["tools"], name)
            cells.append(f"{value * 1000 / n:.2f}" if value is not None else "–")
        rows.append([f"{size['threads']} x {size['iterations']:,}", *cells])
    out += _table(["threads x iterations", *PER_INCREMENT], rows)
    out += _growth(cost)
    ref = _cost_at(cost, 2, 1000)
    if ref:
        untraced = _ms_of(ref, "untraced") or 0.0
        tracing = _ms_of(ref, "tracing-only")
        serial = _ms_of(ref, "explore-serial")
        random_ms = _ms_of(ref, "explore-random")
        pct = _ms_of(ref, "explore-pct")
        mixed = _ms_of(ref, DEFAULT)
        if tracing is not None and serial is not None and random_ms is not None and pct:
            strategy_rows = [
                [
                    "hand-offs and strategy (pct)",
                    _ms(pct - serial),
                    "explore-pct - explore-serial",
                ]
            ]
            if mixed is not None:
                strategy_rows.insert(
                    0,
                    [
                        "hand-offs and strategy (mixed, default)",
                        _ms(mixed - serial),
                        "explore-mixed - explore-serial",
                    ],
                )
            out += [
                "",
                "Where one schedule's time goes at 2 x 1,000 (differences between rungs, ms):",
                "",
            ]
            out += _table(
                ["part", "ms", "how measured"],
                [
                    ["the program on plain threads", _ms(untraced), "untraced"],
                    ["tracing", _ms(tracing - untraced), "tracing-only - untraced"],
                    [
                        "decisions and bookkeeping",
                        _ms(serial - tracing),
                        "explore-serial (never preempts) - tracing-only",
                    ],
                    [
                        "hand-offs between threads (random)",
                        _ms(random_ms - serial),
                        "explore-random - explore-serial",
                    ],
                    *strategy_rows,
                ],
            )
    return out


def _growth(cost: dict[str, Any]) -> list[str]:
    """How cost per schedule grows from the reference size, per tool."""
    ref = _cost_at(cost, 2, 1000)
    if not ref:
        return []
    steps = [
        (f"2 x {size['iterations']:,}", size["iterations"] / 1000, size["tools"])
        for size in cost["sizes"]
        if size["threads"] == 2 and size["iterations"] != 1000
    ] + [
        (f"{size['threads']} x 1,000", size["threads"] / 2, size["tools"])
        for size in cost["sizes"]
        if size["iterations"] == 1000 and size["threads"] != 2
    ]
    if not steps:
        return []
    names = PER_INCREMENT
    rows = []
    for label, work, tools in steps:
        cells = []
        for name in names:
            base, value = _ms_of(ref, name), _ms_of(tools, name)
            cells.append(f"x{value / base:.2f}" if base and value is not None else "–")
        rows.append([label, f"x{work:g}", *cells])
    return [
        "",
        "Growth from 2 x 1,000: cost per schedule relative to the reference size, next to "
        "the relative amount of work (threads x iterations):",
        "",
        *_table(["size", "work", *names], rows),
    ]


def _profile_section(profile: dict[str, Any]) -> list[str]:
    if "error" in profile:
        return [f"No profile: {profile['error']}."]
    out = [
        f"`{profile['tool']}` of explorations of the cost program (2 x 1,000) and of the "
        "100-thread two-stage program, and of the stress engine running 100 threads that "
        "do nothing: samples of the thread holding the GIL inside the engine call; self "
        "time by part of the engine and by function.",
    ]
    for entry in profile["profiles"]:
        out += [
            "",
            f"**{entry.get('program', 'counter 2 x 1,000')}, {entry['strategy']}**",
        ]
        if "error" in entry:
            out += ["", f"py-spy failed: {entry['error']}"]
            continue
        if "threads_per_second" in entry:
            measured = (
                f"{entry.get('runs', '?')} runs, {entry['threads_per_second']:,.0f} threads "
                "started and joined per second under the profiler"
            )
        else:
            measured = (
                f"{entry.get('schedules', '?')} schedules, {entry.get('ms_per_schedule', '?')} ms "
                "per schedule under the profiler"
            )
        out += ["", f"{measured}, {entry['samples']} samples.", ""]
        out += _table(
            ["part", "share"],
            ([p["part"], f"{p['share']:.1%}"] for p in entry["parts"]),
        )
        out += [""]
        out += _table(
            ["function (self time)", "share"],
            ([f"`{t['function']}`", f"{t['share']:.1%}"] for t in entry["top"]),
        )
    return out


def _cell(entry: dict[str, Any] | None, buggy: bool) -> str:
    if not entry:
        return "–"
    statuses = entry["statuses"]
    attempts = sum(statuses.values())
    if buggy:
        found = entry["found"]
        if found == 0:
            others = [s for s in statuses if s != "found"]
            return "not found" + (f" ({', '.join(sorted(others))})" if others else "")
        kinds = sorted(
            {a["kind"] for a in entry["attempts"] if a["status"] == "found" and a["kind"]}
        )
        median = entry["median_schedules"]
        seconds = entry["median_seconds"]
        where = f"{median:g} · {_s(seconds)}" if median is not None else "median beyond bound"
        return f"{found}/{attempts} · {where} · {'/'.join(kinds)}"
    parts = [f"{n} {s}" for s, n in sorted(statuses.items())]
    return ", ".join(parts)


def _detection_section(detection: dict[str, Any]) -> list[str]:
    tools = list(detection["tools"])
    bounds = detection["bounds"]
    out = [
        f"Buggy programs: {bounds['seeds']} seeds per seeded or non-deterministic tool "
        f"(one run for explore dfs and frontrun dpor, which are deterministic), each "
        f"bounded by {bounds['buggy']['schedules']:,} schedules (runs, for stress) and "
        f"{bounds['buggy']['seconds']:g} s. A cell reads *found/attempts · median schedules · "
        "median seconds to the first detection · kinds*; a miss counts as infinite, so the "
        "median is 'beyond bound' when half the attempts missed. Runs of the stress engine "
        "and of pytest-run-parallel count as hung after 2 s; frontrun keeps its defaults (5 s "
        "deadlock and per-run timeouts). frontrun runs with `reproduce_on_failure=0` and ours "
        "without shrinking, so that both times end at the detection.",
        "",
    ]
    header = ["program", *[detection["tools"][t] for t in tools]]
    buggy_rows = [r for r in detection["programs"] if r["buggy"]]
    out += _table(
        header,
        (
            [f"`{r['program']}`", *[_cell(r["tools"].get(t), True) for t in tools]]
            for r in buggy_rows
        ),
    )
    out += [
        "",
        f"Fixed twins: seed 0, each bounded by {bounds['fixed']['schedules']:,} schedules and "
        f"{bounds['fixed']['seconds']:g} s; any failure is a false alarm.",
        "",
    ]
    fixed_rows = [r for r in detection["programs"] if not r["buggy"]]
    out += _table(
        header,
        (
            [f"`{r['program']}`", *[_cell(r["tools"].get(t), False) for t in tools]]
            for r in fixed_rows
        ),
    )
    out += ["", "Totals per tool:", ""]
    totals = []
    for t in tools:
        found = sum(
            1 for r in buggy_rows if r["tools"].get(t, {}).get("median_seconds") is not None
        )
        some = sum(1 for r in buggy_rows if r["tools"].get(t, {}).get("found", 0) > 0)
        alarms = _status_count(detection, [t], "false alarm", buggy=False)
        inconclusive = sum(_status_count(detection, [t], "inconclusive", b) for b in (True, False))
        errors = sum(_status_count(detection, [t], "error", b) for b in (True, False))
        totals.append(
            [
                detection["tools"][t],
                f"{found}/{len(buggy_rows)}",
                f"{some}/{len(buggy_rows)}",
                str(alarms),
                str(inconclusive),
                str(errors),
            ]
        )
    out += _table(
        [
            "tool",
            "bugs found (median within bound)",
            "bugs found at least once",
            "false alarms",
            "inconclusive",
            "errors",
        ],
        totals,
    )
    corpus = _corpus_ratio(detection)
    if corpus["programs"]:
        others = [(name, _corpus_ratio(detection, f"explore-{name}")) for name in ("pct", "random")]
        others = [(name, other) for name, other in others if other["programs"]]
        out += [
            "",
            "Median seconds to the first detection on the corpus: ours with the default "
            f"strategy (mixed){''.join(f', with {n}' for n, _ in others)}, and frontrun's "
            "faster strategy on each program; the ratio is frontrun's over the default's. The "
            "target compares the two medians (last row); the median of the per-program "
            f"ratios is {_ratio(corpus['median_ratio'])}.",
            "",
        ]
        seconds = {name: {p: m for p, m, _ in o["programs"]} for name, o in others}
        rows = []
        for program, mine, theirs in corpus["programs"]:
            ratio = _program_ratio(mine, theirs) if not mine == theirs == INF else None
            rows.append(
                [
                    f"`{program}`",
                    _beyond(mine),
                    *[_beyond(seconds[name].get(program, INF)) for name, _ in others],
                    _beyond(theirs),
                    _ratio(ratio),
                ]
            )
        rows.append(
            [
                "**median**",
                _beyond(corpus["ours"]),
                *[_beyond(other["ours"]) for _, other in others],
                _beyond(corpus["frontrun"]),
                _ratio(corpus["ratio"]),
            ]
        )
        out += _table(
            [
                "program",
                "ours: mixed (default)",
                *[f"ours: {name}" for name, _ in others],
                "frontrun (faster)",
                "frontrun / mixed",
            ],
            rows,
        )
    return out


def _beyond(seconds: float) -> str:
    return _s(seconds) if seconds != INF else "beyond bound"


def _throughput_section(through: dict[str, Any]) -> list[str]:
    out = [
        "Threads started and joined per second (threads that do nothing; median of rounds):",
        "",
    ]
    rows = []
    for rate in through["rates"]:
        per = rate["per_second"]
        raw = per.get("threading")
        cells = []
        for tool in ("threading", "stress", "stress-noise", "run-parallel"):
            value = per.get(tool)
            share = f" ({value / raw:.0%})" if value and raw else ""
            cells.append(f"{value:,.0f}{share}" if value else "–")
        rows.append([f"{rate['threads']} x {rate['runs']}", *cells])
    out += _table(
        [
            "threads x runs",
            "raw threading",
            "stress, no noise",
            "stress, default noise",
            "pytest-run-parallel",
        ],
        rows,
    )
    out += [
        "",
        "Thread counts per run through `harness.stress` (each thread increments a counter "
        "under a lock; noise 0.001; clean = every run ended, the check held, nothing "
        "reported, no thread left behind):",
        "",
    ]
    out += _table(
        ["threads per run", "runs", "clean", "seconds per run", "failures"],
        (
            [
                f"{s['threads']:,}",
                str(s["runs"]),
                "yes" if s["clean"] else "**no**",
                f"{s['seconds_per_run']:.2f}",
                "; ".join(_once(f) for f in s["failures"]) or "–",
            ]
            for s in through["ladder"]
        ),
    )
    return out


def _once(failure: str) -> str:
    """``kind: message``, without the kind twice when the message starts with it."""
    kind, sep, message = failure.partition(": ")
    return message if sep and message.startswith(f"{kind}:") else failure


def _scale_section(scale: dict[str, Any]) -> list[str]:
    bounds = scale["bounds"]
    out = [
        f"Seed 0, each bounded by {bounds['schedules']:,} schedules and {bounds['seconds']:g} s "
        "(whichever comes first). A cell reads *schedules · seconds* to the detection, or how "
        "far the search got.",
        "",
    ]
    tools = list(scale["tools"])
    rows = []
    for row in scale["programs"]:
        cells = []
        for t in tools:
            entry = row["tools"].get(t)
            if not entry or not entry["attempts"]:
                cells.append("–")
                continue
            a = entry["attempts"][0]
            if a["status"] == "found":
                cells.append(f"found: {a['schedules']:,} · {_s(a['seconds'])}")
            else:
                cells.append(f"{a['status']}: {a['schedules']:,} in {_s(a['seconds'])}")
        rows.append([f"`{row['program']}` ({row['threads']} threads)", *cells])
    out += _table(["program", *[scale["tools"][t] for t in tools]], rows)
    return out


def render(data: dict[str, Any]) -> str:
    runs = data.get("runs", {})
    lines = [
        "# Benchmarks",
        "",
        "Generated by `nox -s bench` (`python -m bench` on CPython 3.11, which traces with "
        "`sys.settrace`, and on 3.12, which uses `sys.monitoring`) from `bench/results.json`; "
        "`python -m bench --report-only` regenerates this file from the stored results and "
        "`nox -s bench -- --quick` is a short pass with small bounds. Every measurement runs "
        "in a child process of its own, side by side in one session, bounded in schedules and "
        "seconds; compare ratios within a run, not absolute times across runs (the machine "
        "is shared). The corpus is `bench/corpus/` (ports of SCTBench's patterns, each with a "
        "fixed twin); the catalogue programs are the variants that `harness explore` can run.",
        "",
    ]
    if not runs:
        return "\n".join([*lines, "No results yet: run `nox -s bench`.", ""])
    lines += ["## Runs", ""]
    lines += _table(
        ["Python", "tracing", "machine", "peers", "sections (mode, date, seconds)"],
        (
            [
                run["python"],
                run["backend"],
                f"{run['machine']['cpu']}, {run['machine']['cores']} cores, "
                f"{run['machine']['memory_gib']} GiB, {run['machine']['os']}",
                f"frontrun {run['versions'].get('frontrun')}, pytest-run-parallel "
                f"{run['versions'].get('pytest-run-parallel')}",
                "; ".join(
                    f"{name} ({_mode(sec)}, {sec.get('date', '?')}, {sec.get('seconds', '?')} s)"
                    for name, sec in run["sections"].items()
                ),
            ]
            for run in runs.values()
        ),
    )
    commands = sorted(
        {
            sec.get("command", run["command"])
            for run in runs.values()
            for sec in run["sections"].values()
        }
    )
    lines += ["", "Commands: " + ", ".join(f"`{c}`" for c in commands) + "."]
    lines += ["", "## Targets (issue 8)", ""]
    for version, run in runs.items():
        rows = targets(run)
        if rows:
            lines += [f"Python {version} ({run['backend']}):", ""]
            lines += _table(["target", "measured", "verdict"], rows)
            lines += [""]
    titles = {
        "cost": "1. Cost per schedule",
        "profile": "Where our time goes (profile)",
        "detection": "2. Detection",
        "throughput": "3. Stress throughput",
        "scale": "4. Scale of exploration",
        "noise": "5. Noise injection with and without a GIL",
    }
    renderers = {
        "cost": _cost_section,
        "profile": _profile_section,
        "detection": _detection_section,
        "throughput": _throughput_section,
        "scale": _scale_section,
        "noise": _noise_section,
    }
    for key, title in titles.items():
        present = [(v, r) for v, r in runs.items() if key in r["sections"]]
        if not present:
            continue
        lines += [f"## {title}", ""]
        for version, run in present:
            section = run["sections"][key]
            # A section stored before sections recorded their own mode and date
            # says so, rather than borrowing those of the run that last saved it.
            mode = _mode(section)
            lines += [
                f"### Python {version} ({run['backend']}), {mode}, "
                f"{section.get('date', 'date not recorded')}, {section.get('seconds', '?')} s",
                "",
            ]
            lines += renderers[key](section)
            lines += [""]
    lines += _measured_elsewhere()
    return "\n".join(lines).rstrip() + "\n"


#: Sections measured by their own command (not stored in results.json): each file
#: holds the Markdown of that section, and its first line names the command.
_HERE = Path(__file__).resolve().parent
ELSEWHERE = {
    "6. Linearizability checking": _HERE / "linearize.md",
    "7. The race detector": _HERE / "sections" / "races.md",
    "8. Unmodified test suites in threads: `--harness-threads=4` and pytest-run-parallel": (
        _HERE / "sections" / "suite.md"
    ),
    "9. Dynamic partial-order reduction": _HERE / "sections" / "dpor.md",
    "10. Real libraries: buggy and fixed releases from PyPI": _HERE / "sections" / "real.md",
    "11. Many threads: cost per schedule at 100 threads, and partial order sampling": (
        _HERE / "sections" / "many.md"
    ),
}


def _measured_elsewhere() -> list[str]:
    lines: list[str] = []
    for title, path in ELSEWHERE.items():
        if path.exists():
            lines += [f"## {title}", "", path.read_text().rstrip(), ""]
    return lines


def _noise_section(section: dict[str, Any]) -> list[str]:
    """Failing runs per noise level (``bench/noise.py``), one row per target."""
    # Fixed levels in order, then "auto" (older results have no "auto" column).
    levels = sorted(
        {row["noise"] for row in section["rows"]},
        key=lambda n: (isinstance(n, str), n if isinstance(n, str) else float(n)),
    )
    by_target: dict[str, dict[float | str, dict[str, Any]]] = {}
    for row in section["rows"]:
        by_target.setdefault(row["target"], {})[row["noise"]] = row
    out = [
        f"Stress runs that failed, out of {section['runs']} (seed {section['seed']}), at each "
        f"noise level, on {section['build']}.",
        "",
    ]
    rows = [
        [
            f"`{target}`",
            *(
                f"{cells[n]['detected']}/{cells[n]['runs']} ({cells[n]['seconds']:.1f} s)"
                if n in cells
                else "not run"
                for n in levels
            ),
        ]
        for target, cells in by_target.items()
    ]
    out += _table(["target", *(_noise_label(n) for n in levels)], rows)
    return out


def _noise_label(level: float | str) -> str:
    return f"noise {level}" if isinstance(level, str) else f"noise {level:g}"


def _mode(section: dict[str, Any]) -> str:
    if "quick" not in section:
        return "mode not recorded"
    return "quick" if section["quick"] else "full"


def write(data: dict[str, Any], path: Path = MARKDOWN) -> None:
    path.write_text(render(data))
