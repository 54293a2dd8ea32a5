"""What every benchmark shares: a row of the table, its goal, the registry, measuring aids.

A benchmark is a function ``(Run) -> list[Row]`` decorated with :func:`benchmark`; that
is all it takes to add a row (or several) to ``make bench``.
"""

from __future__ import annotations

import enum
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Goal:
    """What a row must reach: a bound on its ratio and/or on its figure; none: reported.

    ``ratio_max`` for costs (``figure / baseline`` at most this), ``ratio_min`` for rates
    (at least this), ``figure_max`` for an absolute budget (megabytes), ``figure_min`` for
    an absolute floor (people an hour).
    """

    ratio_max: float | None = None
    ratio_min: float | None = None
    figure_max: float | None = None
    figure_min: float | None = None

    def met(self, figure: float, ratio: float | None) -> bool | None:
        checks: list[bool] = []
        if self.ratio_max is not None and ratio is not None:
            checks.append(ratio <= self.ratio_max)
        if self.ratio_min is not None and ratio is not None:
            checks.append(ratio >= self.ratio_min)
        if self.figure_max is not None:
            checks.append(figure <= self.figure_max)
        if self.figure_min is not None:
            checks.append(figure >= self.figure_min)
        return all(checks) if checks else None

    def __str__(self) -> str:
        parts = []
        if self.ratio_max is not None:
            parts.append(f"ratio <= {self.ratio_max:g}")
        if self.ratio_min is not None:
            parts.append(f"ratio >= {self.ratio_min:g}")
        if self.figure_max is not None:
            parts.append(f"<= {self.figure_max:g}")
        if self.figure_min is not None:
            parts.append(f">= {self.figure_min:g}")
        return ", ".join(parts) or "reported"


REPORTED = Goal()


class Ratio(enum.Enum):
    """How a row's ratio is formed: COST divides figure by baseline (seconds, bytes, or a
    rate against a rate); SLOWDOWN divides baseline by figure (a rate that is slower)."""

    COST = "figure / baseline"
    SLOWDOWN = "baseline / figure"


@dataclass(frozen=True)
class Row:
    """One line of the table: ``figure`` against ``baseline`` (same unit), and the goal."""

    benchmark: str
    name: str
    figure: float
    unit: str
    baseline: float | None
    baseline_name: str
    goal: Goal = REPORTED
    note: str = ""
    ratio_kind: Ratio = Ratio.COST

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0 or self.figure == 0:
            return None
        if self.ratio_kind is Ratio.SLOWDOWN:
            return self.baseline / self.figure
        return self.figure / self.baseline

    @property
    def met(self) -> bool | None:
        return self.goal.met(self.figure, self.ratio)

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["goal"] = str(self.goal)
        data["ratio_kind"] = self.ratio_kind.value
        data["ratio"] = self.ratio
        data["met"] = self.met
        return data


@dataclass
class Run:
    """One run of the benchmarks: a scratch folder and whether sizes are tiny (tests)."""

    scratch: Path
    tiny: bool = False
    #: Facts a benchmark leaves for a later one (the person's kit time for people/hour).
    shared: dict[str, object] = field(default_factory=dict)

    def size(self, full: int, tiny: int) -> int:
        return tiny if self.tiny else full


Benchmark = Callable[[Run], list[Row]]
#: Every benchmark, in the order the table shows them (the order they were registered).
REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str) -> Callable[[Benchmark], Benchmark]:
    """Register ``function`` under ``name``: the one step that adds a row to make bench."""

    def register(function: Benchmark) -> Benchmark:
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} is registered twice")
        REGISTRY[name] = function
        return function

    return register


def timed(work: Callable[[], object]) -> float:
    """Seconds one call of ``work`` takes."""
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def rate(work: Callable[[], object], *, seconds: float) -> float:
    """Calls per second of ``work``, over at least ``seconds`` (after one warm-up call)."""
    work()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or count == 0:
        work()
        count += 1
    return count / elapsed


def percentile(samples: list[float], share: float) -> float:
    """The ``share`` quantile (0.5, 0.99) of ``samples``, interpolated."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[round(share * 100) - 1]


def waited_peak_mb(child: subprocess.Popen[str] | subprocess.Popen[bytes], what: str) -> float:
    """Wait for ``child``; its peak resident set in MB (``wait4``'s ``ru_maxrss``, which
    only the reaping call returns).  RuntimeError names ``what`` failed, with its exit."""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"{what} failed (exit {child.returncode})")
    return usage.ru_maxrss / 1024  # kilobytes on Linux
