"""Run one measurement in a child process, bounded in wall time, and read what it reported.

Each job is a JSON spec handed to ``python -m bench.cell``; the child prints one
line per finished measurement, prefixed with :data:`MARK`, so that whatever the
programs under test print does not get in the way. A child that overruns its
wall limit is killed with its process group; the lines it printed before still
count. frontrun's jobs start under frontrun's CLI (``frontrun python -m
bench.cell``), which is how frontrun asks to be run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MARK", "JobOutcome", "frontrun_cli", "run_job"]

MARK = "@@bench@@ "
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class JobOutcome:
    records: list[dict[str, Any]] = field(default_factory=list)
    killed: bool = False
    returncode: int | None = None
    stderr_tail: str = ""


def frontrun_cli() -> str | None:
    """The ``frontrun`` launcher of this environment, if it is installed."""
    beside = Path(sys.executable).parent / "frontrun"
    if beside.exists():
        return str(beside)
    return shutil.which("frontrun")


def run_job(
    spec: dict[str, Any], *, family: str, wall: float, module: str = "bench.cell"
) -> JobOutcome:
    """Run ``spec`` in a child process (``python -m module``) for at most ``wall`` seconds."""
    command = [sys.executable, "-m", module, json.dumps(spec)]
    env = dict(os.environ)
    if family == "frontrun":
        launcher = frontrun_cli()
        if launcher is not None:
            command = [launcher, *command]
        else:  # monkey-patching only, as the CLI does without its preload library
            env["FRONTRUN_ACTIVE"] = "1"
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so that a kill reaches every process it started
    )
    outcome = JobOutcome()
    try:
        stdout, stderr = proc.communicate(timeout=wall)
    except subprocess.TimeoutExpired:
        outcome.killed = True
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
    except BaseException:  # interrupted: take the child (and what it started) along
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    outcome.returncode = proc.returncode
    outcome.stderr_tail = stderr[-2000:] if stderr else ""
    for line in stdout.splitlines():
        if line.startswith(MARK):
            outcome.records.append(json.loads(line[len(MARK) :]))
    return outcome
