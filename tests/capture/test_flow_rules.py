"""The village official present, and the corrections they approve at review."""

from __future__ import annotations

from typing import TYPE_CHECKING

from capture.prompts import prompt
from storage.model import (
    CorrectableField,
    Correction,
    FlaggedError,
    FlagReason,
    FreeTextField,
    Policy,
)
from tests.capture.flows import (
    BACK,
    OK,
    MakeRig,
    admin_item,
    clean_person,
    correct,
    enrol,
    pick,
    sealed_header,
    shown,
    to_correction,
    to_official_login,
)

if TYPE_CHECKING:
    from conftest import Rig


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
    assert rig.controller.session.official is None


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
    assert rig.screen[-2:] == [prompt("not_official")[0], prompt("official_approval")[-1]]
    rig.bystanders.official = official
    rig.bystanders.offer_finger = False
    rig.press(OK)
    assert rig.screen[1:] == [">SUPARMAN"]  # only officials offered
    rig.press(OK)
    rig.key_digits(rig.pin("KDS-001"))
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
