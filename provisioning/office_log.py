"""The office desk's ledger: every print, spoil, reprint, handover batch, acknowledgement
at the office and return, one signed entry each, hash-linked, in the office's own file.

Why signed and linked: the office prints cards from blank cards the ministry counts, and
hands them to village officials; what it says it did is a figure at the district.  Each
entry is signed with the authority's key (the office desk is the authority's offline
machine: it holds the private keys that open the bodies), numbered from 1 and naming the
SHA-256 of the entry before, so an entry edited, removed or reordered in the office's file
or in the district store no longer verifies.  `jemput-prov sync --office FILE` carries the
entries into the district store (`provisioning.district.office_sync`), whose audit derives
every column again from them.

A card is named by its record: the digest of the kit certificate of its chain and the
record's seq (a reflashed kit numbers from 1 again, so its kit id alone is not enough).

The file (SQLite, 0600) holds the signed entries and nothing else but the office's name:
everything an entry says is in its signed bytes.  No name, NIK or finger is in it.
"""

from __future__ import annotations

import enum
import hashlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from provisioning.signed_statements import BadStatement, Shape, open_statement, sign
from storage.blanks import parse_serial
from storage.errors import RecordError
from storage.keys import Authority, AuthorityPublic

SHAPE = Shape(
    content_type="application/jemput-office-ledger+cbor",
    what="office ledger entry",
    scalars={
        "office": "text",
        "regency": "text",
        "n": "count",
        "prev": "digest",
        "at": "count",
        "act": "text",
        "chain": "digest?",
        "seq": "count?",
        "serial": "text?",
        "reason": "text?",
        "batch": "text?",
        "village": "text?",
        "kecamatan": "text?",
        "official": "text?",
        "how": "text?",
    },
    rows={"cards": ("digest", "count", "text"), "missing": ("digest", "count")},
)
#: An office's name: upper-case letters, digits and hyphens, e.g. DUKCAPIL-3505.
OFFICE_MAX = 64


class OfficeAct(enum.StrEnum):
    """What an entry records."""

    #: A card printed at the office for a record (``reason``: why the office printed it).
    PRINTED = "printed"
    #: A blank card spoiled (``reason``), at printing or afterwards: its serial is used up.
    SPOILED = "spoiled"
    #: A card printed again for a record, on a new serial (``reason``: why).
    REPRINTED = "reprinted"
    #: The cards of one village put in a batch for its official (``cards``, ``village``).
    BATCH = "batch"
    #: The village official acknowledged a batch at the office (``official``, ``how``),
    #: naming the cards missing from it (``missing``).
    ACKNOWLEDGED = "acknowledged"
    #: A card not taken within the set days, back at the office.
    RETURNED = "returned"


class OfficeLogError(RecordError):
    """An office file whose entries do not verify as one signed, linked ledger."""


@dataclass(frozen=True, order=True)
class CardRef:
    """A card, by its record: the chain's certificate digest and the record's seq."""

    chain: bytes
    seq: int


@dataclass(frozen=True)
class BatchCard:
    card: CardRef
    serial: str


@dataclass(frozen=True)
class OfficeEntry:
    """One signed entry, as read back from its bytes."""

    office: str
    regency: str
    n: int
    prev: bytes
    at: datetime
    act: OfficeAct
    card: CardRef | None = None
    serial: str | None = None
    reason: str | None = None
    batch: str | None = None
    village: str | None = None
    kecamatan: str | None = None
    official: str | None = None
    how: str | None = None
    cards: tuple[BatchCard, ...] = ()
    missing: tuple[CardRef, ...] = ()
    signed: bytes = b""

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.signed).digest()

    @property
    def label(self) -> str:
        """How messages name the entry: ``office DUKCAPIL-3505 entry 4``."""
        return f"office {self.office} entry {self.n}"

    def values(self) -> dict[str, Any]:
        """The district's ``office_entries`` columns, all from the signed bytes."""
        return {
            "office": self.office,
            "n": self.n,
            "digest": self.digest,
            "signed": self.signed,
            "act": self.act.value,
            "chain": self.card.chain if self.card else None,
            "seq": self.card.seq if self.card else None,
            "serial": self.serial,
            "batch": self.batch,
            "at": self.at,
        }


def genesis(office: str) -> bytes:
    """The ``prev`` of an office's first entry: its own, so no other chain's start fits."""
    return hashlib.sha256(b"jemput-office-ledger\0" + office.encode()).digest()


def check_office(office: str) -> str:
    if not 0 < len(office) <= OFFICE_MAX or not all(
        c.isascii() and (c.isupper() or c.isdigit() or c == "-") for c in office
    ):
        raise ValueError(
            f"office {office!r:.70} is not 1-{OFFICE_MAX} upper-case letters, digits or "
            "hyphens, e.g. DUKCAPIL-3505"
        )
    return office


def sign_entry(authority: Authority, entry: OfficeEntry) -> OfficeEntry:
    """``entry`` signed with the authority's key: the same entry, with its bytes."""
    if entry.serial is not None and parse_serial(entry.serial) is None:
        raise ValueError(f"{entry.serial!r} is not a blank card's serial")
    body = {
        "office": check_office(entry.office),
        "regency": entry.regency,
        "n": entry.n,
        "prev": entry.prev,
        "at": int(entry.at.timestamp()),
        "act": entry.act.value,
        "chain": entry.card.chain if entry.card else None,
        "seq": entry.card.seq if entry.card else None,
        "serial": entry.serial,
        "reason": entry.reason,
        "batch": entry.batch,
        "village": entry.village,
        "kecamatan": entry.kecamatan,
        "official": entry.official,
        "how": entry.how,
        "cards": [[c.card.chain, c.card.seq, c.serial] for c in entry.cards],
        "missing": [[c.chain, c.seq] for c in entry.missing],
    }
    return read_entry(sign(authority, SHAPE, body), authority.public)


def read_entry(data: Any, authority: AuthorityPublic) -> OfficeEntry:
    """An entry signed by ``authority``; BadStatement saying what is wrong otherwise."""
    body = open_statement(data, authority, SHAPE)
    try:
        act = OfficeAct(body["act"])
    except ValueError as exc:
        raise BadStatement(f"the office ledger entry records no act we know: {exc}") from exc
    if (body["chain"] is None) != (body["seq"] is None):
        raise BadStatement("the office ledger entry names half a card")
    return OfficeEntry(
        office=body["office"],
        regency=body["regency"],
        n=body["n"],
        prev=body["prev"],
        at=datetime.fromtimestamp(body["at"], UTC),
        act=act,
        card=None if body["chain"] is None else CardRef(body["chain"], body["seq"]),
        serial=body["serial"],
        reason=body["reason"],
        batch=body["batch"],
        village=body["village"],
        kecamatan=body["kecamatan"],
        official=body["official"],
        how=body["how"],
        cards=tuple(BatchCard(CardRef(chain, seq), serial) for chain, seq, serial in body["cards"]),
        missing=tuple(CardRef(chain, seq) for chain, seq in body["missing"]),
        signed=data,
    )


def follow(
    data: Any, n: int, before: OfficeEntry | None, authority: AuthorityPublic
) -> OfficeEntry:
    """Entry ``n`` of a ledger whose entry before is ``before`` (None: it is the first):
    signed by ``authority``, numbered ``n``, of the same office, linked to ``before``;
    OfficeLogError naming what is wrong."""
    where = f"entry {n}"
    try:
        entry = read_entry(data, authority)
    except BadStatement as exc:
        raise OfficeLogError(f"{where}: {exc}") from exc
    expected = 1 if before is None else before.n + 1
    if entry.n != n or n != expected:
        raise OfficeLogError(f"{where}: holds entry {entry.n}, not {expected}")
    if before is not None and (entry.office, entry.regency) != (before.office, before.regency):
        raise OfficeLogError(f"{where}: of office {entry.office}, not {before.office}")
    if entry.prev != (genesis(entry.office) if before is None else before.digest):
        raise OfficeLogError(f"{where}: does not link to the entry before it")
    return entry


def read_ledger(rows: Sequence[tuple[int, bytes]], authority: AuthorityPublic) -> list[OfficeEntry]:
    """Entries (n, signed bytes) as one ledger (`follow`, from entry 1)."""
    entries: list[OfficeEntry] = []
    for n, data in rows:
        entries.append(follow(data, n, entries[-1] if entries else None, authority))
    return entries


class OfficeDB:
    """The office desk's file: its name and regency, and its signed entries in order."""

    def __init__(self, path: Path, db: sqlite3.Connection, office: str, regency: str) -> None:
        self.path, self._db, self.office, self.regency = path, db, office, regency

    @classmethod
    def create(cls, path: Path, *, office: str, regency: str) -> OfficeDB:
        """A new office file (0600); FileExistsError if ``path`` exists."""
        check_office(office)
        if len(regency) != 4 or not regency.isdigit():
            raise ValueError(f"regency {regency!r} is not a four-digit regency code")
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        db = sqlite3.connect(path, isolation_level=None)
        db.executescript(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
            "CREATE TABLE office (office TEXT NOT NULL, regency TEXT NOT NULL);"
            "CREATE TABLE entries (n INTEGER PRIMARY KEY, signed BLOB NOT NULL);"
        )
        db.execute("INSERT INTO office VALUES (?, ?)", (office, regency))
        return cls(path, db, office, regency)

    @classmethod
    def open(cls, path: Path) -> OfficeDB:
        """The office file at ``path``; FileNotFoundError if there is none."""
        if not path.is_file():
            raise FileNotFoundError(
                f"office file {path} does not exist: make it with jemput-prov office init"
            )
        db = sqlite3.connect(path, isolation_level=None)
        try:
            office, regency = db.execute("SELECT office, regency FROM office").fetchone()
        except (sqlite3.DatabaseError, TypeError) as exc:
            db.close()
            raise OfficeLogError(f"{path} is no office file: {exc}") from exc
        return cls(path, db, office, regency)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> OfficeDB:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def rows(self) -> list[tuple[int, bytes]]:
        return list(self._db.execute("SELECT n, signed FROM entries ORDER BY n"))

    def entries(self, authority: AuthorityPublic) -> list[OfficeEntry]:
        """Every entry, verified as one ledger of this office; OfficeLogError if not."""
        entries = read_ledger(self.rows(), authority)
        if entries and (entries[0].office, entries[0].regency) != (self.office, self.regency):
            raise OfficeLogError(f"{self.path}: its entries are of office {entries[0].office}")
        return entries

    def append(self, authority: Authority, acts: Sequence[OfficeEntry]) -> list[OfficeEntry]:
        """Sign ``acts`` (their office, n, prev and time are set here) as the next entries,
        in one transaction, after the ledger held verifies."""
        with self._transaction():
            held = self.entries(authority.public)
            prev = held[-1].digest if held else genesis(self.office)
            signed = []
            for offset, act in enumerate(acts, start=len(held) + 1):
                entry = sign_entry(
                    authority,
                    replace(act, office=self.office, regency=self.regency, n=offset, prev=prev),
                )
                self._db.execute("INSERT INTO entries VALUES (?, ?)", (entry.n, entry.signed))
                signed.append(entry)
                prev = entry.digest
        return signed

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def act(kind: OfficeAct, **fields: Any) -> OfficeEntry:
    """An entry to append: what it records; `OfficeDB.append` numbers, links and signs it."""
    return OfficeEntry(
        office="", regency="", n=0, prev=b"", at=fields.pop("at", datetime.now(UTC)), act=kind,
        **fields,
    )  # fmt: skip
