"""examples/pool as the README walks through it: its tests fail on the pool as first
written, naming the race, and pass on the fixed pool."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

POOL = Path(__file__).resolve().parents[2] / "examples" / "pool"


@pytest.fixture
def pool_project(project):
    for name in ("connpool.py", "connpool_fixed.py", "test_connpool.py", "pyproject.toml"):
        shutil.copy(POOL / name, project.path / name)
    return project


@pytest.mark.timeout(180)
def test_the_race_is_caught_then_the_fix_holds(pool_project):
    buggy = pool_project.runpytest_subprocess("test_connpool.py")
    buggy.assert_outcomes(failed=2)
    buggy.stdout.fnmatch_lines_random(
        [
            "explore: [[]exception[]] AssertionError: a pool of size 1 opened 2 connections (*",
            "stress: [[]assert[]] a pool of size 2 opened * connections (x*; * of 30 runs failed)",
            "replay with:  pytest --harness-replay=hx1_*"
            " test_connpool.py::test_two_threads_share_one_connection",
        ]
    )
    out = buggy.stdout.str()
    # The interleaving shows the threads' accesses to the count they race on.
    lanes = out[out.index("interleaving:") : out.index("replay token:")]
    assert lanes.count("._opened") >= 2, f"the race on _opened is not shown:\n{lanes}"
    shutil.copy(pool_project.path / "connpool_fixed.py", pool_project.path / "connpool.py")
    fixed = pool_project.runpytest_subprocess("test_connpool.py")
    fixed.assert_outcomes(passed=2)
