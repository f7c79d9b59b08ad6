"""The layering of ``harness/``, enforced: imports flow downwards only.

From the top: entry points (CLI, pytest plugin, soak, the browser dev tool), the
application (judging the catalogue, lessons), reports, the two engines, sync and
detectors, tracing, and the data model. A module may import its own layer or any
lower one, never a higher one, and never another package's ``_``-private module
or name (a ``harness.sync._x`` is for ``harness.sync`` alone). Function-level imports
count as much as top-level ones: a lazy import still couples the layers. The
package façade ``harness`` (``harness/__init__.py``) re-exports the public API and
sits above everything; only entry points may import it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "harness"

#: Layer of each module prefix, highest first. The longest matching prefix wins.
LAYERS: dict[str, int] = {
    # 7: entry points
    "harness": 7,  # the façade (harness/__init__.py)
    "harness.__main__": 7,
    "harness.cli": 7,
    "harness.pytest_plugin": 7,
    "harness._pytest": 7,
    "harness.config": 7,
    "harness.soak": 7,
    "harness.report.browser": 7,
    # 6: application: judge catalogue variants, teach
    "harness.runner": 6,
    "harness.explain": 6,
    "harness.lessons": 6,
    "harness.linearize": 6,
    # 5: reports
    "harness.report": 5,
    # 4: the engines, and the execution lifecycle they share
    "harness.stress": 4,
    "harness.explore": 4,
    "harness._lifecycle": 4,
    # 3: instrumented primitives and detectors
    "harness.sync": 3,
    "harness.detect": 3,
    # 2: tracing
    "harness._tracing": 2,
    # 1: the data model and plumbing every layer may use
    "harness.outcome": 1,
    "harness.scenario": 1,
    "harness.errors": 1,
    "harness.trace": 1,
    "harness._program": 1,
    "harness._validate": 1,
    "harness._frames": 1,
    "harness._abort": 1,
    "harness._version": 1,
    "harness._rawsync": 1,
    "harness._gil": 1,
    "harness.judgement": 1,
    "harness.lesson": 1,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int | None:
    best = None
    for prefix in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best)
        ):
            best = prefix
    if best == "harness" and module != "harness":
        return None  # a module the table does not know: a test below says so
    return None if best is None else LAYERS[best]


def imports_of(source: str, name: str, is_package: bool) -> list[tuple[int, str]]:
    """Every harness module that module ``name`` imports, with its line.

    Relative imports are resolved, and ``from harness.sync import _state`` counts
    as importing the module ``harness.sync._state``.
    """
    package = name if is_package else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return [(line, mod) for line, mod in found if mod == "harness" or mod.startswith("harness.")]


def _known(module: str) -> str:
    """Trim ``harness.x.y.Name`` to the longest prefix that is a module or package."""
    parts = module.split(".")
    while len(parts) > 1:
        candidate = ROOT.joinpath(*parts)
        if candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
            break
        parts.pop()
    return ".".join(parts)


def _private_owner(module: str) -> str | None:
    """The package whose private module ``module`` is, if it is one (``harness.sync``)."""
    parts = module.split(".")
    for i, part in enumerate(parts[2:], start=2):  # harness._x is harness-wide
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


SOURCES = sorted(HARNESS.rglob("*.py"))


def violations(modules: list[tuple[str, str, bool, str]]) -> list[str]:
    """Every rule broken by ``(name, source, is_package, where)`` modules."""
    found = []
    for importer, source, is_package, where in modules:
        mine = layer_of(importer)
        for line, raw in imports_of(source, importer, is_package):
            imported = _known(raw)
            theirs = layer_of(imported)
            at = f"{where}:{line}"
            if mine is not None and theirs is not None and theirs > mine:
                found.append(f"{at}: {importer} (layer {mine}) imports {imported} (layer {theirs})")
            owner = _private_owner(raw)
            if owner is not None and not (importer == owner or importer.startswith(owner + ".")):
                found.append(f"{at}: {importer} imports {raw}, private to {owner}")
    return found


def test_the_table_knows_every_module() -> None:
    unknown = [module_name(p) for p in SOURCES if layer_of(module_name(p)) is None]
    assert SOURCES, "no harness sources found"
    assert not unknown, f"modules with no layer in LAYERS: {unknown}"


def test_no_module_imports_a_higher_layer_or_a_foreign_private_module() -> None:
    modules = [
        (
            module_name(p),
            p.read_text(encoding="utf-8"),
            p.name == "__init__.py",
            str(p.relative_to(ROOT)),
        )
        for p in SOURCES
    ]
    found = violations(modules)
    assert not found, f"{len(found)} layering violations, first: {found[0]}\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("importer", "source", "expected"),
    [
        (
            "harness.outcome",
            "from harness.stress import stress",
            "(layer 1) imports harness.stress ",
        ),
        ("harness.explore.engine", "from harness.sync._state import x", "private to harness.sync"),
        ("harness.explore.engine", "from ..sync import _state", "private to harness.sync"),
        (
            "harness.report.text",
            "def f():\n    import harness.cli",
            "imports harness.cli (layer 7)",
        ),
    ],
)
def test_the_scan_sees_a_violation(importer: str, source: str, expected: str) -> None:
    """The rules fire, so a passing layering test means something."""
    found = violations([(importer, source, False, "probe.py")])
    assert any(expected in v for v in found), found


def test_the_scan_allows_downward_and_own_package_imports() -> None:
    source = "from harness.sync._state import x\nfrom harness.outcome import Result\n"
    assert violations([("harness.sync.locks", source, False, "probe.py")]) == []
