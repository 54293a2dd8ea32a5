"""The kit's mutable state in SQLite: journal, card ledger, audit chain, receipts, index.

WAL with synchronous=FULL, so a committed transaction survives a pulled battery.  The
schema carries a version and is migrated forward step by step; the records stay the truth
and the index is rebuilt from them whenever the two disagree.

At rest, what names or shows a person is ciphertext under the kit's data key
(`storage.datakey.StateCipher`): the journal (the enrolment in progress, its photo and
fingerprints), the audit details, and the index's worklist references.  ``secure_delete``
zeroes freed pages, and clearing the journal checkpoints the write-ahead log with TRUNCATE,
so a sealed or cancelled person's biometrics leave both state.db and state.db-wal.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage import blanks, codec
from storage.audit import AuditKind
from storage.blanks import SerialRange
from storage.datakey import StateCipher
from storage.errors import StateError, StorageFull
from storage.model import PrintAttempt

#: Each entry migrates the schema from version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE journal (id INTEGER PRIMARY KEY CHECK (id = 1), state BLOB NOT NULL,
                          saved_at TEXT NOT NULL);
    CREATE TABLE ledger (id INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL
                         CHECK (kind IN ('load', 'begin', 'printed', 'spoiled')),
                         serial TEXT, seq INTEGER, count INTEGER, reason TEXT, officer TEXT);
    CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL,
                        detail TEXT NOT NULL, prev BLOB NOT NULL, hash BLOB NOT NULL);
    CREATE TABLE records (seq INTEGER PRIMARY KEY, digest BLOB NOT NULL, size INTEGER NOT NULL,
                          sealed_at TEXT NOT NULL, officer TEXT NOT NULL, worklist_ref TEXT,
                          voids INTEGER, print_card INTEGER NOT NULL);
    CREATE TABLE receipts (id INTEGER PRIMARY KEY, at TEXT NOT NULL, up_to_seq INTEGER NOT NULL,
                           head BLOB NOT NULL, receipt BLOB NOT NULL);
    """,
    # records a collector's receipt covers may be pruned: the row (and digest) stays
    """
    ALTER TABLE records ADD COLUMN pruned_at TEXT;
    """,
    # the PIN back-off (storage.pin_guard): wrong PINs in a row, and the end of the wait
    """
    CREATE TABLE pin_guard (id INTEGER PRIMARY KEY CHECK (id = 1), failures INTEGER NOT NULL,
                            wait_until TEXT);
    """,
    # which page of the fingerprint sensor's library holds whose finger (no biometrics)
    """
    CREATE TABLE sensor_pages (page INTEGER PRIMARY KEY, seq INTEGER NOT NULL,
                               position INTEGER NOT NULL);
    """,
    # the PIN back-off sealed under the data key (storage.pin_guard): a clear row could be
    # deleted or edited on the card.  An old row is dropped: the kit then counts the
    # longest wait once, as it does for any row it cannot open
    """
    DROP TABLE pin_guard;
    CREATE TABLE pin_guard (id INTEGER PRIMARY KEY CHECK (id = 1), sealed BLOB NOT NULL);
    """,
    # the serial ranges of blank cards the district handed the kit (storage.blanks): the
    # ledger names each card it takes by the next serial of these, never one it invents
    """
    CREATE TABLE card_ranges (id INTEGER PRIMARY KEY, at TEXT NOT NULL, batch TEXT NOT NULL,
                              first INTEGER NOT NULL, last INTEGER NOT NULL,
                              officer TEXT NOT NULL);
    """,
    # the handover of printed cards (storage.handover_state): the office's batches, sealed
    # under the data key (names and templates), and what the kit recorded of them
    """
    CREATE TABLE handover_batches (batch TEXT PRIMARY KEY, at TEXT NOT NULL,
                                   sealed BLOB NOT NULL);
    CREATE TABLE handover_events (id INTEGER PRIMARY KEY, event BLOB NOT NULL);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
#: The most cards one load may bring (a technician's or a flash's).
CARDS_PER_LOAD = 100_000
GENESIS = bytes(32)


class DamagedDatabase(StateError):
    """The state database file does not read as a database: keep it aside, start afresh."""


def open_database(path: Path) -> sqlite3.Connection:
    """Open (creating or migrating) the state database.

    DamagedDatabase when the file's content is broken (truncated, overwritten); a plain
    StateError when it cannot be opened at all (a read-only folder, a newer schema), which
    is no reason to set the file aside.
    """
    try:
        _private_file(path)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except (sqlite3.Error, OSError) as exc:
        raise StateError(_cannot_open(path, exc)) from exc
    try:
        _prepare(db, path)
    except sqlite3.OperationalError as exc:
        db.close()
        raise StateError(_cannot_open(path, exc)) from exc
    except sqlite3.DatabaseError as exc:
        db.close()
        raise DamagedDatabase(f"state database {path} is damaged: {exc}") from exc
    except StateError:
        db.close()
        raise
    return db


def _private_file(path: Path) -> None:
    """Create the database file 0600 before SQLite does: its WAL and shm copy its mode."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _cannot_open(path: Path, exc: sqlite3.Error | OSError) -> str:
    return (
        f"cannot open the state database {path}: {exc}; check that the storage card is "
        "inserted and writable"
    )


def _prepare(db: sqlite3.Connection, path: Path) -> None:
    """WAL and FULL sync, a quick integrity check, then the migrations still due."""
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA secure_delete=ON")
    (status,) = db.execute("PRAGMA quick_check").fetchone()
    if status != "ok":
        raise sqlite3.DatabaseError(status)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StateError(
            f"{path} has schema version {version}, newer than this software "
            f"({SCHEMA_VERSION}): install the newer Jemput"
        )
    for step in range(version, SCHEMA_VERSION):
        with transaction(db):
            for statement in filter(str.strip, MIGRATIONS[step].split(";")):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {step + 1}")


class transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, *_: object
    ) -> None:
        if kind is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.OperationalError as failed:
                error = failed
        with contextlib.suppress(sqlite3.OperationalError):  # none active after some errors
            self._db.execute("ROLLBACK")
        if isinstance(error, sqlite3.Error) and error.sqlite_errorcode == sqlite3.SQLITE_FULL:
            raise StorageFull(
                f"storage full: the state database could not be written ({error}); "
                "collect the records to free space"
            ) from error
        if kind is None and error is not None:
            raise error


def iso_utc(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="seconds")


def checkpoint(db: sqlite3.Connection) -> None:
    """Copy the write-ahead log into the database and empty it (TRUNCATE).

    Why: the WAL keeps every page written since the last checkpoint, so without this a
    deleted journal row's old pages stay readable in state.db-wal.  With secure_delete on,
    the pages freed in the main file are zeroed as the checkpoint copies them.
    """
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class SqliteJournal:
    """The enrolment in progress, one CBOR map, encrypted, replaced after every step."""

    _CONTEXT = b"journal"

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.Lock,
        now: Callable[[], datetime],
        cipher: StateCipher,
    ) -> None:
        self._db, self._lock, self._now, self._cipher = db, lock, now, cipher

    def save(self, state: Mapping[str, Any]) -> None:
        blob = self._cipher.encrypt(codec.dumps(dict(state)), context=self._CONTEXT)
        with self._lock, transaction(self._db) as db:
            db.execute(
                "INSERT OR REPLACE INTO journal (id, state, saved_at) VALUES (1, ?, ?)",
                (blob, iso_utc(self._now())),
            )

    def load(self) -> Mapping[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT state FROM journal WHERE id = 1").fetchone()
        return codec.loads(self._cipher.decrypt(row[0], context=self._CONTEXT)) if row else None

    def clear(self) -> None:
        """Delete the journal and checkpoint, so none of its pages stays in the WAL."""
        with self._lock:
            with transaction(self._db) as db:
                db.execute("DELETE FROM journal")
            checkpoint(self._db)


class SqliteLedger:
    """Blank cards: the serial ranges the kit holds, loaded, taken for one record, printed or
    spoiled.  Stock is derived.

    Why ranges: the district hands each kit ranges of serials (`storage.blanks`) at flash;
    the cards loaded come out of them in order, and each card taken for a print is named by
    the next serial, so every serial the kit prints or spoils is one the district can find
    in the range it handed this kit.  A kit that holds no range loads nothing.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.Lock,
        now: Callable[[], datetime],
    ) -> None:
        self._db, self._lock, self._now = db, lock, now

    def _stock(self, db: sqlite3.Connection) -> int:
        return self._loaded(db) - self._begun(db)

    @staticmethod
    def _loaded(db: sqlite3.Connection) -> int:
        query = "SELECT COALESCE(SUM(count), 0) FROM ledger WHERE kind = 'load'"
        return int(db.execute(query).fetchone()[0])

    @staticmethod
    def _begun(db: sqlite3.Connection) -> int:
        return int(db.execute("SELECT COUNT(*) FROM ledger WHERE kind = 'begin'").fetchone()[0])

    @staticmethod
    def _held(db: sqlite3.Connection) -> list[SerialRange]:
        rows = db.execute("SELECT batch, first, last FROM card_ranges ORDER BY id")
        return [SerialRange(batch, first, last) for batch, first, last in rows]

    def stock(self) -> int:
        with self._lock:
            return self._stock(self._db)

    def held(self) -> list[SerialRange]:
        """The serial ranges the district handed this kit, in the order they came."""
        with self._lock:
            return self._held(self._db)

    def receive(self, ranges: Sequence[SerialRange], *, officer_id: str) -> None:
        """Hold ``ranges`` and load every card of them, in one transaction (a flash)."""
        with self._lock, transaction(self._db) as db:
            self._hold(db, ranges, officer_id)
            self._load(db, blanks.total(ranges), officer_id)

    def hold(self, ranges: Sequence[SerialRange], *, officer_id: str) -> None:
        """Keep ``ranges`` as the kit's, to load from; StateError if one overlaps a range
        held already (one serial, one card)."""
        with self._lock, transaction(self._db) as db:
            self._hold(db, ranges, officer_id)

    def _hold(self, db: sqlite3.Connection, ranges: Sequence[SerialRange], officer_id: str) -> None:
        overlap = blanks.first_overlap([*self._held(db), *ranges])
        if overlap is not None:
            raise StateError(
                f"serial ranges {overlap[0]} and {overlap[1]} overlap: one serial is one card; "
                "ask the district for the range it registered"
            )
        at = iso_utc(self._now())
        db.executemany(
            "INSERT INTO card_ranges (at, batch, first, last, officer) VALUES (?, ?, ?, ?, ?)",
            [(at, held.batch, held.first, held.last, officer_id) for held in ranges],
        )

    def unloaded(self) -> int:
        """Cards of the ranges held that are not loaded yet."""
        with self._lock:
            return blanks.total(self._held(self._db)) - self._loaded(self._db)

    def load(self, count: int, *, officer_id: str) -> None:
        """Load the next ``count`` cards of the ranges held; StateError if they hold fewer."""
        with self._lock, transaction(self._db) as db:
            self._load(db, count, officer_id)

    def _load(self, db: sqlite3.Connection, count: int, officer_id: str) -> None:
        if not 0 < count <= CARDS_PER_LOAD:
            raise ValueError(f"card count {count} is not between 1 and {CARDS_PER_LOAD}")
        left = blanks.total(self._held(db)) - self._loaded(db)
        if count > left:
            raise StateError(
                f"only {left} blank card(s) of this kit's serial ranges are left to load: the "
                "district hands a kit its ranges at a flash"
            )
        db.execute(
            "INSERT INTO ledger (at, kind, count, officer) VALUES (?, 'load', ?, ?)",
            (iso_utc(self._now()), count, officer_id),
        )

    def begin_print(self, seq: int) -> str:
        """Take the next loaded card for record ``seq``; its serial, from the ranges held."""
        with self._lock, transaction(self._db) as db:
            if self._stock(db) <= 0:
                raise StateError("no blank cards left in the ledger: load cards first")
            serial = blanks.nth_serial(self._held(db), self._begun(db))
            if serial is None:  # loads never exceed the ranges held
                raise StateError("the cards loaded exceed the serial ranges held")
            db.execute(
                "INSERT INTO ledger (at, kind, serial, seq) VALUES (?, 'begin', ?, ?)",
                (iso_utc(self._now()), serial, seq),
            )
        return serial

    def _outcome(self, kind: str, serial: str, reason: str | None) -> None:
        with self._lock, transaction(self._db) as db:
            row = db.execute(
                "SELECT seq FROM ledger WHERE kind = 'begin' AND serial = ?", (serial,)
            ).fetchone()
            if row is None:
                raise StateError(f"card {serial} was never taken for a print")
            done = db.execute(
                "SELECT kind FROM ledger WHERE kind IN ('printed', 'spoiled') AND serial = ?",
                (serial,),
            ).fetchone()
            if done:
                raise StateError(f"card {serial} is already recorded as {done[0]}")
            db.execute(
                "INSERT INTO ledger (at, kind, serial, seq, reason) VALUES (?, ?, ?, ?, ?)",
                (iso_utc(self._now()), kind, serial, row[0], reason),
            )

    def printed(self, serial: str) -> None:
        self._outcome("printed", serial, None)

    def spoiled(self, serial: str, reason: str) -> None:
        self._outcome("spoiled", serial, reason)

    def unresolved(self) -> list[PrintAttempt]:
        with self._lock:
            rows = self._db.execute(
                "SELECT serial, seq FROM ledger WHERE kind = 'begin' AND serial NOT IN "
                "(SELECT serial FROM ledger WHERE kind IN ('printed', 'spoiled')) ORDER BY id"
            ).fetchall()
        return [PrintAttempt(serial, seq) for serial, seq in rows]

    def printed_for(self, seq: int) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT serial FROM ledger WHERE kind = 'printed' AND seq = ? ORDER BY id", (seq,)
            ).fetchall()
        return [serial for (serial,) in rows]

    def printed_cards(self) -> list[tuple[int, str]]:
        """(record seq, card serial) of every card printed, in the order they were printed."""
        return self._cards("printed")

    def spoiled_cards(self) -> list[tuple[int, str]]:
        """(record seq, card serial) of every card spoiled, in order."""
        return self._cards("spoiled")

    def _cards(self, kind: str) -> list[tuple[int, str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, serial FROM ledger WHERE kind = ? ORDER BY id", (kind,)
            ).fetchall()
        return [(seq, serial) for seq, serial in rows]

    def counts(self) -> dict[str, int]:
        """Loaded, printed, spoiled, unresolved and stock, for status and the collector."""
        with self._lock:
            rows = dict(
                self._db.execute(
                    "SELECT kind, CASE kind WHEN 'load' THEN SUM(count) ELSE COUNT(*) END "
                    "FROM ledger GROUP BY kind"
                ).fetchall()
            )
        loaded, begun = rows.get("load", 0), rows.get("begin", 0)
        printed, spoiled = rows.get("printed", 0), rows.get("spoiled", 0)
        return {
            "loaded": loaded,
            "printed": printed,
            "spoiled": spoiled,
            "unresolved": begun - printed - spoiled,
            "stock": loaded - begun,
        }


@dataclass(frozen=True)
class AuditBreak:
    """Where the audit chain stops verifying."""

    entry_id: int
    reason: str


class SqliteAudit:
    """An append-only, hash-chained log of what happened on the kit.

    The details (a note may name a resident's reference) are stored encrypted, each bound
    to its entry's id; the chain hashes the ciphertext, so checking it needs no key.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.Lock,
        now: Callable[[], datetime],
        cipher: StateCipher,
    ) -> None:
        self._db, self._lock, self._now, self._cipher = db, lock, now, cipher

    @staticmethod
    def _hash(prev: bytes, entry_id: int, at: str, kind: str, detail: bytes) -> bytes:
        head = json.dumps([entry_id, at, kind], ensure_ascii=False).encode()
        return hashlib.sha256(prev + head + detail).digest()

    @staticmethod
    def _context(entry_id: int) -> bytes:
        return b"audit:%d" % entry_id

    def append(self, kind: AuditKind, **detail: Any) -> None:
        with self._lock, transaction(self._db) as db:
            self.append_in(db, kind, **detail)

    def append_in(self, db: sqlite3.Connection, kind: AuditKind, **detail: Any) -> None:
        """Append inside a transaction the caller holds (with the lock), so an entry and
        the change it tells of commit together: `SqliteIndex.put_sealed`."""
        text = json.dumps(detail, sort_keys=True, default=str, ensure_ascii=False)
        at = iso_utc(self._now())
        row = db.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        entry_id, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
        sealed = self._cipher.encrypt(text.encode(), context=self._context(entry_id))
        db.execute(
            "INSERT INTO audit (id, at, kind, detail, prev, hash) VALUES (?, ?, ?, ?, ?, ?)",
            (entry_id, at, kind, sealed, prev, self._hash(prev, entry_id, at, kind, sealed)),
        )

    def entries(self) -> list[tuple[int, str, str, dict[str, Any]]]:
        with self._lock:
            rows = self._db.execute("SELECT id, at, kind, detail FROM audit ORDER BY id")
            return [
                (i, at, kind, json.loads(self._cipher.decrypt(detail, context=self._context(i))))
                for i, at, kind, detail in rows
            ]

    def check(self) -> AuditBreak | None:
        """The first entry whose link or hash does not verify, or None when intact."""
        prev, expected_id = GENESIS, 1
        with self._lock:
            rows = self._db.execute(
                "SELECT id, at, kind, detail, prev, hash FROM audit ORDER BY id"
            )
            for entry_id, at, kind, detail, link, digest in rows:
                if entry_id != expected_id:
                    return AuditBreak(expected_id, f"entry {expected_id} is missing")
                if link != prev:
                    return AuditBreak(entry_id, "does not link to the entry before it")
                if not isinstance(detail, bytes) or digest != self._hash(
                    prev, entry_id, at, kind, detail
                ):
                    return AuditBreak(entry_id, "was altered after it was written")
                prev, expected_id = digest, expected_id + 1
        return None


class SqliteIndex:
    """The record index: one row per sealed record (digest, size, who, whom, voids, pruned).

    The records are the truth: boot rebuilds rows from the files where they disagree
    (`storage.kit`), and a pruned record keeps its row so the chain, the sequence numbers
    and "already enrolled" outlive its file.  Whom (the worklist reference, a NIK by
    default) is stored encrypted, bound to the row's seq.
    """

    _INSERT = (
        "INSERT OR REPLACE INTO records (seq, digest, size, sealed_at, officer, worklist_ref, "
        "voids, print_card) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.Lock,
        now: Callable[[], datetime],
        cipher: StateCipher,
    ) -> None:
        self._db, self._lock, self._now, self._cipher = db, lock, now, cipher

    @staticmethod
    def _context(seq: object) -> bytes:
        return f"index-ref:{seq}".encode()

    def _seal_ref(self, seq: object, ref: object) -> bytes | None:
        if ref is None:
            return None
        return self._cipher.encrypt(str(ref).encode(), context=self._context(seq))

    def _open_ref(self, seq: int, sealed: bytes | None) -> str | None:
        if sealed is None:
            return None
        return self._cipher.decrypt(sealed, context=self._context(seq)).decode()

    def rows(self) -> list[tuple[int, bytes, int, bool]]:
        """(seq, digest, size, pruned) of every indexed record."""
        with self._lock:
            return [
                (seq, digest, size, bool(pruned))
                for seq, digest, size, pruned in self._db.execute(
                    "SELECT seq, digest, size, pruned_at IS NOT NULL FROM records"
                )
            ]

    def put(self, rows: Sequence[tuple[object, ...]]) -> None:
        """Write index rows (seq, digest, size, sealed_at, officer, ref, voids, print_card)."""
        with self._lock, transaction(self._db) as db:
            self._insert(db, rows)

    def put_sealed(self, rows: Sequence[tuple[object, ...]], audit: SqliteAudit) -> None:
        """Write the index rows of records just sealed and a ``seal`` audit entry for each,
        in one transaction: both or neither, and one commit (one fsync of the WAL) where
        two took two.  ``audit`` shares this index's database and lock (`storage.kit`)."""
        if audit._db is not self._db or audit._lock is not self._lock:
            raise StateError("the audit log and the index must share one state database")
        with self._lock, transaction(self._db) as db:
            self._insert(db, rows)
            for seq, _, _, _, officer, _, voids, _ in rows:
                audit.append_in(db, AuditKind.SEAL, seq=seq, officer=officer, voids=voids)

    def _insert(self, db: sqlite3.Connection, rows: Sequence[tuple[object, ...]]) -> None:
        db.executemany(
            self._INSERT, [(*row[:5], self._seal_ref(row[0], row[5]), *row[6:]) for row in rows]
        )

    def recorded_refs(self) -> set[str]:
        """Worklist references of sealed records that no later record voids."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, worklist_ref FROM records WHERE worklist_ref IS NOT NULL AND seq "
                "NOT IN (SELECT voids FROM records WHERE voids IS NOT NULL)"
            ).fetchall()
        return {ref for seq, sealed in rows if (ref := self._open_ref(seq, sealed)) is not None}

    def recent(self, limit: int) -> list[tuple[int, str | None]]:
        """The last sealed records (seq, worklist ref) that are not voided, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, worklist_ref FROM records WHERE voids IS NULL AND seq NOT IN "
                "(SELECT voids FROM records WHERE voids IS NOT NULL) ORDER BY seq DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [(seq, self._open_ref(seq, sealed)) for seq, sealed in rows]

    def sensor_pages(
        self, replace: Mapping[int, tuple[int, int]] | None = None
    ) -> dict[int, tuple[int, int]]:
        """page -> (seq, finger position) of people's fingers on the sensor; ``replace``
        first writes a new map in one transaction (after the sensor was changed to match)."""
        with self._lock:
            if replace is not None:
                with transaction(self._db) as db:
                    db.execute("DELETE FROM sensor_pages")
                    db.executemany(
                        "INSERT INTO sensor_pages (page, seq, position) VALUES (?, ?, ?)",
                        [(page, seq, pos) for page, (seq, pos) in replace.items()],
                    )
            rows = self._db.execute("SELECT page, seq, position FROM sensor_pages").fetchall()
        return {page: (seq, position) for page, seq, position in rows}

    def prunable(self, up_to_seq: int) -> list[tuple[int, int]]:
        """(seq, size) of records up to ``up_to_seq`` whose files are still there, oldest first."""
        with self._lock:
            return self._db.execute(
                "SELECT seq, size FROM records WHERE pruned_at IS NULL AND seq <= ? ORDER BY seq",
                (up_to_seq,),
            ).fetchall()

    def mark_pruned(self, seqs: list[int]) -> None:
        with self._lock, transaction(self._db) as db:
            db.executemany(
                "UPDATE records SET pruned_at = ? WHERE seq = ?",
                [(iso_utc(self._now()), seq) for seq in seqs],
            )

    def pruned_count(self) -> int:
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM records WHERE pruned_at IS NOT NULL"
            ).fetchone()[0]


class SqliteReceipts:
    """Collectors' signed receipts as the port gave them (`storage.collection` checks them)."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock, now: Callable[[], datetime]):
        self._db, self._lock, self._now = db, lock, now

    def rows(self) -> list[tuple[int, bytes]]:
        """Every kept receipt, (row id, its signed bytes): the caller checks each."""
        with self._lock:
            return [
                (row, bytes(receipt) if isinstance(receipt, bytes) else b"")
                for row, receipt in self._db.execute("SELECT id, receipt FROM receipts ORDER BY id")
            ]

    def add(self, up_to_seq: int, head: bytes, receipt: bytes) -> None:
        with self._lock, transaction(self._db) as db:
            db.execute(
                "INSERT INTO receipts (at, up_to_seq, head, receipt) VALUES (?, ?, ?, ?)",
                (iso_utc(self._now()), up_to_seq, head, receipt),
            )
