"""A second enrolment caught at the fingers, and the sensor's library behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from capture.prompts import prompt
from hal.types import FingerPosition
from hw_sim.fingerprints import template_of
from simulator.kit import SimDevices
from storage.model import Policy
from tests.capture.flows import (
    BACK,
    OK,
    MakeRig,
    clean_person,
    crash,
    enrol,
    enrol_and_next,
    shown,
    take_face,
    to_face,
)

if TYPE_CHECKING:
    from conftest import Rig


def test_sealed_fingers_go_into_the_sensor_library(rig: Rig) -> None:
    enrol(rig)
    pages = rig.store.sensor_pages()
    assert sorted(position for _, position in pages.values()) == list(range(1, 11))
    assert {seq for seq, _ in pages.values()} == {1}
    library = rig.sim.devices.fingerprint.library
    officer_pages = {p for o in rig.store.officers.values() for p in o.finger_pages}
    assert set(library) == set(pages) | officer_pages
    assert not set(pages) & officer_pages


def test_second_enrolment_is_caught_and_a_supervisor_lets_twins_through(rig: Rig) -> None:
    first = enrol(rig)
    rig.press(OK)
    assert rig.state == "ready"
    rig.bystanders.stand_in = first  # the same person comes back under another name
    to_face(rig, clean_person(rig, 1))
    take_face(rig)
    assert rig.state == "fingers"
    assert rig.screen == shown("duplicate_enrolled", seq=1, name=first.name)
    assert rig.audit("duplicate")[0]["seq"] == 1
    rig.press(OK)
    assert rig.state == "approval"
    assert rig.screen[1] == prompt("approval.duplicate", seq=1)[0]
    rig.press(OK)  # the supervisor's PIN (the person at the glass is not the supervisor)
    rig.press(OK)
    rig.key_digits(rig.pin("SPV-001"))
    assert rig.state == "signature", rig.screen
    draft = rig.controller.draft
    assert draft.duplicates_approved == [(1, "SPV-001")]
    assert sum(1 for f in draft.fingers.values() if f.image_png) == 10


def test_second_enrolment_without_a_supervisor_is_dropped(rig: Rig) -> None:
    first = enrol(rig)
    rig.press(OK)
    rig.bystanders.stand_in = first
    second = to_face(rig, clean_person(rig, 1))
    take_face(rig)
    rig.press(OK)
    assert rig.state == "approval"
    rig.press(BACK)  # no supervisor at hand
    assert rig.state == "ready"
    assert rig.controller.draft is None and rig.store.journal.load() is None
    assert rig.audit("duplicate-refused")[0]["nik"] == second.nik
    assert rig.store.sensor_pages() and {s for s, _ in rig.store.sensor_pages().values()} == {1}


def test_officer_offering_their_own_finger_stops_the_enrolment(rig: Rig) -> None:
    rig.bystanders.stand_in = rig.world.officers[0]  # type: ignore[assignment]
    person = to_face(rig)
    take_face(rig)
    assert rig.state == "ready", rig.screen
    assert rig.screen == shown("duplicate_officer")
    assert rig.controller.draft is None and rig.store.journal.load() is None
    assert rig.audit("officer-finger")[0]["nik"] == person.nik


def test_one_finger_presented_twice_is_caught(rig: Rig) -> None:
    to_face(rig)
    rig.world.glass_position = FingerPosition.RIGHT_THUMB  # the thumb, whatever is asked
    take_face(rig)
    assert rig.state == "fingers"
    assert rig.screen == shown("duplicate_repeated", other=prompt("finger.1")[0])
    assert list(rig.controller.draft.fingers) == [FingerPosition.RIGHT_THUMB]
    rig.world.glass_position = None
    rig.press(OK)
    assert rig.state == "signature", rig.screen


def test_library_full_rotates_the_oldest_person_out(make_rig: MakeRig) -> None:
    rig = make_rig(policy=Policy(fingers=(1, 2), sensor_library_pages=8))
    officer_pages = len({p for o in rig.store.officers.values() for p in o.finger_pages})
    room = (8 - officer_pages) // 2
    people = [enrol_and_next(rig, clean_person(rig, i)) for i in range(room + 1)]
    seqs = {seq for seq, _ in rig.store.sensor_pages().values()}
    assert seqs == set(range(2, room + 2)), seqs  # the first person was rotated out
    assert len(rig.sim.devices.fingerprint.library) == officer_pages + 2 * room
    rig.bystanders.stand_in = people[0]  # rotated out: no longer caught
    to_face(rig, clean_person(rig, room + 1))
    take_face(rig)
    assert rig.state == "signature", rig.screen


def test_a_sensor_swapped_while_off_is_found_at_the_self_test(make_rig: MakeRig, rig: Rig) -> None:
    """The new sensor holds the officers' fingers (flashed) but nobody enrolled, and one
    page from its last kit: the page map forgets the lost, the stranger's page is deleted."""
    first = enrol_and_next(rig, clean_person(rig))
    assert rig.store.sensor_pages()
    stranger = 150

    def swapped(sim: SimDevices) -> None:
        sim.devices.fingerprint.enrol(stranger, template_of(first.seed, 1))

    rig = crash(rig, make_rig, before_start=swapped)
    assert rig.audit("library-reconciled") == [
        {"lost": [1], "orphans": 1, "officer_pages_missing": []}
    ]
    assert rig.store.sensor_pages() == {}
    assert stranger not in rig.sim.devices.fingerprint.library
    assert rig.store.status().library_used == 0
    rig.bystanders.stand_in = first  # no longer on the sensor: not caught, and no false hit
    to_face(rig, clean_person(rig, 1))
    take_face(rig)
    assert rig.state == "signature", rig.screen


def test_a_sensor_that_kept_its_library_changes_nothing_at_the_self_test(
    make_rig: MakeRig, rig: Rig
) -> None:
    enrol_and_next(rig, clean_person(rig))
    pages = rig.store.sensor_pages()
    library = rig.sim.devices.fingerprint.library

    def kept(sim: SimDevices) -> None:
        sim.devices.fingerprint.library.update(library)

    rig = crash(rig, make_rig, before_start=kept)
    assert rig.audit("library-reconciled") == []
    assert rig.store.sensor_pages() == pages
