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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from provisioning import protocol as p
from provisioning.collector import Chain, CollectorDB, CollectorError, Head
from provisioning.collector_audit import audit_database
from provisioning.framing import FramedPort
from storage.certificate import Certificate
from storage.errors import RecordError
from storage.keys import Authority
from storage.verify import BrokenChain, Verifier

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


def connect(port: FramedPort, authority: Authority) -> tuple[p.KitClient, p.Hello, Certificate]:
    """Say hello and trust the kit only through its certificate from this authority."""
    client = p.KitClient(port, authority)
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
    chain = db.add_chain(certificate)
    ledger = client.call(p.LEDGER)
    seq, digest = ledger.result["head"]
    head = Head(seq, digest)
    _check_extends(db, chain, head)
    held = db.have(chain)
    wanted = list(range(held + 1, head.seq + 1))
    state = Progress(chain.kit_id, 0, len(wanted), 0)
    progress(state)
    new = 0
    verifier = Verifier(authority.public)
    for first in range(0, len(wanted), p.LIST_MAX):
        batch = wanted[first : first + p.LIST_MAX]
        listed = client.call(p.LIST, {"from": batch[0], "to": batch[-1]}).result["records"]
        sizes = {seq: size for seq, size in listed}
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
            before = certificate.digest if number == 1 else db.digest(chain, number - 1)
            if header.prev != before:
                raise BrokenChain(
                    f"record {number} does not link to the one before: {_RETRY}", seq=number
                )
            new += db.add_record(chain, header, data)
            state.done += 1
            progress(state)
    if head.seq and db.digest(chain, head.seq) != head.digest:
        raise BrokenChain(
            f"record {head.seq} differs from the head the kit signed: {_RETRY}", seq=head.seq
        )
    collection = db.add_collection(chain, head, ledger.signed, authority=authority, at=now())
    receipted = False
    if head.seq:
        receipt = p.make_receipt(
            authority, kit_id=chain.kit_id, seq=head.seq, head=head.digest, at=now()
        )
        client.call(p.RECEIPT, {"receipt": receipt})
        db.set_receipt(collection, receipt)
        receipted = True
    return Collected(chain.kit_id, new, db.have(chain), head.seq, state.bytes, receipted)


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
    client: p.KitClient,
    seq: int,
    size: int,
    state: Progress,
    progress: Callable[[Progress], None],
) -> bytes:
    parts: list[bytes] = []
    offset = 0
    while offset < size:
        result = client.call(p.GET, {"seq": seq, "offset": offset, "length": p.CHUNK}).result
        chunk = result["data"]
        if result["seq"] != seq or result["offset"] != offset or not chunk:
            raise RecordError(f"the kit answered record {seq} out of order: {_RETRY}", seq=seq)
        parts.append(chunk)
        offset += len(chunk)
        state.bytes += len(chunk)
        progress(state)
    return b"".join(parts)


def status(port: FramedPort, authority: Authority) -> dict[str, Any]:
    client, _, _ = connect(port, authority)
    return client.call(p.STATUS).result


def set_time(port: FramedPort, authority: Authority, when: datetime) -> datetime:
    client, _, _ = connect(port, authority)
    return p.moment(client.call(p.SET_TIME, {"time": p.seconds(when)}).result["time"])


def selftest(port: FramedPort, authority: Authority) -> list[dict[str, Any]]:
    client, _, _ = connect(port, authority)
    return list(client.call(p.SELFTEST).result["verdicts"])
