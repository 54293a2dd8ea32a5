"""After the day, from the audited store: each live record's card, its place and its state,
the serials reconciled, and the sealed bytes of the cards the office prints.

Why here: the district report (`provisioning.district.figures`) and the office desk
(the `office` package) ask the same question, "where is every card?", of the same audited
facts; asked once, their answers cannot disagree.  Everything comes from what the audit
derived from signed bytes in this session (`provisioning.district.audited`) and from the
kits' and offices' ledgers it verified, in the audit's snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, and_, exists, select, tuple_

from provisioning.district import audited
from provisioning.district import schema as s
from provisioning.district.audit import StoreAudit
from provisioning.district.card_states import CardBook, CardRecord, card_book
from provisioning.district.cards import reconciliation
from provisioning.district.reconcile import Reconciliation
from provisioning.office_log import CardRef, OfficeDB
from provisioning.office_report import OfficeReason

#: The village of a card whose record names no registered resident (a walk-in, or a
#: reference no worklist line has): counted under the kit's regency.
WALK_IN_VILLAGE = "(walk-in)"


@dataclass(frozen=True)
class DayCard:
    """A live record's card and where its resident lives, as the registered worklists say
    (a walk-in under its kit's regency)."""

    card: CardRef
    kit_id: str
    province: str
    regency_code: str
    regency: str
    kecamatan: str
    village: str
    sealed_at: datetime
    #: Why the office prints it: None when the kit printed it on site.
    reason: OfficeReason | None


@dataclass
class AfterDay:
    cards: list[DayCard]
    book: CardBook
    blanks: Reconciliation


def day_cards(connection: Connection, audit: StoreAudit) -> list[DayCard]:
    """Every live record's card (voided and voiding records left out), placed."""
    r, v, c = audited.records.alias("r"), audited.records.alias("v"), audited.cards.alias("c")
    res = audited.residents
    voided = exists().where(
        and_(v.c.province == r.c.province, v.c.chain == r.c.chain, v.c.voids == r.c.seq)
    )
    on_site = exists().where(
        and_(c.c.province == r.c.province, c.c.chain == r.c.chain, c.c.seq == r.c.seq)
    )
    query = (
        select(
            r.c.province,
            r.c.chain,
            r.c.seq,
            r.c.sealed_at,
            r.c.reason,
            r.c.region,
            on_site.label("on_site"),
            res.c.regency_code,
            res.c.regency,
            res.c.district,
            res.c.village,
        )
        .select_from(r.outerjoin(res, and_(res.c.ref_digest == r.c.ref_digest, ~r.c.walk_in)))
        .where(r.c.voids.is_(None), ~voided)
    )
    names = {}
    rows = connection.execute(query).all()
    for row in rows:
        if row.regency_code is not None:
            names[row.regency_code] = row.regency
    cards = []
    for row in rows:
        placed = row.village is not None
        code = row.regency_code if placed else row.region[:4]
        cards.append(
            DayCard(
                CardRef(row.chain, row.seq),
                audit.kits[(row.province, row.chain)],
                row.province,
                code,
                row.regency if placed else names.get(code, code),
                row.district if placed else "",
                row.village if placed else WALK_IN_VILLAGE,
                _utc(row.sealed_at),
                None if row.on_site else OfficeReason(row.reason),
            )
        )
    return cards


def _utc(value: datetime) -> datetime:
    """A time as UTC: SQLite hands back the naive UTC time PostgreSQL keeps with its zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def after_day(
    connection: Connection, audit: StoreAudit, *, office: OfficeDB | None = None
) -> AfterDay:
    """Where every card and every serial is, from the audit's tables and ledgers; with an
    office desk's ``office`` file, its own entries stand for those the district holds of it
    (the desk's file is ahead of the district until its next sync)."""
    entries = audit.office
    if office is not None:
        own = office.entries(audit.authority)
        entries = [entry for entry in entries if entry.office != office.office] + own
    cards = day_cards(connection, audit)
    events = [
        (row["kit_id"], event)
        for row in audit.newest_ledgers()
        for event in row["ledger"].handovers
    ]
    book = card_book(
        (CardRecord(c.card, c.kit_id, c.sealed_at, c.reason) for c in cards), entries, events
    )
    return AfterDay(cards, book, reconciliation(audit, entries))


def record_bytes(connection: Connection, cards: Iterable[DayCard]) -> dict[CardRef, bytes]:
    """The sealed bytes of ``cards``' records, as the audit verified them in this snapshot."""
    wanted = {(card.province, card.card.chain, card.card.seq): card.card for card in cards}
    found: dict[CardRef, bytes] = {}
    keys = list(wanted)
    r = s.records.c
    for first in range(0, len(keys), 500):
        chunk = keys[first : first + 500]
        query = select(r.province, r.chain, r.seq, r.data).where(
            tuple_(r.province, r.chain, r.seq).in_(chunk)
        )
        for province, chain, seq, data in connection.execute(query):
            found[wanted[(province, chain, seq)]] = data
    return found
