"""The errors the harness raises on purpose.

Every problem the harness reports about *how it was called* (as opposed to bugs it
finds in the code under test) is a :class:`HarnessError`. The command line turns
each one into a single line on stderr and exit status 2.
"""

from __future__ import annotations

__all__ = [
    "HarnessError",
    "TokenError",
    "UnknownScenarioError",
    "UsageError",
]


class HarnessError(Exception):
    """Base class of every error the harness raises about its own use."""


class UsageError(HarnessError, ValueError):
    """A bad argument: a non-positive count, a probability outside [0, 1], ..."""


class UnknownScenarioError(UsageError, LookupError):
    """A scenario or variant name that the catalogue does not have."""


class TokenError(UsageError):
    """A replay token that is empty, malformed, or from another Python version."""
