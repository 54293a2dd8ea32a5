"""The office desk: the cards the office must print, printed, batched per village, handed
to the officials, sent to the kits for the residents, and taken back when unclaimed.

Why at the office and with the authority's private keys: the cards the office prints
(replacements, walk-ins, early voters, residents of other regencies, cards a kit could not
print) need what only the body of the record holds: the resident's data, photo and
signature, and for the handover their finger templates.  The desk opens those bodies on the
authority's offline machine and nowhere else.  It reads the district store only once its
audit passes (`provisioning.district.cards.audited`), and what it does goes into the
office's own signed ledger (`provisioning.office_log.OfficeDB`), which `jemput-prov sync
--office` carries to the district.

A print is written into the ledger before the card is printed: a blank card is used the
moment the printer takes it, so a print that fails is then recorded as that serial spoiled
(with the printer's reason), and a desk that stops mid-print leaves the serial accounted
for (spoil it with `office spoil` if no card came out).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from PIL import Image
from sqlalchemy import Connection

from capture.card import render_card_front
from hal.contracts import CardPrinter
from hal.exc import DeviceError
from provisioning.district import audited
from provisioning.district.after_day import AfterDay, DayCard, after_day, record_bytes
from provisioning.district.audit import StoreAudit, audit_store
from provisioning.district.blank_stock import Stock, where_held
from provisioning.district.card_states import CardState, CardStatus
from provisioning.district.store import DistrictStore
from provisioning.office_log import BatchCard, CardRef, OfficeAct, OfficeDB, OfficeEntry, act
from storage.blanks import parse_serial, serial_text
from storage.handover import HandoverBatch, HandoverCard
from storage.keys import Authority
from storage.model import Enrolment, slip_reference
from storage.record import open_record

#: Seconds one card may take to print.
PRINT_TIMEOUT_SECONDS = 90.0
#: Templates per resident sent to a kit for the handover: their two best fingers, enough
#: for a 1:1 match and small enough that a village's batch fits the port's frames.
HANDOVER_TEMPLATES = 2
#: Days a card waits with the village official before it comes back (DESIGN: "a set
#: number of days"; the office may give another).
RETURN_AFTER_DAYS = 30


class DeskError(ValueError):
    """What the desk cannot do as asked: named, with what to do instead."""


@dataclass(frozen=True)
class OfficeCard:
    """A card the desk handles: where it stands, and the resident's record opened."""

    day: DayCard
    enrolment: Enrolment

    @property
    def card(self) -> CardRef:
        return self.day.card

    @property
    def slip(self) -> str:
        return slip_reference(self.day.kit_id, self.day.card.seq)


@dataclass
class Survey:
    """The audited store as the desk sees it, its own ledger counted, in one snapshot
    (``connection``); records are opened with ``authority``'s private key."""

    audit: StoreAudit
    day: AfterDay
    connection: Connection
    authority: Authority

    def __post_init__(self) -> None:
        self.by_slip = {slip_reference(c.kit_id, c.card.seq): c for c in self.day.cards}
        self.by_ref = {c.card: c for c in self.day.cards}

    def status(self, card: CardRef) -> CardStatus:
        return self.day.book.cards[card]

    def in_state(self, *states: CardState) -> list[DayCard]:
        return [c for c in self.day.cards if self.status(c.card).state in states]

    def opened(self, cards: Sequence[DayCard]) -> list[OfficeCard]:
        """``cards`` with their records opened (bytes the audit verified in this snapshot)."""
        data = record_bytes(self.connection, cards)
        key = self.authority
        return [
            OfficeCard(card, open_record(data[card.card], key, key.references)) for card in cards
        ]


class OfficeDesk:
    """One office's desk: the district store to read, its ledger file, the authority."""

    def __init__(
        self,
        store: DistrictStore,
        office: OfficeDB,
        authority: Authority,
        *,
        where: str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.office, self.authority, self.where = store, office, authority, where
        self._now = now

    # -- what the desk sees ----------------------------------------------------------------

    @contextmanager
    def survey(self) -> Iterator[Survey]:
        """The store audited (StoreRefused if it fails), every card placed, in one snapshot."""
        key = self.authority
        with self.store.snapshot() as connection, audited.tables(connection) as sink:
            audit = audit_store(
                connection, key.public, key.references, where=self.where, sink=sink
            ).require_ok()
            yield Survey(audit, after_day(connection, audit, office=self.office), connection, key)

    def chosen(self, survey: Survey, slips: Sequence[str], *states: CardState) -> list[DayCard]:
        """The cards named by slip reference (all in ``states`` when none is named);
        DeskError for a slip no card has, or a card in another state."""
        if not slips:
            return survey.in_state(*states)
        cards = []
        for slip in slips:
            card = survey.by_slip.get(slip)
            if card is None:
                raise DeskError(
                    f"tidak ada rekaman dengan nomor slip {slip}: periksa slipnya / "
                    f"no live record has slip reference {slip}: check the slip"
                )
            state = survey.status(card.card).state
            if state not in states:
                raise DeskError(
                    f"kartu {slip} berstatus {state}, bukan {' atau '.join(states)} / "
                    f"card {slip} is {state}, not {' or '.join(states)}"
                )
            cards.append(card)
        return cards

    # -- printing --------------------------------------------------------------------------

    def next_serials(self, survey: Survey) -> Iterator[str]:
        """The office's blank cards in serial order (the district handed them to this
        office), those its ledger used left out."""
        stock = Stock.of(survey.audit.moves)
        used = {e.serial for e in self.office.entries(self.authority.public) if e.serial}
        held = sorted(key for key, holder in stock.held.items() if holder == self.office.office)
        for batch, number in held:
            serial = serial_text(batch, number)
            if serial not in used:
                yield serial

    def print_cards(
        self,
        survey: Survey,
        cards: Sequence[OfficeCard],
        printer: CardPrinter,
        *,
        reason: str | None = None,
    ) -> list[OfficeEntry]:
        """Print ``cards`` (a reprint of each when ``reason`` says why); each print is in the
        ledger before the card is.  Stops at the first card the printer fails, whose serial
        is then recorded spoiled with the printer's reason; DeskError says so."""
        serials = self.next_serials(survey)
        done = []
        for card in cards:
            serial = next(serials, None)
            if serial is None:
                raise DeskError(
                    f"kantor tidak memegang blangko untuk {card.slip}: minta rentang nomor seri "
                    "ke kabupaten / the office holds no blank card: ask the district for a "
                    f"range (jemput-prov district cards assign --to {self.office.office})"
                )
            status = survey.day.book.cards[card.card]
            kind, why = (
                (OfficeAct.REPRINTED, reason)
                if reason
                else (OfficeAct.PRINTED, status.reason.value if status.reason else None)
            )
            (entry,) = self._append(act(kind, card=card.card, serial=serial, reason=why))
            try:
                printer.print_card(self._front(card), timeout=PRINT_TIMEOUT_SECONDS)
            except DeviceError as exc:
                self._append(
                    act(OfficeAct.SPOILED, serial=serial, reason=f"pencetakan gagal: {exc}")
                )
                raise DeskError(
                    f"kartu {card.slip} tidak tercetak ({exc}); nomor seri {serial} dicatat "
                    "rusak: perbaiki printer lalu cetak lagi / the card was not printed; its "
                    "serial is recorded spoiled: fix the printer and print again"
                ) from exc
            done.append(entry)
        return done

    def _append(self, *acts: OfficeEntry) -> list[OfficeEntry]:
        """``acts`` signed into the office's ledger, at the desk's time."""
        return self.office.append(self.authority, [replace(a, at=self._now()) for a in acts])

    def _front(self, card: OfficeCard) -> Image.Image:
        resident = card.enrolment.resident
        return render_card_front(
            resident,
            photo_jpeg=card.enrolment.face_jpeg,
            signature_png=card.enrolment.signature_png,
            issued_place=resident.regency.removeprefix("KABUPATEN ") or "-",
            issued_on=self._now().date(),
            kind=card.enrolment.kind,
        )

    def spoil(self, survey: Survey, serial: str, reason: str) -> OfficeEntry:
        """``serial`` spoiled (``reason``), once `spoilable` finds it this office's to spoil."""
        spoilable(survey, self.office, self.authority, serial)
        (entry,) = self._append(act(OfficeAct.SPOILED, serial=serial, reason=reason))
        return entry

    # -- handover --------------------------------------------------------------------------

    def batch(self, survey: Survey, village: str) -> OfficeEntry:
        """One batch of every card printed at the office for ``village`` and in no batch."""
        cards = [
            card
            for card in survey.opened(survey.in_state(CardState.PRINTED_AT_OFFICE))
            if card.enrolment.resident.village == village and survey.status(card.card).batch is None
        ]
        if not cards:
            raise DeskError(
                f"tidak ada kartu cetakan kantor untuk {village} yang menunggu batch: cetak "
                "dulu / no card printed at the office for this village waits for a batch: "
                "print them first (jemput-prov office print)"
            )
        n = len(self.office.rows()) + 1
        name = f"BA-{self.office.regency}-{_slug(village)}-{n}"
        (entry,) = self._append(
            act(
                OfficeAct.BATCH,
                batch=name,
                village=village,
                kecamatan=cards[0].enrolment.resident.district,
                cards=tuple(
                    BatchCard(card.card, survey.status(card.card).serial or "") for card in cards
                ),
            )
        )
        return entry

    def handover_batch(self, survey: Survey, name: str) -> HandoverBatch:
        """Batch ``name`` as a kit needs it: each card's resident, serial and two best
        templates (none where the fingers were excepted: the resident signs instead); the
        official who took it at the office, and without the cards missing from it then."""
        made = made_batch(self.office, self.authority, name)
        taken = next(
            (
                e
                for e in self.office.entries(self.authority.public)
                if e.act is OfficeAct.ACKNOWLEDGED and e.batch == name
            ),
            None,
        )
        missing = set(taken.missing) if taken else set()
        present = [entry for entry in made.cards if entry.card not in missing]
        opened = {c.card: c for c in survey.opened([survey.by_ref[e.card] for e in present])}
        cards = []
        for entry in present:
            card = opened[entry.card]
            fingers = sorted(
                (f for f in card.enrolment.fingers if f.template),
                key=lambda f: -(f.quality or 0),
            )[:HANDOVER_TEMPLATES]
            cards.append(
                HandoverCard(
                    entry.card.chain,
                    entry.card.seq,
                    card.day.kit_id,
                    card.enrolment.resident.name,
                    entry.serial,
                    tuple((int(f.position), f.template or b"") for f in fingers),
                )
            )
        return HandoverBatch(
            name,
            self.office.office,
            made.village or "",
            made.kecamatan or "",
            tuple(cards),
            acknowledged=taken.official if taken else None,
        )

    def return_unclaimed(
        self, survey: Survey, *, days: int = RETURN_AFTER_DAYS
    ) -> list[OfficeEntry]:
        """Every card handed to an official more than ``days`` ago and not received: back."""
        due = self._now() - timedelta(days=days)
        late = [c for c in survey.in_state(CardState.HANDED) if survey.status(c.card).since <= due]
        return self._append(
            *(
                act(
                    OfficeAct.RETURNED,
                    card=card.card,
                    serial=survey.status(card.card).serial,
                    batch=survey.status(card.card).batch,
                    reason=f"tidak diambil dalam {days} hari",
                )
                for card in late
            )
        )


def _slug(text: str) -> str:
    """A place name as a batch name may carry it: upper-case letters, digits, hyphens."""
    return re.sub(r"[^A-Z0-9]+", "-", text.upper()).strip("-")[:24] or "DESA"


def spoilable(survey: Survey, office: OfficeDB, authority: Authority, serial: str) -> None:
    """DeskError unless ``serial`` is a card of this office not yet spoiled: a blank the
    district handed it (the audited stock says so), or one its own ledger printed.

    Why: a spoil uses a serial up in the figures the ministry reads; a typo, or another
    holder's serial, would count a card the office never had, and hide that holder's."""
    key = parse_serial(serial)
    if key is None:
        raise DeskError(
            f"{serial} bukan nomor seri blangko (mis. B3505-25A-0000231) / "
            "is not a blank card's serial: copy it from the card"
        )
    entries = [e for e in office.entries(authority.public) if e.serial == serial]
    if any(e.act is OfficeAct.SPOILED for e in entries):
        raise DeskError(f"nomor seri {serial} sudah tercatat rusak / is already recorded spoiled")
    holder = Stock.of(survey.audit.moves).held.get(key)
    if not entries and holder != office.office:
        raise DeskError(
            f"nomor seri {serial} bukan milik kantor {office.office} / is not this office's "
            f"({where_held(holder)}): only its holder records it spoiled"
        )


def made_batch(office: OfficeDB, authority: Authority, name: str) -> OfficeEntry:
    """The office's BATCH entry ``name``; DeskError naming the batches there are."""
    batches = [e for e in office.entries(authority.public) if e.act is OfficeAct.BATCH]
    found = next((e for e in batches if e.batch == name), None)
    if found is None:
        known = ", ".join(str(e.batch) for e in batches) or "belum ada / none yet"
        raise DeskError(
            f"kantor tidak membuat batch {name} / the office made no batch {name} "
            f"(batch-nya / its batches: {known})"
        )
    return found


def acknowledge(
    office: OfficeDB,
    authority: Authority,
    name: str,
    official: str,
    missing: Sequence[str],
    *,
    at: datetime,
) -> OfficeEntry:
    """The village official took batch ``name`` at the office (their PIN checked by the
    caller), naming by serial each card missing from it: those stay printed at the office."""
    made = made_batch(office, authority, name)
    cards = {entry.serial: entry.card for entry in made.cards}
    stray = [serial for serial in missing if serial not in cards]
    if stray:
        raise DeskError(
            f"nomor seri {stray[0]} tidak ada dalam batch {name}: sebut kartu yang hilang "
            "dengan nomor seri di berita acara / is not in the batch: name a missing card by "
            "the serial the handover document lists"
        )
    (entry,) = office.append(
        authority,
        [
            act(
                OfficeAct.ACKNOWLEDGED,
                batch=name,
                official=official,
                how="pin",
                missing=tuple(cards[serial] for serial in missing),
                at=at,
            )
        ],
    )
    return entry
