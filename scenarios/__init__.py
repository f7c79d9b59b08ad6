"""The catalogue: every threading pattern of the source articles, as scenarios.

Each module defines ``SCENARIO`` (a :class:`harness.Scenario`) with a ``buggy``
variant that keeps the article's bug and one or more fixes named after their
mechanism. ``harness list`` shows them; ``harness explain NAME`` teaches one.
"""
