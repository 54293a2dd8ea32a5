"""The one rule for what is printed after a seal, asked of the simulator's printers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from capture.draft import Draft
from capture.print_plan import PrintOutcome, PrintPlan, SlipReason, plan_print
from hal.contracts import CardPrinter, ReceiptPrinter
from hal.exc import DeviceAbsent
from hw_sim.doubles import SimPrinter
from storage.model import (
    CardKind,
    Domicile,
    FlaggedError,
    FlagReason,
    FreeTextField,
    Policy,
    Resident,
)
from vocabulary.people import Sex
from vocabulary.purpose import Purpose

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


def test_the_printer_is_asked_only_when_printing_starts(caplog: pytest.LogCaptureFixture) -> None:
    printer = card_printer()
    printer.inject("cover-open")
    # the review screen and the seal's guard do not ask the device: they plan a card
    assert plan(card=printer).after_seal is PrintOutcome.CARD
    assert plan(card=printer, ask_printer=True) == PrintPlan(
        True, PrintOutcome.SLIP, SlipReason.PRINTER_NOT_READY
    )
    assert "not ready (cover-open)" in caplog.text, "the printer's state goes to the log"


def test_a_printer_out_of_cards_gives_the_slip_of_no_blank_cards() -> None:
    """The hopper is empty although the ledger still counts cards (the kartu-habis lesson)."""
    printer = card_printer()
    printer.inject("out-of-cards")
    assert plan(card=printer, stock=5, ask_printer=True) == PrintPlan(
        True, PrintOutcome.SLIP, SlipReason.NO_BLANK_CARDS
    )


def test_a_printer_that_does_not_answer_gives_a_slip_and_logs_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    printer = card_printer()
    printer.inject("unplugged")
    with pytest.raises(DeviceAbsent) as absent:
        printer.status()
    assert plan(card=printer, ask_printer=True) == PrintPlan(
        True, PrintOutcome.SLIP, SlipReason.PRINTER_NOT_READY
    )
    assert str(absent.value) in caplog.text, "the device's own words reach the log, not paper"


def test_a_void_prints_nothing_and_asks_no_card() -> None:
    assert plan(voiding=True) == PrintPlan(False, PrintOutcome.NONE)


def test_a_kit_without_printers_prints_nothing() -> None:
    assert plan(card=None, receipt=None) == PrintPlan(True, PrintOutcome.NONE)


KIA_CHILD = Resident("3505015506150001", "PUTRI", Sex.FEMALE, "BLITAR", date(2015, 6, 15))


def begun(resident: Resident = RESIDENT, **changes: object) -> Draft:
    """A draft begun by the day's card rule (a first-time voter date when given)."""
    voter_date = changes.pop("voter_date", None)
    draft = Draft.begin(
        resident,
        officer_id="PTG-001",
        started_at=STARTED,
        policy=Policy(voter_date=voter_date),  # type: ignore[arg-type]
    )
    return replace(draft, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("purpose", ["HILANG", "RUSAK", "PERUBAHAN DATA"])
def test_a_replacement_or_change_is_printed_at_the_office(purpose: str) -> None:
    draft = begun(purpose=Purpose(purpose))
    assert plan(draft=draft, ask_printer=True) == PrintPlan(
        False, PrintOutcome.SLIP, SlipReason.OFFICE_PRINTS
    )


def test_a_first_recording_and_a_kia_are_printed_on_site() -> None:
    assert plan(draft=begun(), ask_printer=True) == PrintPlan(True, PrintOutcome.CARD)
    child = begun(KIA_CHILD)
    assert child.kind is CardKind.KIA
    assert plan(draft=child, ask_printer=True) == PrintPlan(True, PrintOutcome.CARD)
    lost_kia = begun(KIA_CHILD, purpose=Purpose.HILANG)
    assert plan(draft=lost_kia, ask_printer=True).after_seal is PrintOutcome.CARD


def test_a_domicile_resident_gets_a_slip_for_the_home_office() -> None:
    draft = begun(domicile=Domicile("1671010101200001", "1671"))
    assert plan(draft=draft) == PrintPlan(False, PrintOutcome.SLIP, SlipReason.HOME_OFFICE)


def test_an_early_voter_gets_a_slip_that_the_card_waits_for_the_birthday() -> None:
    voter = Resident("3505010101100001", "RIZKY", Sex.MALE, "BLITAR", date(2010, 1, 1))
    draft = begun(voter, voter_date=date(2027, 2, 14))
    assert draft.card_from == date(2027, 1, 1)
    assert plan(draft=draft) == PrintPlan(False, PrintOutcome.SLIP, SlipReason.WAITS_FOR_BIRTHDAY)


def test_a_flagged_free_text_error_is_never_printed_on_site() -> None:
    draft = begun(flagged=[FlaggedError(FreeTextField.NAME, FlagReason.MISSPELLED)])
    assert plan(draft=draft) == PrintPlan(False, PrintOutcome.SLIP, SlipReason.DATA_TO_CORRECT)
