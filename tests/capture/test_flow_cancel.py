"""Held BACK cancels a capture, once confirmed; BACK at the person returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from capture.prompts import prompt
from tests.capture.flows import BACK, OK, TO_CAPTURE_STATE, TO_STATE, pick, shown

if TYPE_CHECKING:
    from conftest import Rig


@pytest.mark.parametrize("state", sorted(TO_CAPTURE_STATE))
def test_cancel_with_held_back_and_confirmation(rig: Rig, state: str) -> None:
    TO_STATE[state](rig)
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


@pytest.mark.parametrize("state", ["correction", "signature_exception"])
def test_cancel_with_held_back_from_a_rule_state(rig: Rig, state: str) -> None:
    test_cancel_with_held_back_and_confirmation(rig, state)


def test_confirm_person_back_returns_to_the_list(rig: Rig) -> None:
    pick(rig)
    rig.press(BACK)
    assert rig.state == "ready"
    assert rig.audit("cancel") == []
