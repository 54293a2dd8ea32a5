"""The sensor library's bookkeeping: officers' pages kept, the oldest people rotated out
whole; then the plan carried out on the emulated sensor, searched over the wire."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capture.sensor_library import Hit, HitKind, Occupant, SensorLibrary
from hal.exc import NoMatch
from hal.fingerprint import R30xSensor
from hw_sim.fingerprint_emulator import FingerprintEmulator
from hw_sim.fingerprints import template_of
from hw_sim.fingers import Finger


def test_people_fill_the_free_pages_and_officers_keep_theirs() -> None:
    library = SensorLibrary(size=6, reserved=frozenset({0, 1}))
    first = library.admit(10, [2, 7])
    assert dict(first.pages) == {2: 2, 7: 3}
    assert first.evicted == () and first.stale == ()
    assert first.library.who(3) == Occupant(10, 7)
    assert first.library.who(0) is None
    assert (first.library.used, first.library.capacity) == (2, 4)


def test_when_full_the_oldest_person_goes_whole() -> None:
    library = SensorLibrary(size=5, reserved=frozenset({0}))
    for seq in (1, 2):
        library = library.admit(seq, [1, 2]).library
    third = library.admit(3, [6])
    assert third.evicted == (1,)
    assert dict(third.pages) == {6: 1}
    assert third.stale == (2,)  # person 1's second finger: deleted, not left to be found
    assert third.library.order == (2, 3)
    assert {who.seq for who in third.library.occupants.values()} == {2, 3}


def test_impossible_requests_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot fit a library of 2 free pages"):
        SensorLibrary(size=3, reserved=frozenset({0})).admit(1, [1, 2, 3])
    with pytest.raises(ValueError, match=r"outside the library's 0\.\.2"):
        SensorLibrary(size=3, reserved=frozenset({5}))
    library = SensorLibrary(size=4).admit(1, [1]).library
    with pytest.raises(ValueError, match="record #1 is already"):
        library.admit(1, [2])


@given(st.lists(st.integers(1, 4), min_size=1, max_size=25), st.integers(0, 3))
def test_rotation_never_touches_officers_and_keeps_whole_people(
    fingers_per_person: list[int], officers: int
) -> None:
    library = SensorLibrary(size=9, reserved=frozenset(range(officers)))
    for seq, count in enumerate(fingers_per_person):
        admission = library.admit(seq, range(1, count + 1))
        library = admission.library
        assert not set(library.occupants) & library.reserved
        assert set(admission.pages.values()).isdisjoint(admission.stale)
        held = {who.seq: 0 for who in library.occupants.values()}
        for who in library.occupants.values():
            held[who.seq] += 1
        assert list(held) == sorted(held)  # survivors are the newest ones
        assert all(held[s] == fingers_per_person[s] for s in held)  # and complete
        assert library.order[-1] == seq


def test_the_plan_on_the_sensor_finds_the_recent_and_forgets_the_rotated() -> None:
    officer = Finger(person_seed=900, position=2)
    with (
        FingerprintEmulator(library_size=7) as emulator,
        R30xSensor(port=emulator.port, read_timeout=1.0) as sensor,
    ):
        sensor.enrol(0, template_of(officer.person_seed, officer.position))
        library = SensorLibrary(size=7, reserved=frozenset({0}))
        for seq in (1, 2, 3, 4):  # 2 fingers each, 6 pages: person 4 pushes out person 1
            admission = library.admit(seq, [1, 2])
            for position, page in admission.pages.items():
                sensor.enrol(page, template_of(100 + seq, position))
            library = admission.library
        assert admission.evicted == (1,)

        def who_is(seed: int, position: int) -> Occupant | None:
            emulator.place(Finger(person_seed=seed, position=position, capture=5))
            return library.who(sensor.identify(timeout=1.0).page)

        assert who_is(104, 2) == Occupant(4, 2)
        assert who_is(102, 1) == Occupant(2, 1)
        assert who_is(officer.person_seed, officer.position) is None  # an officer's page
        with pytest.raises(NoMatch):
            who_is(101, 1)  # rotated out: overwritten on the sensor
        with pytest.raises(NoMatch):
            who_is(555, 3)  # a stranger


def test_hits_are_told_apart() -> None:
    library = SensorLibrary(size=8, reserved=frozenset({0}))
    library = library.admit(1, [1, 2]).library
    library = library.admit(2, [1, 2]).library
    assert library.classify(None, seq=2, position=1) == Hit(HitKind.NONE)
    assert library.classify(0, seq=2, position=1).kind is HitKind.OFFICER
    assert library.classify(1, seq=2, position=1) == Hit(HitKind.ENROLLED, 1, Occupant(1, 1))
    assert library.classify(3, seq=2, position=2) == Hit(HitKind.REPEATED, 3, Occupant(2, 1))
    assert library.classify(3, seq=2, position=1).kind is HitKind.RETAKE
    assert library.classify(7, seq=2, position=1).kind is HitKind.NONE  # never filled


def test_one_finger_presented_twice_is_caught_on_the_sensor() -> None:
    """Each finger is stored at its page as it is taken; a search before storing the next
    one hits the person's own earlier finger when the same finger comes again."""
    with (
        FingerprintEmulator(library_size=6) as emulator,
        R30xSensor(port=emulator.port, read_timeout=1.0) as sensor,
    ):
        admission = SensorLibrary(size=6, reserved=frozenset({0})).admit(7, [1, 2])
        library = admission.library

        def present(seed: int, finger: int, capture: int) -> Hit:
            emulator.place(Finger(person_seed=seed, position=finger, capture=capture))
            try:
                page: int | None = sensor.identify(timeout=1.0).page
            except NoMatch:
                page = None
            return library.classify(page, seq=7, position=2)

        sensor.enrol(admission.pages[1], template_of(70, 1))  # the right thumb, taken
        assert present(70, 2, 1).kind is HitKind.NONE  # the right index: new
        hit = present(70, 1, 2)  # the thumb again, offered as the index
        assert (hit.kind, hit.occupant) == (HitKind.REPEATED, Occupant(7, 1))


def test_a_swapped_sensor_loses_its_people_and_keeps_no_strangers() -> None:
    library = SensorLibrary(size=10, reserved=frozenset({0, 1}))
    for seq in (1, 2, 3):
        library = library.admit(seq, [1, 2]).library  # pages 2..7
    found = library.reconcile({0, 2, 3, 6, 9})  # person 2's pages and officer 1's gone; 9 extra
    assert found.lost == (2, 3)  # person 3 lost one finger of two
    assert found.orphans == (9,)
    assert found.officers_missing == (1,)
    assert dict(found.library.occupants) == {
        2: Occupant(1, 1),
        3: Occupant(1, 2),
        6: Occupant(3, 1),
    }
    assert found.library.order == (1, 3) and found.changed
    assert not library.reconcile({0, 1, *range(2, 8)}).changed


@given(
    st.lists(st.integers(1, 3), min_size=1, max_size=8),
    st.sets(st.integers(0, 11)),
)
def test_reconciling_keeps_only_what_the_sensor_holds(
    fingers_per_person: list[int], held: set[int]
) -> None:
    library = SensorLibrary(size=12, reserved=frozenset({0}))
    for seq, count in enumerate(fingers_per_person, start=1):
        library = library.admit(seq, range(1, count + 1)).library
    found = library.reconcile(held)
    assert set(found.library.occupants) == set(library.occupants) & held
    assert set(found.orphans) == held - set(library.occupants) - {0}
    assert set(found.lost) == {w.seq for p, w in library.occupants.items() if p not in held}
    assert set(found.library.order) == {w.seq for w in found.library.occupants.values()}
    assert found.library.reconcile(held - set(found.orphans)).changed is False
