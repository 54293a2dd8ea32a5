"""`jemput-prov collect`, `status`, `settime`, `selftest`: the tool's side of a kit's port.

Why collection goes in this order: the kit first signs its head (last seq and hash) with
its ledger and audit log, so the tool knows exactly what it must end up holding; then each
record not yet in the database is fetched in chunks, verified (certificate, signature,
link to the record before it) and committed on its own, so a cut cable loses at most the
record in flight; only when the database holds the whole chain up to the signed head, and
that head extends the one signed at the previous collection, does the tool sign a receipt
that lets the kit free the space.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kitlink import protocol as p
from kitlink.framing import FramedPort
from provisioning.client import KitClient
from provisioning.collector import Chain, CollectorDB, CollectorError, Head
from provisioning.collector_audit import audit_database
from storage.certificate import Certificate
from storage.codec import MAX_BYTES
from storage.errors import RecordError
from storage.keys import Authority
from storage.verify import BrokenChain, Verifier, check_link

DIGEST_BYTES = 32

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


def connect(port: FramedPort, authority: Authority) -> tuple[KitClient, p.Hello, Certificate]:
    """Say hello and trust the kit only through its certificate from this authority."""
    client = KitClient(port, authority)
    hello = client.hello()
    if not hello.provisioned or hello.certificate is None:
        raise p.Refused(p.NOT_PROVISIONED, f"the kit on {port.name} is not flashed: flash it first")
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
    ledger = client.call(p.LEDGER)
    head = head_of(ledger.result)
    _check_extends(db, chain, head)
    held = db.have(chain)
    state = Progress(chain.kit_id, 0, max(head.seq - held, 0), 0)
    progress(state)
    new = 0
    for first in range(held + 1, head.seq + 1, p.LIST_MAX):
        batch = range(first, min(first + p.LIST_MAX, head.seq + 1))
        sizes = sizes_of(client.call(p.LIST, {"from": batch[0], "to": batch[-1]}).result)
        for number in batch:
            if number not in sizes:
                raise BrokenChain(
                    f"kit {chain.kit_id} no longer holds record {number}, which this database "
                    "lacks: collect with the database that collected it before",
                    seq=number,
                )
            data = _fetch(client, number, sizes[number], state, progress)
            header = verifier.verify_record(data, certificate)
            if header.seq != number:
                raise BrokenChain(
                    f"the kit sent record {header.seq} for {number}: {_RETRY}", seq=number
                )
            check_link(header, certificate, db.digest(chain, number - 1), then=_RETRY)
            new += db.add_record(chain, header, data)
            state.done += 1
            progress(state)
    if head.seq and db.digest(chain, head.seq) != head.digest:
        raise BrokenChain(
            f"record {head.seq} differs from the head the kit signed: {_RETRY}", seq=head.seq
        )
    collection = db.add_collection(chain, head, ledger.signed, authority=authority, at=now())
    receipted = False
    if head.seq and head.digest is not None:  # the digest above matched: a non-empty chain
        receipt = p.make_receipt(
            authority, kit_id=chain.kit_id, seq=head.seq, head=head.digest, at=now()
        )
        client.call(p.RECEIPT, {"receipt": receipt})
        db.set_receipt(collection, receipt)
        receipted = True
    return Collected(chain.kit_id, new, db.have(chain), head.seq, state.bytes, receipted)


#: The most records one kit chain may claim: a head beyond it is a lie, not a busy year.
MAX_CHAIN = 10_000_000


def _malformed(op: str, what: str) -> p.MessageError:
    return p.MessageError(f"the kit's {op} answer is malformed ({what}): {_RETRY}")


def head_of(result: Mapping[str, Any]) -> Head:
    """The head in a ledger answer, checked: [seq, SHA-256], or [0, None] before a record."""
    head = result.get("head")
    if not isinstance(head, list | tuple) or len(head) != 2:
        raise _malformed(p.LEDGER, "no [seq, hash] head")
    seq, digest = head
    if type(seq) is not int or not 0 <= seq <= MAX_CHAIN:
        raise _malformed(p.LEDGER, f"head seq {seq!r} is not 0-{MAX_CHAIN}")
    if (seq == 0 and digest is not None) or (
        seq and not (isinstance(digest, bytes) and len(digest) == DIGEST_BYTES)
    ):
        raise _malformed(p.LEDGER, f"head {seq} has no {DIGEST_BYTES}-byte hash")
    return Head(seq, digest)


def sizes_of(result: Mapping[str, Any]) -> dict[int, int]:
    """seq -> size from a list answer, checked: sizes 1 .. the largest record that decodes."""
    rows = result.get("records")
    if not isinstance(rows, list) or len(rows) > p.LIST_MAX:
        raise _malformed(p.LIST, f"records is not a list of at most {p.LIST_MAX}")
    sizes: dict[int, int] = {}
    for row in rows:
        if (
            not isinstance(row, list | tuple)
            or len(row) != 2
            or any(type(value) is not int for value in row)
            or not 0 < row[1] <= MAX_BYTES
        ):
            raise _malformed(p.LIST, f"{row!r} is not [seq, size of 1-{MAX_BYTES} bytes]")
        sizes[row[0]] = row[1]
    return sizes


def _check_extends(db: CollectorDB, chain: Chain, head: Head) -> None:
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


def _fetch(
    client: KitClient,
    seq: int,
    size: int,
    state: Progress,
    progress: Callable[[Progress], None],
) -> bytes:
    parts: list[bytes] = []
    offset = 0
    while offset < size:
        result = client.call(p.GET, {"seq": seq, "offset": offset, "length": p.CHUNK}).result
        chunk = result.get("data")
        if not isinstance(chunk, bytes) or not 0 < len(chunk) <= min(p.CHUNK, size - offset):
            raise _malformed(p.GET, f"record {seq} at {offset}: no chunk of 1-{p.CHUNK} bytes")
        if result.get("seq") != seq or result.get("offset") != offset:
            raise RecordError(f"the kit answered record {seq} out of order: {_RETRY}", seq=seq)
        parts.append(chunk)
        offset += len(chunk)
        state.bytes += len(chunk)
        progress(state)
    return b"".join(parts)


def status(port: FramedPort, authority: Authority) -> dict[str, Any]:
    client, _, _ = connect(port, authority)
    facts = client.call(p.STATUS).result
    if not isinstance(facts.get("kit_id"), str):
        raise _malformed(p.STATUS, "no kit_id")
    return facts


#: The kit's clock as seconds since 1970 must lie within these years to be believed.
CLOCK_YEARS = (2000, 2200)


def set_time(port: FramedPort, authority: Authority, when: datetime) -> datetime:
    client, _, _ = connect(port, authority)
    value = client.call(p.SET_TIME, {"time": p.seconds(when)}).result.get("time")
    low, high = (p.seconds(datetime(year, 1, 1, tzinfo=UTC)) for year in CLOCK_YEARS)
    if type(value) is not int or not low <= value < high:
        raise _malformed(p.SET_TIME, f"time {value!r} is no moment in {CLOCK_YEARS}")
    return p.moment(value)


def selftest(port: FramedPort, authority: Authority) -> list[dict[str, Any]]:
    client, _, _ = connect(port, authority)
    verdicts = client.call(p.SELFTEST).result.get("verdicts")
    if not isinstance(verdicts, list) or not all(
        isinstance(v, dict) and {"device", "ok", "detail"} <= set(v) for v in verdicts
    ):
        raise _malformed(p.SELFTEST, "verdicts are not maps of device, ok, detail")
    return list(verdicts)
