"""Officers' login fingers, put on the kit's own sensor by a supervisor.

Each officer the kit was flashed with has a page of the sensor's library (``finger_page``
at flash: :attr:`storage.model.Officer.finger_pages`).  The page map keeps that page
reserved whether or not a finger is on it yet (:func:`capture.duplicates.sensor_library`),
so no resident's finger is ever stored there and the residents' rotation never moves it.
Flashing writes no finger, since no officer stands at the kit then, and a replaced sensor
holds none: the officers' fingers are taken on the kit, onto those pages.

A finger becomes an officer's login finger only when

- the sensor's search finds it on no page but the officer's own: a resident's finger on
  an officer's page would log the resident in, another officer's would log in as the
  wrong person (an officer's own page is fine: the same finger enrolled again);
- a second capture is the same finger as the first (the officer neither slid nor swapped
  fingers), as the sensor's own enrolment (RegModel) checks.

The better of the two captures is stored: a page holds one template, and the kit stores
templates it holds (:meth:`hal.contracts.FingerprintSensor.enrol`), as for residents.
These functions run as the steps' device jobs (:mod:`capture.login_finger_steps`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from capture.duplicates import CAPTURING, sensor_library
from capture.ports import RecordKeeper
from capture.sensor_library import HitKind
from hal.contracts import FingerprintSensor
from hal.exc import NoMatch
from hal.types import FingerImage, FingerPosition
from storage.model import Officer

#: The finger the screen asks an officer for.  The sensor would take any finger; naming
#: one tells the officer which to give again at every login.
LOGIN_FINGER = FingerPosition.RIGHT_INDEX


def login_page(officer: Officer) -> int:
    """The sensor page the officer's login finger goes on: the first flashed for them."""
    return officer.finger_pages[0]


@dataclass(frozen=True)
class LoginSlot:
    """An officer's sensor page, and whether the sensor holds a finger on it."""

    officer: Officer
    held: bool

    @property
    def page(self) -> int:
        return login_page(self.officer)


def login_slots(officers: Iterable[Officer], held: AbstractSet[int]) -> list[LoginSlot]:
    """The officers that have a sensor page, as flashed, each with whether the sensor's
    index table (``held``) says a finger is on it."""
    return [LoginSlot(o, login_page(o) in held) for o in officers if o.finger_pages]


class LoginFingerRefusal(enum.StrEnum):
    """Why a finger may not become an officer's login finger (the audit log says which)."""

    RESIDENT = "resident"  # the finger of someone enrolled on this kit
    OTHER_OFFICER = "other-officer"  # another officer's login finger
    CAPTURES_DIFFER = "captures-differ"  # the second capture is not the first's finger


@dataclass(frozen=True)
class Refused:
    """A refused finger: why, and whose it is (the resident's record, the other officer)."""

    why: LoginFingerRefusal
    seq: int | None = None
    other: Officer | None = None


@dataclass(frozen=True)
class FirstCapture:
    """The first capture and what the sensor's search found of it (None: nobody else)."""

    image: FingerImage
    refused: Refused | None


def someone_else(
    sensor: FingerprintSensor, store: RecordKeeper, officer: Officer, template: bytes
) -> Refused | None:
    """Whose finger ``template`` is on the sensor when it is not ``officer``'s own."""
    try:
        found = sensor.search(template)
    except NoMatch:
        return None
    hit = sensor_library(store).classify(found.page, seq=CAPTURING, position=int(LOGIN_FINGER))
    if hit.kind is HitKind.ENROLLED and hit.occupant is not None:
        return Refused(LoginFingerRefusal.RESIDENT, seq=hit.occupant.seq)
    if hit.kind is HitKind.OFFICER and found.page not in officer.finger_pages:
        return Refused(LoginFingerRefusal.OTHER_OFFICER, other=store.officer_for_page(found.page))
    return None


def take_first(
    sensor: FingerprintSensor, store: RecordKeeper, officer: Officer, *, timeout: float
) -> FirstCapture:
    """Capture ``officer``'s finger and search the sensor's library for it."""
    sensor.take_image(LOGIN_FINGER, timeout=timeout)
    image = sensor.upload_image(LOGIN_FINGER)
    return FirstCapture(image, someone_else(sensor, store, officer, image.template))


def take_second(
    sensor: FingerprintSensor, officer: Officer, first: FingerImage, *, timeout: float
) -> FingerImage | None:
    """Capture the finger again; when it is ``first``'s finger, store the better of the
    two on ``officer``'s page and return it.  None when they differ: nothing is stored."""
    sensor.take_image(LOGIN_FINGER, timeout=timeout)
    image = sensor.upload_image(LOGIN_FINGER)
    if sensor.match(image.template, [first.template]) is None:
        return None
    kept = max(first, image, key=lambda capture: capture.quality)
    sensor.enrol(login_page(officer), kept.template)
    return kept


def remove(sensor: FingerprintSensor, slot: LoginSlot) -> LoginSlot:
    """Delete the slot's login finger from the sensor; the page stays the officer's."""
    sensor.delete(slot.page)
    return LoginSlot(slot.officer, held=False)
