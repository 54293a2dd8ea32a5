"""The idle lock, a crash, and the journal that lets the officer resume."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from capture.prompts import prompt
from storage.model import ALL_FINGERS
from tests.capture.flows import (
    BACK,
    OK,
    TO_LOCKABLE,
    TO_RULE_STATE,
    TO_STATE,
    MakeRig,
    at_approval,
    crash,
    pin_login,
    shown,
    to_face,
    to_review,
    to_signature,
)

if TYPE_CHECKING:
    from conftest import Rig


def test_idle_lock_mid_enrolment_then_resume_after_login(rig: Rig) -> None:
    person = to_face(rig)
    rig.tick(rig.store.policy.idle_lock_seconds - 10)
    assert rig.state == "face"
    rig.bystanders.offer_finger = False
    rig.tick(10)
    assert rig.state == "locked"
    assert rig.controller.session.officer is None and rig.controller.draft is None
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


@pytest.mark.parametrize("state", sorted(TO_LOCKABLE))
def test_idle_lock_from(rig: Rig, state: str) -> None:
    TO_STATE[state](rig)
    assert rig.state == state, rig.screen
    rig.bystanders.offer_finger = False
    rig.tick(rig.store.policy.idle_lock_seconds)
    assert rig.state == "locked"
    assert rig.audit("idle-lock")[-1]["state"] == state
    assert rig.screen == shown("locked")


@pytest.mark.parametrize("state", sorted(TO_RULE_STATE))
def test_idle_lock_from_a_rule_state(rig: Rig, state: str) -> None:
    test_idle_lock_from(rig, state)


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
    at_approval(rig)
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
