"""What is printed after a seal, decided in one place: a card, a slip, or nothing.

Three questions used to be answered in three places: whether the record asks for a card
(policy and verified data), whether anything is printed after the seal, and why a person
gets a slip instead of a card.  :func:`plan_print` answers all three from the same facts.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from capture.draft import Draft
from hal.contracts import CardPrinter, ReceiptPrinter
from hal.exc import DeviceError
from hal.types import PrinterState
from storage.model import CardKind

log = logging.getLogger(__name__)


class PrintOutcome(enum.StrEnum):
    """What came out of the printers for the record just sealed (the done screen says it)."""

    NONE = "none"
    SLIP = "slip"
    CARD = "card"


class SlipReason(enum.StrEnum):
    """Why a person gets a slip instead of a card.

    The slip prints it in Bahasa Indonesia, with what the office will do next
    (`capture.paper_texts.SLIP_REASONS`); a printer's own words go to the log, never to
    the paper a citizen takes home.
    """

    RECORD_ONLY = "record-only"
    WALK_IN = "walk-in"
    OFFICE_PRINTS = "office-prints"
    HOME_OFFICE = "home-office"
    WAITS_FOR_BIRTHDAY = "waits-for-birthday"
    DATA_TO_CORRECT = "data-to-correct"
    NO_CARD_PRINTER = "no-card-printer"
    NO_BLANK_CARDS = "no-blank-cards"
    PRINTER_NOT_READY = "printer-not-ready"
    CARD_FAILED = "card-failed"


@dataclass(frozen=True)
class PrintPlan:
    """The decision for one record.

    ``card_on_record``: the record asks for a card (the collector counts it).
    ``after_seal``: what the kit tries to print once the record is sealed.
    ``slip_reason``: why a slip and not a card, when ``after_seal`` is a slip.
    """

    card_on_record: bool
    after_seal: PrintOutcome
    slip_reason: SlipReason | None = None


def plan_print(
    *,
    print_on_site: bool,
    draft: Draft | None,
    voiding: bool,
    card_printer: CardPrinter | None,
    receipt_printer: ReceiptPrinter | None,
    stock: int,
    ask_printer: bool = False,
) -> PrintPlan:
    """The print plan for the record being sealed (``draft``, or a void when ``voiding``).

    A walk-in's demographics come only from the NIK keyed at the kit, so their card is
    printed at the office after verification, not on site.  On site only a first
    recording (`Purpose.BARU`) or a KIA is printed: a lost, damaged or changed card is
    printed at the Disdukcapil, a resident away from home by their home office, an early
    first-time voter's card waits for the 17th birthday, and a free-text error flagged at
    review is corrected at the office, never on a card printed here.  The card printer's status is
    a device call, asked only with ``ask_printer`` (when printing starts), not while the
    review screen is drawn.
    """
    office = None if draft is None else office_reason(draft)
    card_on_record = (
        bool(print_on_site and draft is not None and not draft.walk_in)
        and office is None
        and not voiding
    )
    if voiding or (card_printer is None and receipt_printer is None):
        return PrintPlan(card_on_record, PrintOutcome.NONE)
    reason = office or _slip_reason(card_on_record, draft, card_printer, stock, ask_printer)
    if reason is None:
        return PrintPlan(card_on_record, PrintOutcome.CARD)
    return PrintPlan(card_on_record, PrintOutcome.SLIP, reason)


def office_reason(draft: Draft) -> SlipReason | None:
    """Why this person's card is not printed on site whatever the printers, or None."""
    if draft.domicile is not None:
        return SlipReason.HOME_OFFICE
    if not (draft.purpose.prints_on_site or draft.kind is CardKind.KIA):
        return SlipReason.OFFICE_PRINTS
    if draft.card_from is not None:
        return SlipReason.WAITS_FOR_BIRTHDAY
    if draft.flagged:
        return SlipReason.DATA_TO_CORRECT
    return None


def _slip_reason(
    card_on_record: bool,
    draft: Draft | None,
    printer: CardPrinter | None,
    stock: int,
    ask_printer: bool,
) -> SlipReason | None:
    if not card_on_record:
        walk_in = draft is not None and draft.walk_in
        return SlipReason.WALK_IN if walk_in else SlipReason.RECORD_ONLY
    if printer is None:
        return SlipReason.NO_CARD_PRINTER
    if stock <= 0:
        return SlipReason.NO_BLANK_CARDS
    if not ask_printer:
        return None
    try:
        status = printer.status()
    except DeviceError as exc:
        log.warning("the card printer did not answer, a slip instead: %s", exc)
        return SlipReason.PRINTER_NOT_READY
    if status.ready:
        return None
    log.warning("the card printer is not ready (%s), a slip instead", status.state.value)
    if status.state is PrinterState.NO_MEDIA:
        return SlipReason.NO_BLANK_CARDS  # the printer's hopper is empty, whatever the ledger
    return SlipReason.PRINTER_NOT_READY
