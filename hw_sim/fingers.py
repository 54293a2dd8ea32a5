"""A simulated finger as the world presents it to a sensor, real or double."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FingerCondition(enum.Enum):
    """The state of one finger of a simulated person."""

    OK = "ok"
    SCARRED = "scarred"  # images, but poorly: quality below threshold most of the time
    MISSING = "missing"  # nothing to image: the sensor never sees a finger
    BANDAGED = "bandaged"  # the sensor sees something, but no ridges


class Glass(enum.Enum):
    """What a developer or trainer puts on the sensor instead of what the world decides."""

    AS_BORN = "as-born"  # the subject's own finger, as the world made it
    GOOD = "good"  # a clean finger, whatever the subject's hands are like
    POOR = "poor"  # a worn finger: images, but below the quality threshold
    NONE = "none"  # nothing on the glass


@dataclass(frozen=True)
class Finger:
    """One finger on the glass: whose (a repeatable seed), which, and in what state.

    ``position`` is the ISO/IEC 19794-4 code (1..10).  ``capture`` counts the times
    this finger was imaged, so each capture gets fresh noise but the same ridges.
    """

    person_seed: int
    position: int
    condition: FingerCondition = FingerCondition.OK
    capture: int = 0
