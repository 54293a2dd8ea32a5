"""Before capture: the notice read aloud, a child's guardian named, needs declared, a seated
photo framed with more room."""

from __future__ import annotations

from typing import TYPE_CHECKING

from capture.notice_steps import NOTICE_PAGES, Need, Spelling
from capture.prompts import prompt
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
from vocabulary.rounds import Assist, Disability, Group

if TYPE_CHECKING:
    from conftest import Rig


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
    rig.driver.pick(Need.COMPANION, what="companion")  # a second OK takes it back...
    rig.driver.pick(Need.COMPANION, what="companion")  # ...and a third gives it again
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
