"""The duplicate check: false accepts and rejects over simulated residents, and the time
one Search takes against the size of the sensor's library.

The residents' fingers are the simulator's (one finger each, enrolled from one capture,
searched with another, in libraries of :data:`GROUP`), at the sensor's score semantics
(the double's Search is the emulator's: the best page at or above the match threshold).
A false accept is a
stranger's finger hitting anyone's page; a false reject is a resident's own finger not
hitting their own page.
"""

from __future__ import annotations

from hal.exc import NoMatch
from hw_sim.doubles import SimFingerprint
from hw_sim.fingerprints import template_of
from simulator.kit import demo_world
from tests.bench.core import Goal, Row, Run, benchmark, timed

#: Seeds of the strangers: never a resident's.
STRANGERS = 1_000_000
#: Residents per library: the 1,000 are searched as ten kits' libraries of 100 each,
#: so the check stays minutes, not hours, in Python (every search compares every page).
GROUP = 100
#: Right answers as a share of all: at least 99.9 % of searches.
RIGHT_GOAL = Goal(ratio_min=0.999)
#: The R307's library searched at most this many times as long as the R503's.
SEARCH_GOAL = Goal(ratio_max=10.0)


def _library(residents: int, *, first: int = 0) -> SimFingerprint:
    """A sensor whose library holds one finger of each of ``residents`` people."""
    sensor = SimFingerprint(demo_world(1, clock_speed=0))  # the world is only for capture
    sensor.library = {page: template_of(first + page + 1, 2, 0) for page in range(residents)}
    return sensor


def _hit(sensor: SimFingerprint, template: bytes) -> int | None:
    try:
        return sensor.search(template).page
    except NoMatch:
        return None


@benchmark("duplicates")
def duplicates(run: Run) -> list[Row]:
    residents, group = run.size(1000, 20), run.size(GROUP, 10)
    rejects = accepts = 0
    for first in range(0, residents, group):  # one kit's library after another
        sensor = _library(group, first=first)
        for page in range(group):
            rejects += _hit(sensor, template_of(first + page + 1, 2, 1)) != page
            accepts += _hit(sensor, template_of(STRANGERS + first + page, 2, 0)) is not None
    small, large = run.size(200, 10), run.size(1000, 20)
    probe = template_of(STRANGERS, 2, 0)  # a stranger: every page is compared
    r503, r307 = _library(small), _library(large)
    base = min(timed(lambda: _hit(r503, probe)) for _ in range(3))
    full = min(timed(lambda: _hit(r307, probe)) for _ in range(3))
    right = 100.0
    return [
        Row(
            "duplicates",
            f"own finger found, {residents} residents",
            100.0 * (residents - rejects) / residents,
            "%",
            right,
            "every one",
            RIGHT_GOAL,
            note=f"{rejects} false rejects",
        ),
        Row(
            "duplicates",
            f"strangers not matched, {residents} searches",
            100.0 * (residents - accepts) / residents,
            "%",
            right,
            "every one",
            RIGHT_GOAL,
            note=f"{accepts} false accepts",
        ),
        Row(
            "duplicates",
            f"search of {large} pages (R307)",
            full,
            "s",
            base,
            f"search of {small} pages (R503)",
            SEARCH_GOAL,
        ),
    ]
