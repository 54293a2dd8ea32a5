"""The one rule for what is printed after a seal, on the real card printer double's status."""

from __future__ import annotations

from datetime import datetime

import pytest

from capture.draft import Draft
from capture.print_plan import PrintOutcome, PrintPlan, SlipReason, plan_print
from hal.exc import DeviceAbsent
from hal.types import PrinterState, PrinterStatus
from storage.model import Resident, Sex

RESIDENT = Resident("3505014101900001", "SITI", Sex.FEMALE, "BLITAR", datetime(1990, 1, 1).date())


class StatusPrinter:
    """A card printer that only answers ``status`` (what the plan asks), as told."""

    def __init__(self, answer: PrinterStatus | Exception) -> None:
        self.answer = answer
        self.asked = 0

    def status(self) -> PrinterStatus:
        self.asked += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


READY = PrinterStatus(PrinterState.READY)


def plan(**given: object) -> PrintPlan:
    facts: dict[str, object] = {
        "print_on_site": True,
        "draft": Draft(RESIDENT, "PTG-001", datetime(2026, 12, 1, 9)),
        "voiding": False,
        "card_printer": StatusPrinter(READY),
        "receipt_printer": object(),
        "stock": 5,
    }
    return plan_print(**{**facts, **given})  # type: ignore[arg-type]


def test_a_listed_person_with_cards_and_a_ready_printer_gets_a_card() -> None:
    assert plan(ask_printer=True) == PrintPlan(True, PrintOutcome.CARD)


def test_a_walk_in_gets_a_slip_and_no_card_on_the_record() -> None:
    walk_in = Draft(RESIDENT, "PTG-001", datetime(2026, 12, 1, 9), walk_in=True)
    assert plan(draft=walk_in) == PrintPlan(False, PrintOutcome.SLIP, SlipReason.WALK_IN)


def test_record_only_policy_gives_a_slip() -> None:
    assert plan(print_on_site=False) == PrintPlan(False, PrintOutcome.SLIP, SlipReason.RECORD_ONLY)


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ({"card_printer": None}, SlipReason.NO_CARD_PRINTER),
        ({"stock": 0}, SlipReason.NO_BLANK_CARDS),
    ],
)
def test_a_card_on_the_record_without_the_means_gets_a_slip(
    given: dict[str, object], reason: SlipReason
) -> None:
    assert plan(**given) == PrintPlan(True, PrintOutcome.SLIP, reason)


def test_the_printer_is_asked_only_when_printing_starts() -> None:
    printer = StatusPrinter(PrinterStatus(PrinterState.COVER_OPEN))
    assert plan(card_printer=printer).after_seal is PrintOutcome.CARD
    assert printer.asked == 0  # the review screen and the seal guard do not ask the device
    assert plan(card_printer=printer, ask_printer=True) == PrintPlan(
        True, PrintOutcome.SLIP, "printer: cover-open"
    )
    assert printer.asked == 1


def test_a_printer_that_does_not_answer_gives_a_slip_naming_why() -> None:
    printer = StatusPrinter(DeviceAbsent("no answer", device="card printer"))
    assert plan(card_printer=printer, ask_printer=True) == PrintPlan(
        True, PrintOutcome.SLIP, "printer: no answer"
    )


def test_a_void_prints_nothing_and_asks_no_card() -> None:
    assert plan(voiding=True) == PrintPlan(False, PrintOutcome.NONE)


def test_a_kit_without_printers_prints_nothing() -> None:
    assert plan(card_printer=None, receipt_printer=None).after_seal is PrintOutcome.NONE
