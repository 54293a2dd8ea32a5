"""`jemput-prov sync`: push one laptop's collector database into the district store.

Why the district verifies again: the laptop's database is a file, and what arrives is
trusted only through the authority's keys.  Each record is verified by
`storage.verify.Verifier` against its chain's certificate and must link to the one
before it; only a chain's verified prefix (seq 1 up to the first record with a problem
or a gap) is offered, in seq order, in batches of one
transaction each, so an interrupted sync keeps what it committed and the next one pushes
only the rest.  The store's unique keys decide what is new; a record that differs from
the one held for its kit and seq is a fork: refused, kept in ``forks`` with both sources,
and nothing after it on that chain is taken.

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

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from provisioning.collector import Chain, CollectorDB
from provisioning.collector_audit import audit_database, problems_by_row
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
from storage.errors import RecordError
from storage.files import record_name
from storage.keys import Authority, AuthorityPublic
from storage.model import Resident
from storage.record import RecordHeader, record_hash
from storage.reference import ReferenceKey
from storage.revocation import SealedAfterRevocation
from storage.verify import BrokenChain, CertificateError, Verifier, check_link

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
    refuse_unless_audited(collector, public)
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
        _push_records(
            collector, chain, certificate, store, stored, public, done, source, pushed, batch,
            references,
        )  # fmt: skip
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


def refuse_unless_audited(collector: CollectorDB, authority: AuthorityPublic) -> None:
    """LaptopRefused naming every row of ``collector`` its audit finds a problem with.

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


def _verified_prefix(
    collector: CollectorDB,
    chain: Chain,
    certificate: Certificate,
    verifier: Verifier,
    done: ChainSync,
) -> list[_Verified]:
    """The chain's records from seq 1 up to the first one with a problem or a gap.

    Each record passes `Verifier.verify_record` and must link to the one before it, as
    `provisioning.collect` checks a kit's records on arrival; the header the verifier
    returns is the one stored, so no record is parsed twice.
    """
    prefix: list[_Verified] = []
    previous: bytes | None = None  # record 1 links to the certificate
    records = iter(collector.record_bytes(chain))
    for expected, (seq, data) in enumerate(records, start=1):
        where = f"{chain.folder}/{record_name(seq)}"
        if seq != expected:
            missing = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
            done.problems.append(f"{where}: BrokenChain: record(s) {missing} missing before it")
            break
        try:
            header = verifier.verify_record(data, certificate)
            if header.seq != seq:
                raise BrokenChain(f"holds record {header.seq}", seq=seq)
            check_link(header, certificate, previous)
        except RecordError as exc:
            done.problems.append(f"{where}: {type(exc).__name__}: {exc}")
            if isinstance(exc, SealedAfterRevocation):
                done.problems.extend(_problems_after(records, chain, certificate, verifier))
            break
        previous = record_hash(data)  # what the next record links to
        prefix.append(_Verified(seq, data, header, previous))
    return prefix


def _problems_after(
    records: Iterator[tuple[int, bytes]], chain: Chain, certificate: Certificate, verifier: Verifier
) -> Iterator[str]:
    """Each later record of a revoked kit that fails, named as `verify` names it.

    None of them is taken: they come after the first record the revocation denies.
    """
    for seq, data in records:
        try:
            verifier.verify_record(data, certificate)
        except RecordError as exc:
            yield f"{chain.folder}/{record_name(seq)}: {type(exc).__name__}: {exc}"


def _row(record: _Verified, region: str, references: ReferenceKey) -> RecordRow:
    values = record_values(record.header, record.digest, region, references)
    return RecordRow(record.seq, record.digest, {**values, "data": record.data})


def _push_records(
    collector: CollectorDB,
    chain: Chain,
    certificate: Certificate,
    store: DistrictStore,
    stored: StoredChain,
    authority: AuthorityPublic,
    done: ChainSync,
    source: str,
    pushed: Pushed,
    batch: int,
    references: ReferenceKey,
) -> None:
    prefix = _verified_prefix(collector, chain, certificate, Verifier(authority), done)
    done.offered = len(prefix)
    held = store.held(stored)
    pending: list[RecordRow] = []
    for record in prefix:
        if held.get(record.seq) == record.digest:
            continue
        pending.append(_row(record, stored.region, references))
        if record.seq in held:  # differs from the held record: push up to it, then it forks
            break
    for first in range(0, len(pending), batch):
        rows = pending[first : first + batch]
        new, fork = store.add_records(stored, rows, source)
        done.new += new
        pushed(chain.kit_id, done.new)
        if fork is not None:
            done.fork = fork
            break
    taken = [record for record in prefix if not done.fork or record.seq < done.fork.seq]
    done.already = len(taken) - done.new
    last = taken[-1] if taken else None
    done.head = log.Head(
        stored.digest, stored.kit_id, last.seq if last else 0, last.digest if last else None
    )


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
