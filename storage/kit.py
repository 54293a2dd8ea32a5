"""The kit's store: the facade `capture/` and `firmware/` use.

Each of its jobs has its own module: the data folder's layout (`storage.layout`),
provisioning (`storage.provision`), boot repair (`storage.boot`), the record index's SQL
(`storage.state.SqliteIndex`), the chain in memory (`storage.chain`), receipts and pruning
(`storage.collection`); sealing and status stay here.  The records are the truth.  At
every boot the store removes half-written temporaries, rebuilds its index from the record
files where they disagree, checks the audit chain, and sets a damaged database aside
rather than overwriting it.  Record files are deleted only by :meth:`KitStore.prune`,
only when a collector's receipt covers them.  See docs/storage.md.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NamedTuple

from storage import officers as pins
from storage.audit import AuditKind
from storage.boot import BootRepair, open_state
from storage.chain import SealedChain
from storage.collection import Collection
from storage.datakey import open_data_key
from storage.errors import StateError, StorageFull
from storage.files import (
    CERTIFICATE_NAME,
    OS_OPS,
    FileOps,
    record_name,
    write_atomic,
)
from storage.groups import groups_of
from storage.handover_state import SqliteHandovers
from storage.keys import KeyBackend
from storage.kitkey import open_kit_key
from storage.layout import (
    kit_dir,
    profile_path,
    records_dir,
    round_path,
    state_path,
)
from storage.model import Enrolment, Officer, Policy, Resident, SealedRecord
from storage.pin_guard import PinGuard
from storage.profile import Profile, load_profile
from storage.provision import KitSetup, install, provision
from storage.receipt import Receipt, ReceiptError
from storage.record import record_hash, seal_record
from storage.reference import RecordedRefs, ReferenceKey, ReferenceKeyError, named
from storage.rounds import load_loaded
from storage.signed_profile import FLASH_AGAIN, ProfileChanged, verify_profile
from storage.state import (
    AuditBreak,
    SqliteAudit,
    SqliteIndex,
    SqliteJournal,
    SqliteLedger,
    SqliteReceipts,
)
from storage.tpm import DEFAULT_TCTI
from storage.verify import Verifier

__all__ = [
    "KitSetup",
    "KitStatus",
    "KitStore",
    "NotProvisioned",
    "ReceiptError",
    "install",
    "provision",
]

log = logging.getLogger(__name__)

#: Room one record needs at most (face, ten finger images, signature), for the space check.
RECORD_BUDGET_BYTES = 2 * 1024 * 1024


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
    pruned: int = 0
    #: What holds the signing key and the data key (a file key is UNPROTECTED).
    key_backend: KeyBackend = KeyBackend.FILE
    data_key_backend: KeyBackend = KeyBackend.FILE
    #: The fingerprint sensor's library: pages holding enrolled people's fingers, and
    #: pages for them in all (the officers' pages apart); full means the oldest rotate out.
    library_used: int = 0
    library_capacity: int = 0


class _IndexRow(NamedTuple):
    """A sealed record's index row, as `storage.state.SqliteIndex.put` takes it."""

    seq: int
    digest: bytes
    size: int
    sealed_at: str
    officer: str
    ref: str | None
    voids: int | None
    print_card: int


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
        tcti: str = DEFAULT_TCTI,
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
                "or run jemput-kit sim demo to make a demo kit"
            )
        data_key = open_data_key(kit_dir(self.data_dir), tcti=tcti)
        self.data_key_backend = data_key.backend
        cipher = data_key.cipher()
        self._cipher = cipher
        self.profile = load_profile(profile_file, cipher)
        self.authority = self.profile.authority_public
        self._key = open_kit_key(kit_dir(self.data_dir), tcti=tcti)
        self.key_backend = self._key.backend
        self.records_dir = records_dir(self.data_dir)
        self._certificate = ops.read(self.records_dir / CERTIFICATE_NAME)
        verify_profile(self.profile, self._certificate)
        self.references = _reference_key(self.profile)
        self.round = load_loaded(round_path(self.data_dir), cipher, self.authority, self.references)
        self._lock = threading.Lock()
        self._db, self.boot_notes = open_state(state_path(self.data_dir), now=now)
        self.journal = SqliteJournal(self._db, self._lock, now, cipher)
        self.ledger = SqliteLedger(self._db, self._lock, now)
        self.audit = SqliteAudit(self._db, self._lock, now, cipher)
        self.index = SqliteIndex(self._db, self._lock, now, cipher)
        self.receipts = SqliteReceipts(self._db, self._lock, now)
        self.pin_guard = PinGuard(self._db, self._lock, now, self.audit, cipher)
        self.handovers = SqliteHandovers(self._db, self._lock, now, cipher, self.authority)
        self._verifier = Verifier(self.authority)
        self._unindexed: list[_IndexRow] = []
        try:
            self._boot()
        except BaseException:
            self._db.close()
            self._key.close()
            raise

    # -- boot ------------------------------------------------------------------------------

    def _boot(self) -> None:
        """Repair the folder against the index (`storage.boot`), then audit what was found."""
        found = BootRepair(
            self.records_dir,
            ops=self._ops,
            index=self.index,
            verifier=self._verifier,
            certificate=self._certificate,
            verify_files=self._verify_files,
        ).run()
        self.chain = SealedChain(found.index)
        self.damaged = found.damaged
        self.collection = Collection(
            chain=self.chain,
            receipts=self.receipts,
            index=self.index,
            audit=self.audit,
            records_dir=self.records_dir,
            ops=self._ops,
            damaged_seqs=found.damaged_seqs,
            authority=self.authority,
            kit_id=self.kit_id,
        )
        self.boot_notes += found.notes + self.collection.notes
        for note in self.boot_notes:
            self.audit.append(AuditKind.BOOT_REPAIR, note=note)
        pin_note = self.pin_guard.check()  # audited as pin-guard-tampered
        if pin_note is not None:
            self.boot_notes.append(pin_note)
        for damaged in self.damaged:
            self.audit.append(AuditKind.DAMAGED_RECORD, detail=damaged)
        self.audit_break = self.audit.check()

    # -- what capture reads ----------------------------------------------------------------

    @property
    def training(self) -> bool:
        """Whether this is a simulator's training kit (its certificate says so): what it
        seals is practice, which collectors and the district refuse."""
        return self._verifier.certificate(self._certificate).training

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
        """Whom the kit lists to enrol: the round's people when the round loaded has a list
        (a school's students, a home visit's person), else the worklist of the flash."""
        if self.round is not None and self.round.people:
            return self.round.people
        return self.profile.worklist

    @property
    def election_day(self) -> date | None:
        """The election day first-time voters are counted against: the round's, or without
        one the policy's voter date."""
        if self.round is not None and self.round.plan.election_day is not None:
            return self.round.plan.election_day
        return self.policy.voter_date

    @property
    def last_seq(self) -> int:
        return self.chain.last_seq

    def head(self) -> tuple[int, bytes | None]:
        """The chain's head: the last sequence number and that record's hash (as sealed).

        Live: a record sealed a moment ago by the capture loop is the head at once.
        """
        return self.chain.head()

    def recorded_refs(self) -> RecordedRefs:
        """Worklist references of residents already sealed (`storage.reference.RecordedRefs`),
        those whose index rows still wait for space included."""
        self._index_sealed()
        with self.chain.lock:
            waiting = {row.ref for row in self._unindexed if row.ref is not None}
        return RecordedRefs(
            self.index.recorded_refs() | waiting, self.references, self._worklist_refs()
        )

    def recent(self, limit: int = 10) -> list[tuple[int, str | None]]:
        """The last sealed records (seq, worklist ref) that are not voided, newest first."""
        self._index_sealed()
        recent = self.index.recent(limit)
        names = named(
            (ref for _, ref in recent if ref is not None), self.references, self._worklist_refs()
        )
        return [(seq, names.get(ref, ref) if ref else ref) for seq, ref in recent]

    def _worklist_refs(self) -> Iterator[str | None]:
        people = self.round.people if self.round is not None else ()
        return (resident.worklist_ref for resident in (*self.profile.worklist, *people))

    def clear_journal_if_sealed(self, worklist_ref: str | None) -> bool:
        """Drop the journal when the person it holds (``worklist_ref``) is already sealed.

        A crash between writing a record and clearing the journal leaves a journal of a
        person already sealed: resuming it would record them twice.  True when the journal
        was dropped (and the audit log says so); the caller then offers nothing to resume.
        """
        if worklist_ref is None or worklist_ref not in self.recorded_refs():
            return False
        self.audit.append(AuditKind.JOURNAL_ALREADY_SEALED, ref=worklist_ref)
        self.journal.clear()
        return True

    def sensor_pages(
        self, replace: Mapping[int, tuple[int, int]] | None = None
    ) -> dict[int, tuple[int, int]]:
        """The sensor library's page map (see `storage.state.SqliteIndex.sensor_pages`)."""
        return self.index.sensor_pages(replace)

    def officer_for_page(self, page: int) -> Officer | None:
        return next((o for o in self.profile.officers if page in o.finger_pages), None)

    def check_pin(self, officer_id: str, pin: str) -> Officer | None:
        """The officer if ``pin`` is theirs; None when it is not, or while the kit waits
        after wrong PINs (`storage.pin_guard`: the PIN is then not even tried)."""
        if self.pin_guard.wait_seconds():
            return None
        officer = self.officers.get(officer_id)
        if officer and pins.check_pin(officer, pin):
            self.pin_guard.succeeded()
            return officer
        self.pin_guard.failed(officer_id)
        return None

    def pin_wait(self) -> int:
        """Seconds before the next PIN may be tried (0: now)."""
        return self.pin_guard.wait_seconds()

    def refusal(self) -> str | None:
        """Why no enrolment may start: not enough room for one more record and the reserve.

        When short, first prunes records a collector's receipt covers (that is the moment
        space is needed); refuses only if that does not free enough.
        """
        self._index_sealed()
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

        The record names the round loaded, and the groups its person counts in
        (`storage.groups`): the kit's facts, applied here so that no step can leave them out.

        On WriteError nothing is claimed: the index, the audit log and the next sequence
        number are as before, so sealing again (once the fault is cleared) reuses the seq.
        Once the file is durable the record is sealed, whatever happens next: an index row
        the disk has no room for waits (`_index_sealed`) and never unsays the seal.
        """
        with self.chain.lock:
            seq = self.chain.last_seq + 1
            prev = self.chain.digest(seq - 1) if seq > 1 else record_hash(self._certificate)
            if prev is None:  # boot indexes every seq below the head; never expected
                raise StateError(
                    f"record {seq - 1} is missing from the chain index: restart the kit, "
                    "its boot rebuilds the index from the records"
                )
            sealed_at = self._now()
            enrolment = replace(
                enrolment,
                round=None if self.round is None else self.round.plan.stamp,
                groups=groups_of(enrolment, election_day=self.election_day),
            )
            data = seal_record(
                enrolment,
                kit_id=self.kit_id,
                seq=seq,
                prev_hash=prev,
                sealed_at=sealed_at,
                kit_key=self._key,
                authority=self.authority,
                reference_key=self.references,
            )
            path = self.records_dir / record_name(seq)
            write_atomic(path, data, ops=self._ops)
            digest = record_hash(data)
            self.chain.add(seq, digest)
            self._unindexed.append(
                _IndexRow(
                    seq,
                    digest,
                    len(data),
                    sealed_at.astimezone(UTC).isoformat(),
                    enrolment.officer_id,
                    enrolment.resident.worklist_ref,
                    enrolment.voids,
                    int(enrolment.print_card),
                )
            )
        error = self._index_sealed()
        if error is not None:
            log.error("record %d is saved; its index row waits for space: %s", seq, error)
        return SealedRecord(seq, digest, path, len(data))

    def _index_sealed(self) -> Exception | None:
        """Write the index rows and seal entries of records whose files are durable; the
        error that stopped it, or None when none waits.

        Why they may wait: a record is saved once its file is durable (the write protocol
        above), and the officer is told so; the index row and the audit entry that follow
        can still meet a full disk.  They wait here, in order, and are written at the next
        seal, space check or lookup of who is recorded; a kit that stops first has its boot
        index the record files (`storage.boot`), as after a crash between the two.  The rows
        and their entries are one transaction (`SqliteIndex.put_sealed`): all are written
        or none, so a row is never indexed without its entry.
        """
        with self.chain.lock:
            if not self._unindexed:
                return None
            try:
                self.index.put_sealed(self._unindexed, self.audit)
            except (sqlite3.Error, StorageFull) as exc:
                return exc
            self._unindexed.clear()
        return None

    # -- collection (storage.collection) ----------------------------------------------------

    def collected_up_to(self) -> int:
        """The highest seq a stored receipt covers (0 when nothing was collected)."""
        return self.collection.collected_up_to()

    def record_receipt(self, receipt: bytes) -> Receipt:
        """Keep a collector's signed receipt (see `storage.collection.Collection`)."""
        return self.collection.record_receipt(receipt)

    def prune(self, needed_bytes: int) -> list[int]:
        """Delete record files a receipt covers (see `storage.collection.Collection`)."""
        return self.collection.prune(needed_bytes)

    # -- reporting -------------------------------------------------------------------------

    def _uncollected(self) -> int:
        return self.collection.uncollected()

    def sealed_count(self) -> int:
        return len(self.chain)

    def status(self) -> KitStatus:
        pruned = self.index.pruned_count()
        return KitStatus(
            kit_id=self.kit_id,
            demo=self.profile.demo,
            sealed=self.sealed_count(),
            uncollected=self._uncollected(),
            last_seq=self.last_seq,
            cards=self.ledger.counts(),
            damaged=list(self.damaged),
            audit_break=self.audit_break,
            journal_open=self.journal.load() is not None,
            boot_notes=list(self.boot_notes),
            pruned=pruned,
            key_backend=self.key_backend,
            data_key_backend=self.data_key_backend,
            library_used=len(self.sensor_pages()),
            library_capacity=self.profile.policy.sensor_library_pages
            - len({page for o in self.profile.officers for page in o.finger_pages}),
        )

    def close(self) -> None:
        """Close the state database and the kit key; safe to call twice."""
        with self._lock:
            self._db.close()
            self._key.close()

    def __enter__(self) -> KitStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _reference_key(profile: Profile) -> ReferenceKey:
    """The profile's reference key; a profile flashed before keyed references has none."""
    if not profile.reference_key:
        raise ProfileChanged(
            "the kit profile carries no reference key (it was flashed before record headers "
            f"named residents by keyed references): {FLASH_AGAIN}"
        )
    try:
        return ReferenceKey.from_bytes(profile.reference_key)
    except ReferenceKeyError as exc:
        raise ProfileChanged(
            f"the kit profile's reference key is damaged ({exc}): {FLASH_AGAIN}"
        ) from exc
