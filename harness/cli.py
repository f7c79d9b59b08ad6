"""The ``harness`` command (also ``python -m harness``): parse, delegate, print.

Exit status: 0 when no failure was observed (or, for the whole catalogue, when
every variant met its expectation), 1 otherwise, 2 for a usage error, which is
reported in one line on stderr without a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from harness import _validate
from harness.errors import HarnessError, UsageError
from harness.explain import DEFAULT_EVIDENCE_BUDGET, explain
from harness.explore import DEFAULT_BUDGET, DEFAULT_STRATEGY, STRATEGIES
from harness.explore.engine import MAX_BUDGET
from harness.report import make_console, render_catalogue, render_list, render_result
from harness.report.html import write_report
from harness.report.lesson import render_lessons
from harness.report.progress import RunProgress
from harness.runner import replay_token, run_variants
from harness.scenario import Scenario, Variant, catalogue, resolve
from harness.stress import MAX_RUNS

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors become :class:`UsageError` (exit 2, one line)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _count(maximum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        try:
            return _validate.count("value", value, maximum)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc).replace("value ", "", 1)) from None

    return parse


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _seconds(text: str) -> float:
    value = _number(text)
    try:
        return _validate.positive_seconds("value", value)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("value ", "", 1)) from None


def _probability(text: str) -> float:
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _noise(text: str) -> float | str:
    if text.strip() == "auto":
        return "auto"
    try:
        return _probability(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (or 'auto')") from None


def _bound(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= 10:
        raise argparse.ArgumentTypeError(f"must be between 0 and 10, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _add_targets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="SCENARIO[:VARIANT]",
        help="what to run; none means the whole catalogue, judged against expectations",
    )


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document on stdout, nothing else"
    )


def _add_report(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report",
        metavar="PATH.html",
        help="also write a self-contained HTML report (histogram, lanes, lock graph, token)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="harness",
        description="Find, explain and gate threading bugs: stress, explore, replay, explain.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    listing = commands.add_parser("list", help="list the scenarios of the catalogue")
    _add_output(listing)
    listing.set_defaults(func=_cmd_list)

    stress = commands.add_parser(
        "stress",
        help="run scenarios in many real threads, with noise injection",
        description=(
            "Run each target in real threads released together, many times, with "
            "noise injection. Exit 0 when no failure was observed, 1 when one was; "
            "with no target, judge the whole catalogue against its expectations."
        ),
    )
    _add_targets(stress)
    stress.add_argument("--threads", type=_count(10_000), help="threads per run")
    budget = stress.add_mutually_exclusive_group()
    budget.add_argument("--runs", type=_count(MAX_RUNS), help="number of runs (default 200)")
    budget.add_argument("--seconds", type=_seconds, help="run for this long instead")
    stress.add_argument(
        "--noise",
        type=_noise,
        help=(
            "probability of a yield at each scheduling point, or 'auto' "
            "(the default: high at a thread's first points, falling to 0.001, "
            "0.05 on free-threaded builds); 0 = off"
        ),
    )
    stress.add_argument("--seed", type=_seed, help="seed of every random choice (default 0)")
    stress.add_argument("--timeout", type=_seconds, help="deadline of each run in seconds")
    _add_output(stress)
    _add_report(stress)
    stress.set_defaults(func=_cmd_stress)

    explore = commands.add_parser(
        "explore",
        help="explore interleavings deterministically, one thread at a time",
        description=(
            "Run each target under the controlled scheduler: one thread at a time, "
            "the strategy choosing who runs at every shared access and lock operation. "
            "A failure is shrunk and printed as an interleaving with a replay token. "
            "Exit 0 when no failure was observed, 1 when one was; with no target, "
            "judge every explorable variant of the catalogue."
        ),
    )
    _add_targets(explore)
    explore.add_argument(
        "--strategy", choices=STRATEGIES, help=f"scheduling strategy (default {DEFAULT_STRATEGY})"
    )
    explore.add_argument(
        "--budget",
        type=_count(MAX_BUDGET),
        help=f"most schedules to run (default {DEFAULT_BUDGET})",
    )
    explore.add_argument(
        "--bound",
        type=_bound,
        help="preemption bound of dfs (default 2) and dpor (default: unbounded)",
    )
    explore.add_argument("--threads", type=_count(1000), help="threads per execution")
    explore.add_argument("--seed", type=_seed, help="seed of every random choice (default 0)")
    explore.add_argument(
        "--races",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="report unsynchronized conflicting accesses as 'race' (default: off)",
    )
    _add_output(explore)
    _add_report(explore)
    explore.set_defaults(func=_cmd_explore)

    replay = commands.add_parser(
        "replay",
        help="re-run the schedule a replay token describes",
        description=(
            "Re-run exactly the schedule of a token printed by `harness explore`, "
            "and show its interleaving. Exit 1 when the failure happens again."
        ),
    )
    replay.add_argument("token", metavar="TOKEN")
    replay.add_argument("--full", action="store_true", help="show every step of the interleaving")
    replay.add_argument(
        "--races",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="run the race detector (to see a 'race' failure again; default: off)",
    )
    _add_output(replay)
    replay.set_defaults(func=_cmd_replay)

    explain = commands.add_parser(
        "explain",
        help="explain a scenario's bug: code, interleaving, bug class, fix and evidence",
        description=(
            "Explain each buggy variant of SCENARIO (or the one SCENARIO:VARIANT names; "
            "a fixed variant is explained as the fix of its buggy twin): the buggy code, "
            "the minimal failing interleaving found by exploration (or what stress "
            "observed, for programs only real threads can run), the bug's class in "
            "plain words, and the fix as a diff with the evidence that it holds. "
            "Exit 0 when every bug was observed and every fix held, 1 otherwise."
        ),
    )
    explain.add_argument("target", metavar="SCENARIO[:VARIANT]")
    explain.add_argument("--seed", type=_seed, help="seed of every random choice (default 0)")
    explain.add_argument(
        "--budget",
        type=_count(MAX_BUDGET),
        help=f"most schedules of the fix's exhaustive search (default {DEFAULT_EVIDENCE_BUDGET})",
    )
    explain.add_argument("--full", action="store_true", help="show every step of the interleaving")
    explain.set_defaults(func=_cmd_explain)
    return parser


# -- commands ---------------------------------------------------------------------


def _emit_json(document: Any) -> None:
    json.dump(document, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def _cmd_list(args: argparse.Namespace) -> int:
    scenarios = list(catalogue().values())
    if args.json:
        _emit_json({"scenarios": [s.to_dict() for s in scenarios]})
    else:
        render_list(make_console(), scenarios)
    return 0


def _targets(specs: Sequence[str], engine: str) -> tuple[list[tuple[Scenario, Variant]], bool]:
    """Resolve the targets before running anything; no target = the catalogue."""
    if not specs:
        pairs = [
            (scenario, variant)
            for scenario in catalogue().values()
            for variant in scenario.variants.values()
            if engine in variant.engines
        ]
        return pairs, True
    pairs = []
    for spec in specs:
        found = resolve(spec)
        runnable = [(s, v) for s, v in found if engine in v.engines]
        if not runnable:
            engines = sorted({e for _, v in found for e in v.engines})
            if ":" in spec:
                why = f"{spec} cannot run under {engine}"
            else:
                why = f"no variant of {spec} runs under {engine}"
            raise UsageError(f"{why} (only under: {', '.join(engines)})")
        pairs.extend(runnable)
    return pairs, False


def _report_path(path: str | None) -> str | None:
    """Check before running that the report can be written where asked."""
    if path is None:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--report {path}: no such directory {folder}")
    if os.path.isdir(path):
        raise UsageError(f"--report {path}: is a directory")
    return path


def _run_engine(args: argparse.Namespace, engine: str, overrides: dict[str, Any]) -> int:
    report = _report_path(args.report)
    pairs, judged = _targets(args.targets, engine)

    def progress_factory(scenario: Scenario, variant: Variant) -> RunProgress | None:
        if args.json:
            return None
        return RunProgress(f"{engine} {scenario.name}:{variant.name}")

    runs = run_variants(pairs, engine, overrides, judged=judged, progress_factory=progress_factory)
    if judged:
        ok = all(run.met for run in runs)
    else:
        ok = not any(run.result.failed for run in runs)
    # Code that reached no scheduling point was not tested: never a pass.
    ok = ok and all(run.result.explored for run in runs)
    if args.json:
        _emit_json(
            {
                "command": engine,
                "judged": judged,
                "ok": ok,
                "results": [run.to_dict() for run in runs],
            }
        )
    else:
        console = make_console()
        if judged:
            render_catalogue(console, runs, engine)
        else:
            for i, run in enumerate(runs):
                if i:
                    console.print()
                render_result(console, run.result)
    if report is not None:
        try:
            write_report(report, runs, engine, judged=judged, command=args.command_line)
        except OSError as exc:
            raise UsageError(f"--report {report}: {exc.strerror or exc}") from None
        print(f"harness: report written to {report}", file=sys.stderr)
    return 0 if ok else 1


def _cmd_stress(args: argparse.Namespace) -> int:
    overrides = {
        "threads": args.threads,
        "runs": args.runs,
        "seconds": args.seconds,
        "noise": args.noise,
        "seed": args.seed,
        "timeout": args.timeout,
    }
    return _run_engine(args, "stress", overrides)


def _cmd_explore(args: argparse.Namespace) -> int:
    overrides = {
        "strategy": args.strategy,
        "budget": args.budget,
        "bound": args.bound,
        "threads": args.threads,
        "seed": args.seed,
        "races": args.races,
    }
    return _run_engine(args, "explore", overrides)


def _cmd_replay(args: argparse.Namespace) -> int:
    run = replay_token(args.token, races=args.races)
    if args.json:
        _emit_json({"command": "replay", "ok": not run.result.failed, "results": [run.to_dict()]})
    else:
        render_result(make_console(), run.result, full=args.full)
    return 1 if run.result.failed else 0


def _cmd_explain(args: argparse.Namespace) -> int:
    console = make_console()

    def progress(scenario: Scenario, variant: Variant, engine: str) -> RunProgress:
        return RunProgress(f"{engine} {scenario.name}:{variant.name}")

    lessons = explain(
        args.target,
        seed=args.seed or 0,
        budget=args.budget or DEFAULT_EVIDENCE_BUDGET,
        progress=progress,
    )
    render_lessons(console, lessons, full=args.full)
    return 0 if all(lesson.ok for lesson in lessons) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``harness`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        words = list(sys.argv[1:] if argv is None else argv)
        args.command_line = shlex.join(["harness", *words])
        return int(args.func(args))
    except HarnessError as exc:
        message = " ".join(str(exc).split())
        print(f"harness: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`harness list --json | head`): not our error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
