"""`jemput-prov collect`, `status`, `settime`, `selftest`: the tool's side of a kit's port,
and `collect --from-card`, the records folder of a kit that no longer answers.

Why collection goes in this order: the kit first signs its head (last seq and hash) with
its ledger and audit log, so the tool knows exactly what it must end up holding; then each
record not yet in the database is fetched in chunks, verified (certificate, signature,
link to the record before it) and committed on its own, so a cut cable loses at most the
record in flight; only when the database holds the whole chain up to the signed head, and
that head extends the one signed at the previous collection, does the tool sign a receipt
that lets the kit free the space.  Just before, it asks the kit's signed `status` (its
software, battery and clock) and keeps it with the collection, for the district's fleet
table (docs/district.md); that statement's fsync makes every record before it durable
(`CollectorDB.add_record`), and it is written before the receipt is sent.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kitlink import messages as m
from kitlink import protocol as p
from kitlink.framing import FramedPort
from kitlink.protocol import Refusal
from provisioning.checks import WrongPath
from provisioning.client import KitClient
from provisioning.collector import Chain, CollectorDB, CollectorError
from provisioning.collector_audit import audit_database
from storage.certificate import Certificate
from storage.codec import MAX_BYTES
from storage.errors import RecordError
from storage.files import CERTIFICATE_NAME, record_files, record_name
from storage.keys import Authority
from storage.layout import RECORDS_FOLDER
from storage.receipt import make_receipt
from storage.verify import BrokenChain, Verifier, check_link

log = logging.getLogger(__name__)

#: The next step after a kit answered what it should not: what was verified is kept.
_RETRY = (
    "no receipt was sent; run collect again, and if it repeats, keep the database and "
    "report the kit"
)


@dataclass
class Progress:
    """How far a collection is: records and bytes fetched of those to fetch."""

    kit_id: str
    done: int
    total: int
    bytes: int


@dataclass(frozen=True)
class Collected:
    """What one collection did."""

    kit_id: str
    new: int
    held: int
    head_seq: int
    bytes: int
    receipted: bool


def connect(port: FramedPort, authority: Authority) -> tuple[KitClient, m.Hello, Certificate]:
    """Say hello and trust the kit only through its certificate from this authority."""
    client = KitClient(port, authority)
    hello = client.hello()
    if not hello.provisioned or hello.certificate is None:
        raise p.Refused(
            Refusal.NOT_PROVISIONED, f"the kit on {port.name} is not flashed: flash it first"
        )
    certificate = Verifier(authority.public).certificate(hello.certificate)
    client.trust(certificate.kit_public)
    return client, hello, certificate


def collect(
    port: FramedPort,
    authority: Authority,
    db: CollectorDB,
    *,
    progress: Callable[[Progress], None] = lambda _: None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Collected:
    """Pull every record the database lacks, verify and keep them, then send a receipt."""
    audit_database(db, authority.public).require_ok()
    client, _, certificate = connect(port, authority)
    verifier = Verifier(authority.public)
    verifier.refuse_revoked(certificate)  # a stolen kit: nothing collected
    verifier.refuse_training(certificate)  # practice: nothing collected
    chain = db.add_chain(certificate)
    ledger = client.call(m.LedgerArgs())
    head = ledger.result.head
    _check_extends(db, chain, head)
    held = db.have(chain)
    state = Progress(chain.kit_id, 0, max(head.seq - held, 0), 0)
    progress(state)
    fetch = _Fetch(client, state, progress)
    new = 0
    for first in range(held + 1, head.seq + 1, m.LIST_MAX):
        batch = range(first, min(first + m.LIST_MAX, head.seq + 1))
        sizes = client.call(m.ListArgs(batch[0], batch[-1])).result.sizes
        for number in batch:
            if number not in sizes:
                raise BrokenChain(
                    f"kit {chain.kit_id} no longer holds record {number}, which this database "
                    "lacks: collect with the database that collected it before",
                    seq=number,
                )
            data = fetch.record(number, sizes[number])
            new += _keep(db, chain, verifier, certificate, number, data, retry=_RETRY)
            state.done += 1
            progress(state)
    if head.seq and db.digest(chain, head.seq) != head.digest:
        raise BrokenChain(
            f"record {head.seq} differs from the head the kit signed: {_RETRY}", seq=head.seq
        )
    # the status last, just before the statement that signs the laptop's time beside it:
    # the kit's clock and the laptop's are read within a second, for the district's drift
    kit_status = client.call(m.StatusArgs())
    collection = db.add_collection(
        chain, head, ledger.signed, authority=authority, at=now(), status=kit_status.signed
    )
    receipted = False
    if head.seq and head.digest is not None:  # the digest above matched: a non-empty chain
        receipt = make_receipt(
            authority, kit_id=chain.kit_id, seq=head.seq, head=head.digest, at=now()
        )
        client.call(m.ReceiptArgs(receipt))
        db.set_receipt(collection, receipt)
        receipted = True
    return Collected(chain.kit_id, new, db.have(chain), head.seq, state.bytes, receipted)


def _keep(
    db: CollectorDB,
    chain: Chain,
    verifier: Verifier,
    certificate: Certificate,
    number: int,
    data: bytes,
    *,
    retry: str,
) -> bool:
    """Verify record ``number`` (certificate, signature, its seq, the link to the record
    before it in ``db``) and keep it; True if it was new.  Records from the port and from
    a card go through here, so both are checked alike; ``retry`` says what to do next."""
    header = verifier.verify_record(data, certificate)
    if header.seq != number:
        raise BrokenChain(f"the kit sent record {header.seq} for {number}: {retry}", seq=number)
    previous = None if number == 1 else db.digest(chain, number - 1)
    check_link(header, certificate, previous, then=retry)
    return db.add_record(chain, header, data)


class CardRecordRefused(RecordError):
    """A file of a records folder from a card that does not verify: it and those after it
    are not stored."""


#: The next step after a card's file failed: what verified before it is kept.
_CARD_RETRY = (
    "copy the records folder from the kit's card again, and if it repeats, keep the card "
    "and report the kit"
)


def collect_card(
    folder: Path,
    authority: Authority,
    db: CollectorDB,
    *,
    progress: Callable[[Progress], None] = lambda _: None,
) -> Collected:
    """Keep the records of a records folder copied from a kit's card, verified as from the
    port (`_keep`); no receipt is sent, since no kit answers.

    Why: a kit whose TPM or board died cannot answer on its port, and its uncollected
    records would stay stranded on its card.  The card's ``records/`` (``kit.cert`` and
    the record files) verifies on its own: the authority's certificate, the kit's
    signatures, the chain from the certificate; the revocation list and the training mark
    are checked as at the port.  What a card cannot give is a head the kit signed, so a
    record cut from the end of the folder goes unseen (docs/provisioning.md).
    """
    audit_database(db, authority.public).require_ok()
    folder = folder / RECORDS_FOLDER if (folder / RECORDS_FOLDER).is_dir() else folder
    if not (folder / CERTIFICATE_NAME).is_file():
        raise WrongPath(
            f"{folder} has no {CERTIFICATE_NAME}: give the records folder copied whole from "
            "the kit's card (DATA/records: kit.cert and the .cose files)"
        )
    verifier = Verifier(authority.public)
    try:
        certificate = verifier.certificate((folder / CERTIFICATE_NAME).read_bytes())
    except RecordError as exc:
        raise CardRecordRefused(f"{CERTIFICATE_NAME}: {exc}; nothing was stored") from exc
    verifier.refuse_revoked(certificate)
    verifier.refuse_training(certificate)
    chain = db.add_chain(certificate)
    files = dict(record_files(folder))
    held = db.have(chain)
    last = max(files, default=held)
    # files the database holds already are checked too: a different one is named (a fork)
    first = min(min(files, default=held + 1), held + 1)
    state = Progress(chain.kit_id, 0, last - first + 1, 0)
    progress(state)
    new = 0
    try:
        for number in range(first, last + 1):
            path = files.get(number)
            try:
                if path is None:
                    if number <= held:
                        continue  # pruned on the kit after an earlier collection
                    raise BrokenChain(
                        "not in the folder, and the database lacks it: copy the whole records "
                        "folder; records the kit pruned were collected before, so collect into "
                        "the database that collected them",
                        seq=number,
                    )
                data = _card_file(path)
                new += _keep(db, chain, verifier, certificate, number, data, retry=_CARD_RETRY)
            except (RecordError, CollectorError) as exc:
                raise CardRecordRefused(
                    f"{record_name(number)}: {exc}; {new} new record(s) before it were stored, "
                    f"none from record {number} on",
                    seq=number,
                ) from exc
            state.done += 1
            state.bytes += len(data)
            progress(state)
    finally:
        db.sync()  # what was stored is durable: no collection statement follows
    return Collected(chain.kit_id, new, db.have(chain), last, state.bytes, receipted=False)


def _card_file(path: Path) -> bytes:
    """A record file's bytes; one that is no regular file, or larger than any record can
    be, is refused before it is read."""
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        raise RecordError("not a regular file (a link or a device): copy the card's files")
    if info.st_size > MAX_BYTES:
        raise RecordError(f"{info.st_size} bytes, more than any record can be")
    return path.read_bytes()


def _check_extends(db: CollectorDB, chain: Chain, head: m.Head) -> None:
    """The kit's signed head must extend the last one: nothing cut from the end."""
    before = db.last_head(chain)
    if before is None:
        return
    if head.seq < before.seq:
        raise CollectorError(
            f"kit {chain.kit_id} now ends at record {head.seq}, but signed record {before.seq} "
            "as its head at the last collection: records were removed from the end"
        )
    if head.seq == before.seq and head.digest != before.digest:
        raise CollectorError(
            f"kit {chain.kit_id} signs a different record {head.seq} as its head than at the "
            "last collection: its chain was rewritten"
        )


@dataclass
class _Fetch:
    """Records from the kit in pieces of ``length`` bytes, counted into ``state``.

    Why a length that can shrink: a kit of an earlier release serves a ``get`` of at most
    `m.CHUNK` bytes and refuses a longer one as a bad request; the tool then asks it
    `m.CHUNK` at a time for the rest of the collection.  A refusal spends nothing the
    next request needs (the client says hello again for a fresh nonce).
    """

    client: KitClient
    state: Progress
    progress: Callable[[Progress], None]
    length: int = m.GET_MAX

    def record(self, seq: int, size: int) -> bytes:
        """Record ``seq``'s ``size`` bytes, each piece checked against what was asked."""
        parts: list[bytes] = []
        offset = 0
        while offset < size:
            chunk = self._piece(seq, offset)
            if len(chunk.data) > min(size - offset, self.length):
                raise p.MessageError(
                    f"the kit's get answer is malformed (record {seq} at {offset}: "
                    f"{len(chunk.data)} bytes where {size - offset} remain and "
                    f"{self.length} were asked): {_RETRY}"
                )
            if chunk.seq != seq or chunk.offset != offset:
                raise RecordError(f"the kit answered record {seq} out of order: {_RETRY}", seq=seq)
            parts.append(chunk.data)
            offset += len(chunk.data)
            self.state.bytes += len(chunk.data)
            self.progress(self.state)
        return b"".join(parts)

    def _piece(self, seq: int, offset: int) -> m.GetResult:
        try:
            return self.client.call(m.GetArgs(seq, offset, self.length)).result
        except p.Refused as exc:
            if exc.code is not Refusal.BAD_REQUEST or self.length <= m.CHUNK:
                raise
            log.info("the kit refused a get of %d bytes (%s); asking %d", self.length, exc, m.CHUNK)
        self.length = m.CHUNK
        return self.client.call(m.GetArgs(seq, offset, self.length)).result


def status(port: FramedPort, authority: Authority) -> m.StatusResult:
    client, _, _ = connect(port, authority)
    return client.call(m.StatusArgs()).result


def set_time(port: FramedPort, authority: Authority, when: datetime) -> datetime:
    client, _, _ = connect(port, authority)
    return client.call(m.SetTimeArgs(when)).result.time


def selftest(port: FramedPort, authority: Authority) -> tuple[m.Verdict, ...]:
    client, _, _ = connect(port, authority)
    return client.call(m.SelftestArgs()).result.verdicts
