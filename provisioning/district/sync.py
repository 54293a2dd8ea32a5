"""`jemput-prov sync`: push one laptop's collector database into the district store.

Why the district verifies again: the laptop's database is a file, and what arrives is
trusted only through the authority's keys.  The laptop's audit (below) verifies each
record by `storage.verify.Verifier` against its chain's certificate and its link to the
one before; sync keeps each verified header and SHA-256, reads the records again a batch
at a time, and takes a record only if its bytes hash to what was verified (the file did
not change between), so no record is verified twice and none is held longer than its
batch.  A chain is offered from seq 1 in seq order, up to the first record the
authority's revocation list denies, in batches of one transaction each, so an interrupted
sync keeps what it committed and the next one pushes only the rest.  On PostgreSQL a batch
is inserted in a thread while the next one is read and built: the server's work overlaps
the laptop's, and at most two batches are in memory.

The store's unique keys decide what is new; a record that differs from the one held for
its kit and seq is a fork: refused, kept in ``forks`` with both sources, and nothing after
it on that chain is taken.

Before anything is pushed the whole laptop database must pass the collector's own audit
(`provisioning.collector_audit`): a database with an edited, removed or unsigned row is
refused whole, naming the rows, because what is missing from it cannot be told from
what verifies.  The authority's revocation list is the one thing applied per record
instead: records a revoked kit sealed from the moment of revocation on are named and not
taken, and the laptop's other kits sync as usual.

The store matches records to worklist lines by keyed reference (`storage.reference`): a
record of format 3 carries one in its signed header, a record of format 1 or 2 and every
worklist line is keyed here with the authority's reference key.  The store never holds a
plain reference, nor an unkeyed hash of one (which the NIK space is small enough to
reverse); a keyed reference made under another authority's key matches nobody.

Every sync ends by appending a statement to the store's sync log, signed with the
authority's key (`provisioning.district.sync_log`): the head it left each chain at, the
ledgers it kept, the worklists it registered, the forks it met.  The audit
(`provisioning.district.audit`) then finds rows removed whole, which no kit's signature
would show.  A ledger is kept only when the store holds the record the kit signed as its
head, so every ledger kept can be checked against the chain.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from provisioning.collector import Chain, CollectorDB
from provisioning.collector_audit import DatabaseAudit, audit_database, problems_by_row
from provisioning.district import sync_log as log
from provisioning.district.arrival import (
    BadLedger,
    BadReceipt,
    BadStatus,
    verify_ledger,
    verify_receipt,
    verify_status,
)
from provisioning.district.errors import LaptopRefused
from provisioning.district.rows import record_values
from provisioning.district.store import DistrictStore, Fork, RecordRow, StoredChain
from provisioning.district.worklists import Registered, Registering, register
from storage.certificate import Certificate
from storage.files import record_name
from storage.keys import Authority, AuthorityPublic
from storage.model import Resident
from storage.record import RecordHeader, record_hash
from storage.reference import ReferenceKey
from storage.revocation import SealedAfterRevocation
from storage.verify import CertificateError, Verifier

#: Records per transaction: big enough to amortise a round trip, small enough to resume.
BATCH = 500


@dataclass
class ChainSync:
    """What one chain of the laptop brought."""

    kit_id: str
    offered: int = 0
    new: int = 0
    already: int = 0
    ledgers: int = 0
    fork: Fork | None = None
    problems: list[str] = field(default_factory=list)
    #: Where the store holds the chain from seq 1 after this sync, for its statement.
    head: log.Head | None = None
    #: The kit's ledgers the store holds after this sync, for its statement.
    kept: list[log.KeptLedger] = field(default_factory=list)
    #: The kit's statuses at collections the store holds after this sync, likewise.
    statuses: list[log.KeptStatus] = field(default_factory=list)


@dataclass
class SyncResult:
    """What one sync did, per chain, plus the worklists it registered."""

    source: str
    chains: list[ChainSync] = field(default_factory=list)
    worklists: list[Registered] = field(default_factory=list)
    #: The number of this sync's statement in the store's sync log.
    statement: int = 0

    @property
    def residents(self) -> int:
        """Worklist lines this sync registered (not those the store held already)."""
        return sum(worklist.new for worklist in self.worklists)

    @property
    def new(self) -> int:
        return sum(chain.new for chain in self.chains)

    @property
    def forks(self) -> list[Fork]:
        return [chain.fork for chain in self.chains if chain.fork is not None]

    @property
    def problems(self) -> list[str]:
        return [problem for chain in self.chains for problem in chain.problems]

    @property
    def ok(self) -> bool:
        return not self.forks and not self.problems


Pushed = Callable[[str, int], None]


def sync(
    collector: CollectorDB,
    store: DistrictStore,
    authority: Authority,
    *,
    references: ReferenceKey,
    source: str,
    worklists: Iterable[Sequence[Resident]] = (),
    pushed: Pushed = lambda kit_id, count: None,
    registering: Registering = lambda digest, lines: None,
    batch: int = BATCH,
) -> SyncResult:
    """Push every verified record, head, ledger and receipt of ``collector`` into ``store``,
    register ``worklists``, and sign the sync's statement into the store's log.

    ``authority`` holds the private keys (the statement is signed with its signing key);
    ``references`` is its reference key (`ReferenceKey.load` of its folder).
    LaptopRefused, before anything is written, if ``collector`` fails its audit.
    """
    public = authority.public
    audited = refuse_unless_audited(collector, public)
    result = SyncResult(source)
    for residents in worklists:
        result.worklists.append(register(store, residents, references, progress=registering))
    signed = _collections(collector)
    for chain in collector.chains():
        done = ChainSync(chain.kit_id)
        result.chains.append(done)
        try:
            verifier = Verifier(public)
            certificate = verifier.certificate(chain.cert)
            verifier.refuse_training(certificate)  # practice never counts as coverage
        except CertificateError as exc:
            done.problems.append(f"{chain.folder}: {type(exc).__name__}: {exc}")
            continue
        stored = store.add_chain(certificate, source)
        verified = audited.verified.get(chain.digest, {})
        with closing(_offered(collector, chain, verified, verifier, done)) as offered:
            _push_records(offered, store, stored, done, source, pushed, batch, references)
        held = store.held(stored)
        for collection in signed.get(chain.digest, ()):
            _push_ledger(
                store, stored, certificate, public, collection.ledger, collection.receipt, held,
                done, source,
            )  # fmt: skip
            if collection.status is not None:
                _push_status(
                    store, stored, certificate, public, collection.status, collection.statement,
                    done, source,
                )  # fmt: skip
    result.statement = store.append_statement(
        lambda index, prev: log.sign_statement(authority, _statement(result, index, prev))
    )
    return result


def _statement(result: SyncResult, index: int, prev: bytes) -> log.SyncStatement:
    """What ``result`` leaves in the store, as the sync log's statement ``index``."""
    return log.SyncStatement(
        index=index,
        prev=prev,
        at=datetime.now(UTC),
        source=result.source,
        heads=tuple(chain.head for chain in result.chains if chain.head is not None),
        ledgers=tuple(kept for chain in result.chains for kept in chain.kept),
        worklists=tuple(log.Worklist(w.digest, w.lines) for w in result.worklists),
        forks=tuple(log.ForkMet(f.chain, f.seq, f.offered_digest) for f in result.forks),
        statuses=tuple(kept for chain in result.chains for kept in chain.statuses),
    )


def refuse_unless_audited(collector: CollectorDB, authority: AuthorityPublic) -> DatabaseAudit:
    """The audit of ``collector``, or LaptopRefused naming every row it finds a problem with.

    The audit asks whether the file is what the collector wrote, so it runs against the
    authority's keys alone: a revocation is the authority's later verdict on a kit, not
    an edit of the file, and `sync` applies it record by record.
    """
    audit = audit_database(collector, replace(authority, folder=None))
    if audit.problems:
        raise LaptopRefused(
            f"{collector.path} fails verification ({len(audit.problems)} problem(s)): nothing "
            "of it is synced; keep the file, and collect the kits again into a new database",
            list(problems_by_row(audit)),
        )
    return audit


@dataclass(frozen=True)
class _Collection:
    """One collection as the laptop kept it: the kit's signed ledger, the receipt, the
    kit's signed status (None before statuses were kept) and the collector's statement."""

    ledger: bytes
    receipt: bytes | None
    status: bytes | None
    statement: bytes


def _collections(collector: CollectorDB) -> dict[bytes, list[_Collection]]:
    """Per chain (certificate digest), each collection's signed bytes.

    Every collection, not only the latest: each is a signed fact about cards, and its
    status one about the kit.  The audit has checked that these columns hold bytes.
    """
    found: dict[bytes, list[_Collection]] = {}
    for _, chain, _, _, _, signed, receipt, statement, status in collector.collection_rows():
        found.setdefault(chain, []).append(_Collection(signed, receipt, status, statement))
    return found


@dataclass(frozen=True)
class _Verified:
    seq: int
    data: bytes
    header: RecordHeader
    digest: bytes


def _offered(
    collector: CollectorDB,
    chain: Chain,
    verified: dict[int, tuple[RecordHeader, bytes]],
    verifier: Verifier,
    done: ChainSync,
) -> Generator[_Verified]:
    """The chain's records from seq 1, streamed, up to the first a revocation denies.

    Each was verified and linked by the laptop's audit just before (``verified``: its
    header and SHA-256 by seq), so it is not verified again: its bytes, read again here,
    must hash to what the audit verified (or the file changed since, and the chain stops),
    and the authority's revocation list is applied to its signed header.
    """
    records = iter(collector.record_bytes(chain))
    for expected, (seq, data) in enumerate(records, start=1):
        where = f"{chain.folder}/{record_name(seq)}"
        header, digest = verified.get(seq, (None, None))
        if seq != expected or header is None or record_hash(data) != digest:
            done.problems.append(
                f"{where}: the laptop's database changed since its audit: sync it again"
            )
            return
        try:
            verifier.revocations.check_sealed(header.kit_id, header.sealed_at, seq=seq)
        except SealedAfterRevocation as exc:
            done.problems.append(f"{where}: {type(exc).__name__}: {exc}")
            done.problems.extend(_problems_after(records, chain, verified, verifier))
            return
        yield _Verified(seq, data, header, digest)


def _problems_after(
    records: Iterator[tuple[int, bytes]],
    chain: Chain,
    verified: dict[int, tuple[RecordHeader, bytes]],
    verifier: Verifier,
) -> Iterator[str]:
    """Each later record of a revoked kit that the revocation denies, named as `verify`
    names it.  None of them is taken: they come after the first record it denies."""
    for seq, _ in records:
        header, _ = verified.get(seq, (None, None))
        if header is None:
            continue  # none is taken either way; the file changed since its audit
        try:
            verifier.revocations.check_sealed(header.kit_id, header.sealed_at, seq=seq)
        except SealedAfterRevocation as exc:
            yield f"{chain.folder}/{record_name(seq)}: {type(exc).__name__}: {exc}"


def _row(record: _Verified, region: str, references: ReferenceKey) -> RecordRow:
    values = record_values(record.header, record.digest, region, references)
    return RecordRow(record.seq, record.digest, {**values, "data": record.data})


def _batches(
    offered: Iterator[_Verified],
    held: dict[int, bytes],
    region: str,
    references: ReferenceKey,
    batch: int,
    counted: list[tuple[int, bytes]],
) -> Iterator[list[RecordRow]]:
    """The rows the store does not hold yet, ``batch`` at a time, ending with the first
    that differs from the one held at its seq (it forks); each record offered is put in
    ``counted`` (its seq and SHA-256) as it is read."""
    rows: list[RecordRow] = []
    for record in offered:
        counted.append((record.seq, record.digest))
        if held.get(record.seq) == record.digest:
            continue
        rows.append(_row(record, region, references))
        if record.seq in held:  # differs from the held record: push up to it, then it forks
            break
        if len(rows) == batch:
            yield rows
            rows = []
    if rows:
        yield rows


def _push_records(
    offered: Iterator[_Verified],
    store: DistrictStore,
    stored: StoredChain,
    done: ChainSync,
    source: str,
    pushed: Pushed,
    batch: int,
    references: ReferenceKey,
) -> None:
    """Insert the records ``offered`` the store lacks, a batch per transaction, the next
    batch read while one is inserted; stop at a fork (the rest are still counted)."""
    counted: list[tuple[int, bytes]] = []
    batches = _batches(offered, store.held(stored), stored.region, references, batch, counted)
    insert = functools.partial(store.add_records, stored, source=source)
    with closing(pipelined(batches, insert, threaded=store.concurrent)) as results:
        for new, fork in results:
            done.new += new
            pushed(stored.kit_id, done.new)
            if fork is not None:
                done.fork = fork
                break
    counted.extend((record.seq, record.digest) for record in offered)
    done.offered = len(counted)
    taken = [(seq, digest) for seq, digest in counted if not done.fork or seq < done.fork.seq]
    done.already = len(taken) - done.new
    seq, digest = taken[-1] if taken else (0, None)
    done.head = log.Head(stored.digest, stored.kit_id, seq, digest)


def pipelined(
    batches: Iterable[list[RecordRow]],
    insert: Callable[[list[RecordRow]], tuple[int, Fork | None]],
    *,
    threaded: bool,
) -> Generator[tuple[int, Fork | None]]:
    """What ``insert`` returns for each of ``batches``, in order; ``threaded``, each is
    inserted in a thread of its own while the next is read and built, so the database's
    work overlaps the laptop's.  Never more than one batch in the database's hands and one
    being built: memory is two batches, whatever the chain's length.  A consumer that
    stops (a fork) stops it before the next batch is inserted.
    """
    if not threaded:
        yield from map(insert, batches)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-insert") as pool:
        inserting: Future[tuple[int, Fork | None]] | None = None
        for rows in batches:
            if inserting is not None:
                yield inserting.result()
            inserting = pool.submit(insert, rows)
        if inserting is not None:
            yield inserting.result()


def _push_ledger(
    store: DistrictStore,
    stored: StoredChain,
    certificate: Certificate,
    authority: AuthorityPublic,
    signed: bytes,
    receipt: bytes | None,
    held: dict[int, bytes],
    done: ChainSync,
    source: str,
) -> None:
    try:
        ledger = verify_ledger(signed, certificate)
    except BadLedger as exc:
        done.problems.append(f"{stored.folder}: {exc}")
        return
    if receipt is not None:
        try:
            verify_receipt(receipt, authority, ledger, stored.kit_id)
        except BadReceipt as exc:
            done.problems.append(f"{stored.folder}: {exc}; the ledger is kept without it")
            receipt = None
    at_head = held.get(ledger.head_seq)
    if ledger.head_seq and at_head != ledger.head:
        why = (
            "the office store holds a different one: its chain forked; report the kit"
            if at_head is not None
            else "the office store holds no such record of it (see the problems above)"
        )
        done.problems.append(
            f"{stored.folder}: the kit signed record {ledger.head_seq} as its head, but "
            f"{why}; the ledger is not kept"
        )
        return
    added, receipt = store.add_ledger(stored, ledger, receipt, source)
    done.ledgers += added
    done.kept.append(
        log.KeptLedger(
            stored.digest,
            record_hash(ledger.signed),
            None if receipt is None else record_hash(receipt),
        )
    )


def _push_status(
    store: DistrictStore,
    stored: StoredChain,
    certificate: Certificate,
    authority: AuthorityPublic,
    status: bytes,
    statement: bytes,
    done: ChainSync,
    source: str,
) -> None:
    """Keep the kit's ``status`` at a collection once the kit's signature and the
    authority's on the collection's ``statement`` vouch for it (the fleet table)."""
    try:
        kept = verify_status(status, statement, certificate, authority)
    except BadStatus as exc:
        done.problems.append(f"{stored.folder}: {exc}")
        return
    store.add_status(stored, kept, source)
    done.statuses.append(log.KeptStatus(stored.digest, record_hash(kept.signed)))
