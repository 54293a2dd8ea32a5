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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from provisioning.collector import Chain, CollectorDB
from provisioning.collector_audit import audit_database, problems_by_row
from provisioning.district import schema as s
from provisioning.district.arrival import BadLedger, BadReceipt, verify_ledger, verify_receipt
from provisioning.district.errors import LaptopRefused
from provisioning.district.store import DistrictStore, Fork, RecordRow, StoredChain
from storage.certificate import Certificate
from storage.errors import RecordError
from storage.files import record_name
from storage.keys import AuthorityPublic
from storage.model import Resident
from storage.record import RecordHeader, record_hash
from storage.reference import ReferenceKey, resident_key
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


@dataclass
class SyncResult:
    """What one sync did, per chain, plus the worklist lines it registered."""

    source: str
    chains: list[ChainSync] = field(default_factory=list)
    residents: int = 0

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


def resident_rows(
    residents: Iterable[Resident], source: str, references: ReferenceKey
) -> list[dict[str, object]]:
    """Worklist lines as the store registers them: places and a keyed reference only."""
    return [
        {
            "province": s.province_of(r.nik),
            "ref_digest": references.keyed(r.worklist_ref),
            "regency_code": r.nik[:4],
            "regency": r.regency,
            "district": r.district,
            "village": r.village,
            "first_source": source,
        }
        for r in residents
        if r.worklist_ref
    ]


def sync(
    collector: CollectorDB,
    store: DistrictStore,
    authority: AuthorityPublic,
    *,
    references: ReferenceKey,
    source: str,
    worklists: Iterable[tuple[Resident, ...]] = (),
    pushed: Pushed = lambda kit_id, count: None,
    batch: int = BATCH,
) -> SyncResult:
    """Push every verified record, head, ledger and receipt of ``collector`` into ``store``.

    ``references`` is the authority's reference key (`ReferenceKey.load` of its folder).
    LaptopRefused, before anything is written, if ``collector`` fails its audit.
    """
    refuse_unless_audited(collector, authority)
    result = SyncResult(source)
    for residents in worklists:
        result.residents += store.add_residents(resident_rows(residents, source, references))
    signed = _collections(collector)
    for chain in collector.chains():
        done = ChainSync(chain.kit_id)
        result.chains.append(done)
        try:
            verifier = Verifier(authority)
            certificate = verifier.certificate(chain.cert)
            verifier.refuse_training(certificate)  # practice never counts as coverage
        except CertificateError as exc:
            done.problems.append(f"{chain.folder}: {type(exc).__name__}: {exc}")
            continue
        stored = store.add_chain(certificate, source)
        _push_records(
            collector, chain, certificate, store, stored, authority, done, source, pushed, batch,
            references,
        )  # fmt: skip
        held = store.held(stored)
        for ledger, receipt in signed.get(chain.digest, ()):
            _push_ledger(store, stored, certificate, authority, ledger, receipt, held, done, source)
    store.mark_synced(source)
    return result


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


def _collections(collector: CollectorDB) -> dict[bytes, list[tuple[bytes, bytes | None]]]:
    """Per chain (certificate digest), each collection's signed ledger and its receipt.

    Every collection, not only the latest: each is a signed fact about cards.  The audit
    has checked that these columns hold bytes.
    """
    found: dict[bytes, list[tuple[bytes, bytes | None]]] = {}
    for _, chain, _, _, _, signed, receipt, _ in collector.collection_rows():
        found.setdefault(chain, []).append((signed, receipt))
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
    header = record.header
    keyed = resident_key(references, keyed_ref=header.keyed_ref, worklist_ref=header.worklist_ref)
    return RecordRow(
        record.seq,
        record.digest,
        {
            "seq": record.seq,
            "digest": record.digest,
            "data": record.data,
            "sealed_at": header.sealed_at,
            "day": header.sealed_at.date(),
            "region": region,
            "officer": header.officer_id,
            "ref_digest": None if header.walk_in else keyed,
            "walk_in": header.walk_in,
            "excepted": len(header.excepted),
            "voids": header.voids,
            "print_card": header.print_card,
        },
    )


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
    refused = sum(1 for record in prefix if done.fork and record.seq >= done.fork.seq)
    done.already = done.offered - done.new - refused


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
    if at_head is not None and at_head != ledger.head:
        done.problems.append(
            f"{stored.folder}: the kit signed record {ledger.head_seq} as its head, but the "
            "district holds a different one: its chain forked; report the kit"
        )
    done.ledgers += store.add_ledger(stored, ledger, receipt, source)
