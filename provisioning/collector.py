"""The collector's database: every record collected, with each kit's signed head and ledger.

Why SQLite and one row per record: a collection cut half-way must lose nothing and the
next one must add nothing twice, so each verified record is committed as it arrives and
inserted idempotently (kit chain, seq) — the same bytes again are a no-op, different
bytes for a seq already held are a fork and refused.  A kit's chain is keyed by the
SHA-256 of its certificate, so a reflashed kit (new key, new chain from 1) never mixes
with its past.  Record bytes are kept exactly as the kit sealed them; everything else
(headers, counts) is derived from them and can be rebuilt.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kitlink.messages import Head
from provisioning import collection_log as log
from provisioning.checks import OpenedRecord, WrongPath, open_verified
from storage.certificate import Certificate, check_kit_id
from storage.errors import StorageError
from storage.files import CERTIFICATE_NAME, record_name
from storage.keys import Authority
from storage.record import RecordHeader, record_hash

SCHEMA = """
CREATE TABLE IF NOT EXISTS chains (cert_digest BLOB PRIMARY KEY, kit_id TEXT NOT NULL,
                                   region TEXT NOT NULL, cert BLOB NOT NULL, first_seen TEXT);
CREATE TABLE IF NOT EXISTS records (chain BLOB NOT NULL, seq INTEGER NOT NULL,
    digest BLOB NOT NULL, data BLOB NOT NULL, sealed_at TEXT NOT NULL, officer TEXT NOT NULL,
    worklist_ref TEXT, walk_in INTEGER NOT NULL, excepted INTEGER NOT NULL, voids INTEGER,
    print_card INTEGER NOT NULL, collected_at TEXT NOT NULL, PRIMARY KEY (chain, seq));
CREATE TABLE IF NOT EXISTS collections (id INTEGER PRIMARY KEY, chain BLOB NOT NULL,
    at TEXT NOT NULL, head_seq INTEGER NOT NULL, head BLOB, signed BLOB NOT NULL,
    receipt BLOB, statement BLOB NOT NULL, status BLOB)
"""
#: PRAGMA user_version of the schema above; 2 added the signed collection statements, 3
#: the kit's signed status answer of each collection.
SCHEMA_VERSION = 3
#: The steps that bring a database of an older version to this one, by that version.
UPGRADES = {2: "ALTER TABLE collections ADD COLUMN status BLOB"}


class CollectorError(StorageError, ValueError):
    """The database does not hold what it should (a fork, a head that went backwards)."""


@dataclass(frozen=True)
class Chain:
    """One kit certificate's chain in the database."""

    digest: bytes
    kit_id: str
    region: str
    cert: bytes

    @property
    def folder(self) -> str:
        """The chain's folder name in `verify` output and in an export."""
        return f"{self.kit_id}-{self.digest.hex()[:8]}"


class CollectorDB:
    """The SQLite file `jemput-prov collect` fills and `report`, `verify`, `export` read."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._closed = False
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._check_schema()
        except BaseException:
            self.close()
            raise

    def _check_schema(self) -> None:
        """Create the tables in a new file, upgrade a file of an older version step by step
        (`UPGRADES`); refuse a file of any other schema version."""
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        (tables,) = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if version == 0 and tables == 0:
            self._db.executescript(SCHEMA)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            return
        while version in UPGRADES:
            with self._db:  # one transaction: the step and the version it reaches
                self._db.execute("BEGIN")
                self._db.execute(UPGRADES[version])
                self._db.execute(f"PRAGMA user_version = {version + 1}")
            version += 1
        if version != SCHEMA_VERSION:
            raise WrongPath(
                f"{self.path} is a collector database of schema {version}, this tool reads "
                f"{SCHEMA_VERSION}: verify it with the jemput-prov that made it, and collect "
                "into a new database"
            )

    def __repr__(self) -> str:
        return f"<CollectorDB {self.path}>"

    # -- chains ----------------------------------------------------------------------------

    def add_chain(self, certificate: Certificate) -> Chain:
        self._db.execute(
            "INSERT OR IGNORE INTO chains VALUES (?, ?, ?, ?, ?)",
            (certificate.digest, certificate.kit_id, certificate.region, certificate.data, _now()),
        )
        return Chain(certificate.digest, certificate.kit_id, certificate.region, certificate.data)

    def chains(self) -> list[Chain]:
        rows = self._db.execute(
            "SELECT cert_digest, kit_id, region, cert FROM chains ORDER BY kit_id, first_seen"
        )
        return [Chain(*row) for row in rows]

    # -- records ---------------------------------------------------------------------------

    def have(self, chain: Chain) -> int:
        """The highest seq held with every seq before it: where a collection resumes."""
        seqs = [
            s
            for (s,) in self._db.execute(
                "SELECT seq FROM records WHERE chain = ? ORDER BY seq", (chain.digest,)
            )
        ]
        held = 0
        for seq in seqs:
            if seq != held + 1:
                break
            held = seq
        return held

    def digest(self, chain: Chain, seq: int) -> bytes | None:
        row = self._db.execute(
            "SELECT digest FROM records WHERE chain = ? AND seq = ?", (chain.digest, seq)
        ).fetchone()
        return row[0] if row else None

    def add_record(self, chain: Chain, header: RecordHeader, data: bytes) -> bool:
        """Keep a verified record; False if the same bytes were already held.

        CollectorError if another record with this seq is held: the kit forked its chain.
        The row is committed at once (a tool killed after this keeps it) but its write-ahead
        log is not fsynced for it alone: the next statement written with an fsync makes it
        durable with every row before it (SQLite's log is written in order), and that is
        the collection's (`add_collection`), before any receipt lets the kit free a record;
        `sync` does it where no collection follows (a card).  A power cut before then can
        only lose rows the kit (or the card) still holds.  Why: an fsync per record took
        about as long as verifying it (docs/performance.md, "Collect").
        """
        digest = record_hash(data)
        held = self.digest(chain, header.seq)
        if held is not None:
            if held != digest:
                raise CollectorError(
                    f"kit {chain.kit_id} sent a different record {header.seq} than the one "
                    "collected before: its chain forked; keep this database and report the kit"
                )
            return False
        with self._unsynced():
            self._db.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    chain.digest,
                    header.seq,
                    digest,
                    data,
                    header.sealed_at.astimezone(UTC).isoformat(),
                    header.officer_id,
                    header.reference,
                    int(header.walk_in),
                    len(header.excepted),
                    header.voids,
                    int(header.print_card),
                    _now(),
                ),
            )
        return True

    @contextmanager
    def _unsynced(self) -> Iterator[None]:
        """Commits in the block skip their fsync (SQLite's ``synchronous=NORMAL`` in WAL
        mode: kept if the tool dies, durable with the next fsynced commit)."""
        self._db.execute("PRAGMA synchronous=NORMAL")
        try:
            yield
        finally:
            self._db.execute("PRAGMA synchronous=FULL")

    def sync(self) -> None:
        """Make every committed row durable: a checkpoint fsyncs the log, then the file."""
        self._db.execute("PRAGMA wal_checkpoint(FULL)")

    def record_bytes(self, chain: Chain) -> Iterator[tuple[int, bytes]]:
        yield from self._db.execute(
            "SELECT seq, data FROM records WHERE chain = ? ORDER BY seq", (chain.digest,)
        )

    # -- collections -----------------------------------------------------------------------

    def last_head(self, chain: Chain) -> Head | None:
        row = self._db.execute(
            "SELECT head_seq, head FROM collections WHERE chain = ? ORDER BY id DESC LIMIT 1",
            (chain.digest,),
        ).fetchone()
        return Head(*row) if row else None

    def add_collection(
        self,
        chain: Chain,
        head: Head,
        signed: bytes,
        *,
        authority: Authority,
        at: datetime,
        status: bytes | None = None,
    ) -> int:
        """Keep the kit's signed head, ledger and audit log of one collection and its signed
        ``status`` answer, with the collector's statement of them signed by ``authority``
        and linked to the one before (``at``: the laptop's time when the status arrived)."""
        last = self._db.execute(
            "SELECT statement FROM collections ORDER BY id DESC LIMIT 1"
        ).fetchone()
        (count,) = self._db.execute("SELECT count(*) FROM collections").fetchone()
        statement = log.Statement(
            index=count + 1,
            prev=log.digest(last[0]) if last else log.GENESIS,
            chain=chain.digest,
            kit_id=chain.kit_id,
            head_seq=head.seq,
            head=head.digest,
            ledger=log.digest(signed),
            at=at.replace(microsecond=0),
            status=None if status is None else log.digest(status),
        )
        cursor = self._db.execute(
            "INSERT INTO collections (chain, at, head_seq, head, signed, statement, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                chain.digest,
                statement.at.astimezone(UTC).isoformat(),
                head.seq,
                head.digest,
                signed,
                log.sign_statement(authority, statement),
                status,
            ),
        )
        return int(cursor.lastrowid or 0)

    def set_receipt(self, collection: int, receipt: bytes) -> None:
        self._db.execute("UPDATE collections SET receipt = ? WHERE id = ?", (receipt, collection))

    # -- rows as stored, for `collector_audit` ----------------------------------------------

    def chain_rows(self) -> list[tuple[Any, ...]]:
        """(cert_digest, kit_id, region, cert) of every chains row, as stored."""
        return self._db.execute("SELECT cert_digest, kit_id, region, cert FROM chains").fetchall()

    def record_rows(self, chain: bytes) -> Iterator[tuple[Any, ...]]:
        """The records rows of one chain as stored, in seq order, read as they are used:
        (chain, seq, digest, data, sealed_at, officer, worklist_ref, walk_in, excepted,
        voids, print_card)."""
        yield from self._db.execute(
            "SELECT chain, seq, digest, data, sealed_at, officer, worklist_ref, walk_in, "
            "excepted, voids, print_card FROM records WHERE chain = ? ORDER BY seq",
            (chain,),
        )

    def record_keys(self) -> list[tuple[Any, Any]]:
        """(chain, seq) of every records row as stored, without the records' bytes."""
        return self._db.execute("SELECT chain, seq FROM records ORDER BY chain, seq").fetchall()

    def collection_rows(self) -> list[tuple[Any, ...]]:
        """Every collections row as stored, in the order they were added: (id, chain, at,
        head_seq, head, signed, receipt, statement, status)."""
        return self._db.execute(
            "SELECT id, chain, at, head_seq, head, signed, receipt, statement, status "
            "FROM collections ORDER BY id"
        ).fetchall()

    # -- open, export ------------------------------------------------------------------------

    def find(self, kit_id: str, seq: int) -> tuple[Chain, bytes]:
        """The latest chain of ``kit_id`` holding record ``seq``; CollectorError if none."""
        for chain in reversed(self.chains()):
            if chain.kit_id == kit_id:
                row = self._db.execute(
                    "SELECT data FROM records WHERE chain = ? AND seq = ?", (chain.digest, seq)
                ).fetchone()
                if row:
                    return chain, row[0]
        raise CollectorError(f"{self.path} holds no record {seq} of kit {kit_id}")

    def open_record(self, kit_id: str, seq: int, authority: Authority) -> OpenedRecord:
        """Verify record ``seq`` of ``kit_id`` against its certificate, then decrypt it."""
        chain, data = self.find(kit_id, seq)
        return open_verified(self.path / kit_id / record_name(seq), data, chain.cert, authority)

    def export(self, out_dir: str | Path) -> Path:
        """Write each chain's kit.cert and records, and manifest.json with their SHA-256.

        Every file lands under ``out_dir``: a kit id that is not a safe folder name (one
        edited into the database, say ``../../x``) is refused before anything is written.
        """
        out = Path(out_dir)
        chains = self.chains()
        for chain in chains:
            check_kit_id(chain.kit_id)
        out.mkdir(parents=True, exist_ok=True)
        manifest: dict[str, Any] = {"exported_at": _now(), "source": str(self.path), "kits": []}
        for chain in chains:
            folder = out / chain.folder
            if folder.resolve().parent != out.resolve():
                raise CollectorError(f"kit folder {chain.folder!r} would land outside {out}")
            folder.mkdir(exist_ok=True)
            files = [(CERTIFICATE_NAME, chain.cert)]
            files += [(record_name(seq), data) for seq, data in self.record_bytes(chain)]
            for name, data in files:
                (folder / name).write_bytes(data)
            head = self.last_head(chain)
            manifest["kits"].append(
                {
                    "kit_id": chain.kit_id,
                    "region": chain.region,
                    "folder": folder.name,
                    "certificate_sha256": chain.digest.hex(),
                    "records": len(files) - 1,
                    "head": {"seq": head.seq, "sha256": head.digest and head.digest.hex()}
                    if head
                    else None,
                    "files": {name: record_hash(data).hex() for name, data in files},
                }
            )
        path = out / "manifest.json"
        path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        return path

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._db.close()

    def __enter__(self) -> CollectorDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
