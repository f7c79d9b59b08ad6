"""harness._gil: the GIL's state around a run, and the module that re-enabled it.

The re-enabling cases need a free-threaded build; they run in a subprocess, since
a GIL once re-enabled stays on for the rest of the process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from harness._gil import GilState, GilWatch, free_threaded_build, gil_enabled

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
needs_free_threading = pytest.mark.skipif(
    not FREE_THREADED, reason="needs a free-threaded build (sysconfig Py_GIL_DISABLED)"
)


def run_python(code: str, *args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [sys.executable, *args, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_build_kind_matches_sysconfig() -> None:
    assert free_threaded_build() is FREE_THREADED
    if not FREE_THREADED:
        assert gil_enabled() is True


def test_watch_on_a_gil_build_reports_no_free_threading() -> None:
    if FREE_THREADED:
        pytest.skip("checks the GIL build's report (sysconfig Py_GIL_DISABLED is set)")
    with GilWatch() as watch:
        pass
    assert watch.state == GilState(False, None, None)
    assert watch.state.as_json() == {
        "free_threaded": False,
        "gil_disabled_at_start": None,
        "gil_disabled_at_end": None,
        "gil_reenabled_by": None,
    }
    assert not watch.state.reenabled
    assert "not a free-threaded build" in watch.state.describe()


def test_describe_names_the_module() -> None:
    state = GilState(True, True, False, "gilmod")
    assert state.reenabled
    assert "RE-ENABLED" in state.describe() and "'gilmod'" in state.describe()
    assert not GilState(True, True, True).reenabled
    assert not GilState(True, False, False).reenabled  # started with a GIL: nothing changed


def test_watch_puts_the_warnings_hook_back() -> None:
    before = warnings._showwarnmsg  # type: ignore[attr-defined]
    GilWatch().start().stop()
    assert warnings._showwarnmsg is before  # type: ignore[attr-defined]


@needs_free_threading
def test_watch_sees_the_gil_stay_disabled() -> None:
    out = run_python(
        """
        from harness._gil import GilWatch
        with GilWatch() as w:
            import json
        print(w.state.as_json())
        """,
        "-X",
        "gil=0",
    )
    assert out == str(
        {
            "free_threaded": True,
            "gil_disabled_at_start": True,
            "gil_disabled_at_end": True,
            "gil_reenabled_by": None,
        }
    )


@needs_free_threading
def test_watch_sees_gil_forced_on_from_the_command_line() -> None:
    out = run_python(
        "from harness._gil import GilWatch\nw = GilWatch().start()\nprint(w.stop().describe())",
        "-X",
        "gil=1",
    )
    assert out.startswith("GIL: enabled at start"), out


@needs_free_threading
@pytest.mark.parametrize("warning_filter", ["default", "ignore"])
def test_watch_names_the_module_that_reenabled_the_gil(
    tmp_path: Path, warning_filter: str, gil_extension: Callable[[Path], Path]
) -> None:
    gil_extension(tmp_path)
    out = run_python(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from harness._gil import GilWatch
        with GilWatch() as w:
            import gilmod
        print(w.state.reenabled, w.state.reenabled_by)
        """,
        "-W",
        warning_filter,
    )
    assert out == "True gilmod", out


@needs_free_threading
def test_results_report_an_import_that_reenabled_the_gil_mid_run(
    tmp_path: Path, gil_extension: Callable[[Path], Path]
) -> None:
    # The first run's actor imports the extension: the GIL comes back mid-call.
    gil_extension(tmp_path)
    out = run_python(
        f"""
        import json, sys
        sys.path.insert(0, {str(tmp_path)!r})
        import harness
        from harness.report.html import render_result_html

        class Box:
            value = 0

        def bump(box):
            import gilmod
            box.value = box.value + 1

        result = harness.stress(Box, lambda box: [lambda: bump(box)], runs=3)
        print(json.dumps(result.to_dict()["gil"]))
        print(str(result).splitlines()[1])
        print("GIL: disabled at start, RE-ENABLED" in render_result_html(result))
        """,
        "-W",
        "ignore",
    )
    gil, text, html = out.splitlines()
    assert json.loads(gil) == {
        "free_threaded": True,
        "gil_disabled_at_start": True,
        "gil_disabled_at_end": False,
        "gil_reenabled_by": "gilmod",
    }
    assert text.startswith("GIL: disabled at start, RE-ENABLED") and "'gilmod'" in text, text
    assert html == "True"


@needs_free_threading
def test_gil_forced_on_is_reported_by_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "gil=1", "-m", "harness", "stress", "thevar:lock", "--runs", "3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "GIL: enabled at start" in done.stdout, done.stdout


def test_cli_json_carries_the_gil_fields() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness", "stress", "thevar", "--runs", "5", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    results = json.loads(done.stdout)["results"]
    assert results
    for run in results:
        gil = run["result"]["gil"]
        assert gil["free_threaded"] is FREE_THREADED, gil
        if FREE_THREADED:
            assert gil["gil_disabled_at_start"] is True and gil["gil_disabled_at_end"] is True
        else:
            assert gil["gil_disabled_at_start"] is None
        assert run["result"]["explored"] is True
