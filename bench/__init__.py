"""``nox -s bench``: detection power and cost of thread-harness, side by side with its peers.

Run with ``python -m bench`` (``--quick`` for a short pass, ``--sections`` to pick
some of cost, profile, detection, throughput, scale). Every measurement runs in a
child process started by :mod:`bench.jobs` (frontrun's under its CLI), bounded
in schedules and seconds; results go to ``bench/results.json`` and the tables of
``BENCHMARKS.md`` are regenerated from it by :mod:`bench.report`.
"""
