"""The frontrun adapter's reading of frontrun's verdicts.

frontrun itself is installed and run only by `nox -s bench`.
"""

from __future__ import annotations

import pytest

from bench.tools.frontrun_adapter import frontrun_kind


@pytest.mark.parametrize(
    ("explanation", "kind"),
    [
        ("Unsynchronized race detected in execution 1.\n2 race(s) found", "race"),
        ("Deadlock detected after 3 interleaving(s).\n\ncycle ...", "deadlock"),
        ("Worker crash in execution 2: RuntimeError: boom", "exception"),
        ("Race condition found after 2 interleavings.", "assert"),
        ("AssertionError: balance 70, expected 120", "assert"),
        (None, "assert"),
    ],
)
def test_explanations_map_to_our_failure_kinds(explanation, kind):
    assert frontrun_kind(explanation) == kind
