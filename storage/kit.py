"""The kit's store: the facade `capture/` and `firmware/` use.

Layout of a data folder::

    kit/profile.cbor     what provisioning gave the kit (replaced whole at a reflash)
    kit/kit.key          the kit's Ed25519 private key (0600, never leaves the kit)
    records/kit.cert     the kit's certificate, which record 1 links to
    records/00000001.cose ... one immutable file per sealed record
    state.db             SQLite: journal, card ledger, audit chain, receipts, index

The records are the truth.  At every boot the store removes half-written temporaries,
rebuilds its index from the record files where they disagree, checks the audit chain,
and sets a damaged database aside rather than overwriting it.  Record files are deleted
only by :meth:`KitStore.prune`, only when a collector's receipt covers them.  See
docs/storage.md.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from storage import officers as pins
from storage.certificate import certify_kit
from storage.errors import RecordError, StateError, StorageError
from storage.files import (
    CERTIFICATE_NAME,
    OS_OPS,
    FileOps,
    record_files,
    record_name,
    remove_temporaries,
    write_atomic,
)
from storage.keys import Authority, AuthorityPublic, KitKey
from storage.model import Enrolment, Officer, Policy, Resident, SealedRecord
from storage.profile import Profile, load_profile, save_profile
from storage.record import RecordHeader, record_hash, seal_record
from storage.state import (
    AuditBreak,
    DamagedDatabase,
    SqliteAudit,
    SqliteJournal,
    SqliteLedger,
    iso_utc,
    open_database,
    transaction,
)
from storage.verify import Certificate, Verifier

log = logging.getLogger(__name__)

#: Room one record needs at most (face, ten finger images, signature), for the space check.
RECORD_BUDGET_BYTES = 2 * 1024 * 1024
INSERT_RECORD = (
    "INSERT OR REPLACE INTO records (seq, digest, size, sealed_at, officer, worklist_ref, "
    "voids, print_card) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


class NotProvisioned(StateError):
    """The data folder holds no provisioned kit."""


class ReceiptError(StorageError, ValueError):
    """A collection receipt that does not cover this kit's records as it claims."""


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
    pruned: int = 0


#: The data folder's layout (see the module docstring).
KIT_FOLDER = "kit"
RECORDS_FOLDER = "records"
KEY_FILE = "kit.key"
PROFILE_FILE = "profile.cbor"


def key_path(data_dir: Path) -> Path:
    return Path(data_dir) / KIT_FOLDER / KEY_FILE


def profile_path(data_dir: Path) -> Path:
    return Path(data_dir) / KIT_FOLDER / PROFILE_FILE


def is_provisioned(data_dir: Path) -> bool:
    return profile_path(data_dir).exists()


def install(data_dir: Path, *, certificate: bytes, profile: Profile) -> None:
    """Store what provisioning gives a kit whose key pair is already in its place.

    The certificate goes beside the records (record 1 links to it) and is never replaced
    within a chain; the profile is replaced whole.  Shared by the demo provisioning and
    the kit's side of `jemput-prov flash`.
    """
    records = Path(data_dir) / RECORDS_FOLDER
    records.mkdir(parents=True, exist_ok=True)
    if not (records / CERTIFICATE_NAME).exists():
        write_atomic(records / CERTIFICATE_NAME, certificate)
    save_profile(profile_path(data_dir), profile)


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
    key_file = key_path(data_dir)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = KitKey.load(key_file) if key_file.exists() else KitKey.create(key_file)
    certificate = certify_kit(
        authority, kit_id=kit_id, region=region, kit_public=key.public_bytes, now=now
    )
    profile = Profile(
        kit_id, region, policy, officers, worklist, authority.public.to_cbor(), demo=demo
    )
    install(data_dir, certificate=certificate, profile=profile)


def _disk_free(folder: Path) -> int:
    return shutil.disk_usage(folder).free


class KitStore:
    """Seals records durably and keeps the kit's state; satisfies capture's RecordKeeper.

    ``ops`` carries every call on the records folder (a test hands in a simulated
    filesystem); ``disk_free`` says how many bytes are free in a folder (a test hands in a
    full disk).  ``verify_files`` makes boot read and verify every record file, not only
    those whose size disagrees with the index: slow, for the technician's status check,
    which must also find a record damaged in place (bit rot keeps the size).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        now: Callable[[], datetime],
        ops: FileOps = OS_OPS,
        disk_free: Callable[[Path], int] = _disk_free,
        verify_files: bool = False,
    ) -> None:
        self.data_dir = Path(data_dir)
        self._verify_files = verify_files
        self._now = now
        self._ops = ops
        self._disk_free = disk_free
        profile_file = profile_path(self.data_dir)
        if not profile_file.exists():
            raise NotProvisioned(
                f"{self.data_dir} holds no provisioned kit: flash it with jemput-prov, "
                "or run jemput-kit demo to make a demo kit"
            )
        self.profile = load_profile(profile_file)
        self.authority = AuthorityPublic.from_cbor(self.profile.authority)
        self._key = KitKey.load(key_path(self.data_dir))
        self.records_dir = self.data_dir / RECORDS_FOLDER
        self._certificate = ops.read(self.records_dir / CERTIFICATE_NAME)
        self.boot_notes: list[str] = []
        self._lock = threading.Lock()
        self._db = self._open_state()
        self.journal = SqliteJournal(self._db, self._lock, now)
        self.ledger = SqliteLedger(self._db, self._lock, now, lambda: self.kit_id)
        self.audit = SqliteAudit(self._db, self._lock, now)
        self.damaged: list[str] = []
        self._damaged_seqs: set[int] = set()
        self._index: dict[int, bytes] = {}
        self._verifier = Verifier(self.authority)
        self._verified_certificate: Certificate | None = None
        self._seal_lock = threading.Lock()
        try:
            self._boot()
        except BaseException:
            self._db.close()
            raise

    # -- boot ------------------------------------------------------------------------------

    def _open_state(self) -> sqlite3.Connection:
        path = self.data_dir / "state.db"
        try:
            return open_database(path)
        except DamagedDatabase as exc:
            stamp = self._now().strftime("%Y%m%dT%H%M%S")
            for suffix in ("", "-wal", "-shm"):
                part = path.with_name(path.name + suffix)
                if part.exists():
                    shutil.move(part, part.with_name(f"{part.name}.damaged-{stamp}"))
            note = (
                f"{exc}; kept it as state.db.damaged-{stamp}, started a fresh one and rebuilt "
                "the record index from the records. The card ledger, collection receipts and "
                "audit log start afresh: count the blank cards and load them again"
            )
            log.error(note)
            self.boot_notes.append(note)
            return open_database(path)

    def _boot(self) -> None:
        """Make the records folder and the index agree, trusting the files.

        Half-written temporaries go; a file whose name and size match its index row is
        trusted without being read (thousands of records would otherwise cost gigabytes
        of reads at every boot); any other file, or every file with ``verify_files``, is
        read and verified in full and indexed, or reported damaged (never removed); an
        indexed record whose file vanished is reported missing; a file a crash left
        behind in the middle of a prune is removed, as its receipt allowed.
        """
        for path in remove_temporaries(self.records_dir, ops=self._ops):
            self.boot_notes.append(f"removed {path.name}, a record a crash left half-written")
        with self._lock:
            indexed = {
                seq: _Indexed(digest, size, bool(pruned))
                for seq, digest, size, pruned in self._db.execute(
                    "SELECT seq, digest, size, pruned_at IS NOT NULL FROM records"
                )
            }
        fresh = [
            row
            for seq, path in record_files(self.records_dir, ops=self._ops)
            if (row := self._check_file(seq, path, indexed.pop(seq, None)))
        ]
        for seq, known in indexed.items():
            self._index[seq] = known.digest
            if not known.pruned:
                self._report_damaged(
                    seq, f"{record_name(seq)}: missing, though the index lists it as sealed"
                )
        if fresh:
            with self._lock, transaction(self._db) as db:
                db.executemany(INSERT_RECORD, fresh)
            self.boot_notes.append(
                f"indexed {len(fresh)} record(s) from their files "
                f"(#{fresh[0][0]}..#{fresh[-1][0]}): the index did not list them as they are"
            )
        for note in self.boot_notes:
            self.audit.append("boot-repair", note=note)
        for damaged in self.damaged:
            self.audit.append("damaged-record", detail=damaged)
        self.audit_break = self.audit.check()

    def _check_file(
        self, seq: int, path: Path, known: _Indexed | None
    ) -> tuple[object, ...] | None:
        """Index one record file; the index row to write when the index must learn it."""
        if known is not None:
            if known.pruned:
                self._unlink_pruned(path)
                self._index[seq] = known.digest
                return None
            if not self._verify_files and self._ops.size(path) == known.size:
                self._index[seq] = known.digest
                return None
        data = self._ops.read(path)
        digest = record_hash(data)
        if known is not None and known.digest == digest:
            self._index[seq] = digest
            return None
        try:
            header = self._verifier.verify_record(data, self._kit_certificate())
            if header.seq != seq:
                raise RecordError(f"holds record {header.seq}", seq=seq)
        except RecordError as exc:
            self._report_damaged(seq, f"{path.name}: {exc}")
            # the index keeps the digest as sealed, so the next record still links right
            self._index[seq] = known.digest if known is not None else digest
            return None
        self._index[seq] = digest
        return _index_row(header, digest, len(data))

    def _kit_certificate(self) -> Certificate:
        """The kit's own certificate, verified once, when a record file must be checked."""
        if self._verified_certificate is None:
            self._verified_certificate = self._verifier.certificate(self._certificate)
        return self._verified_certificate

    def _report_damaged(self, seq: int, detail: str) -> None:
        log.error("damaged record: %s", detail)
        self.damaged.append(detail)
        self._damaged_seqs.add(seq)

    def _unlink_pruned(self, path: Path) -> None:
        self._ops.unlink(path)
        self._ops.fsync_dir(self.records_dir)
        self.boot_notes.append(f"finished pruning {path.name}, which a receipt covers")

    # -- what capture reads ----------------------------------------------------------------

    @property
    def kit_id(self) -> str:
        return self.profile.kit_id

    @property
    def region(self) -> str:
        """The region code (province and regency, "3505") the kit was provisioned for."""
        return self.profile.region

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

    def head(self) -> tuple[int, bytes | None]:
        """The chain's head: the last sequence number and that record's hash (as sealed)."""
        last = self.last_seq
        return last, self._index.get(last)

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
        """Why no enrolment may start: not enough room for one more record and the reserve.

        When short, first prunes records a collector's receipt covers (that is the moment
        space is needed); refuses only if that does not free enough.
        """
        needed = RECORD_BUDGET_BYTES + self.policy.reserve_bytes
        free = self._disk_free(self.records_dir)
        if free < needed and self.prune(needed - free):
            free = self._disk_free(self.records_dir)
        if free < needed:
            return (
                f"storage full: {free // 2**20} MB free, {needed // 2**20} MB needed.\n"
                f"Collect the records ({self._uncollected()} not yet collected) "
                "to free space"
            )
        return None

    # -- sealing ---------------------------------------------------------------------------

    def seal(self, enrolment: Enrolment) -> SealedRecord:
        """Sign, encrypt and write the next record durably; WriteError if it is not safe.

        On WriteError nothing is claimed: the index, the audit log and the next sequence
        number are as before, so sealing again (once the fault is cleared) reuses the seq.
        """
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
            write_atomic(path, data, ops=self._ops)
            digest = record_hash(data)
            self._index[seq] = digest
        try:
            with self._lock:
                self._db.execute(
                    INSERT_RECORD,
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

    # -- collection ------------------------------------------------------------------------

    def collected_up_to(self) -> int:
        """The highest seq a stored receipt covers (0 when nothing was collected)."""
        with self._lock:
            return self._db.execute("SELECT MAX(up_to_seq) FROM receipts").fetchone()[0] or 0

    def record_receipt(
        self, up_to_seq: int, head: bytes, receipt: bytes, *, verify: Callable[[bytes], int]
    ) -> None:
        """Keep a collector's signed receipt for records 1..``up_to_seq``.

        ``verify`` checks the receipt's signature (its format comes from provisioning) and
        returns the seq it covers; it raises if the receipt is not genuine.  ``head`` is the
        digest of record ``up_to_seq`` as the collector holds it: it must be this kit's, so
        a receipt for another kit's chain, or for records this kit never sealed, frees
        nothing.
        """
        covered = verify(receipt)
        if covered != up_to_seq:
            raise ReceiptError(
                f"the receipt covers records up to {covered}, not {up_to_seq}: "
                "nothing is marked collected; collect again"
            )
        if not 1 <= up_to_seq <= self.last_seq:
            raise ReceiptError(
                f"the receipt covers records up to {up_to_seq}, but this kit's last record is "
                f"{self.last_seq}: it is for another kit or another data folder"
            )
        if head != self._index.get(up_to_seq):
            raise ReceiptError(
                f"the receipt's chain head does not match record {up_to_seq} on this kit: "
                "the collector holds different records; collect again"
            )
        with self._lock, transaction(self._db) as db:
            db.execute(
                "INSERT INTO receipts (at, up_to_seq, head, receipt) VALUES (?, ?, ?, ?)",
                (iso_utc(self._now()), up_to_seq, head, receipt),
            )
        self.audit.append("collection", up_to_seq=up_to_seq, head=head.hex())

    def prune(self, needed_bytes: int) -> list[int]:
        """Delete record files a receipt covers, oldest first, until ``needed_bytes`` are freed.

        Never deletes an uncollected record, a damaged one (the technician must see it) or
        the newest one (the chain head the next record links to).  A pruned record keeps
        its index row (digest, worklist reference), so the chain, the sequence numbers and
        "already enrolled" survive it.  The rows are marked before the files go: a crash in
        between leaves files that boot removes.  Returns the pruned seqs.
        """
        if needed_bytes <= 0:
            return []
        with self._seal_lock:
            collected = min(self.collected_up_to(), self.last_seq - 1)
            with self._lock:
                rows = self._db.execute(
                    "SELECT seq, size FROM records WHERE pruned_at IS NULL AND seq <= ? "
                    "ORDER BY seq",
                    (collected,),
                ).fetchall()
            chosen, freed = [], 0
            for seq, size in rows:
                if freed >= needed_bytes:
                    break
                if seq not in self._damaged_seqs:
                    chosen.append(seq)
                    freed += size
            if not chosen:
                return []
            with self._lock, transaction(self._db) as db:
                db.executemany(
                    "UPDATE records SET pruned_at = ? WHERE seq = ?",
                    [(iso_utc(self._now()), seq) for seq in chosen],
                )
            for seq in chosen:
                self._ops.unlink(self.records_dir / record_name(seq))
            self._ops.fsync_dir(self.records_dir)
        self.audit.append("prune", seqs=chosen, freed=freed, needed=needed_bytes)
        return chosen

    # -- reporting -------------------------------------------------------------------------

    def _uncollected(self) -> int:
        collected = self.collected_up_to()
        return len([seq for seq in self._index if seq > collected])

    def status(self) -> KitStatus:
        with self._lock:
            pruned = self._db.execute(
                "SELECT COUNT(*) FROM records WHERE pruned_at IS NOT NULL"
            ).fetchone()[0]
        return KitStatus(
            kit_id=self.kit_id,
            demo=self.profile.demo,
            sealed=len(self._index),
            uncollected=self._uncollected(),
            last_seq=self.last_seq,
            cards=self.ledger.counts(),
            damaged=list(self.damaged),
            audit_break=self.audit_break,
            journal_open=self.journal.load() is not None,
            boot_notes=list(self.boot_notes),
            pruned=pruned,
        )

    def close(self) -> None:
        """Close the state database; safe to call twice."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> KitStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@dataclass(frozen=True)
class _Indexed:
    """What the index knows of one record: its digest and size, and whether it was pruned."""

    digest: bytes
    size: int
    pruned: bool


def _index_row(header: RecordHeader, digest: bytes, size: int) -> tuple[object, ...]:
    return (
        header.seq,
        digest,
        size,
        header.sealed_at.isoformat(),
        header.officer_id,
        header.worklist_ref,
        header.voids,
        int(header.print_card),
    )
