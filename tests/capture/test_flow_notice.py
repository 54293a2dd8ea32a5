"""Before capture: the notice read aloud, a child's guardian named, needs declared, a seated
photo framed with more room."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from capture.notice_steps import NOTICE_PAGES, Need, Spelling
from capture.prompts import prompt
from hal.types import Button, Press
from hw_sim.portraits import Scene
from simulator.kit import DEMO_AUTHORITY
from storage.codec import loads
from storage.cose import parse_sign1
from storage.files import record_name
from storage.keys import Authority
from storage.model import Enrolment
from storage.record import NOTICE_VERSION, open_record
from tests.capture.flows import (
    BACK,
    DOWN,
    OK,
    UP,
    child_nik,
    key_nik,
    sealed_header,
    shown,
    spell,
    to_needs,
    to_notice,
)
from vocabulary.language import Language
from vocabulary.rounds import Assist, Disability, Group

if TYPE_CHECKING:
    from conftest import Rig

#: Events a wait for the device job handles at most (a bound, not a timing).
SETTLE_EVENTS = 20


def opened(rig: Rig, seq: int) -> Enrolment:
    authority = Authority.load(rig.data_dir / DEMO_AUTHORITY)
    return open_record((rig.store.records_dir / record_name(seq)).read_bytes(), authority)


def seal_from_face(rig: Rig) -> None:
    """Photo, kept; a KIA goes to the review, an e-KTP's fingers read well and it signs."""
    rig.press(OK, OK)
    while rig.state in ("fingers", "signature"):
        rig.press(OK)
        rig.settle()
    assert rig.state == "review", rig.screen
    rig.press(OK)
    if rig.controller.draft is not None and rig.controller.draft.companion_answers:
        rig.press(OK)  # the companion confirms the data
    assert rig.state in ("printing", "done"), rig.screen


def test_the_notice_is_read_page_by_page_before_anything_is_captured(rig: Rig) -> None:
    person = to_notice(rig)
    assert rig.screen == shown("notice.1")
    rig.press(DOWN)
    assert rig.screen == shown("notice.2")
    rig.press(UP, UP)
    assert rig.screen == shown("notice.1"), "UP on the first page stays there"
    rig.press(*[OK] * (NOTICE_PAGES - 1))
    assert rig.screen == shown("notice.4") and rig.controller.draft.notice is None
    rig.press(OK)
    assert rig.state == "needs" and rig.screen[0] == prompt("needs")[0]
    assert rig.controller.draft.notice == NOTICE_VERSION
    assert rig.controller.draft.guardian is None
    assert rig.audit("notice") == [{"nik": person.nik, "notice": NOTICE_VERSION}]
    rig.press(OK)  # continue: nothing declared
    assert rig.state == "face"
    seal_from_face(rig)
    header = sealed_header(rig, 1)
    assert (header.notice, header.guardian, header.groups) == (NOTICE_VERSION, False, ())


def test_a_child_s_guardian_hears_the_notice_and_is_named_in_the_body_only(rig: Rig) -> None:
    key_nik(rig, child_nik(rig, 10))
    rig.press(OK, *[OK] * NOTICE_PAGES)
    assert rig.state == "guardian" and rig.screen[0] == prompt("guardian", name="")[0]
    assert rig.controller.draft.notice is None, "given once the guardian is named"
    rig.driver.pick(Spelling.DONE, what="done")
    assert rig.state == "guardian" and rig.screen[0] == prompt("guardian_empty")[0]
    assert rig.screen[1] == "", "under the note, the name spelled so far: none yet"
    spell(rig, "BUDI")
    assert rig.state == "needs", rig.screen
    assert rig.controller.draft.guardian == "BUDI"
    rig.press(OK)
    assert rig.state == "face"
    seal_from_face(rig)
    header = sealed_header(rig, 1)
    assert (header.notice, header.guardian, header.groups) == (NOTICE_VERSION, True, (Group.KIA,))
    assert opened(rig, 1).guardian == "BUDI"
    payload = parse_sign1((rig.store.records_dir / record_name(1)).read_bytes()).payload
    assert b"BUDI" not in payload, "the guardian's name is the encrypted body's"
    assert "BUDI" not in str(loads(payload))
    assert rig.audit("notice")[0]["guardian"] is True
    assert "BUDI" not in str(rig.audit("notice"))


def test_the_guardian_s_name_is_spelled_and_taken_back_letter_by_letter(rig: Rig) -> None:
    key_nik(rig, child_nik(rig, 8))
    rig.press(OK, *[OK] * NOTICE_PAGES)
    for letter in "SITIX":
        rig.driver.pick(letter, what=letter)
    rig.press(BACK)  # takes back the X
    rig.driver.pick(" ", what="space")
    rig.driver.pick("A", what="A")
    rig.driver.pick(Spelling.DELETE, what="delete")
    rig.driver.pick("B", what="B")
    assert rig.screen[:2] == prompt("guardian", name="SITI B")
    rig.driver.pick(Spelling.DONE, what="done")
    assert rig.controller.draft.guardian == "SITI B"


def test_a_declared_disability_seated_with_a_companion_is_recorded(rig: Rig) -> None:
    to_needs(rig)
    assert rig.screen[1:] == [
        ">" + prompt("needs.go")[0],
        " " + prompt("needs.disability", value=prompt("no")[0])[0],
        " " + prompt("needs.seated", value=prompt("no")[0])[0],
    ]
    rig.driver.pick(Need.DISABILITY, what="disability")
    assert rig.screen[0] == prompt("disability_title")[0]
    rig.press(BACK)  # the list closes, nothing chosen
    assert rig.controller.step.disability is None
    rig.driver.pick(Need.DISABILITY, what="disability")
    rig.driver.pick(Disability.FISIK, what="fisik")
    rig.driver.pick(Need.SEATED, what="seated")
    rig.driver.pick(Need.COMPANION, what="companion")
    spell(rig, "RINA")
    rig.driver.pick(Need.COMPANION, what="companion")  # a second OK takes it back...
    rig.driver.pick(Need.COMPANION, what="companion")  # ...and a third names one again
    spell(rig, "ANI")
    rig.driver.pick(Need.GO, what="continue")
    assert rig.state == "face"
    draft = rig.controller.draft
    assert (draft.disability, tuple(draft.assists)) == (
        Disability.FISIK,
        (Assist.SEATED, Assist.COMPANION),
    )
    audited = rig.audit("needs")
    assert audited == [
        {"nik": draft.resident.nik, "disability": True, "assists": ["duduk", "pendamping"]}
    ]
    # seated below the camera: framed with the seated bounds, it passes
    rig.sim.devices.camera.scene = Scene.SEATED
    rig.press(OK)
    assert rig.screen == shown("face_ok")
    rig.sim.devices.camera.scene = Scene.CLEAN
    seal_from_face(rig)
    header = sealed_header(rig, 1)
    assert Group.DISABILITAS in header.groups
    body = opened(rig, 1)
    assert (body.disability, body.assists) == (Disability.FISIK, (Assist.SEATED, Assist.COMPANION))
    assert body.companion == "ANI"


def waiting_on_the_person(rig: Rig, button: Button) -> list[str]:
    """The screen while the device job ``button`` starts waits for the person (a finger,
    the pen): what they are asked to do.  The job's outcome is then handled."""
    rig.kit.press(button, Press.SHORT)
    for _ in range(SETTLE_EVENTS):
        if rig.controller.busy:
            break
        rig.kit.loop.step(0.002)
    assert rig.controller.busy, "the press started no device job"
    screen = list(rig.controller.screen)
    rig.settle()
    return screen


def test_a_companion_is_named_and_the_screens_speak_to_them(rig: Rig) -> None:
    to_needs(rig)
    rig.driver.pick(Need.COMPANION, what="companion")
    assert rig.screen[:2] == prompt("companion", name=""), rig.screen
    spell(rig, "RINA W")
    assert rig.state == "needs"
    assert rig.screen[-1] == ">" + prompt("needs.companion", value=prompt("yes")[0])[0]
    rig.driver.pick(Need.GO, what="continue")
    assert rig.controller.draft.guardian == "RINA W"
    assert rig.screen == shown("face.companion") != shown("face")
    rig.press(OK)
    assert rig.screen == shown("face_ok"), rig.screen
    rig.sim.devices.fingerprint.inject("poor-image")
    rig.press(OK)
    assert rig.state == "fingers", rig.screen
    rig.sim.devices.fingerprint.clear_faults()
    asking = waiting_on_the_person(rig, BACK)  # the finger again, from its first try
    assert asking[2:] == prompt("fingers.companion", index=1, count=1, finger="")[2:], asking
    while rig.state == "fingers":
        rig.press(OK)
    assert rig.state == "signature", rig.screen
    asking = waiting_on_the_person(rig, BACK)  # the signature again
    assert asking == shown("signature.companion"), asking
    rig.press(OK)  # the signature kept
    assert rig.state == "review", rig.screen
    rig.press(OK)
    assert rig.screen == shown("review.companion"), "the companion confirms the data"
    rig.press(BACK)
    assert rig.state == "review" and rig.screen[0] != shown("review.companion")[0]
    assert not (rig.store.records_dir / record_name(1)).exists(), "BACK: nothing sealed"
    rig.press(OK, OK)
    assert rig.state in ("printing", "done"), rig.screen
    header = sealed_header(rig, 1)
    assert header.guardian, "the header says someone spoke for the person, not who"
    body = opened(rig, 1)
    assert (body.guardian, body.companion) == ("RINA W", "RINA W")
    assert body.assists == (Assist.COMPANION,)
    payload = parse_sign1((rig.store.records_dir / record_name(1)).read_bytes()).payload
    assert b"RINA" not in payload and "RINA" not in str(loads(payload))
    assert "RINA" not in str(rig.audit("needs"))


def test_done_with_no_name_spelled_takes_the_companion_back(rig: Rig) -> None:
    to_needs(rig)
    rig.driver.pick(Need.COMPANION, what="companion")
    rig.driver.pick(Spelling.DONE, what="done")
    assert rig.screen[-1] == ">" + prompt("needs.companion", value=prompt("no")[0])[0]
    rig.driver.pick(Need.GO, what="continue")
    assert rig.screen == shown("face"), "no companion: the screens speak to the person"
    assert (rig.controller.draft.assists, rig.controller.draft.guardian) == ((), None)


def test_a_child_s_companion_is_the_guardian_already_named(rig: Rig) -> None:
    key_nik(rig, child_nik(rig, 10))
    rig.press(OK, *[OK] * NOTICE_PAGES)
    spell(rig, "BUDI")
    rig.driver.pick(Need.COMPANION, what="companion")
    assert rig.state == "needs" and rig.screen[0] == prompt("needs")[0], "nobody else to spell"
    rig.driver.pick(Need.GO, what="continue")
    assert rig.screen == shown("face.companion")
    rig.press(OK, OK)  # a KIA: the photo, then the review
    assert rig.state == "review", rig.screen
    rig.press(OK)
    assert rig.screen == shown("review.companion")
    rig.press(OK)
    rig.settle()
    assert opened(rig, 1).companion == "BUDI"
    # a walk-in's slip, which says the data was confirmed with a companion (test_slip)
    assert len(rig.sim.devices.receipt_printer.printed) == 1


def test_the_companion_s_screens_in_english(rig: Rig) -> None:
    rig.controller.switch_language()
    to_needs(rig)
    rig.driver.pick(Need.COMPANION, what="companion")
    assert rig.screen[:2] == prompt("companion", Language.EN, name="")
    spell(rig, "RINA")
    rig.driver.pick(Need.GO, what="continue")
    assert rig.screen == shown("face.companion", Language.EN)


def test_seated_below_the_camera_a_standing_frame_refuses_the_photo(rig: Rig) -> None:
    to_needs(rig)
    rig.press(OK)  # nothing declared: the standing bounds
    rig.sim.devices.camera.scene = Scene.SEATED
    rig.press(OK)
    tries = rig.store.policy.face_retries
    assert rig.screen == shown("quality.face.off_centre")[:2] + shown(
        "face_retry", attempt=1, tries=tries
    )


def test_a_seated_photo_gets_more_tries(rig: Rig) -> None:
    to_needs(rig)
    rig.driver.pick(Need.SEATED, what="seated")
    rig.driver.pick(Need.GO, what="continue")
    rig.sim.devices.camera.inject("dark")
    rig.press(OK)
    tries = rig.store.policy.face_retries + 2
    assert rig.screen[-1] == shown("face_retry", attempt=1, tries=tries)[0]


def test_an_adult_s_companion_is_named_and_a_child_s_is_the_guardian(rig: Rig) -> None:
    to_needs(rig)
    draft = rig.controller.draft
    with pytest.raises(ValueError, match="named, and only then"):
        draft.declare_needs(None, [Assist.COMPANION])
    with pytest.raises(ValueError, match="named, and only then"):
        draft.declare_needs(None, [Assist.SEATED], companion="RINA")
    draft.declare_needs(None, [Assist.COMPANION], companion=" RINA ")
    assert draft.guardian == "RINA"
    draft.declare_needs(None, [])
    assert draft.guardian is None, "the companion taken back"
