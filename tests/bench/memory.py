"""Memory: the peak resident set of ``jemput-kit sim demo`` enrolling 50 and 500 people.

Each run is its own process (``python -m tests.bench.memory PEOPLE DATA``), measured by
``wait4``'s ``ru_maxrss``.  The demo runs on the fast contract-level devices (``--fast``):
the question is whether the kit's memory grows with the people it has enrolled, not how
long they took.  For 500 people the demo village is made large enough (the stock one has
60 residents), with a card for each and a kit on mains power (no battery drain over the
25 kit-clock hours 500 people take).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.bench.core import Goal, Row, Run, benchmark, waited_peak_mb

BUDGET_MB = 120.0
FIRST_GOAL = Goal(figure_max=BUDGET_MB)
#: 500 people within 10% of 50, and within the budget.
GROWTH_GOAL = Goal(ratio_max=1.10, figure_max=BUDGET_MB)


def peak_rss_mb(people: int, data_dir: Path) -> float:
    """Peak RSS in MB of one demo process enrolling ``people``."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.memory", str(people), str(data_dir)],
        stdout=subprocess.DEVNULL,
    )
    return waited_peak_mb(child, f"the demo of {people} people")


@benchmark("memory")
def memory(run: Run) -> list[Row]:
    small, large = run.size(50, 2), run.size(500, 4)
    first = peak_rss_mb(small, run.scratch / "memory-small")
    second = peak_rss_mb(large, run.scratch / "memory-large")
    return [
        Row("memory", f"demo peak RSS, {small} people", first, "MB", None, "", FIRST_GOAL),
        Row(
            "memory",
            f"demo peak RSS, {large} people",
            second,
            "MB",
            first,
            f"{small} people",
            GROWTH_GOAL,
        ),
    ]


def enlarge_village(residents: int) -> None:
    """The demo village made of at least ``residents``, with a card for each and a kit on
    mains power (no battery drain over the kit-clock hours they take)."""
    from hw_sim.world import SimBattery, World
    from simulator import kit as sim

    stock = sim.demo_world
    sim.DEMO_WORKLIST = max(sim.DEMO_WORKLIST, residents)
    sim.DEMO_CARDS = max(sim.DEMO_CARDS, residents)

    def on_mains(seed: int, **options: object) -> World:
        world = stock(seed, **options)  # type: ignore[arg-type]
        world.battery = SimBattery(world.clock, drain_per_hour=0.0)
        return world

    sim.demo_world = on_mains  # type: ignore[assignment]


def _demo(people: int, data_dir: Path) -> None:
    """The demo CLI in a village big enough for ``people``."""
    from firmware.cli import app

    enlarge_village(people + 10)
    app(["sim", "demo", "--people", str(people), "--data-dir", str(data_dir), "--doubles"])


if __name__ == "__main__":
    _demo(int(sys.argv[1]), Path(sys.argv[2]))
