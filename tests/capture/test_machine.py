"""The capture machine driven as an officer drives it: buttons, device doubles and faults.

Every test runs a real kit (store on a temporary folder, event loop, device doubles, the
simulated world in front) and presses buttons; what it asserts is what the officer sees,
what the store kept and what the devices did.  ``test_transition_coverage.py`` checks that
the tests of this module together take every transition the machine declares.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from capture.events import ButtonEvent, Tick
from capture.machine import CaptureMachine
from capture.prompts import Language, prompt
from hal.exc import PrinterError
from hal.types import Button, FingerPosition, Indicator
from hw_sim.fingerprints import template_of
from hw_sim.fingers import Glass
from hw_sim.portraits import Scene
from hw_sim.world import Person, SimOfficer
from simulator.kit import DEMO_AUTHORITY, SimDevices
from storage.errors import WriteError
from storage.files import record_name
from storage.keys import Authority
from storage.kit import KitStore
from storage.model import (
    ALL_FINGERS,
    CardKind,
    CorrectableField,
    Correction,
    Domicile,
    FlaggedError,
    FlagReason,
    FreeTextField,
    Modality,
    Policy,
    SignatureExceptionReason,
)
from storage.nik import make_nik
from storage.record import RecordHeader, open_record, read_header
from vocabulary.people import Role, Sex
from vocabulary.purpose import Purpose

if TYPE_CHECKING:
    from conftest import Rig

OK, BACK, UP, DOWN = Button.OK, Button.BACK, Button.UP, Button.DOWN
MakeRig = Callable[..., "Rig"]
DOC = Path(__file__).parents[2] / "docs" / "capture-states.md"


def shown(key: str, language: Language = Language.ID, **values: object) -> list[str]:
    """Prompt ``key`` as the 4x21 display shows it: long values are cut at the edge."""
    return [line[:21] for line in prompt(key, language, **values)[:4]]


# -- driving an enrolment ------------------------------------------------------------------


def clean_person(rig: Rig, skip: int = 0) -> Person:
    """A worklist resident whose ten fingers all read well (no scar, bandage or gap)."""
    return [p for p in rig.world.residents if not p.fingers][skip]


def pick(rig: Rig, person: Person | None = None) -> Person:
    """From the ready list, choose ``person``: the kit asks to confirm them."""
    person = person or clean_person(rig)
    rig.choose(person.name)
    rig.press(OK)
    assert rig.state == "confirm_person", rig.screen
    return person


def to_face(rig: Rig, person: Person | None = None) -> Person:
    person = pick(rig, person)
    rig.press(OK)
    assert rig.state == "face", rig.screen
    return person


def take_face(rig: Rig) -> None:
    rig.press(OK)
    assert rig.screen == shown("face_ok")
    rig.press(OK)


def to_fingers(rig: Rig) -> Person:
    """At the first finger, which reads poorly: the machine waits for the officer."""
    person = to_face(rig)
    rig.sim.devices.fingerprint.inject("poor-image")
    take_face(rig)
    assert rig.state == "fingers", rig.screen
    return person


def to_signature(rig: Rig, person: Person | None = None) -> Person:
    person = to_face(rig, person)
    take_face(rig)
    assert rig.state == "signature", rig.screen
    assert rig.screen == shown("signature_ok")
    return person


def to_review(rig: Rig, person: Person | None = None) -> Person:
    person = to_signature(rig, person)
    rig.press(OK)
    assert rig.state == "review", rig.screen
    return person


def enrol(rig: Rig, person: Person | None = None) -> Person:
    """A whole enrolment, sealed and printed: the kit shows done."""
    person = to_review(rig, person)
    rig.press(OK)
    assert rig.state == "done", rig.screen
    return person


def open_admin(rig: Rig) -> None:
    rig.choose(prompt("admin")[0])
    rig.press(OK)
    assert rig.state == "admin", rig.screen


def admin_item(rig: Rig, key: str) -> None:
    open_admin(rig)
    rig.choose(prompt(f"admin.{key}", rig.controller.language)[0])
    rig.press(OK)


def lock_by_menu(rig: Rig) -> None:
    """Lock from the officer's menu, with nobody offering a finger afterwards."""
    rig.bystanders.offer_finger = False
    admin_item(rig, "lock")
    assert rig.state == "locked", rig.screen


def except_all_fingers(rig: Rig) -> None:
    """Record an exception (missing) for every finger the policy asks: approval follows."""
    to_fingers(rig)
    for _ in rig.store.policy.fingers:
        rig.press(DOWN)
        assert rig.state == "finger_exception", rig.screen
        rig.press(OK)
    assert rig.state == "approval", rig.screen


def pin_login(rig: Rig, officer_id: str, pin: str | None = None) -> None:
    """From locked: OK for PIN, choose the officer, key the PIN."""
    rig.press(OK)
    assert rig.state == "pin_entry", rig.screen
    rig.choose(rig.store.officers[officer_id].name)
    rig.press(OK)
    rig.key_digits(pin or rig.pin(officer_id), shown="000000")


def crash(rig: Rig, make_rig: MakeRig, **options: object) -> Rig:
    """The kit loses power and boots again on the same data folder and world."""
    return make_rig(reopen=rig, **options)


def sealed_header(rig: Rig, seq: int) -> RecordHeader:
    return read_header((rig.store.records_dir / record_name(seq)).read_bytes())


# -- boot and login ------------------------------------------------------------------------


def test_boot_self_test_then_login_by_finger(rig: Rig) -> None:
    assert rig.audit("self-test") == [{"faults": []}]
    assert rig.audit("login") == [{"officer": "PTG-001", "how": "finger"}]
    assert rig.screen[0] == "SIAP 90% kartu:10"
    assert rig.screen[1] == ">" + prompt("walk_in")[0]


def test_the_screen_is_drawn_once_per_event(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    display = rig.sim.devices.display
    show, drawn = display.show, []
    monkeypatch.setattr(display, "show", lambda lines: (drawn.append(list(lines)), show(lines)))
    assert rig.screen[1] == ">" + prompt("walk_in")[0]
    rig.controller.handle(ButtonEvent(OK))  # a transition: the new state's screen, drawn once
    assert rig.state == "nik_entry"
    assert drawn == [rig.screen]


def test_self_test_names_the_silent_device(make_rig: MakeRig) -> None:
    rig = make_rig(before_start=lambda sim: sim.devices.signature_pad.inject("unplugged"))
    assert rig.state == "self_test"
    assert rig.screen == shown("self_test_fault", device="signature-pad")
    assert rig.audit("self-test")[0]["faults"][0].startswith("signature-pad: ")
    rig.press(OK)
    assert rig.state == "ready"  # the technician let it go on; the officer's finger logged in


def test_unknown_finger_is_refused_and_the_sensor_asked_again(make_rig: MakeRig) -> None:
    rig = make_rig(login=False)
    rig.bystanders.officer = SimOfficer("X", "STRANGER", Role.OFFICER, "000000", seed=424242)
    rig.bystanders.offer_finger = True
    rig.settle(40)
    assert rig.state == "locked"
    assert rig.screen[-1] == prompt("finger_unknown")[0]
    assert rig.controller.busy  # it polls the sensor again for the next finger
    assert rig.audit("login") == []


def test_pin_wrong_then_right(make_rig: MakeRig) -> None:
    rig = make_rig(login=False)
    assert rig.state == "locked"
    assert rig.screen == shown("locked")
    rig.press(OK)
    assert rig.screen[0] == prompt("choose_officer")[0]
    rig.press(BACK)
    assert rig.state == "locked"
    pin_login(rig, "PTG-001", pin="111111")
    assert rig.state == "pin_entry"
    assert rig.screen[-1] == prompt("pin_wrong")[0]
    assert rig.audit("pin-wrong") == [{"officer": "PTG-001"}]
    rig.key_digits(rig.pin("PTG-001"), shown="000000")
    assert rig.state == "ready"
    assert rig.audit("login") == [{"officer": "PTG-001", "how": "pin"}]


# -- the idle lock ---------------------------------------------------------------------------


def test_idle_lock_mid_enrolment_then_resume_after_login(rig: Rig) -> None:
    person = to_face(rig)
    rig.tick(rig.store.policy.idle_lock_seconds - 10)
    assert rig.state == "face"
    rig.bystanders.offer_finger = False
    rig.tick(10)
    assert rig.state == "locked"
    assert rig.controller.officer is None and rig.controller.draft is None
    assert rig.audit("idle-lock") == [{"officer": "PTG-001", "state": "face"}]
    rig.bystanders.offer_finger = True
    rig.settle()
    assert rig.state == "resume_offer"
    assert rig.screen == shown("resume", name=person.name)
    rig.press(OK)
    assert rig.state == "confirm_person"
    rig.press(OK)
    assert rig.state == "face"
    assert rig.controller.draft.resident.nik == person.nik


def _at_pin_entry(rig: Rig) -> None:
    lock_by_menu(rig)
    rig.press(OK)


def _at_approval(rig: Rig) -> None:
    rig.bystanders.offer_finger = False  # no supervisor comes
    except_all_fingers(rig)


#: How to bring a logged-in kit at the ready list into each state the idle lock may end.
TO_LOCKABLE: dict[str, Callable[[Rig], object]] = {
    "ready": lambda rig: None,
    "admin": open_admin,
    "load_cards": lambda rig: admin_item(rig, "load_cards"),
    "void_select": lambda rig: admin_item(rig, "void"),
    "pin_entry": _at_pin_entry,
    "nik_entry": lambda rig: rig.press(OK),
    "confirm_person": pick,
    "face": to_face,
    "fingers": to_fingers,
    "finger_exception": lambda rig: (to_fingers(rig), rig.press(DOWN)),
    "approval": _at_approval,
    "signature": to_signature,
    "review": to_review,
    "done": enrol,
}


@pytest.mark.parametrize("state", sorted(TO_LOCKABLE))
def test_idle_lock_from(rig: Rig, state: str) -> None:
    TO_LOCKABLE[state](rig)
    assert rig.state == state, rig.screen
    rig.bystanders.offer_finger = False
    rig.tick(rig.store.policy.idle_lock_seconds)
    assert rig.state == "locked"
    assert rig.audit("idle-lock")[-1]["state"] == state
    assert rig.screen == shown("locked")


# -- a crash and the journal -----------------------------------------------------------------


def test_crash_mid_fingers_resumes_without_asking_again(make_rig: MakeRig, rig: Rig) -> None:
    to_face(rig)
    rig.press(OK)
    rig.kit.press(OK)  # accept the photo; the fingers start one after another
    for _ in range(2000):
        draft = rig.controller.draft
        if rig.state == "fingers" and draft is not None and len(draft.fingers) >= 3:
            break
        rig.kit.loop.step(0.01)
    journal = rig.store.journal.load()
    assert journal is not None and journal["face_jpeg"]
    kept = {f["position"]: f["template"] for f in journal["fingers"]}
    assert len(kept) >= 3

    again = crash(rig, make_rig)
    assert again.state == "resume_offer"
    again.press(OK)
    assert again.state == "confirm_person"
    again.press(OK)
    assert again.state == "signature", again.screen
    draft = again.controller.draft
    assert draft.face_jpeg == journal["face_jpeg"]
    assert {p: draft.fingers[p].template for p in kept} == kept  # not captured again
    assert sorted(draft.fingers) == list(ALL_FINGERS)
    assert again.sim.devices.camera.received == []  # the face was not asked again
    assert again.audit("resume")[-1]["nik"] == draft.resident.nik


@pytest.mark.parametrize(
    ("crash_in", "resume_at"), [("signature", "signature"), ("review", "review")]
)
def test_resume_continues_at_the_first_step_not_done(
    make_rig: MakeRig, rig: Rig, crash_in: str, resume_at: str
) -> None:
    (to_signature if crash_in == "signature" else to_review)(rig)
    again = crash(rig, make_rig, login=False)
    pin_login(again, "PTG-001")
    assert again.state == "resume_offer"
    again.press(OK, OK)
    assert again.state == resume_at
    assert again.sim.devices.camera.received == []


def test_login_reads_the_journal_once(
    make_rig: MakeRig, rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = to_signature(rig)
    again = crash(rig, make_rig, login=False)
    journal, load = again.store.journal, again.store.journal.load
    loads: list[object] = []
    monkeypatch.setattr(journal, "load", lambda: loads.append(1) or load())
    pin_login(again, "PTG-001")
    assert again.state == "resume_offer"
    assert again.screen == shown("resume", name=person.name)
    again.press(OK)
    assert again.state == "confirm_person"
    assert again.controller.draft.resident.nik == person.nik
    assert len(loads) == 1


def test_discard_the_journal_with_held_back(make_rig: MakeRig, rig: Rig) -> None:
    to_signature(rig)
    again = crash(rig, make_rig)
    assert again.state == "resume_offer"
    again.press(BACK)  # a short BACK does not discard
    assert again.state == "resume_offer"
    again.press(BACK, hold=True)
    assert again.screen == shown("confirm_discard")
    again.press(BACK)
    assert again.screen[0] == prompt("resume", name="x")[0]
    again.press(BACK, hold=True)
    again.press(OK)
    assert again.state == "ready"
    assert again.store.journal.load() is None
    assert again.audit("discard-journal") == [{"nik": "journal", "officer": "PTG-001"}]


def test_crash_at_the_approval_returns_to_the_approval(make_rig: MakeRig, rig: Rig) -> None:
    _at_approval(rig)
    again = crash(rig, make_rig)
    assert again.state == "resume_offer"
    again.bystanders.offer_finger = False
    again.press(OK, OK)  # resume, confirm the person
    assert again.state == "approval", again.screen  # the exceptions still need a supervisor
    assert again.screen[1] == prompt("approval.all_fingers")[0]
    again.bystanders.offer_finger = True
    again.settle()
    assert again.state == "signature"
    assert again.controller.draft.approvals == ["SPV-001"]


# -- walk-ins ------------------------------------------------------------------------------


def key_nik(rig: Rig, nik: str, *, purpose: Purpose | None = Purpose.BARU) -> None:
    """Key a walk-in's NIK; once it is accepted, choose ``purpose`` (None: stay asked)."""
    rig.choose(prompt("walk_in")[0])
    rig.press(OK)
    assert rig.state == "nik_entry"
    region = rig.store.worklist[0].nik[:4]
    rig.key_digits(nik, shown=region + "0" * 12)
    if rig.state == "purpose" and purpose is not None:
        rig.choose(prompt(f"purpose.{purpose.name}")[0])
        rig.press(OK)


def test_walk_in_with_a_valid_nik_gets_a_slip(rig: Rig) -> None:
    walk_in = next(p for p in rig.world.walk_ins if not p.fingers)
    key_nik(rig, walk_in.nik)
    assert rig.state == "confirm_person"
    assert rig.screen[:2] == ["(datang langsung)", f"NIK {walk_in.nik}"]
    draft = rig.controller.draft
    assert draft.walk_in and draft.resident.worklist_ref == f"walk-in:{walk_in.nik}"
    rig.press(OK, OK, OK)  # start, photo, accept
    assert rig.state == "signature"
    rig.press(OK, OK)
    assert rig.state == "done"
    assert rig.screen[2] == prompt("outcome.slip")[0]
    assert len(rig.sim.devices.receipt_printer.printed) == 1
    assert rig.sim.devices.card_printer.printed == []
    assert rig.store.ledger.stock() == 10
    assert not sealed_header(rig, 1).print_card
    rig.press(OK)
    key_nik(rig, walk_in.nik)
    assert rig.state == "nik_entry"
    assert rig.screen[-1] == prompt("nik_recorded")[0]


def test_walk_in_invalid_nik_is_explained_and_back_leaves(rig: Rig) -> None:
    key_nik(rig, "3505100113900001")  # month 13
    assert rig.state == "nik_entry"
    assert rig.screen[-1] == prompt("nik_bad", reason="x")[0]
    assert "month 13 is not a month" in rig.controller.step.note[1]
    rig.press(*[BACK] * 16)
    assert rig.state == "ready"


def test_walk_in_nik_on_the_worklist_is_refused(rig: Rig) -> None:
    key_nik(rig, rig.world.residents[0].nik)
    assert rig.state == "nik_entry"
    assert rig.screen[-1] == prompt("nik_known")[0]
    assert rig.controller.draft is None


def test_a_walk_in_child_of_10_records_a_kia_with_a_photo_and_nothing_else(rig: Rig) -> None:
    born = rig.world.clock.now().date().replace(day=1, month=1)
    nik = f"350510{born:%d%m}{born.year % 100 - 10:02d}0001"  # ten years old this year
    key_nik(rig, nik)
    assert rig.state == "confirm_person"
    assert rig.controller.draft.kind is CardKind.KIA
    assert rig.screen[2].startswith("KIA lahir")
    rig.press(OK)  # start: the face
    assert rig.state == "face", rig.screen
    rig.press(OK)
    assert rig.screen == shown("face_ok")
    rig.press(OK)  # accept: no fingers, no signature for a KIA
    assert rig.state == "review", rig.screen
    rig.press(OK)
    assert rig.state == "done"
    header = sealed_header(rig, 1)
    assert (header.kind, header.captured) == (CardKind.KIA, (Modality.FACE,))


def test_a_walk_in_child_of_3_records_a_kia_without_a_photo(rig: Rig) -> None:
    born = rig.world.clock.now().date().replace(day=1, month=1)
    key_nik(rig, f"350510{born:%d%m}{born.year % 100 - 3:02d}0001")
    rig.press(OK)  # start: nothing to capture under 5, straight to the review
    assert rig.state == "review", rig.screen
    rig.press(OK)
    assert rig.state == "done"
    header = sealed_header(rig, 1)
    assert (header.kind, header.captured) == (CardKind.KIA, ())


# -- face ----------------------------------------------------------------------------------


def test_face_retake_with_back(rig: Rig) -> None:
    person = to_face(rig)
    camera = rig.sim.devices.camera
    rig.press(OK)
    assert rig.screen == shown("face_ok")
    rig.press(BACK)
    assert rig.state == "face" and rig.screen == shown("face")
    rig.press(OK)
    assert camera.received == [person.seed, person.seed]
    rig.sim.devices.fingerprint.inject("poor-image")
    rig.press(OK)
    assert rig.state == "fingers"
    assert rig.store.journal.load()["face_jpeg"]


def test_dark_face_is_refused_until_the_light_is_back(rig: Rig) -> None:
    to_face(rig)
    camera = rig.sim.devices.camera
    camera.inject("dark")
    tries = rig.store.policy.face_retries
    for attempt in range(1, tries):
        rig.press(OK)
        assert rig.screen == shown("quality.face.too_dark")[:2] + shown(
            "face_retry", attempt=attempt, tries=tries
        )
    assert rig.state == "face" and rig.controller.draft.face_jpeg is None
    camera.clear_faults()
    rig.press(OK)
    assert rig.screen == shown("face_ok")
    assert len(camera.received) == tries
    rig.sim.devices.fingerprint.inject("poor-image")
    rig.press(OK)
    quality = rig.store.journal.load()["face_quality"]
    assert quality["forced"] is False and quality["faces"] == 1 and quality["face_brightness"] > 40


def test_face_best_photo_kept_forced_after_the_tries(rig: Rig) -> None:
    """Two people in frame, then a dark hall: the two-people photo (one failing measure)
    beats the dark ones (several) and is kept, marked forced, when the tries run out."""
    to_face(rig)
    camera = rig.sim.devices.camera
    camera.scene = Scene.TWO_PEOPLE
    rig.press(OK)
    assert rig.screen[:2] == shown("quality.face.several_faces")[:2]
    camera.scene = Scene.DARK_HALL
    for _ in range(rig.store.policy.face_retries - 1):
        rig.press(OK)
    why = prompt("quality.face.several_faces")[0]
    assert rig.screen == shown("face_forced", why=why)
    rig.sim.devices.fingerprint.inject("poor-image")
    rig.press(OK)
    assert rig.state == "fingers"
    quality = rig.controller.draft.face_quality
    assert quality["forced"] is True and quality["faces"] == 2


# -- fingers -------------------------------------------------------------------------------


def test_poor_finger_retried_then_excepted_after_the_tries(rig: Rig) -> None:
    to_fingers(rig)
    tries = rig.store.policy.finger_retries
    finger = prompt("finger.1")[0]
    assert rig.screen == shown("finger_poor", finger=finger, attempt=1, tries=tries)
    for attempt in range(2, tries):
        rig.press(OK)
        assert rig.screen == shown("finger_poor", finger=finger, attempt=attempt, tries=tries)
    rig.press(OK)
    assert rig.screen == shown("finger_give_up", finger=finger, tries=tries)
    rig.press(OK)
    assert rig.state == "finger_exception"
    assert rig.screen[0] == shown("exception_title", finger=finger)[0]
    rig.press(BACK)  # changed their mind: back to the finger
    assert rig.state == "fingers"
    assert 1 not in rig.controller.draft.fingers
    rig.press(DOWN)
    rig.choose(prompt("exception.bandaged")[0])
    rig.sim.devices.fingerprint.clear_faults()
    rig.press(OK)
    draft = rig.controller.draft
    assert draft.fingers[1].exception == "bandaged"
    assert rig.state == "signature"  # the other nine read well
    assert sum(1 for f in draft.fingers.values() if f.image_png) == 9
    assert rig.audit("finger-exception")[0]["why"] == "bandaged"


def test_poor_finger_kept_forced_after_the_tries_with_its_scores(make_rig: MakeRig) -> None:
    """Worn fingers image, below the policy's score every time: the best is kept, forced."""
    rig = make_rig(policy=Policy(fingers=(1, 6)))
    to_face(rig)
    rig.world.glass = Glass.POOR
    take_face(rig)
    policy = rig.store.policy
    tries, finger = policy.finger_retries, prompt("finger.1")[0]
    assert rig.state == "fingers"
    assert rig.screen[0] == shown("finger_retry", finger=finger, attempt=1, tries=tries)[0]
    for _ in range(2, tries + 1):
        rig.press(OK)
    assert rig.state == "fingers" and list(rig.controller.draft.fingers) == [1]
    for _ in range(2, tries + 1):
        rig.press(OK)
    assert rig.state == "signature", rig.screen
    kept = rig.controller.draft.fingers[1]
    assert kept.forced and kept.quality < policy.min_finger_quality
    assert kept.scores["score"] == kept.quality and kept.scores["clarity"] < 1
    assert rig.controller.draft.fingers[6].forced
    rig.press(OK)
    rig.press(OK)
    assert rig.state in ("printing", "done"), rig.screen
    authority = Authority.load(rig.data_dir / DEMO_AUTHORITY)
    body = open_record((rig.store.records_dir / record_name(1)).read_bytes(), authority)
    thumb = next(f for f in body.fingers if f.position == 1)
    assert thumb.forced and thumb.scores == kept.scores
    assert body.face_quality["forced"] is False and body.face_quality["faces"] == 1


# -- duplicate checks ----------------------------------------------------------------------


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
    rig.key_digits(rig.pin("SPV-001"), shown="000000")
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


def enrol_and_next(rig: Rig, person: Person) -> Person:
    enrol(rig, person)
    rig.press(OK)
    assert rig.state == "ready", rig.screen
    return person


def test_officer_excepts_a_finger_with_down(rig: Rig) -> None:
    to_fingers(rig)
    rig.sim.devices.fingerprint.clear_faults()
    rig.press(DOWN)
    assert rig.state == "finger_exception"
    rig.press(OK)  # the first reason: missing
    assert rig.state == "signature"
    assert rig.controller.draft.fingers[1].exception == "missing"
    assert rig.controller.approval is None  # one excepted finger needs nobody's approval


def test_a_finger_job_failing_otherwise_is_named_and_retried(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A driver bug reported as the job's outcome is shown, as any fault: the loop goes on."""
    sensor = rig.sim.devices.fingerprint
    capture = sensor.capture
    failures = [ValueError("frame has 3 bytes too many")]

    def fail_once(*args: object, **kwargs: object) -> object:
        if failures:
            raise failures.pop()
        return capture(*args, **kwargs)

    to_fingers(rig)
    sensor.clear_faults()
    monkeypatch.setattr(sensor, "capture", fail_once)
    rig.press(OK)
    assert rig.state == "fingers"
    assert rig.screen[0] == "device: frame has 3 bytes too many"[:21]
    rig.press(OK)
    assert rig.state == "signature"


def test_all_fingers_excepted_approved_by_supervisor_finger(rig: Rig) -> None:
    _at_approval(rig)
    assert rig.screen[:2] == ["PERLU SUPERVISOR", prompt("approval.all_fingers")[0]]
    rig.bystanders.offer_finger = True
    rig.settle()
    assert rig.state == "signature"
    draft = rig.controller.draft
    assert draft.approvals == ["SPV-001"]
    assert {f.approved_by for f in draft.fingers.values()} == {"SPV-001"}
    assert rig.audit("approval")[0]["how"] == "finger"
    assert rig.store.journal.load()["approvals"] == ["SPV-001"]


def test_approval_refuses_an_officer_and_takes_a_supervisor_pin(rig: Rig) -> None:
    _at_approval(rig)
    rig.bystanders.supervisor = rig.world.officers[0]  # the officer offers their own finger
    rig.bystanders.offer_finger = True
    rig.settle(40)
    assert rig.state == "approval"
    assert rig.screen[-1] == prompt("not_supervisor")[0]
    rig.bystanders.offer_finger = False
    rig.press(OK)
    picker = rig.screen[1:]
    assert picker == [">" + rig.store.officers["SPV-001"].name]  # only supervisors offered
    rig.press(OK)
    rig.key_digits(rig.pin("PTG-001"), shown="000000")  # the officer's PIN is not theirs
    assert rig.state == "approval"
    assert rig.screen[-1] == prompt("pin_wrong")[0]
    rig.key_digits(rig.pin("SPV-001"), shown="000000")
    assert rig.state == "signature"
    assert rig.audit("approval")[0]["how"] == "pin"


def test_approval_refused_asks_the_fingers_again(rig: Rig) -> None:
    _at_approval(rig)
    rig.sim.devices.fingerprint.clear_faults()
    rig.press(BACK)
    assert rig.state == "signature"  # every finger was captured again, and read well
    assert sum(1 for f in rig.controller.draft.fingers.values() if f.image_png) == 10
    assert rig.audit("approval") == []


# -- signature and review ------------------------------------------------------------------


def test_no_signature_then_retry(rig: Rig) -> None:
    to_signature(rig)
    rig.world.follow(lambda: None)  # the person stepped away from the pad
    rig.press(BACK)
    assert rig.screen == shown("signature_none")
    rig.world.follow(rig.bystanders)
    rig.press(OK)
    assert rig.screen == shown("signature_ok")
    rig.press(OK)
    assert rig.state == "review"
    assert rig.screen[2].startswith("Ttd:ya")


def to_signature_exception(rig: Rig) -> None:
    to_signature(rig)
    rig.press(DOWN)  # cannot sign
    assert rig.state == "signature_exception", rig.screen
    assert rig.screen[0] == prompt("signature_exception")[0]


def test_a_person_who_cannot_sign_is_excepted_by_a_supervisor(rig: Rig) -> None:
    rig.bystanders.offer_finger = False  # the supervisor comes with their PIN
    to_signature_exception(rig)
    rig.choose(prompt("sigexc.DISABILITY")[0])
    rig.press(OK)
    assert rig.state == "approval"
    assert rig.screen[1] == prompt("approval.no_signature")[0]
    rig.press(OK)
    rig.choose(rig.store.officers["SPV-001"].name)
    rig.press(OK)
    rig.key_digits(rig.pin("SPV-001"), shown="000000")
    assert rig.state == "review", rig.screen
    assert rig.screen[2].startswith("Ttd:tidak")
    exception = rig.controller.draft.signature_exception
    assert (exception.reason, exception.approved_by) == (
        SignatureExceptionReason.DISABILITY,
        "SPV-001",
    )
    assert rig.store.journal.load()["signature_exception"] == ["disabilitas", "SPV-001"]
    rig.press(OK)
    assert rig.state == "done"
    assert sealed_header(rig, 1).signature_excepted


def test_a_signature_exception_without_a_supervisor_goes_back_to_the_pad(rig: Rig) -> None:
    rig.bystanders.offer_finger = False
    to_signature_exception(rig)
    rig.press(BACK)  # not this: back to the pad
    assert rig.state == "signature"
    rig.press(DOWN)
    rig.press(OK)
    assert rig.state == "approval"
    rig.press(BACK)  # no supervisor at hand
    assert rig.state == "signature"
    assert rig.controller.draft.signature_exception is None


# -- cancel ----------------------------------------------------------------------------------


TO_CAPTURE_STATE: dict[str, Callable[[Rig], object]] = {
    "confirm_person": pick,
    "face": to_face,
    "fingers": to_fingers,
    "finger_exception": TO_LOCKABLE["finger_exception"],
    "signature": to_signature,
    "review": to_review,
}


@pytest.mark.parametrize("state", sorted(TO_CAPTURE_STATE))
def test_cancel_with_held_back_and_confirmation(rig: Rig, state: str) -> None:
    TO_CAPTURE_STATE[state](rig)
    rig.press(BACK, hold=True)
    assert rig.screen == shown("confirm_cancel")
    assert rig.state == state
    rig.press(BACK)  # no: back to the step
    assert rig.state == state and rig.screen != prompt("confirm_cancel")
    rig.press(BACK, hold=True)
    rig.press(OK)
    assert rig.state == "ready"
    assert rig.controller.draft is None and rig.store.journal.load() is None
    assert rig.store.last_seq == 0


def test_confirm_person_back_returns_to_the_list(rig: Rig) -> None:
    pick(rig)
    rig.press(BACK)
    assert rig.state == "ready"
    assert rig.audit("cancel") == []


# -- sealing -------------------------------------------------------------------------------


def test_seal_failure_keeps_the_journal_and_returns_to_review(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(store: KitStore, enrolment: object) -> None:
        raise WriteError("records folder is read-only: check the SD card")

    person = to_review(rig)
    with monkeypatch.context() as patch:
        patch.setattr(KitStore, "seal", fail)
        rig.press(OK)
        assert rig.state == "review"
        assert rig.screen == shown("seal_failed", reason="records folder is read-only")
        assert rig.store.journal.load()["resident"]["nik"] == person.nik
        assert rig.audit("seal-failed")[0]["reason"].startswith("records folder")
    rig.press(OK)
    assert rig.state == "done"
    assert rig.store.journal.load() is None
    assert rig.store.last_seq == 1


# -- printing ------------------------------------------------------------------------------


def test_card_printed_takes_one_card(rig: Rig) -> None:
    person = enrol(rig)
    assert rig.screen == shown("done", seq=1, name=person.name, outcome=prompt("outcome.card")[0])
    assert rig.store.ledger.stock() == 9
    assert len(rig.store.ledger.printed_for(1)) == 1
    assert len(rig.sim.devices.card_printer.printed) == 1
    assert sealed_header(rig, 1).print_card
    rig.press(OK)
    assert rig.state == "ready"
    assert person.name[:20] not in rig.text  # recorded: off the list


PRINTER_FAULTS = ("jam", "cover-open", "ribbon-out", "out-of-cards", "unplugged")


@pytest.mark.parametrize("fault", PRINTER_FAULTS)
def test_a_fault_during_print_spoils_the_card_and_prints_a_slip(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    printer = rig.sim.devices.card_printer
    feed = printer.print_card

    def fail_then_feed(front: object, *, timeout: float) -> None:
        printer.inject(fault)  # the card was taken, then the printer failed
        feed(front, timeout=timeout)

    monkeypatch.setattr(printer, "print_card", fail_then_feed)
    to_review(rig)
    rig.press(OK)
    assert rig.state == "printing"
    assert rig.screen[0] == prompt("print_failed", reason="")[0]
    counts = rig.store.ledger.counts()
    assert (counts["spoiled"], counts["printed"], counts["stock"]) == (1, 0, 9)
    spoiled_why = rig.audit("spoiled")[0]["reason"]
    assert spoiled_why, "the ledger says why the card was spoiled"
    rig.press(OK)
    assert rig.state == "done"
    assert rig.screen[2] == prompt("outcome.slip")[0]
    assert len(rig.sim.devices.receipt_printer.printed) == 1


def test_a_card_fault_of_several_lines_still_offers_the_slip(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    def jam(front: object, *, timeout: float) -> None:
        raise PrinterError("jam\nat the feeder")

    monkeypatch.setattr(rig.sim.devices.card_printer, "print_card", jam)
    to_review(rig)
    rig.press(OK)
    assert rig.state == "printing"
    assert rig.screen[:3] == ["Cetak gagal:", "jam", "at the feeder"]
    rig.press(OK)
    assert rig.state == "done"
    assert rig.screen[2] == prompt("outcome.slip")[0]
    assert len(rig.sim.devices.receipt_printer.printed) == 1


@pytest.mark.parametrize("fault", PRINTER_FAULTS)
def test_a_printer_fault_seen_before_print_gives_a_slip_without_taking_a_card(
    rig: Rig, fault: str
) -> None:
    rig.sim.devices.card_printer.inject(fault)
    enrol(rig)
    assert rig.screen[2] == prompt("outcome.slip")[0]
    assert rig.store.ledger.counts()["stock"] == 10
    assert rig.sim.devices.card_printer.printed == []


def test_no_blank_cards_gives_a_slip(make_rig: MakeRig) -> None:
    rig = make_rig(cards=0)
    enrol(rig)
    assert rig.screen[2] == prompt("outcome.slip")[0]
    assert rig.sim.devices.card_printer.printed == []
    assert len(rig.sim.devices.receipt_printer.printed) == 1
    assert rig.store.ledger.counts()["stock"] == 0


def test_slip_failure_asks_to_write_the_number_down(make_rig: MakeRig) -> None:
    rig = make_rig(cards=0)
    rig.sim.devices.receipt_printer.inject("paper-out")
    to_review(rig)
    rig.press(OK)
    assert rig.state == "printing"
    assert rig.screen[2].startswith("#1")
    rig.press(OK)
    assert rig.state == "done"
    assert rig.screen[2] == prompt("outcome.none")[0]


@pytest.mark.parametrize("came_out", [True, False])
def test_print_question_after_a_crash_mid_print(
    make_rig: MakeRig, rig: Rig, came_out: bool
) -> None:
    enrol(rig)
    serial = rig.store.ledger.begin_print(1)  # a reprint began; then the power went
    again = crash(rig, make_rig)
    assert again.state == "print_question"
    assert again.screen == shown("print_question", seq=1, serial=serial)
    again.press(OK if came_out else BACK)
    assert again.state == "ready"
    counts = again.store.ledger.counts()
    assert (counts["printed"], counts["spoiled"], counts["unresolved"]) == (
        (2, 0, 0) if came_out else (1, 1, 0)
    )
    assert again.audit("print-answered")[0]["came_out"] is came_out


def test_two_unanswered_prints_and_a_journal(make_rig: MakeRig, rig: Rig) -> None:
    enrol(rig)
    rig.press(OK)
    first, second = rig.store.ledger.begin_print(1), rig.store.ledger.begin_print(1)
    to_face(rig, clean_person(rig, 1))
    again = crash(rig, make_rig, login=False)
    pin_login(again, "PTG-001")
    assert again.state == "print_question"
    assert again.screen[1] == first
    again.press(OK)
    assert again.state == "print_question" and again.screen[1] == second
    again.press(BACK)
    assert again.state == "resume_offer"


def test_reprint_needs_a_supervisor(rig: Rig) -> None:
    enrol(rig)
    rig.bystanders.offer_finger = False
    rig.press(UP)
    assert rig.state == "approval"
    assert rig.screen[1] == prompt("approval.reprint", seq=1)[0]
    assert len(rig.store.ledger.printed_for(1)) == 1
    rig.bystanders.offer_finger = True  # the supervisor comes: their finger
    rig.settle()
    assert rig.state == "done"
    assert len(rig.store.ledger.printed_for(1)) == 2
    assert rig.audit("approval")[0]["purpose"] == "reprint"


def test_reprint_refused_without_a_supervisor(rig: Rig) -> None:
    enrol(rig)
    rig.bystanders.offer_finger = False
    rig.press(UP)
    rig.press(BACK)
    assert rig.state == "ready"
    assert len(rig.store.ledger.printed_for(1)) == 1


# -- the officer's menu ----------------------------------------------------------------------


def test_void_a_record(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    person = enrol(rig)
    rig.press(OK)
    seal, sealed = rig.store.seal, []
    monkeypatch.setattr(rig.store, "seal", lambda e: (sealed.append(e), seal(e))[1])
    assert person.name[:20] not in rig.text
    admin_item(rig, "void")
    assert rig.state == "void_select"
    assert rig.screen == [*prompt("void_choose"), f">#1 {person.nik}"]
    rig.press(OK)
    assert rig.state == "done"  # the supervisor's finger approved, the void is sealed
    assert rig.screen[2] == prompt("outcome.void", voided=1)[0]
    header = sealed_header(rig, 2)
    assert header.voids == 1
    (void,) = sealed
    assert (void.voids, void.approvals) == (1, ("SPV-001",))
    assert void.resident.nik == person.nik and void.resident.worklist_ref is None
    assert rig.audit("approval")[0] == {
        "purpose": "void",
        "seq": 1,
        "supervisor": "SPV-001",
        "officer": "PTG-001",
        "how": "finger",
    }
    rig.press(OK)
    assert rig.state == "ready"
    rig.choose(person.name[:20])  # back on the ready list
    assert rig.store.recent() == []
    assert rig.store.sensor_pages() == {}, "the voided person's fingers left the library"
    officer_pages = {p for o in rig.store.officers.values() for p in o.finger_pages}
    assert set(rig.sim.devices.fingerprint.library) == officer_pages
    rig.press(OK)  # enrolled again: not stopped as their own duplicate
    rig.press(OK)
    take_face(rig)
    assert rig.state == "signature", rig.screen


def test_void_refused_or_failed_returns_to_the_list(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin_item(rig, "void")
    assert rig.screen == shown("void_none")
    rig.press(BACK)
    assert rig.state == "ready"
    enrol(rig)
    rig.press(OK)
    rig.bystanders.offer_finger = False
    admin_item(rig, "void")
    rig.press(OK)
    assert rig.state == "approval"
    rig.press(BACK)  # no supervisor
    assert rig.state == "ready" and rig.store.last_seq == 1

    def fail(store: KitStore, enrolment: object) -> None:
        raise WriteError("disk full")

    monkeypatch.setattr(KitStore, "seal", fail)
    rig.bystanders.offer_finger = True
    admin_item(rig, "void")
    rig.press(OK)
    assert rig.state == "ready"
    assert rig.screen[:2] == ["GAGAL MENYIMPAN", "disk full"]
    assert rig.store.last_seq == 1


def test_load_cards_from_the_menu(rig: Rig) -> None:
    admin_item(rig, "load_cards")
    assert rig.state == "load_cards"
    rig.key_digits("000", shown="000")  # zero cards: asked again
    assert rig.state == "load_cards"
    rig.key_digits("025", shown="000")
    assert rig.state == "ready"
    assert rig.screen == shown("cards_loaded", count=25, stock=35)
    assert rig.store.ledger.stock() == 35
    assert rig.audit("cards-loaded") == [{"count": 25, "officer": "PTG-001"}]
    admin_item(rig, "load_cards")
    rig.press(BACK)
    assert rig.state == "ready"
    assert rig.store.ledger.stock() == 35


def test_admin_back_and_menu_back(rig: Rig) -> None:
    open_admin(rig)
    rig.press(BACK)
    assert rig.state == "ready"
    admin_item(rig, "back")
    assert rig.state == "ready"


def test_language_switch_to_english(rig: Rig) -> None:
    admin_item(rig, "language")
    assert rig.state == "admin"
    assert rig.controller.language is Language.EN
    assert ">" + prompt("admin.language", Language.EN)[0] in rig.screen
    rig.press(BACK)
    assert rig.screen[0].startswith("READY ")
    assert rig.controller.step.menu.items[0][0] == prompt("walk_in", Language.EN)[0]
    pick(rig)
    assert rig.screen[-1] == "OK=start BACK=back"


# -- the battery -----------------------------------------------------------------------------


def test_low_battery_refuses_a_new_enrolment(rig: Rig) -> None:
    rig.world.battery.set_percent(10)
    rig.tick(31)
    rig.choose(clean_person(rig).name)
    rig.press(OK)
    assert rig.state == "ready"
    assert rig.screen == shown("refused_battery", percent=int(rig.world.battery.percent))
    assert rig.screen[0].startswith("Baterai lemah 9")  # 10 % and a little drain
    assert rig.controller.draft is None


def _at_resume_offer(rig: Rig) -> None:
    to_face(rig)
    rig.tick(rig.store.policy.idle_lock_seconds)
    rig.settle()  # the officer's finger logs in again


def _at_print_question(rig: Rig) -> None:
    rig.store.ledger.begin_print(1)
    admin_item(rig, "lock")  # the officer's finger logs in again


def _at_locked(rig: Rig) -> None:
    lock_by_menu(rig)


#: Every state the battery may end, reached from a logged-in kit at the ready list.
TO_POWERED: dict[str, Callable[[Rig], object]] = {
    **TO_LOCKABLE,
    "locked": _at_locked,
    "resume_offer": _at_resume_offer,
    "print_question": _at_print_question,
}


@pytest.mark.parametrize("state", sorted(TO_POWERED))
def test_critical_battery_shuts_down_safely(rig: Rig, state: str) -> None:
    TO_POWERED[state](rig)
    assert rig.state == state, rig.screen
    rig.world.battery.set_percent(4)
    rig.tick(31)
    assert rig.state == "safe_shutdown"
    assert rig.screen == shown("shutdown.battery_critical")
    assert rig.audit("safe-shutdown")[-1]["percent"] < 5


def test_critical_battery_found_on_the_way_to_the_list_switches_off(rig: Rig) -> None:
    enrol(rig)
    rig.world.battery.set_percent(4)
    rig.press(OK)  # the list reads the battery before it offers anyone
    assert rig.state == "safe_shutdown"
    assert rig.screen == shown("shutdown.battery_critical")
    assert rig.sim.devices.panel.indicator is Indicator.OFF


def test_critical_battery_while_sealing_finishes_the_record_first(rig: Rig) -> None:
    to_review(rig)
    rig.tick(31)  # a battery reading now, so the next one is due only 30 s later
    rig.world.battery.set_percent(4)
    rig.kit.press(OK)  # seal; the battery is read while the seal runs
    rig.kit.loop.post(Tick(rig.world.clock.now() + timedelta(seconds=31)))
    rig.settle()
    assert rig.state == "safe_shutdown"
    assert rig.store.last_seq == 1
    assert rig.store.ledger.counts()["printed"] == 1
    assert rig.store.journal.load() is None


# -- policies ------------------------------------------------------------------------------


def test_policy_without_fingers_goes_from_face_to_signature(make_rig: MakeRig) -> None:
    rig = make_rig(policy=Policy(print_on_site=True, fingers=(), allow_no_fingers=True))
    to_face(rig)
    take_face(rig)
    assert rig.state == "signature"
    assert rig.controller.draft.fingers == {}


# -- the map itself --------------------------------------------------------------------------


def test_the_diagram_in_the_docs_is_the_machine() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"```mermaid\n(.*?)```", text, re.DOTALL)
    assert found is not None, f"{DOC} has no mermaid block"
    assert found.group(1).strip() == f"{CaptureMachine:mermaid}".strip(), (
        f"{DOC} is out of date: regenerate it as it says"
    )


# -- the rules of an outreach day: purpose, domicile, official, corrections ------------------

#: A NIK of Kota Palembang: a walk-in from another regency than the kit's (Kabupaten Blitar).
PALEMBANG_NIK = make_nik("167101", date(1990, 1, 5), Sex.FEMALE, 1)
PALEMBANG_KK = "1671010101200007"


def to_purpose(rig: Rig) -> None:
    key_nik(rig, rig.world.walk_ins[0].nik, purpose=None)
    assert rig.state == "purpose", rig.screen
    assert rig.screen[0] == prompt("purpose")[0]


def to_kk_entry(rig: Rig) -> None:
    key_nik(rig, PALEMBANG_NIK)
    assert rig.state == "kk_entry", rig.screen


def to_official_login(rig: Rig) -> None:
    rig.bystanders.offer_finger = False
    admin_item(rig, "official")
    assert rig.state == "official_login", rig.screen


def to_correction(rig: Rig) -> None:
    to_review(rig)
    rig.press(DOWN)
    assert rig.state == "correction", rig.screen


TO_RULE_STATE: dict[str, Callable[[Rig], object]] = {
    "purpose": to_purpose,
    "kk_entry": to_kk_entry,
    "official_login": to_official_login,
    "signature_exception": to_signature_exception,
    "correction": to_correction,
}
TO_LOCKABLE.update(TO_RULE_STATE)
TO_POWERED.update(TO_RULE_STATE)
TO_CAPTURE_STATE.update(signature_exception=to_signature_exception, correction=to_correction)


def test_a_walk_in_s_purpose_is_asked_and_recorded(rig: Rig) -> None:
    to_purpose(rig)
    rig.choose(prompt("purpose.HILANG")[0])
    rig.press(OK)
    assert rig.state == "confirm_person"
    assert rig.controller.draft.purpose is Purpose.HILANG
    rig.press(OK, OK, OK)  # start, photo, accept
    while rig.state == "fingers":
        rig.settle()
    rig.press(OK)
    assert rig.state == "review"
    rig.press(OK)
    assert rig.state == "done"
    assert rig.screen[2] == prompt("outcome.slip")[0]
    assert sealed_header(rig, 1).purpose is Purpose.HILANG


def test_back_at_the_purpose_leaves_the_walk_in(rig: Rig) -> None:
    to_purpose(rig)
    rig.press(BACK)
    assert rig.state == "ready" and rig.controller.draft is None


def test_a_walk_in_from_another_regency_records_at_a_temporary_domicile(rig: Rig) -> None:
    to_kk_entry(rig)
    assert rig.screen[0] == prompt("kk_entry", entry="")[0]
    rig.key_digits("99" + PALEMBANG_KK[2:], shown="1671" + "0" * 12)
    assert rig.state == "kk_entry"
    assert rig.screen[-1] == prompt("kk_bad", reason="x")[0]
    assert "unknown province code 99" in rig.controller.step.note[1]
    rig.press(*[BACK] * 15)  # from the last digit back to the first, then the right number
    rig.key_digits(PALEMBANG_KK, shown="99" + PALEMBANG_KK[2:])
    assert rig.state == "confirm_person", rig.screen
    assert rig.controller.draft.domicile == Domicile(PALEMBANG_KK, "1671")
    assert rig.audit("domicile") == [{"nik": PALEMBANG_NIK, "home": "1671"}]


def test_back_at_the_kk_entry_leaves_the_walk_in(rig: Rig) -> None:
    to_kk_entry(rig)
    rig.press(BACK)
    assert rig.state == "ready" and rig.controller.draft is None


def test_the_village_official_logs_in_by_finger_and_is_named_in_the_record(rig: Rig) -> None:
    to_official_login(rig)
    assert rig.screen[0] == prompt("official_login")[0]
    rig.bystanders.offer_finger = True
    rig.settle()
    assert rig.state == "ready"
    assert rig.screen[:2] == shown("official_in", name="SUPARMAN")[:2]
    assert rig.audit("official-in") == [{"official": "KDS-001", "how": "finger"}]
    enrol(rig)
    assert sealed_header(rig, 1).official_id == "KDS-001"


def test_the_official_login_refuses_an_officer_and_back_leaves(rig: Rig) -> None:
    to_official_login(rig)
    rig.press(OK)  # the PIN picker offers only officials
    assert rig.screen[1:] == [">SUPARMAN"]
    rig.press(BACK)
    rig.press(BACK)
    assert rig.state == "ready"
    assert rig.controller.official is None


def test_a_policy_requiring_the_official_refuses_worklist_residents_until_one_is_in(
    make_rig: MakeRig,
) -> None:
    rig = make_rig(policy=Policy(official_required=True))
    person = clean_person(rig)
    rig.choose(person.name)
    rig.press(OK)
    assert rig.state == "ready"
    assert rig.screen == shown("official_needed")[:4]
    rig.bystanders.offer_finger = True
    admin_item(rig, "official")
    rig.settle()
    assert rig.state == "ready"
    pick(rig, person)


def correct(rig: Rig, field: str, value: str) -> None:
    rig.choose(prompt(f"field.{field}")[0])
    rig.press(OK)
    rig.choose(value)
    rig.press(OK)


def test_a_correction_at_review_is_approved_by_the_official(rig: Rig) -> None:
    rig.bystanders.offer_finger = False
    to_correction(rig)
    original = rig.controller.draft.resident.occupation
    new = next(v for v in CorrectableField.OCCUPATION.choices if v != original)
    correct(rig, "OCCUPATION", new)
    assert rig.state == "approval"
    assert rig.screen[0] == prompt("official_approval")[0]
    official = rig.bystanders.official
    rig.bystanders.official = rig.bystanders.supervisor  # a supervisor may not approve it
    rig.bystanders.offer_finger = True
    rig.settle(40)
    assert rig.screen[-1] == prompt("not_official")[0]
    rig.bystanders.official = official
    rig.bystanders.offer_finger = False
    rig.press(OK)
    assert rig.screen[1:] == [">SUPARMAN"]  # only officials offered
    rig.press(OK)
    rig.key_digits(rig.pin("KDS-001"), shown="000000")
    assert rig.state == "review", rig.screen
    draft = rig.controller.draft
    assert draft.corrections == [Correction(CorrectableField.OCCUPATION, original, new, "KDS-001")]
    assert draft.resident.occupation == new
    rig.press(OK)
    assert rig.state == "done"
    assert sealed_header(rig, 1).corrected == (CorrectableField.OCCUPATION,)


def test_a_correction_refused_keeps_the_value(rig: Rig) -> None:
    rig.bystanders.offer_finger = False
    to_correction(rig)
    original = rig.controller.draft.resident.religion
    correct(rig, "RELIGION", next(v for v in CorrectableField.RELIGION.choices if v != original))
    rig.press(BACK)  # no official at hand
    assert rig.state == "review"
    assert rig.controller.draft.corrections == []
    assert rig.controller.draft.resident.religion == original


def test_a_free_text_error_is_flagged_for_the_office_and_gets_a_slip(rig: Rig) -> None:
    to_correction(rig)
    rig.choose(prompt("field.NAME")[0])
    rig.press(OK)
    rig.choose(prompt("reason.MISSPELLED")[0])
    rig.press(OK)
    assert rig.state == "review"
    assert rig.screen[:2] == shown("flagged", field=prompt("field.NAME")[0])[:2]
    assert rig.controller.draft.flagged == [FlaggedError(FreeTextField.NAME, FlagReason.MISSPELLED)]
    rig.press(OK)
    assert rig.state == "done"
    assert rig.screen[2] == prompt("outcome.slip")[0]
    assert sealed_header(rig, 1).flagged == (
        FlaggedError(FreeTextField.NAME, FlagReason.MISSPELLED),
    )


def test_back_leaves_the_correction_menu_to_the_review(rig: Rig) -> None:
    to_correction(rig)
    rig.press(OK)  # a field: its values
    rig.press(BACK)  # back to the fields
    assert rig.screen[0] == prompt("correction")[0]
    rig.press(BACK)
    assert rig.state == "review"


@pytest.mark.parametrize("state", sorted(TO_RULE_STATE))
def test_idle_lock_from_a_rule_state(rig: Rig, state: str) -> None:
    test_idle_lock_from(rig, state)


@pytest.mark.parametrize("state", sorted(TO_RULE_STATE))
def test_critical_battery_shuts_down_safely_from_a_rule_state(rig: Rig, state: str) -> None:
    test_critical_battery_shuts_down_safely(rig, state)


@pytest.mark.parametrize("state", ["correction", "signature_exception"])
def test_cancel_with_held_back_from_a_rule_state(rig: Rig, state: str) -> None:
    test_cancel_with_held_back_and_confirmation(rig, state)
