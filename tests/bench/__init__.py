"""Benchmarks: ``make bench`` (``python -m tests.bench``).  See docs/performance.md.

Every row is a figure, a baseline measured in the same run, their ratio and the goal:
absolute numbers depend on the machine, ratios say where the time goes.  A benchmark is
one function decorated with :func:`tests.bench.core.benchmark` in any module of this
package; the runner imports them all.
"""
