"""Finger positions as ISO/IEC 19794-4 codes them: the sensor captures them, records keep them."""

from __future__ import annotations

import enum


class FingerPosition(enum.IntEnum):
    """Finger position codes of ISO/IEC 19794-4 (table 2), as stored in records."""

    UNKNOWN = 0
    RIGHT_THUMB = 1
    RIGHT_INDEX = 2
    RIGHT_MIDDLE = 3
    RIGHT_RING = 4
    RIGHT_LITTLE = 5
    LEFT_THUMB = 6
    LEFT_INDEX = 7
    LEFT_MIDDLE = 8
    LEFT_RING = 9
    LEFT_LITTLE = 10


#: The ten fingers in the order e-KTP recording takes them.
TEN_FINGERS: tuple[FingerPosition, ...] = tuple(FingerPosition)[1:]
