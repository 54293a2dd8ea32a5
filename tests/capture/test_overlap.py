"""The kit overlaps the person and the wires: the next finger is asked for while the last
one's image crosses the wire, and the card prints while the officer starts the next person.

A print held by the test (its double waits for the test's word) stands for a card that
takes its 13 s: the rig settles without waiting for it (``Rig.behind_held``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from capture.events import ShutdownAsked, ShutdownReason
from capture.machine import CaptureState
from capture.prompts import prompt
from hal.exc import PrinterError
from hal.types import FingerPosition
from tests.capture.flows import BACK, OK, clean_person, shown, take_face, to_face, to_review

if TYPE_CHECKING:
    from conftest import Rig

#: How long a held double waits for the test's word before it fails the job itself.
HOLD_SECONDS = 10.0


class Held:
    """A device double's call that waits until :meth:`release` (or fails after
    :data:`HOLD_SECONDS`), and then does what the double does, or raises ``fault``."""

    def __init__(self, call: Callable[..., object]) -> None:
        self._call = call
        self._released = threading.Event()
        self.entered = threading.Event()
        self.fault: Exception | None = None

    def __call__(self, *args: object, **kwargs: object) -> object:
        self.entered.set()
        if not self._released.wait(HOLD_SECONDS):
            raise PrinterError("held past the test's deadline", device="test")
        if self.fault is not None:
            raise self.fault
        return self._call(*args, **kwargs)

    def release(self) -> None:
        self._released.set()


def hold_cards(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> Held:
    printer = rig.sim.devices.card_printer
    held = Held(printer.print_card)
    monkeypatch.setattr(printer, "print_card", held)
    rig.behind_held = True
    return held


def let_go(rig: Rig, held: Held) -> None:
    """Release the held print and settle until it has come back."""
    held.release()
    rig.behind_held = False
    rig.settle()


def seal(rig: Rig) -> None:
    """At review: OK seals, and the kit shows done while the card prints."""
    rig.press(OK)
    assert rig.state == "done", rig.screen


def test_the_officer_starts_the_next_person_while_the_card_prints(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = hold_cards(rig, monkeypatch)
    first = to_review(rig)
    seal(rig)
    assert rig.screen == shown("done", seq=1, name=first.name, outcome=prompt("printing")[0])
    assert rig.controller.working_behind
    rig.press(OK)
    assert rig.state == "ready"
    to_face(rig, clean_person(rig, skip=1))
    take_face(rig)
    assert rig.state == "signature", "the next person's fingers were taken meanwhile"
    assert rig.sim.devices.card_printer.printed == []
    let_go(rig, held)
    assert rig.state == "signature", "a card that printed well says nothing"
    assert not rig.controller.working_behind
    assert len(rig.store.ledger.printed_for(1)) == 1
    assert len(rig.sim.devices.card_printer.printed) == 1
    assert rig.audit("printed")[0]["seq"] == 1


def test_a_card_fault_behind_reaches_the_officer_between_people(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = hold_cards(rig, monkeypatch)
    to_review(rig)
    seal(rig)
    rig.press(OK)
    to_face(rig, clean_person(rig, skip=1))
    take_face(rig)
    held.fault = PrinterError("jam", device="card printer")
    let_go(rig, held)
    held.fault = None  # the printer is cleared: the next card prints
    assert rig.state == "signature", "the fault waits: the next person is being captured"
    assert rig.screen == shown("signature_ok")
    counts = rig.store.ledger.counts()
    assert (counts["spoiled"], counts["printed"]) == (1, 0)
    rig.press(OK)  # the signature
    assert rig.state == "review"
    rig.press(OK)  # the second record is sealed: done is between people
    assert rig.state == "done"
    assert rig.screen[0] == prompt("print_failed", reason="")[0]
    slips = len(rig.sim.devices.receipt_printer.printed)
    rig.press(OK)  # the first record gets its slip instead of the card
    assert rig.state == "done"
    assert len(rig.sim.devices.receipt_printer.printed) == slips + 1
    counts = rig.store.ledger.counts()
    assert (counts["spoiled"], counts["printed"]) == (1, 1)


def test_a_card_still_printing_is_no_crash_question_at_the_next_login(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger holds the card as begun; only a crash may hide its outcome."""
    held = hold_cards(rig, monkeypatch)
    to_review(rig)
    seal(rig)
    assert len(rig.store.ledger.unresolved()) == 1
    assert rig.controller.session.unanswered_prints() == []
    let_go(rig, held)
    assert rig.store.ledger.unresolved() == []


def test_a_switch_off_waits_for_the_card_printing_behind(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = hold_cards(rig, monkeypatch)
    to_review(rig)
    seal(rig)
    rig.press(OK)
    assert rig.state == "ready"
    rig.kit.loop.post(ShutdownAsked(ShutdownReason.POWER_BUTTON))
    rig.settle()
    assert rig.state == "ready", "a card half printed would be spoiled"
    let_go(rig, held)
    assert rig.state is CaptureState.SAFE_SHUTDOWN
    assert rig.store.ledger.counts()["printed"] == 1
    assert rig.screen == shown("shutdown.power_button")


def _until(rig: Rig, done: Callable[[], bool]) -> None:
    """Handle the loop's events until ``done`` (a bounded wait)."""
    deadline = time.monotonic() + HOLD_SECONDS
    while not done():
        assert time.monotonic() < deadline, rig.screen
        rig.kit.loop.step(0.002)


def test_the_next_finger_is_asked_for_while_the_image_uploads(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    sensor = rig.sim.devices.fingerprint
    held = Held(sensor.upload_image)
    monkeypatch.setattr(sensor, "upload_image", held)
    to_face(rig)
    rig.press(OK)  # the photo
    assert rig.screen == shown("face_ok")
    rig.kit.press(OK)
    _until(rig, lambda: rig.state == "fingers")
    first = rig.controller.view.finger
    _until(rig, held.entered.is_set)  # the first finger is imaged: its image uploads
    second = rig.controller.view.finger
    assert second is not None and second is not first
    rig.kit.press(BACK)
    assert rig.kit.loop.step(0.5), "the press was handled"
    assert rig.state == "fingers", "the buttons wait for the finger's outcome"
    assert rig.controller.view.finger is second
    held.release()
    rig.settle()
    assert rig.state == "signature"
    draft = rig.controller.session.draft
    assert draft is not None
    assert {first, second} <= set(draft.fingers)
    assert all(finger.template for finger in draft.fingers.values())


def test_while_the_last_finger_uploads_none_is_asked_for(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person lifts the last finger and moves on (to the pen) while it is checked."""
    sensor = rig.sim.devices.fingerprint
    last = rig.store.policy.fingers[-1]
    upload = sensor.upload_image
    held = Held(upload)

    def hold_the_last(position: FingerPosition) -> object:
        return held(position) if position is last else upload(position)

    monkeypatch.setattr(sensor, "upload_image", hold_the_last)
    to_face(rig)
    rig.press(OK)  # the photo
    rig.kit.press(OK)
    _until(rig, held.entered.is_set)
    _until(rig, lambda: rig.controller.view.opens_with("fingers_checking"))
    assert rig.state == "fingers"
    assert rig.controller.view.finger is None
    held.release()
    rig.settle()
    assert rig.state == "signature"
