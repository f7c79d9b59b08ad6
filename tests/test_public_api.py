"""The public surface is what `harness.__all__` says, and all of it exists."""

import harness


def test_all_names_exist():
    for name in harness.__all__:
        assert hasattr(harness, name), name


def test_public_surface_is_stable():
    expected = {
        "CAUGHT",
        "FAILURE_KINDS",
        "HOLDS",
        "Failure",
        "FailureGroup",
        "HarnessError",
        "Histogram",
        "Result",
        "Scenario",
        "TokenError",
        "UnknownScenarioError",
        "UsageError",
        "Variant",
        "Verdict",
        "benign",
        "catalogue",
        "explore",
        "install",
        "linearizable",
        "op",
        "replay",
        "stress",
    }
    assert set(harness.__all__) == expected


def test_errors_share_one_base():
    for name in ("UsageError", "UnknownScenarioError", "TokenError"):
        assert issubclass(getattr(harness, name), harness.HarnessError)


def test_linearizability_loads_on_first_use():
    import subprocess
    import sys

    code = (
        "import sys, harness; assert 'hypothesis' not in sys.modules;"
        " assert 'linearizable' in dir(harness); harness.linearizable;"
        " assert 'harness.linearize' in sys.modules"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
