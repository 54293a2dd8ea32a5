"""Sealing and printing: a card, a slip instead, faults, a crash mid-print, a reprint."""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

import pytest

from capture.prompts import prompt
from hal.exc import PrinterError
from storage.files import record_name
from tests.capture.flows import (
    BACK,
    OK,
    UP,
    FailingRecords,
    MakeRig,
    clean_person,
    crash,
    enrol,
    pin_login,
    sealed_header,
    shown,
    to_face,
    to_review,
)

if TYPE_CHECKING:
    from conftest import Rig

PRINTER_FAULTS = ("jam", "cover-open", "ribbon-out", "out-of-cards", "unplugged")


def test_seal_failure_keeps_the_journal_and_returns_to_review(make_rig: MakeRig) -> None:
    files = FailingRecords()
    rig = make_rig(ops=files)
    person = to_review(rig)
    files.error = errno.EROFS  # the storage card's lock switch: the record cannot be written
    rig.press(OK)
    assert rig.state == "review"
    assert rig.screen == shown("seal_failed", reason=prompt("fault.storage")[0])
    record = rig.store.records_dir / record_name(1)
    assert rig.store.journal.load()["resident"]["nik"] == person.nik
    assert rig.audit("seal-failed")[0]["reason"].startswith(
        f"cannot write {record}: the data folder is read-only"
    )
    files.error = None
    rig.press(OK)
    assert rig.state == "done"
    assert rig.store.journal.load() is None
    assert rig.store.last_seq == 1


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
    assert rig.state == "done", "the card prints behind the done screen"
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
    assert rig.state == "done"
    assert rig.screen[:2] == ["Cetak gagal:", prompt("fault.device")[0]], "no driver's text"
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
    assert rig.state == "done"
    assert rig.screen[1] == prompt("fault.paper_out")[0]
    assert rig.screen[3].startswith("#1")
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
