"""The one rule for what is printed after a seal, asked of the simulator's printers."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from capture.draft import Draft
from capture.print_plan import PrintOutcome, PrintPlan, SlipReason, plan_print
from hal.contracts import CardPrinter, ReceiptPrinter
from hal.exc import DeviceAbsent
from hw_sim.doubles import SimPrinter
from storage.model import Resident, Sex

RESIDENT = Resident("3505014101900001", "SITI", Sex.FEMALE, "BLITAR", date(1990, 1, 1))
STARTED = datetime(2026, 12, 1, 9)


def card_printer() -> SimPrinter:
    """The simulator's card printer (the fast double), with its faults on demand."""
    return SimPrinter("card-printer", ("out-of-cards", "cover-open", "ribbon-out", "jam"))


def plan(
    *,
    print_on_site: bool = True,
    draft: Draft | None = None,
    voiding: bool = False,
    card: CardPrinter | bool | None = True,
    receipt: ReceiptPrinter | bool | None = True,
    stock: int = 5,
    ask_printer: bool = False,
) -> PrintPlan:
    """The plan for a listed person on a kit with both printers, unless told otherwise."""
    return plan_print(
        print_on_site=print_on_site,
        draft=draft or Draft(RESIDENT, "PTG-001", STARTED),
        voiding=voiding,
        card_printer=card_printer() if card is True else card or None,
        receipt_printer=SimPrinter("receipt-printer", ("paper-out",))
        if receipt is True
        else receipt or None,
        stock=stock,
        ask_printer=ask_printer,
    )


def test_a_listed_person_with_cards_and_a_ready_printer_gets_a_card() -> None:
    assert plan(ask_printer=True) == PrintPlan(True, PrintOutcome.CARD)


def test_a_walk_in_gets_a_slip_and_no_card_on_the_record() -> None:
    walk_in = Draft(RESIDENT, "PTG-001", STARTED, walk_in=True)
    assert plan(draft=walk_in) == PrintPlan(False, PrintOutcome.SLIP, SlipReason.WALK_IN)


def test_record_only_policy_gives_a_slip() -> None:
    assert plan(print_on_site=False) == PrintPlan(False, PrintOutcome.SLIP, SlipReason.RECORD_ONLY)


def test_no_card_printer_gives_a_slip() -> None:
    assert plan(card=None) == PrintPlan(True, PrintOutcome.SLIP, SlipReason.NO_CARD_PRINTER)


def test_no_blank_cards_gives_a_slip() -> None:
    assert plan(stock=0) == PrintPlan(True, PrintOutcome.SLIP, SlipReason.NO_BLANK_CARDS)


def test_the_printer_is_asked_only_when_printing_starts() -> None:
    printer = card_printer()
    printer.inject("cover-open")
    # the review screen and the seal's guard do not ask the device: they plan a card
    assert plan(card=printer).after_seal is PrintOutcome.CARD
    assert plan(card=printer, ask_printer=True) == PrintPlan(
        True, PrintOutcome.SLIP, "printer: cover-open"
    )


def test_a_printer_that_does_not_answer_gives_a_slip_naming_why() -> None:
    printer = card_printer()
    printer.inject("unplugged")
    with pytest.raises(DeviceAbsent) as absent:
        printer.status()
    assert plan(card=printer, ask_printer=True) == PrintPlan(
        True, PrintOutcome.SLIP, f"printer: {absent.value}"
    )


def test_a_void_prints_nothing_and_asks_no_card() -> None:
    assert plan(voiding=True) == PrintPlan(False, PrintOutcome.NONE)


def test_a_kit_without_printers_prints_nothing() -> None:
    assert plan(card=None, receipt=None) == PrintPlan(True, PrintOutcome.NONE)
