"""Instruction-level hooks into the code under test.

Both engines need to run a little code of their own *between* two bytecode
instructions of the program being tested: the stress engine to inject noise
(yield the GIL at random), the exploration engine to decide which thread runs
next. This package finds the instructions that matter (reads and writes of shared
state, calls) and calls a per-thread hook before each of them, with
``sys.settrace`` on CPython <= 3.11 and ``sys.monitoring`` on >= 3.12.
"""

from harness._tracing.backends import Backend, Hook, make_backend
from harness._tracing.codefilter import CodeFilter
from harness._tracing.importlock import importing
from harness._tracing.points import Point, points_of

__all__ = [
    "Backend",
    "CodeFilter",
    "Hook",
    "Point",
    "importing",
    "make_backend",
    "points_of",
]
