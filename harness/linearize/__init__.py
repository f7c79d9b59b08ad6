"""Linearizability checking: is a concurrent object's every outcome explainable
by some sequential order of the same operations?

* :mod:`.run`: ``linearizable()`` (the entry point) and ``replay()``;
* :mod:`.scenario`: operations (``op``), generated scenarios, replay tokens;
* :mod:`.history`: invocations and responses in real-time order;
* :mod:`.models`: ready specifications (register, FIFO queue);
* :mod:`.checker`: the search for a sequential order (Wing and Gong, with Lowe's
  memoisation and P-compositional partitioning).
"""

from harness.linearize.checker import Check, Model, ObjectModel, Verdict, check
from harness.linearize.history import Call, Recorder
from harness.linearize.run import linearizable, replay
from harness.linearize.scenario import Operation, Scenario, op

__all__ = [
    "Call",
    "Check",
    "Model",
    "ObjectModel",
    "Operation",
    "Recorder",
    "Scenario",
    "Verdict",
    "check",
    "linearizable",
    "op",
    "replay",
]
