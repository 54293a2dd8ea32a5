"""Blank cards by serial at the district, the office desk's ledger, and card states: each
statement and entry verified, every serial followed, every finding named with what to do.

On a SQLite store (the same code as PostgreSQL's): the signed facts are the point here,
not the server; the field day's scenario (`test_after_the_day.py`) runs on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from provisioning.district.arrival import Ledger
from provisioning.district.audit import audit_store
from provisioning.district.blank_stock import BadMove, MoveKind, sign_move
from provisioning.district.card_states import (
    CardFindingKind,
    CardRecord,
    CardState,
    card_book,
)
from provisioning.district.cards import CardDesk, audited, reconciliation
from provisioning.district.office_sync import sync_office
from provisioning.district.reconcile import FindingKind, SerialState, reconcile
from provisioning.district.store import DistrictStore
from provisioning.office_log import (
    BatchCard,
    CardRef,
    OfficeAct,
    OfficeDB,
    OfficeEntry,
    OfficeLogError,
    act,
    genesis,
    sign_entry,
)
from provisioning.office_report import OfficeReason
from storage.blanks import SerialRange
from storage.handover import HandoverEvent, HandoverKind, Proof
from storage.keys import Authority

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
OFFICE = "DUKCAPIL-3505"
CHAIN = hashlib.sha256(b"kit-1").digest()
BATCH = "BA-3505-SAWENTAR-4"


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return Authority.init(tmp_path_factory.mktemp("authority"), name="Dukcapil Blitar")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DistrictStore]:
    url = f"sqlite:///{tmp_path / 'district.db'}"
    opened = DistrictStore.open(url, create=True)
    yield opened
    opened.close()


def desk(store: DistrictStore, authority: Authority) -> CardDesk:
    return CardDesk(store, authority, where="district.db")


def office_file(tmp_path: Path, authority: Authority, *acts: OfficeEntry) -> OfficeDB:
    office = OfficeDB.create(tmp_path / "office.db", office=OFFICE, regency="3505")
    office.append(authority, list(acts))
    return office


Cards = list[tuple[int, str]]


def ledger(
    *, printed: Cards = (), spoiled: Cards = (), begun: Cards = (), ranges: list[SerialRange]
) -> Ledger:
    """A kit's verified ledger, as the audit hands it to the reconciliation."""
    return Ledger(
        signed=b"signed", at=NOW, head_seq=0, head=None, loaded=0, printed=len(printed),
        spoiled=len(spoiled), unresolved=len(begun), printed_cards=tuple(printed),
        ranges=tuple(ranges), spoiled_cards=tuple(spoiled), begun_cards=tuple(begun),
    )  # fmt: skip


def signed(authority: Authority, n: int, entry: OfficeEntry) -> OfficeEntry:
    """``entry`` signed as the office's ledger entry ``n`` (their links are not the point)."""
    return sign_entry(
        authority, replace(entry, office=OFFICE, regency="3505", n=n, prev=genesis(OFFICE))
    )


# -- the district's statements -----------------------------------------------------------------


def test_a_range_is_handed_out_once_and_only_unused_cards_come_back(
    store: DistrictStore, authority: Authority
) -> None:
    cards = desk(store, authority)
    cards.register(SerialRange("B1", 1, 100), regency="3505")
    with pytest.raises(BadMove, match="B1-0000001 is registered already"):
        cards.register(SerialRange("B1", 1, 1), regency="3505")
    first = cards.assign("KIT-3505-01", regency="3505", count=20).move
    assert first.range == SerialRange("B1", 1, 20)
    with pytest.raises(BadMove, match="serial B1-0000015 is held by KIT-3505-01"):
        cards.assign("KIT-3505-02", regency="3505", serials=SerialRange("B1", 15, 25))
    with pytest.raises(BadMove, match="registered for regency 3505"):
        cards.assign("KIT-1671-01", regency="1671", serials=SerialRange("B1", 30, 31))
    with pytest.raises(BadMove, match="no 200 consecutive blank cards"):
        cards.assign(OFFICE, regency="3505", count=200)
    cards.take_back("KIT-3505-01", SerialRange("B1", 11, 20), regency="3505")
    with pytest.raises(BadMove, match="B1-0000011 is at the district's warehouse"):
        cards.take_back("KIT-3505-01", SerialRange("B1", 11, 11), regency="3505")
    found = reconciliation(audited(store, authority.public, authority.references, where="db"))
    assert found.accounted and not found.findings
    assert (found.batches[0].registered, found.batches[0].warehouse) == (100, 80)
    assert found.batches[0].returned == 10
    (kit,) = found.holdings
    assert (kit.assigned, kit.held, kit.returned) == (20, 10, 10)
    assert found.states["B1-0000005"] is SerialState.HELD
    assert found.states["B1-0000015"] is SerialState.RETURNED


def test_every_serial_has_one_state_and_a_serial_printed_twice_names_both(
    authority: Authority,
) -> None:
    moves = [
        sign_move(authority, MoveKind.REGISTERED, SerialRange("B1", 1, 50), regency="3505", at=NOW),
        sign_move(
            authority, MoveKind.ASSIGNED, SerialRange("B1", 1, 10), regency="3505",
            holder="KIT-3505-01", at=NOW,
        ),
        sign_move(
            authority, MoveKind.ASSIGNED, SerialRange("B1", 11, 20), regency="3505", holder=OFFICE,
            at=NOW,
        ),
    ]  # fmt: skip
    kit = ledger(
        printed=[(1, "B1-0000001"), (2, "B1-0000002")],
        spoiled=[(3, "B1-0000003")],
        begun=[(4, "B1-0000004")],
        ranges=[SerialRange("B1", 1, 10)],
    )
    entries = [
        act(OfficeAct.PRINTED, card=CardRef(CHAIN, 9), serial="B1-0000011"),
        # a blank moved from the kit's box to the office without the district knowing
        act(OfficeAct.PRINTED, card=CardRef(CHAIN, 8), serial="B1-0000002"),
    ]
    entries = [signed(authority, n, entry) for n, entry in enumerate(entries, start=1)]
    found = reconcile(moves, [("KIT-3505-01", "3505", kit)], entries)
    states = found.states
    assert len(states) == 50
    assert [states[f"B1-{n:07d}"] for n in (1, 3, 4, 5, 11, 12, 30)] == [
        SerialState.PRINTED,
        SerialState.SPOILED,
        SerialState.UNKNOWN,
        SerialState.HELD,
        SerialState.PRINTED,
        SerialState.HELD,
        SerialState.WAREHOUSE,
    ]
    twice = [f for f in found.findings if f.kind is FindingKind.SERIAL_TWICE]
    assert [f.serial for f in twice] == ["B1-0000002"]
    assert "kit KIT-3505-01 (record 2) (printed)" in twice[0].what
    assert f"office {OFFICE} entry 2 (printed)" in twice[0].what
    assert "jemput-prov office spoil" in twice[0].todo
    outside = [f for f in found.findings if f.kind is FindingKind.OUTSIDE_RANGE]
    assert [f.what for f in outside] == [
        f"office {OFFICE} entry 2 printed serial B1-0000002, which is held by KIT-3505-01 "
        "(B1:1-10 handed to KIT-3505-01 on 2025-06-01)"
    ]
    assert "jemput-prov district cards assign" in outside[0].todo


def test_a_kit_holding_a_range_never_handed_to_it_is_named(authority: Authority) -> None:
    moves = [sign_move(authority, MoveKind.REGISTERED, SerialRange("B1", 1, 50), regency="3505")]
    kit = ledger(printed=[(1, "KIT-3505-09-C00001")], ranges=[SerialRange("B1", 1, 5)])
    found = reconcile(moves, [("KIT-3505-09", "3505", kit)], [])
    kinds = {f.kind: f.what for f in found.findings}
    assert kinds[FindingKind.RANGE_NOT_HANDED] == (
        "kit KIT-3505-09 holds range B1:1-5, but the district never handed it serial "
        "B1-0000001, which is at the district's warehouse"
    )
    assert "in no registered batch" in kinds[FindingKind.OUTSIDE_RANGE]  # an invented serial


# -- the office desk's ledger -----------------------------------------------------------------


def test_the_office_ledger_is_signed_linked_and_private(
    tmp_path: Path, authority: Authority
) -> None:
    office = office_file(
        tmp_path,
        authority,
        act(OfficeAct.PRINTED, card=CardRef(CHAIN, 1), serial="B1-0000011", at=NOW),
        act(OfficeAct.SPOILED, serial="B1-0000012", reason="pita habis", at=NOW),
    )
    assert oct((tmp_path / "office.db").stat().st_mode & 0o777) == "0o600"
    entries = office.entries(authority.public)
    assert [(e.n, e.act, e.serial) for e in entries] == [
        (1, OfficeAct.PRINTED, "B1-0000011"),
        (2, OfficeAct.SPOILED, "B1-0000012"),
    ]
    assert entries[1].prev == entries[0].digest
    office.close()
    raw = sqlite3.connect(tmp_path / "office.db")
    raw.execute("DELETE FROM entries WHERE n = 1")
    raw.commit()
    with pytest.raises(OfficeLogError, match="entry 2: holds entry 2, not 1"):
        OfficeDB.open(tmp_path / "office.db").entries(authority.public)
    other = Authority.init(tmp_path / "other", name="Other")
    raw.execute(
        "INSERT INTO entries VALUES (1, ?)",
        (signed(other, 1, act(OfficeAct.PRINTED, serial="B1-0000011", at=NOW)).signed,),
    )
    raw.commit()
    with pytest.raises(OfficeLogError, match="entry 1: the office ledger entry is not signed"):
        OfficeDB.open(tmp_path / "office.db").entries(authority.public)


def test_the_district_audits_the_blank_statements_and_the_office_ledgers(
    tmp_path: Path, store: DistrictStore, authority: Authority
) -> None:
    desk(store, authority).register(SerialRange("B1", 1, 100), regency="3505")
    office = office_file(
        tmp_path,
        authority,
        act(OfficeAct.PRINTED, card=CardRef(CHAIN, 1), serial="B1-0000011", at=NOW),
        act(OfficeAct.PRINTED, card=CardRef(CHAIN, 2), serial="B1-0000012", at=NOW),
    )
    assert sync_office(office, store, authority, source="office").new == 2

    def problems() -> list[str]:
        with store.snapshot() as c:
            found = audit_store(c, authority.public, authority.references, where="db")
        return [f"{where}: {type(exc).__name__}: {exc}" for where, exc in found.problems]

    assert problems() == []
    edits = {
        "UPDATE blank_moves SET last = 5000": "ColumnMismatch: column last holds 5000",
        "UPDATE office_entries SET serial = 'B1-0000099' WHERE n = 2": "column serial holds",
        "UPDATE office_entries SET act = 'spoiled' WHERE n = 1": "column act holds 'spoiled'",
        "DELETE FROM office_entries WHERE n = 2": "MissingRow: sync statement 2 names entry 2",
        "DELETE FROM blank_moves": "MissingRow: sync statement 1 added this blank-card",
        "DELETE FROM office_entries WHERE n = 1": "holds entry 2, not 1",
    }
    for edit, said in edits.items():
        with store.engine.begin() as c:
            saved = {
                t: c.execute(text(f"SELECT * FROM {t}")).all()
                for t in ("blank_moves", "office_entries")
            }
            c.execute(text(edit))
        assert any(said in problem for problem in problems()), (edit, problems())
        with store.engine.begin() as c:  # put the store back for the next edit
            for table, rows in saved.items():
                c.execute(text(f"DELETE FROM {table}"))
                for row in rows:
                    names = ", ".join(row._fields)
                    marks = ", ".join(f":{name}" for name in row._fields)
                    c.execute(
                        text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), row._asdict()
                    )
        assert problems() == []


# -- card states -------------------------------------------------------------------------------


def test_a_card_missing_from_a_batch_and_a_finger_that_did_not_match_are_named(
    authority: Authority,
) -> None:
    one, two, three = (CardRef(CHAIN, n) for n in (1, 2, 3))
    records = [
        CardRecord(card, "KIT-3505-01", NOW, OfficeReason.PURPOSE) for card in (one, two, three)
    ]
    entries = [
        act(OfficeAct.PRINTED, card=card, serial=f"B1-000001{card.seq}", at=NOW + timedelta(days=1))
        for card in (one, two, three)
    ] + [
        act(
            OfficeAct.BATCH,
            batch=BATCH,
            village="SAWENTAR",
            cards=tuple(BatchCard(card, f"B1-000001{card.seq}") for card in (one, two, three)),
            at=NOW + timedelta(days=2),
        ),
        act(
            OfficeAct.ACKNOWLEDGED,
            batch=BATCH,
            official="KDS-001",
            missing=(three,),
            at=NOW + timedelta(days=3),
        ),
    ]
    entries = [signed(authority, n, e) for n, e in enumerate(entries, start=1)]
    later = NOW + timedelta(days=4)
    events = [
        (  # the official takes it again on a kit: the missing card stays out of the batch
            "KIT-3505-01",
            HandoverEvent(HandoverKind.ACKNOWLEDGED, BATCH, later, by="KDS-001", how=Proof.PIN),
        ),
        (
            "KIT-3505-01",
            HandoverEvent(HandoverKind.RECEIVED, BATCH, later, CHAIN, 1, how=Proof.FINGER),
        ),
        ("KIT-3505-01", HandoverEvent(HandoverKind.NOT_MATCHED, BATCH, later, CHAIN, 2)),
    ]
    book = card_book(records, entries, events)
    assert [book.cards[c].state for c in (one, two, three)] == [
        CardState.RECEIVED,
        CardState.HANDED,
        CardState.PRINTED_AT_OFFICE,
    ]
    assert book.cards[three].batch is None  # the village's next batch takes it
    found = {f.kind: f for f in book.findings}
    assert len(book.findings) == len(found) == 2
    missing = found[CardFindingKind.MISSING_FROM_BATCH]
    assert missing.what == (
        "card B1-0000013 (record 3) was missing from batch BA-3505-SAWENTAR-4 of SAWENTAR when "
        f"office {OFFICE} entry 5 acknowledged it"
    )
    assert "jemput-prov office reprint" in missing.todo
    mismatch = found[CardFindingKind.FINGER_NOT_MATCHED]
    assert "did not match their own templates" in mismatch.what
    assert "dengan KK" in mismatch.todo
