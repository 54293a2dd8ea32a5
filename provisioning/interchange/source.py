"""The live records of a collector database or the district store, verified and opened.

Why every value comes from signed bytes: the export hands a person's biometrics to the
national system, whose AFIS blocks the card of anyone recorded twice.  So nothing is taken
from a database column: each chain's kit id and region come from its certificate, each
record is checked by `storage.verify.Verifier` and opened by `storage.record.open_record`
(which refuses a body that does not open or disagrees with its header), and a record is
live only if no verified record of its chain voids it.

A void always names an earlier record of its own chain.  So when record k of a chain is
missing or fails verification, every record before k might have been voided by it: those
are held back and named, never exported on a guess.  (The collector and the district keep
only verified chains from seq 1, so this happens only to a damaged or edited database.)  A
record sealed after its kit's revocation is not such a doubt: a void it held would not be
honoured either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial

from provisioning.collector import CollectorDB
from provisioning.district.store import DistrictStore
from storage.certificate import BadKitId, Certificate, check_kit_id
from storage.errors import RecordError
from storage.keys import Authority
from storage.model import Enrolment
from storage.record import RecordHeader, open_record, record_hash
from storage.revocation import SealedAfterRevocation
from storage.verify import CertificateError, Verifier

#: A chain's record bytes by seq, read afresh at every call (an export reads them twice:
#: to verify every header, then to open the live records one at a time).
RecordReader = Callable[[], Iterable[tuple[int, bytes]]]


@dataclass(frozen=True)
class StoredChain:
    """One kit certificate's chain as a store holds it: the certificate and its records."""

    cert: bytes
    records: RecordReader


@dataclass(frozen=True)
class LiveRecord:
    """A verified, opened record that no record of its chain voids."""

    certificate: Certificate
    header: RecordHeader
    enrolment: Enrolment

    @property
    def folder(self) -> str:
        """The chain's folder in an export: kit id and the certificate's hash, so a kit
        flashed again (a new chain from seq 1) never mixes with its past."""
        return f"{self.certificate.kit_id}-{self.certificate.digest.hex()[:8]}"

    @property
    def reference(self) -> str:
        """The record's name across exports: chain folder and seq, the same every time."""
        return f"{self.folder}-{self.header.seq:08d}"


@dataclass(frozen=True)
class LeftOut:
    """A record (or a whole chain, ``seq`` None) not exported, and why.

    ``problem`` is False for what is meant to stay out (a voided record, the record that
    voids it) and True for what is damaged or cannot be trusted: the export then exits 1.
    """

    kit_id: str
    seq: int | None
    reason: str
    problem: bool

    def __str__(self) -> str:
        what = f"kit {self.kit_id}" + ("" if self.seq is None else f" rekaman {self.seq}")
        return f"{what}: {self.reason}"


def collector_chains(db: CollectorDB) -> list[StoredChain]:
    """The chains of a collector database (`jemput-prov collect`)."""
    return [StoredChain(chain.cert, partial(db.record_bytes, chain)) for chain in db.chains()]


def district_chains(store: DistrictStore) -> list[StoredChain]:
    """The chains of the district store (`jemput-prov sync`)."""
    return [StoredChain(chain.cert, partial(store.record_bytes, chain)) for chain in store.chains()]


@dataclass
class _Verified:
    """A chain's headers that verify, the records that do not, and which of those could
    have been a void that counts."""

    headers: dict[int, RecordHeader]
    failed: list[LeftOut]
    doubtful: set[int]


def _verified(chain: StoredChain, certificate: Certificate, verifier: Verifier) -> _Verified:
    """Every record's header that verifies, and a `LeftOut` for each one that does not.

    A record sealed after its kit was revoked is untrusted, so a void it holds would not be
    honoured either: it leaves no doubt about the records before it.
    """
    found = _Verified({}, [], set())
    for seq, data in chain.records():
        try:
            header = verifier.verify_record(data, certificate)
            if header.seq != seq:
                raise RecordError(f"the row of record {seq} holds record {header.seq}", seq=seq)
        except RecordError as exc:
            reason = f"tidak terverifikasi ({type(exc).__name__}: {exc}); tidak diekspor"
            found.failed.append(LeftOut(certificate.kit_id, seq, reason, problem=True))
            if not isinstance(exc, SealedAfterRevocation):
                found.doubtful.add(seq)
            continue
        found.headers[seq] = header
    return found


def _held_back(kit_id: str, verified: _Verified) -> dict[int, LeftOut]:
    """The verified records a missing or failed record could void, by seq."""
    headers = verified.headers
    unknown = verified.doubtful | (set(range(1, max(headers, default=0) + 1)) - set(headers))
    unknown -= {item.seq for item in verified.failed if item.seq not in verified.doubtful}
    if not unknown:
        return {}
    horizon = max(unknown)
    reason = (
        f"ditahan: rekaman {horizon} tidak ada atau tidak terverifikasi, padahal ia bisa "
        "membatalkan rekaman sebelumnya; periksa basis datanya dengan jemput-prov verify"
    )
    return {seq: LeftOut(kit_id, seq, reason, problem=True) for seq in headers if seq < horizon}


def live_records(
    chain: StoredChain, authority: Authority, verifier: Verifier
) -> Iterator[LiveRecord | LeftOut]:
    """Each record of ``chain`` opened (`LiveRecord`) or named with why it stays out."""
    try:
        certificate = verifier.certificate(chain.cert)
        verifier.refuse_training(certificate)
        check_kit_id(certificate.kit_id)
    except (CertificateError, BadKitId) as exc:
        unknown = f"? (sertifikat {record_hash(chain.cert).hex()[:8]})"
        reason = f"sertifikat kit tidak sah ({exc}); tidak ada rekamannya yang diekspor"
        yield LeftOut(unknown, None, reason, problem=True)
        return
    kit_id = certificate.kit_id
    verified = _verified(chain, certificate, verifier)
    headers = verified.headers
    yield from verified.failed
    held = _held_back(kit_id, verified)
    yield from held.values()
    voided = {h.voids: h.seq for h in headers.values() if h.voids is not None}
    for seq, data in chain.records():
        header = headers.get(seq)
        if header is None or seq in held:
            continue
        if header.voids is not None:
            yield LeftOut(kit_id, seq, f"membatalkan rekaman {header.voids}", problem=False)
        elif seq in voided:
            yield LeftOut(kit_id, seq, f"dibatalkan oleh rekaman {voided[seq]}", problem=False)
        else:
            try:
                enrolment = open_record(data, authority, authority.references)
            except RecordError as exc:
                reason = f"isinya tidak bisa dibuka ({type(exc).__name__}: {exc}); tidak diekspor"
                yield LeftOut(kit_id, seq, reason, problem=True)
                continue
            yield LiveRecord(certificate, header, enrolment)
