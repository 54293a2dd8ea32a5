"""The kit's store: the facade `capture/` and `firmware/` use.

Layout of a data folder::

    kit/profile.cbor     what provisioning gave the kit (replaced whole at a reflash)
    kit/kit.key          the kit's Ed25519 private key (0600, never leaves the kit)
    records/kit.cert     the kit's certificate, which record 1 links to
    records/00000001.cose ... one immutable file per sealed record
    state.db             SQLite: journal, card ledger, audit chain, receipts, index

The records are the truth.  At every boot the store removes half-written temporaries,
rebuilds its index from the record files where they disagree, checks the audit chain,
and sets a damaged database aside rather than overwriting it.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import officers as pins
from storage.certificate import issue_certificate
from storage.errors import RecordError, StateError
from storage.files import (
    CERTIFICATE_NAME,
    record_files,
    record_name,
    remove_temporaries,
    write_atomic,
)
from storage.keys import Authority, AuthorityPublic, KitKey
from storage.model import Enrolment, Officer, Policy, Resident, SealedRecord
from storage.profile import Profile, load_profile, save_profile
from storage.record import read_header, record_hash, seal_record
from storage.state import (
    AuditBreak,
    SqliteAudit,
    SqliteJournal,
    SqliteLedger,
    open_database,
)

log = logging.getLogger(__name__)

#: Room one record needs at most (face, ten finger images, signature), for the space check.
RECORD_BUDGET_BYTES = 2 * 1024 * 1024
CERTIFICATE_YEARS = 5


class NotProvisioned(StateError):
    """The data folder holds no provisioned kit."""


@dataclass
class KitStatus:
    """What `jemput-kit status` prints and the technician reads."""

    kit_id: str
    demo: bool
    sealed: int
    uncollected: int
    last_seq: int
    cards: dict[str, int]
    damaged: list[str] = field(default_factory=list)
    audit_break: AuditBreak | None = None
    journal_open: bool = False
    boot_notes: list[str] = field(default_factory=list)


def provision(
    data_dir: Path,
    *,
    authority: Authority,
    kit_id: str,
    region: str,
    officers: tuple[Officer, ...],
    worklist: tuple[Resident, ...],
    policy: Policy,
    now: datetime,
    demo: bool = False,
) -> None:
    """Make the kit's key pair, have the authority certify it, and store the profile."""
    (data_dir / "kit").mkdir(parents=True, exist_ok=True)
    (data_dir / "records").mkdir(exist_ok=True)
    key_path = data_dir / "kit" / "kit.key"
    key = KitKey.load(key_path) if key_path.exists() else KitKey.create(key_path)
    certificate = issue_certificate(
        authority,
        kit_id=kit_id,
        region=region,
        kit_public=key.public_bytes,
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=365 * CERTIFICATE_YEARS),
    )
    cert_path = data_dir / "records" / CERTIFICATE_NAME
    if not cert_path.exists():
        write_atomic(cert_path, certificate)
    profile = Profile(
        kit_id, region, policy, officers, worklist, authority.public.to_cbor(), demo=demo
    )
    save_profile(data_dir / "kit" / "profile.cbor", profile)


class KitStore:
    """Seals records durably and keeps the kit's state; satisfies capture's RecordKeeper."""

    def __init__(self, data_dir: Path, *, now: Callable[[], datetime]) -> None:
        self.data_dir = Path(data_dir)
        self._now = now
        profile_path = self.data_dir / "kit" / "profile.cbor"
        if not profile_path.exists():
            raise NotProvisioned(
                f"{self.data_dir} holds no provisioned kit: flash it with jemput-prov, "
                "or run jemput-kit demo to make a demo kit"
            )
        self.profile = load_profile(profile_path)
        self.authority = AuthorityPublic.from_cbor(self.profile.authority)
        self._key = KitKey.load(self.data_dir / "kit" / "kit.key")
        self.records_dir = self.data_dir / "records"
        self._certificate = (self.records_dir / CERTIFICATE_NAME).read_bytes()
        self.boot_notes: list[str] = []
        self._lock = threading.Lock()
        self._db = self._open_state()
        self.journal = SqliteJournal(self._db, self._lock, now)
        self.ledger = SqliteLedger(self._db, self._lock, now, lambda: self.kit_id)
        self.audit = SqliteAudit(self._db, self._lock, now)
        self.damaged: list[str] = []
        self._seal_lock = threading.Lock()
        self._boot()

    # -- boot ------------------------------------------------------------------------------

    def _open_state(self) -> sqlite3.Connection:
        path = self.data_dir / "state.db"
        try:
            return open_database(path)
        except StateError as exc:
            stamp = self._now().strftime("%Y%m%dT%H%M%S")
            for suffix in ("", "-wal", "-shm"):
                part = path.with_name(path.name + suffix)
                if part.exists():
                    shutil.move(part, part.with_name(f"{part.name}.damaged-{stamp}"))
            note = f"{exc}; kept it as state.db.damaged-{stamp} and rebuilt the state from records"
            log.error(note)
            self.boot_notes.append(note)
            return open_database(path)

    def _boot(self) -> None:
        for path in remove_temporaries(self.records_dir):
            self.boot_notes.append(f"removed {path.name}, a record a crash left half-written")
        self._index: dict[int, bytes] = {}
        rows = []
        for seq, path in record_files(self.records_dir):
            data = path.read_bytes()
            self._index[seq] = record_hash(data)
            try:
                header = read_header(data)
                if header.seq != seq:
                    raise RecordError(f"holds record {header.seq}", seq=seq)
            except RecordError as exc:
                self.damaged.append(f"{path.name}: {exc}")
                continue
            rows.append(
                (
                    seq,
                    self._index[seq],
                    len(data),
                    header.sealed_at.isoformat(),
                    header.officer_id,
                    header.worklist_ref,
                    header.voids,
                    int(header.print_card),
                )
            )
        with self._lock:
            indexed = dict(self._db.execute("SELECT seq, digest FROM records").fetchall())
            if indexed != {row[0]: row[1] for row in rows}:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("DELETE FROM records")
                self._db.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                self._db.execute("COMMIT")
                if indexed:
                    self.boot_notes.append("the record index disagreed with the files: rebuilt")
        for note in self.boot_notes:
            self.audit.append("boot-repair", note=note)
        for damaged in self.damaged:
            self.audit.append("damaged-record", detail=damaged)
        self.audit_break = self.audit.check()

    # -- what capture reads ----------------------------------------------------------------

    @property
    def kit_id(self) -> str:
        return self.profile.kit_id

    @property
    def policy(self) -> Policy:
        return self.profile.policy

    @property
    def officers(self) -> Mapping[str, Officer]:
        return {o.officer_id: o for o in self.profile.officers}

    @property
    def worklist(self) -> tuple[Resident, ...]:
        return self.profile.worklist

    @property
    def last_seq(self) -> int:
        return max(self._index, default=0)

    def recorded_refs(self) -> set[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT worklist_ref FROM records WHERE worklist_ref IS NOT NULL AND seq NOT IN "
                "(SELECT voids FROM records WHERE voids IS NOT NULL)"
            ).fetchall()
        return {ref for (ref,) in rows}

    def recent(self, limit: int = 10) -> list[tuple[int, str | None]]:
        """The last sealed records (seq, worklist ref) that are not voided, newest first."""
        with self._lock:
            return self._db.execute(
                "SELECT seq, worklist_ref FROM records WHERE voids IS NULL AND seq NOT IN "
                "(SELECT voids FROM records WHERE voids IS NOT NULL) ORDER BY seq DESC LIMIT ?",
                (limit,),
            ).fetchall()

    def officer_for_page(self, page: int) -> Officer | None:
        return next((o for o in self.profile.officers if page in o.finger_pages), None)

    def check_pin(self, officer_id: str, pin: str) -> Officer | None:
        officer = self.officers.get(officer_id)
        return officer if officer and pins.check_pin(officer, pin) else None

    def refusal(self) -> str | None:
        """Why no enrolment may start: not enough room for one more record and the reserve."""
        free = shutil.disk_usage(self.records_dir).free
        needed = RECORD_BUDGET_BYTES + self.policy.reserve_bytes
        if free < needed:
            return f"storage full: {free // 2**20} MB free, {needed // 2**20} MB needed"
        return None

    # -- sealing ---------------------------------------------------------------------------

    def seal(self, enrolment: Enrolment) -> SealedRecord:
        """Sign, encrypt and write the next record durably; WriteError if it is not safe."""
        with self._seal_lock:
            seq = self.last_seq + 1
            prev = self._index[seq - 1] if seq > 1 else record_hash(self._certificate)
            sealed_at = self._now()
            data = seal_record(
                enrolment,
                kit_id=self.kit_id,
                seq=seq,
                prev_hash=prev,
                sealed_at=sealed_at,
                kit_key=self._key,
                authority=self.authority,
            )
            path = self.records_dir / record_name(seq)
            write_atomic(path, data)
            digest = record_hash(data)
            self._index[seq] = digest
        try:
            with self._lock:
                self._db.execute(
                    "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        seq,
                        digest,
                        len(data),
                        sealed_at.astimezone(UTC).isoformat(),
                        enrolment.officer_id,
                        enrolment.resident.worklist_ref,
                        enrolment.voids,
                        int(enrolment.print_card),
                    ),
                )
            self.audit.append("seal", seq=seq, officer=enrolment.officer_id, voids=enrolment.voids)
        except sqlite3.Error as exc:  # the record is safe on disk; boot rebuilds the index
            log.error("record %d sealed but not indexed: %s", seq, exc)
        return SealedRecord(seq, digest, path, len(data))

    # -- reporting -------------------------------------------------------------------------

    def status(self) -> KitStatus:
        with self._lock:
            collected = self._db.execute("SELECT MAX(up_to_seq) FROM receipts").fetchone()[0]
        return KitStatus(
            kit_id=self.kit_id,
            demo=self.profile.demo,
            sealed=len(self._index),
            uncollected=len([s for s in self._index if s > (collected or 0)]),
            last_seq=self.last_seq,
            cards=self.ledger.counts(),
            damaged=list(self.damaged),
            audit_break=self.audit_break,
            journal_open=self.journal.load() is not None,
            boot_notes=list(self.boot_notes),
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()
