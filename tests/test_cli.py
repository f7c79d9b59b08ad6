"""The command line: exit codes, one-line usage errors, JSON output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from harness.cli import main
from harness.explore.token import Schedule, encode, interpreter


def token_of(target="thevar:buggy", threads=None, python=None):
    """A well-formed replay token with the given provenance (no deviations)."""
    here, magic = interpreter()
    return encode(Schedule((), target, threads, python or here, magic))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_buggy_variant_exits_1_and_shows_forbidden_outcomes(capsys):
    code, out, err = run(capsys, "stress", "thevar:buggy", "--runs", "100", "--seed", "1")
    assert code == 1, out + err
    assert "FAILED (assert)" in out
    assert "FORBIDDEN" in out
    assert "duplicated" in out


@pytest.mark.parametrize("variant", ["lock", "queue"])
def test_fixed_variants_exit_0(capsys, variant):
    code, out, err = run(capsys, "stress", f"thevar:{variant}", "--runs", "50", "--seed", "1")
    assert code == 0, out + err
    assert "no failure" in out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["stress", "nosuchscenario"], "unknown scenario 'nosuchscenario'"),
        (["stress", "thevar:nope"], "has no variant 'nope'"),
        (["stress", "thevar:"], "empty variant name"),
        (["stress", "--runs", "0", "thevar"], "--runs: must be at least 1"),
        (["stress", "--runs", "-3", "thevar"], "--runs: must be at least 1"),
        (["stress", "--runs", "many", "thevar"], "--runs: expected a whole number"),
        (["stress", "--runs", "99999999999", "thevar"], "--runs: must be at most"),
        (["stress", "--threads", "0", "thevar"], "--threads: must be at least 1"),
        (["stress", "--threads", "1", "thevar"], "needs at least 2 threads"),
        (["stress", "--noise", "1.5", "thevar"], "--noise: must be between 0 and 1"),
        (["stress", "--noise", "nan", "thevar"], "--noise: expected a finite number"),
        (
            ["stress", "--noise", "loud", "thevar"],
            "--noise: expected a number, got 'loud' (or 'auto')",
        ),
        (["stress", "--seconds", "0", "thevar"], "--seconds: must be a positive number"),
        (["stress", "--runs", "5", "--seconds", "1"], "not allowed with argument"),
        (["stress", "--bogus"], "unrecognized arguments: --bogus"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: COMMAND"),
        (["explore", "thevar", "--strategy", "bfs"], "--strategy: invalid choice: 'bfs'"),
        (["explore", "thevar", "--budget", "0"], "--budget: must be at least 1, got 0"),
        (["explore", "thevar", "--budget", "-5"], "--budget: must be at least 1, got -5"),
        (["explore", "thevar", "--budget", "10" * 9], "--budget: must be at most"),
        (["explore", "thevar", "--budget", "1e3"], "--budget: expected a whole number, got '1e3'"),
        (["explore", "thevar", "--bound", "11"], "--bound: must be between 0 and 10, got 11"),
        (["explore", "thevar", "--threads", "0"], "--threads: must be at least 1"),
        (["explore", "thevar", "--seed", "x"], "--seed: expected a whole number, got 'x'"),
        (["explore", "nosuchscenario"], "unknown scenario 'nosuchscenario'"),
        (["explore", "thevar:nope"], "has no variant 'nope'"),
        (["explore", "daemon_exit"], "no variant of daemon_exit runs under explore"),
        (["explore", "daemon_exit:event"], "daemon_exit:event cannot run under explore"),
        (["replay"], "the following arguments are required: TOKEN"),
        (["replay", ""], "empty replay token"),
        (["replay", "  "], "empty replay token"),
        (["replay", "hello"], "not a replay token (they start with 'hx1_'): 'hello'"),
        (["replay", "hx1_!!!"], "malformed replay token: 'hx1_!!!'"),
        (["replay", "hx1_"], "malformed replay token: 'hx1_'"),
        (["replay", token_of(python="cpython-399")], "recorded on cpython-399"),
        (["replay", token_of(target="thevar")], "the token names 'thevar', not one variant"),
        (["replay", token_of(target="nosuch:buggy")], "unknown scenario 'nosuch'"),
        (["replay", token_of(target="daemon_exit:buggy")], "daemon_exit:buggy, which only runs"),
        (["replay", token_of(threads=10**9)], "thread count in the token"),
        (["replay", token_of(target=None)], "recorded through the Python API"),
        (["replay", "hx1_x", "extra"], "unrecognized arguments: extra"),
        (["explain"], "the following arguments are required"),
        (["explain", ""], "empty scenario name in ''"),
        (["explain", "nosuchscenario"], "unknown scenario 'nosuchscenario'"),
        (["explain", "thevar:nope"], "has no variant 'nope'"),
        (["explain", "thevar", "--budget", "0"], "--budget: must be at least 1, got 0"),
        (["explain", "thevar", "--budget", "-1"], "--budget: must be at least 1, got -1"),
        (["explain", "thevar", "--budget", "10" * 9], "--budget: must be at most"),
        (["explain", "thevar", "--strategy", "pct"], "unrecognized arguments: --strategy"),
        (["list", "--bogus"], "unrecognized arguments: --bogus"),
        (["stress", "thevar:buggy", "--report", "/no/such/dir/r.html"], "no such directory"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("harness: error: ")
    assert fragment in lines[0]


def test_stress_json_is_one_document(capsys):
    code, out, _ = run(capsys, "stress", "thevar:buggy", "--runs", "100", "--seed", "1", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["command"] == "stress" and doc["judged"] is False and doc["ok"] is False
    (entry,) = doc["results"]
    assert entry["scenario"] == "thevar" and entry["variant"] == "buggy"
    result = entry["result"]
    assert result["failed"] is True and result["kind"] == "assert"
    assert result["runs"] == 100
    verdicts = {h["verdict"] for h in result["histogram"]}
    assert "FORBIDDEN" in verdicts and verdicts <= {"ACCEPTABLE", "FORBIDDEN"}
    assert sum(h["count"] for h in result["histogram"]) == 100


def test_stress_takes_noise_auto(capsys):
    code, out, _ = run(capsys, "stress", "thevar:buggy", "--runs", "5", "--noise", "auto", "--json")
    assert code == 1, out
    (entry,) = json.loads(out)["results"]
    assert entry["result"]["settings"]["noise"] == "auto"


def test_list_json_names_every_scenario_and_variant(capsys):
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    doc = json.loads(out)
    thevar = next(s for s in doc["scenarios"] if s["name"] == "thevar")
    assert [v["name"] for v in thevar["variants"]] == ["buggy", "lock", "queue"]


def test_list_prints_a_table(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and "thevar" in out and "buggy (caught)" in out


def test_whole_catalogue_is_judged(capsys, monkeypatch):
    # The judging logic, on a catalogue of one scenario (the full one runs in
    # `nox -s stress`).
    import harness.cli

    only_thevar = {"thevar": harness.cli.catalogue()["thevar"]}
    monkeypatch.setattr(harness.cli, "catalogue", lambda: only_thevar)
    code, _, _ = run(capsys, "stress", "thevar", "--runs", "30")
    assert code == 1, "naming a scenario runs its variants without judging"
    code, out, _err = run(capsys, "stress", "--json", "--runs", "30", "--seed", "2")
    doc = json.loads(out)
    assert doc["judged"] is True
    assert all("met" in r for r in doc["results"])
    assert code == (0 if doc["ok"] else 1)


def test_console_script_and_module_entry_points():
    env = dict(os.environ, COLUMNS="120")
    # The console script installed beside this interpreter (its venv need not be on PATH).
    script = os.path.join(os.path.dirname(sys.executable), "harness")
    for argv in ([script], [sys.executable, "-m", "harness"]):
        proc = subprocess.run(
            [*argv, "stress", "nosuchscenario"], capture_output=True, text=True, env=env, timeout=60
        )
        assert proc.returncode == 2
        assert proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


@pytest.mark.timeout(120)
def test_explain_thevar_tells_the_whole_lesson(capsys):
    code, out, err = run(capsys, "explain", "thevar", "--budget", "200")
    assert code == 0, out + err
    for part in ("1. The code", "2. What happened", "3. The bug: lost update", "4. The fix"):
        assert part in out, f"{part!r} missing"
    assert "harness replay hx1_" in out


@pytest.mark.timeout(120)
def test_report_is_written_next_to_the_json(capsys, tmp_path):
    path = tmp_path / "e.html"
    code, out, err = run(capsys, "explore", "thevar:buggy", "--json", "--report", str(path))
    assert code == 1
    document = json.loads(out)  # stdout is still one JSON document
    token = document["results"][0]["result"]["schedule"]
    page = path.read_text(encoding="utf-8")
    assert f"harness replay {token}" in page
    assert 'class="histogram"' in page and 'class="swimlane"' in page
    assert "report written to" in err


@pytest.mark.timeout(120)
def test_stress_report_has_the_histogram(capsys, tmp_path):
    path = tmp_path / "r.html"
    code, out, err = run(
        capsys, "stress", "thevar:buggy", "--runs", "20", "--seed", "1", "--report", str(path)
    )
    assert code == 1, out + err
    page = path.read_text(encoding="utf-8")
    assert page.count('<g class="bar forbidden">') >= 1
    assert "harness stress thevar:buggy --runs 20 --seed 1 --report" in page


@pytest.mark.timeout(120)
def test_dfs_without_a_budget_searches_until_the_bound_is_exhausted(capsys):
    # deadlock:ordered's own budget (1,000) sizes a random search; its bounded
    # space is larger, and dfs must not stop at the variant's budget.
    code, out, _ = run(capsys, "explore", "deadlock:ordered", "--strategy", "dfs", "--budget", "50")
    assert code == 0 and "verified" not in out, out
    code, out, _ = run(capsys, "explore", "deadlock:ordered", "--strategy", "dfs")
    assert code == 0, out
    assert re.search(r"verified: all \d+ schedules with <= 2 preemptions hold", out), out


@pytest.mark.timeout(120)
def test_explore_takes_the_pos_strategy_and_names_it_in_the_result(capsys):
    code, out, _ = run(capsys, "explore", "thevar:buggy", "--strategy", "pos", "--budget", "200")
    assert code == 1 and "FAILED (assert)" in out, out
    code, out, _ = run(capsys, "explore", "thevar", "--strategy", "pos", "--budget", "50")
    assert "thevar:buggy  FAILED" in out, out
