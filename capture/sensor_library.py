"""Which page of the fingerprint sensor's library holds whose finger, and who makes room.

The sensor searches its own library (Search, 0x04): 1,000 pages on an R307, 200 on an
R503.  The officers' pages are fixed (their login fingers); every other page holds a
finger of someone enrolled on this kit, so a second enrolment of the same person is
caught on the spot.  When the library is full the oldest people are rotated out, whole,
so a hit always names one person.  This module is the pure bookkeeping; the capture step
stores, deletes and searches on the sensor as an :class:`Admission` says, and
:meth:`SensorLibrary.classify` tells what a hit means: an officer's finger, someone
enrolled before, or this person's own other finger (one finger presented twice).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


class HitKind(enum.Enum):
    """What a search hit during one person's capture means."""

    NONE = "none"  # no page matched: a new finger
    OFFICER = "officer"  # an officer's finger: an officer cannot enrol themselves as another
    ENROLLED = "enrolled"  # someone sealed on this kit before: a second enrolment
    REPEATED = "repeated"  # this person's own other finger: one finger presented twice
    RETAKE = "retake"  # this person's same finger, stored by an earlier attempt: fine


@dataclass(frozen=True)
class Hit:
    """A classified search hit; ``occupant`` is whose finger matched (None for officers)."""

    kind: HitKind
    page: int | None = None
    occupant: Occupant | None = None


@dataclass(frozen=True)
class Occupant:
    """One finger in the library: the record's sequence number and the finger position."""

    seq: int
    position: int


@dataclass(frozen=True)
class Admission:
    """What admitting one person changes on the sensor.

    Store each finger at ``pages[position]``; delete ``stale`` pages (fingers of rotated-out
    people that no new finger overwrites) so no search ever hits someone forgotten.
    """

    library: SensorLibrary
    pages: Mapping[int, int]
    evicted: tuple[int, ...]
    stale: tuple[int, ...]


@dataclass(frozen=True)
class Reconciled:
    """What checking the page map against the pages a sensor holds found.

    ``library`` keeps only the fingers the sensor still holds; ``lost`` are the people
    with a finger gone (a replaced or wiped sensor), ``orphans`` the pages the sensor
    holds for nobody the kit knows (a store cut short by a power loss, another kit's
    sensor), to be deleted so no search hit lands on them, and ``officers_missing`` the
    officers' pages the sensor lacks (their finger login fails until a supervisor enrols
    it again: :mod:`capture.login_fingers`).
    """

    library: SensorLibrary
    lost: tuple[int, ...]
    orphans: tuple[int, ...]
    officers_missing: tuple[int, ...]

    @property
    def changed(self) -> bool:
        return bool(self.lost or self.orphans)


@dataclass(frozen=True)
class SensorLibrary:
    """The library's pages: ``reserved`` ones (officers) and people's fingers, oldest first."""

    size: int
    reserved: frozenset[int] = frozenset()
    occupants: Mapping[int, Occupant] = field(default_factory=dict)
    #: sequence numbers of the people in the library, oldest first
    order: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        outside = sorted(page for page in self.reserved if not 0 <= page < self.size)
        if outside:
            raise ValueError(
                f"reserved pages {outside} are outside the library's 0..{self.size - 1}"
            )
        clash = sorted(set(self.occupants) & self.reserved)
        if clash:
            raise ValueError(f"pages {clash} are reserved for officers but hold people's fingers")
        object.__setattr__(self, "occupants", MappingProxyType(dict(self.occupants)))

    @property
    def capacity(self) -> int:
        """Pages for people's fingers (what ``status`` shows beside ``used``)."""
        return self.size - len(self.reserved)

    @property
    def used(self) -> int:
        return len(self.occupants)

    def who(self, page: int) -> Occupant | None:
        """Whose finger a search hit on ``page`` is; None for an officer's or an empty page."""
        return self.occupants.get(page)

    def classify(self, page: int | None, *, seq: int, position: int) -> Hit:
        """What a search hit on ``page`` (None: no match) means while ``seq``'s finger
        ``position`` is captured, with ``seq``'s fingers stored as they are taken."""
        if page is None:
            return Hit(HitKind.NONE)
        if page in self.reserved:
            return Hit(HitKind.OFFICER, page)
        occupant = self.occupants.get(page)
        if occupant is None:
            return Hit(HitKind.NONE, page)  # a page we never filled: stale, not a person
        if occupant.seq != seq:
            return Hit(HitKind.ENROLLED, page, occupant)
        kind = HitKind.RETAKE if occupant.position == position else HitKind.REPEATED
        return Hit(kind, page, occupant)

    def reconcile(self, held: Iterable[int]) -> Reconciled:
        """This library as a sensor holding templates on ``held`` pages has it."""
        on_sensor = frozenset(held)
        kept = {page: who for page, who in self.occupants.items() if page in on_sensor}
        lost = sorted({who.seq for page, who in self.occupants.items() if page not in on_sensor})
        order = tuple(seq for seq in self.order if any(w.seq == seq for w in kept.values()))
        orphans = sorted(on_sensor - self.reserved - set(self.occupants))
        return Reconciled(
            library=SensorLibrary(self.size, self.reserved, kept, order),
            lost=tuple(lost),
            orphans=tuple(orphans),
            officers_missing=tuple(sorted(self.reserved - on_sensor)),
        )

    def admit(self, seq: int, positions: Iterable[int]) -> Admission:
        """Room for ``seq``'s fingers, rotating the oldest people out when full."""
        wanted = list(dict.fromkeys(positions))
        if seq in self.order:
            raise ValueError(f"record #{seq} is already in the sensor library")
        if len(wanted) > self.capacity:
            raise ValueError(
                f"{len(wanted)} fingers cannot fit a library of {self.capacity} free pages"
            )
        occupants = dict(self.occupants)
        order = list(self.order)
        free = sorted(set(range(self.size)) - self.reserved - set(occupants))
        evicted: list[int] = []
        freed: list[int] = []
        while len(free) < len(wanted):
            oldest = order.pop(0)
            evicted.append(oldest)
            pages = [page for page, who in occupants.items() if who.seq == oldest]
            for page in pages:
                del occupants[page]
            freed += pages
            free = sorted(free + pages)
        pages_for = dict(zip(wanted, free, strict=False))
        for position, page in pages_for.items():
            occupants[page] = Occupant(seq, position)
        order.append(seq)
        library = SensorLibrary(self.size, self.reserved, occupants, tuple(order))
        stale = tuple(sorted(set(freed) - set(pages_for.values())))
        return Admission(library, MappingProxyType(pages_for), tuple(evicted), stale)
