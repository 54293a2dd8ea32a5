"""Is this finger someone's already?  The duplicate checks a capture makes before sealing.

Each finger the kit keeps is compared on the sensor itself: with this person's fingers
kept so far (Match: one finger presented twice), then with the sensor's library (Search):
an officer's login finger, or a finger of someone enrolled on this kit before.  What a
page means is :class:`capture.sensor_library.SensorLibrary`'s bookkeeping, persisted in
the store's page map; after sealing, :func:`admit` stores the person's fingers, rotating
the oldest people out when the library is full.  At every self-test :func:`reconcile`
holds the page map to what the sensor really holds, since a technician may have swapped
the sensor (or it was wiped) and a page map naming empty pages catches nobody.
"""

from __future__ import annotations

from collections.abc import Mapping

from capture.ports import RecordKeeper
from capture.sensor_library import Hit, HitKind, Occupant, Reconciled, SensorLibrary
from hal.contracts import FingerprintSensor
from hal.exc import NoMatch
from storage.model import Enrolment

#: The sequence number a person being captured has in :meth:`SensorLibrary.classify`:
#: records start at 1, so a hit on any sealed person is someone else.
CAPTURING = 0


def sensor_library(store: RecordKeeper) -> SensorLibrary:
    """The sensor's library as the store's page map and the officers' pages say."""
    reserved = frozenset(page for o in store.officers.values() for page in o.finger_pages)
    pages = store.sensor_pages()
    occupants = {page: Occupant(seq, position) for page, (seq, position) in pages.items()}
    order = tuple(sorted({seq for seq, _ in pages.values()}))
    return SensorLibrary(store.policy.sensor_library_pages, reserved, occupants, order)


def check_finger(
    sensor: FingerprintSensor,
    library: SensorLibrary,
    template: bytes,
    position: int,
    kept: Mapping[int, bytes],
) -> Hit:
    """What the sensor says of ``template``: another finger of this person (``kept``,
    position -> template), an officer's, someone enrolled before's, or nobody's.

    Only the library's pages the kit uses are searched (``library.size``, the policy's):
    the sensor takes about a second for a whole R307 library of 1,000 pages, and pages
    past the kit's share never hold a template (the self-test deletes any it finds)."""
    others = [(other, earlier) for other, earlier in kept.items() if other != position]
    same = sensor.match(template, [earlier for _, earlier in others])
    if same is not None:
        return Hit(HitKind.REPEATED, occupant=Occupant(CAPTURING, others[same][0]))
    try:
        found = sensor.search(template, pages=library.size)
    except NoMatch:
        return Hit(HitKind.NONE)
    return library.classify(found.page, seq=CAPTURING, position=position)


def _save(store: RecordKeeper, library: SensorLibrary) -> None:
    """Write ``library``'s occupants as the store's page map, once the sensor matches it."""
    store.sensor_pages({page: (who.seq, who.position) for page, who in library.occupants.items()})


def admit(sensor: FingerprintSensor, store: RecordKeeper, seq: int, enrolment: Enrolment) -> None:
    """Store sealed record ``seq``'s fingers in the sensor's library; the people rotated
    out to make room are deleted from it."""
    templates = {int(f.position): f.template for f in enrolment.fingers if f.template}
    if not templates:
        return
    admission = sensor_library(store).admit(seq, templates)
    for page in admission.stale:
        sensor.delete(page)
    for position, page in admission.pages.items():
        sensor.enrol(page, templates[position])
    _save(store, admission.library)


def forget(sensor: FingerprintSensor, store: RecordKeeper, seq: int) -> None:
    """Delete voided record ``seq``'s fingers from the sensor's library, so the person
    enrolled again after a void is not stopped as their own duplicate."""
    pages = store.sensor_pages()
    gone = [page for page, (who, _) in pages.items() if who == seq]
    for page in gone:
        sensor.delete(page)
    if gone:
        store.sensor_pages({page: held for page, held in pages.items() if page not in gone})


def reconcile(sensor: FingerprintSensor, store: RecordKeeper) -> Reconciled:
    """Make the page map and the sensor agree: forget the fingers the sensor lost, and
    delete the pages it holds for nobody (a search hit there would hide a real one)."""
    found = sensor_library(store).reconcile(sensor.held_pages())
    for page in found.orphans:
        sensor.delete(page)
    if found.lost:
        _save(store, found.library)
    return found
