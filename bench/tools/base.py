"""What one attempt of one tool on one program found, and the bounds it ran under."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "ERROR",
    "FALSE_ALARM",
    "FOUND",
    "HELD",
    "INCONCLUSIVE",
    "MISSED",
    "OTHER",
    "Attempt",
    "Bounds",
    "judge",
]

#: A buggy program: a failure of an accepted kind was reported.
FOUND = "found"
#: A buggy program: the bound was reached without an accepted failure.
MISSED = "missed"
#: A buggy program: the search ended on a failure of another kind.
OTHER = "other failure"
#: A fixed program: no failure within the bound.
HELD = "held"
#: A fixed program: a failure was reported.
FALSE_ALARM = "false alarm"
#: The tool declined to give a verdict (frontrun's property_holds=None).
INCONCLUSIVE = "inconclusive"
#: The tool itself raised or could not run the program.
ERROR = "error"


@dataclass(frozen=True)
class Bounds:
    """How long one attempt may search: schedules (or runs), and seconds."""

    schedules: int
    seconds: float


@dataclass
class Attempt:
    """The outcome of one attempt (one seed) of one tool on one program."""

    seed: int
    status: str
    kind: str | None = None
    #: Schedules (or runs) executed up to and including the first detection, or
    #: up to the bound.
    schedules: int = 0
    #: Seconds to the first detection, or spent until the bound.
    seconds: float = 0.0
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 6)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attempt:
        return cls(**data)


def judge(buggy: bool, accepted: bool, failed: bool) -> str:
    """The status of an attempt that ended normally (not inconclusive, not an error)."""
    if buggy:
        if accepted:
            return FOUND
        return OTHER if failed else MISSED
    return FALSE_ALARM if failed else HELD
