"""What a supervisor approves at capture: all fingers excepted, no signature."""

from __future__ import annotations

from typing import TYPE_CHECKING

from capture.prompts import prompt
from storage.model import SignatureExceptionReason
from tests.capture.flows import (
    BACK,
    DOWN,
    OK,
    at_approval,
    sealed_header,
    shown,
    to_signature,
    to_signature_exception,
)

if TYPE_CHECKING:
    from conftest import Rig


def test_all_fingers_excepted_approved_by_supervisor_finger(rig: Rig) -> None:
    at_approval(rig)
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
    at_approval(rig)
    rig.bystanders.supervisor = rig.world.officers[0]  # the officer offers their own finger
    rig.bystanders.offer_finger = True
    rig.settle(40)
    assert rig.state == "approval"
    assert rig.screen[-2:] == [prompt("not_supervisor")[0], prompt("approval", why="")[-1]]
    rig.bystanders.offer_finger = False
    rig.press(OK)
    picker = rig.screen[1:]
    assert picker == [">" + rig.store.officers["SPV-001"].name]  # only supervisors offered
    rig.press(OK)
    rig.key_digits(rig.pin("PTG-001"))  # the officer's PIN is not theirs
    assert rig.state == "approval"
    assert rig.screen[-1] == prompt("pin_wrong")[0]
    rig.key_digits(rig.pin("SPV-001"))
    assert rig.state == "signature"
    assert rig.audit("approval")[0]["how"] == "pin"


def test_approval_refused_asks_the_fingers_again(rig: Rig) -> None:
    at_approval(rig)
    rig.sim.devices.fingerprint.clear_faults()
    rig.press(BACK)
    assert rig.state == "signature"  # every finger was captured again, and read well
    assert sum(1 for f in rig.controller.draft.fingers.values() if f.image_png) == 10
    assert rig.audit("approval") == []


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
    rig.key_digits(rig.pin("SPV-001"))
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
