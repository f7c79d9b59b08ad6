"""bench.real without the real libraries: the drivers' declarations, the machinery on a fake one."""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import subprocess
from pathlib import Path

import pytest

from bench import real
from bench.real_libs import DRIVERS, REQUIRED, load
from harness import FAILURE_KINDS

FAKE = "tests.bench.real_fake_driver"
VERSION = re.compile(r"^\d+(\.\d+)*$")


@pytest.mark.parametrize("name", DRIVERS)
def test_each_driver_declares_its_public_issue_two_pinned_releases_and_a_check(name):
    driver = load(name)
    assert all(hasattr(driver, attr) for attr in REQUIRED)
    assert driver.ISSUE.startswith("https://github.com/"), driver.ISSUE
    assert re.search(r"/(issues|pull)/\d+$", driver.ISSUE), driver.ISSUE
    assert VERSION.match(driver.BUGGY) and VERSION.match(driver.FIXED), (driver.BUGGY, driver.FIXED)
    assert driver.BUGGY != driver.FIXED
    assert driver.KIND in FAILURE_KINDS and driver.KIND not in ("hang", "leak"), driver.KIND
    doc = inspect.getdoc(driver) or ""
    assert driver.BUGGY in doc and driver.FIXED in doc, f"{name}'s docstring names both releases"
    for function in ("setup", "actors", "check"):
        assert callable(getattr(driver, function))
    assert isinstance(driver.THREADS, int) and driver.THREADS >= 2, driver.THREADS


def test_the_drivers_import_their_library_only_in_setup():
    # The child puts the release on sys.path before the driver runs, so a
    # module-level import would be fine there, but not for loading the driver
    # here, where no release is installed.
    for name in DRIVERS:
        tree = ast.parse(Path(load(name).__file__).read_text())
        top = {
            alias.name.split(".")[0]
            for node in tree.body
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        } | {
            node.module.split(".")[0]
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module
        }
        package = load(name).PACKAGE.replace("-", "_")
        assert package not in top, f"{name} imports {package} at module level"


def test_install_reuses_a_completed_directory_without_pip(tmp_path, monkeypatch):
    done = tmp_path / "somepkg-1.0"
    done.mkdir()
    (done / ".installed").write_text("somepkg==1.0\n")

    def no_pip(*args, **kwargs):
        raise AssertionError(f"pip was run: {args}")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert real.install("somepkg", "1.0", cache=tmp_path) == done


def _fake_release(tmp_path: Path, version: str) -> Path:
    from tests.bench.real_fake_driver import SOURCES

    root = tmp_path / f"fakecounter-{version}"
    (root / "fakecounter").mkdir(parents=True, exist_ok=True)
    (root / "fakecounter" / "__init__.py").write_text(SOURCES[version])
    return root


def _args(**overrides) -> argparse.Namespace:
    settings = dict(budget=200, stress_runs=50, seconds=10.0, wall=60.0)
    settings.update(overrides)
    return argparse.Namespace(**settings)


@pytest.mark.timeout(180)
def test_a_fake_library_through_the_same_children_is_found_on_1_0_and_clean_on_1_1(tmp_path):
    args = _args()
    driver = load(FAKE)
    buggy = real.measure(FAKE, "explore", "1.0", _fake_release(tmp_path, "1.0"), args)
    fixed = real.measure(FAKE, "explore", "1.1", _fake_release(tmp_path, "1.1"), args)
    assert "error" not in buggy and "error" not in fixed, (buggy, fixed)
    assert buggy["first"] is not None and buggy["kinds"][0] == "assert", buggy
    assert [r["kinds"][0] for r in buggy["replays"]] == ["assert"] * 3, buggy["replays"]
    assert fixed["runs"] == 200 and not fixed["kinds"], fixed
    counter = driver.SimpleNamespace(bump=lambda: None)
    assert len(driver.actors(driver.SimpleNamespace(counter=counter))) == driver.THREADS
    assert real.judge(driver, buggy, fixed) == {
        "found": True,
        "kind": True,
        "replayed": True,
        "fixed_clean": True,
    }
    # The wrong release on the path shows: the fixed one judged as buggy is not found.
    assert not real.judge(driver, fixed, fixed)["found"]

    stress = real.measure(FAKE, "stress", "1.1", _fake_release(tmp_path, "1.1"), args)
    assert "error" not in stress and not stress["kinds"], stress
    row = {
        "name": FAKE,
        "driver": driver,
        "buggy": {"explore": buggy, "stress": stress, "frontrun": {"error": "not run"}},
        "fixed": {"explore": fixed, "stress": stress, "frontrun": {"error": "not run"}},
    }
    text = real.render([row], args, 1.0)
    assert "| fakecounter |" in text and "1.0 (buggy)" in text and "1.1 (fixed)" in text, text
    assert "on 1 of 1 libraries" in text, text


@pytest.mark.timeout(60)
def test_a_child_killed_at_its_wall_limit_is_an_error_row(tmp_path):
    record = real.measure(FAKE, "explore", "1.0", _fake_release(tmp_path, "1.0"), _args(wall=0.01))
    assert "error" in record and "wall limit" in record["error"], record
