"""Every card's state, from the signed facts of whoever changed it.

Why derived and not stored: a card's state changes at four hands (the kit that recorded
the resident and maybe printed the card, the office that printed it, the village official
who took it, the kit at which the resident took it), and each signs what it did: the kit
its record and its ledger (cards printed on site; handover events), the office its ledger
(`provisioning.office_log`).  A state column would be one more thing to edit; the state is
instead worked out again, in one place, from those signed facts as the district's audit
verified them.

The states, in the order a card passes them, and what moves a card into each:

- printed on site: the recording kit's signed ledger lists the card;
- waiting for the office: no card on site; why (`OfficeReason`) from the record's header;
- printed at the office: the office's PRINTED or REPRINTED entry (a SPOILED entry of its
  serial sends the card back to waiting);
- handed to a village official: its batch acknowledged, by a kit's ACKNOWLEDGED event or
  the office's ACKNOWLEDGED entry (a card named missing stays printed at the office, out
  of the batch: a later acknowledgement of it, on a kit, does not hand it over);
- received by the resident: a kit's RECEIVED event (finger matched 1:1, or signature);
- returned unclaimed: the office's RETURNED entry, once the set days passed.

What cannot be: a card handed over that the district holds no batch of (its office has not
synced yet), or a receipt of a card no batch holds, is left as it was and named as a
`CardFinding`, as are a card missing from a batch and a finger that did not match.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from provisioning.office_log import CardRef, OfficeAct, OfficeEntry
from provisioning.office_report import OfficeReason
from storage.handover import HandoverEvent, HandoverKind, Proof


class CardState(enum.StrEnum):
    PRINTED_ON_SITE = "printed-on-site"
    WAITING = "waiting"
    PRINTED_AT_OFFICE = "printed-at-office"
    HANDED = "handed"
    RECEIVED = "received"
    RETURNED = "returned"


#: The states in which the resident does not have the card yet (its age is reported).
NOT_WITH_RESIDENT = frozenset(
    {CardState.WAITING, CardState.PRINTED_AT_OFFICE, CardState.HANDED, CardState.RETURNED}
)


class CardFindingKind(enum.StrEnum):
    MISSING_FROM_BATCH = "missing-from-batch"
    FINGER_NOT_MATCHED = "finger-not-matched"
    UNKNOWN_BATCH = "unknown-batch"


#: What to do about each (Bahasa Indonesia, for the office).
CARD_TODO = {
    CardFindingKind.MISSING_FROM_BATCH: (
        "cari kartu itu di kantor; bila hilang, rusakkan nomor serinya (jemput-prov office "
        "spoil) dan cetak ulang (jemput-prov office reprint), lalu masukkan ke batch berikutnya"
    ),
    CardFindingKind.FINGER_NOT_MATCHED: (
        "kartu tetap pada pejabat desa; warga datang ke kantor Disdukcapil dengan KK untuk "
        "dicocokkan dengan petugas, dan kartu diserahkan di sana"
    ),
    CardFindingKind.UNKNOWN_BATCH: (
        "sinkronkan berkas meja kantor ke kabupaten (jemput-prov sync --office) agar batch "
        "itu tercatat"
    ),
}


@dataclass(frozen=True)
class CardFinding:
    kind: CardFindingKind
    card: CardRef | None
    what: str

    @property
    def todo(self) -> str:
        return CARD_TODO[self.kind]

    def as_map(self) -> dict[str, Any]:
        seq = None if self.card is None else self.card.seq
        return {"kind": self.kind.value, "seq": seq, "what": self.what, "todo": self.todo}


@dataclass
class CardStatus:
    """One card: its state, since when, why it waits for the office, its serial and batch."""

    state: CardState
    since: datetime
    sealed_at: datetime
    reason: OfficeReason | None = None
    serial: str | None = None
    batch: str | None = None
    how: Proof | None = None


@dataclass(frozen=True)
class CardRecord:
    """A live record whose card is followed: its chain, seq, kit, sealing time, and why
    the office prints it (None: its card was printed on site)."""

    card: CardRef
    kit_id: str
    sealed_at: datetime
    reason: OfficeReason | None


@dataclass
class CardBook:
    """Every followed card's status, and the findings met on the way."""

    cards: dict[CardRef, CardStatus] = field(default_factory=dict)
    findings: list[CardFinding] = field(default_factory=list)
    #: Each batch the offices made: its cards and village (from the office's BATCH entry).
    batches: dict[str, OfficeEntry] = field(default_factory=dict)


def card_book(
    records: Iterable[CardRecord],
    office: Iterable[OfficeEntry],
    events: Iterable[tuple[str, HandoverEvent]],
) -> CardBook:
    """The state of every card of ``records``, from the offices' verified ``office`` entries
    and the kits' verified handover ``events`` (kit id, event).

    In the order the facts can only have happened, whatever the clocks of the hands that
    signed them say: each office's entries in their ledger's order (a batch follows its
    prints, an acknowledgement its batch, a return its acknowledgement), then the kits'
    acknowledgements of those batches, then the residents' receipts, which nothing after
    them undoes (a card lost after its receipt is recorded again, as a new record).
    """
    book = CardBook()
    kits: dict[CardRef, str] = {}
    for record in records:
        state = CardState.PRINTED_ON_SITE if record.reason is None else CardState.WAITING
        book.cards[record.card] = CardStatus(
            state, record.sealed_at, record.sealed_at, record.reason
        )
        kits[record.card] = record.kit_id
    for entry in sorted(office, key=lambda entry: (entry.office, entry.n)):
        _office_entry(book, entry)
    kit_events = list(events)
    for kit, event in kit_events:
        if event.kind is HandoverKind.ACKNOWLEDGED:
            _acknowledged(book, event.batch, event.at, set(), by=f"{event.by} on kit {kit}")
    for kit, event in kit_events:
        if event.kind is not HandoverKind.ACKNOWLEDGED:
            _kit_event(book, kits, kit, event)
    return book


def _move(status: CardStatus | None, state: CardState, at: datetime, **changes: Any) -> None:
    if status is not None:
        status.state, status.since = state, at
        for name, value in changes.items():
            setattr(status, name, value)


def _office_entry(book: CardBook, entry: OfficeEntry) -> None:
    status = book.cards.get(entry.card) if entry.card else None
    if entry.act in (OfficeAct.PRINTED, OfficeAct.REPRINTED):
        _move(status, CardState.PRINTED_AT_OFFICE, entry.at, serial=entry.serial, batch=None)
    elif entry.act is OfficeAct.SPOILED:
        for printed in book.cards.values():  # a card whose serial was spoiled waits again
            if printed.serial == entry.serial and printed.state is CardState.PRINTED_AT_OFFICE:
                _move(printed, CardState.WAITING, entry.at, serial=None)
    elif entry.act is OfficeAct.BATCH and entry.batch:
        book.batches[entry.batch] = entry
        for batch_card in entry.cards:
            batched = book.cards.get(batch_card.card)
            if batched is not None:
                batched.batch = entry.batch
    elif entry.act is OfficeAct.ACKNOWLEDGED and entry.batch:
        _acknowledged(book, entry.batch, entry.at, set(entry.missing), by=entry.label)
    elif entry.act is OfficeAct.RETURNED:
        _move(status, CardState.RETURNED, entry.at)


def _acknowledged(
    book: CardBook, batch: str, at: datetime, missing: set[CardRef], *, by: str
) -> None:
    made = book.batches.get(batch)
    if made is None:
        book.findings.append(
            CardFinding(
                CardFindingKind.UNKNOWN_BATCH,
                None,
                f"{by} acknowledged batch {batch}, which no office ledger the district holds made",
            )
        )
        return
    for batch_card in made.cards:
        held = book.cards.get(batch_card.card)
        if held is None or held.batch != batch:
            continue  # reprinted since, or left out of it as missing: in no batch now
        if batch_card.card in missing:
            held.batch = None  # the office finds it and puts it in the village's next batch
            book.findings.append(
                CardFinding(
                    CardFindingKind.MISSING_FROM_BATCH,
                    batch_card.card,
                    f"card {batch_card.serial} (record {batch_card.card.seq}) was missing from "
                    f"batch {batch} of {made.village} when {by} acknowledged it",
                )
            )
        elif held.state is CardState.PRINTED_AT_OFFICE:
            _move(held, CardState.HANDED, at)


def _kit_event(book: CardBook, kits: dict[CardRef, str], kit: str, event: HandoverEvent) -> None:
    """A resident's receipt, or a finger that did not match, on ``kit``."""
    by = f"kit {kit}"
    card = CardRef(*event.card) if event.card else None
    held = book.cards.get(card) if card else None
    if event.kind is HandoverKind.RECEIVED:
        _move(held, CardState.RECEIVED, event.at, how=event.how)
    elif card is not None:
        book.findings.append(
            CardFinding(
                CardFindingKind.FINGER_NOT_MATCHED,
                card,
                f"on {by}, the finger of the resident of {kits.get(card, '?')} record "
                f"{card.seq} (batch {event.batch}) did not match their own templates: the card "
                "was not handed over",
            )
        )
