"""The built distribution: what it installs, and that it claims no generic name.

The repository keeps the catalogue at its top level as ``scenarios/``; installed,
it must live under the harness's own namespace (``harness.catalogue``) so that it
cannot shadow a user project's ``scenarios`` package. The wheel is built for real
(pip, setuptools) and imported from an unpacked copy in an empty directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (built,) = out.glob("thread_harness-*.whl")
    return built


def test_the_wheel_installs_the_catalogue_only_under_harness(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names if not name.endswith(".dist-info/")}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"harness"}, sorted(tops)
    assert "harness/catalogue/thevar.py" in names
    assert "harness/catalogue/_net.py" in names
    assert not any(name.startswith("scenarios/") for name in names)


def test_installed_catalogue_runs_and_scenarios_is_not_importable(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = dict(os.environ, PYTHONPATH=str(site), COLUMNS="120")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args], cwd=empty, env=env, capture_output=True, text=True, timeout=120
        )

    where = run("-c", "import harness, harness.catalogue as c; print(harness.__file__, c.__name__)")
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(str(site)), where.stdout
    probe = run("-c", "import scenarios")
    assert probe.returncode == 1 and "No module named 'scenarios'" in probe.stderr, probe.stderr
    listed = run("-m", "harness", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert '"thevar"' in listed.stdout
    stressed = run("-m", "harness", "stress", "thevar:lock", "--runs", "5")
    assert stressed.returncode == 0, stressed.stdout + stressed.stderr
