"""A catalogue variant run through one engine, judged against its expectation.

Data only (the running is :mod:`harness.runner`'s), so that reports and lessons
can take it as a real type without importing the engines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.outcome import FAILURE_KINDS, Result, Verdict, display_unit
from harness.scenario import CAUGHT, Scenario, Variant

__all__ = ["VariantRun"]


@dataclass
class VariantRun:
    """One variant run through one engine, with the judgement of its expectation."""

    scenario: Scenario
    variant: Variant
    engine: str
    result: Result

    @property
    def name(self) -> str:
        return f"{self.scenario.name}:{self.variant.name}"

    @property
    def caught(self) -> bool:
        kinds = [group.failure.kind for group in self.result.failures]
        return self.variant.is_caught_by(kinds)

    @property
    def met(self) -> bool:
        """Whether the variant did what its expectation says."""
        if self.variant.expect == CAUGHT:
            return self.caught
        return not self.result.failed

    @property
    def observed(self) -> str:
        result = self.result
        unit = display_unit(self.engine)
        if not result.failed:
            extra = ""
            verified = result.sections.get("verified")
            if verified:
                extra = f" ({verified})"
            return f"held over {result.runs} {unit}{extra}"
        first = result.first_failing_run
        forbidden = [e for e in result.histogram if e.verdict == Verdict.FORBIDDEN]
        outcome = forbidden[0].outcome if forbidden else result.failures[0].failure.message
        if outcome in FAILURE_KINDS:  # a bare "hang": its message says more
            outcome = result.failures[0].failure.message
        count = first + 1 if first is not None else result.runs
        where = f"after {count} {unit if count != 1 else unit[:-1]}"
        return f"{result.kind} {where}: {outcome}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "variant": self.variant.name,
            "engine": self.engine,
            "expect": self.variant.expect,
            "met": self.met,
            "observed": self.observed,
            "result": self.result.to_dict(),
        }
