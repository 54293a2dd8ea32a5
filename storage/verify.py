"""The one verifier: certificate, signature, header, body binding and chain, in that order.

Every tool that trusts a record (the collector, `jemput-prov verify`, the tests) goes
through `Verifier`, so there is one list of checks to get right; it is written out, in
order, in docs/record-format.md.  It needs only the authority's public keys.  What that
cannot check is the AEAD tag of the body: a verifier without the private key sees that the
body is labelled for this kit and seq and encrypted to this authority, and that the kit
signed it so; only `storage.record.open_record` proves the ciphertext opens under those labels.

Errors are all `RecordError` leaves; they are defined beside the code that raises them and
re-exported here, so callers import them from one place.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from storage.certificate import (
    Certificate,
    CertificateError,
    CertificateExpired,
    CertificateNotYetValid,
    ForeignCertificate,
    MalformedCertificate,
    verify_certificate,
)
from storage.codec import CodecError, Tampered, Truncated
from storage.cose import BadSignature, DecryptError, WrongKey, check_signer
from storage.errors import RecordError
from storage.files import CERTIFICATE_NAME, RECORD_SUFFIX
from storage.keys import AuthorityPublic
from storage.record import (
    BodyMismatch,
    RecordHeader,
    UnsupportedVersion,
    WrongRecipient,
    check_body_binding,
    parse_payload,
    parse_sign1_record,
    record_hash,
)
from storage.revocation import (
    KitRevoked,
    RevocationList,
    RevocationListError,
    SealedAfterRevocation,
    UnprotectedKey,
    load_revocations,
)

__all__ = [
    "BadSignature",
    "BodyMismatch",
    "BrokenChain",
    "CertificateError",
    "CertificateExpired",
    "CertificateNotYetValid",
    "ChainReport",
    "CodecError",
    "DecryptError",
    "ForeignCertificate",
    "KitRevoked",
    "MalformedCertificate",
    "RevocationListError",
    "SealedAfterRevocation",
    "Tampered",
    "TrainingKit",
    "Truncated",
    "UnknownKit",
    "UnprotectedKey",
    "UnsupportedVersion",
    "Verifier",
    "WrongRecipient",
    "check_link",
    "verify_folder",
]


class TrainingKit(CertificateError):
    """A training kit's certificate: its records are practice, refused for coverage."""


class UnknownKit(RecordError):
    """A record signed by, or naming, a kit that the certificate at hand does not cover."""


class BrokenChain(RecordError):
    """Records missing, duplicated, misnamed or not linked by their ``prev`` hashes."""


def check_link(
    header: RecordHeader, certificate: Certificate, previous: bytes | None, *, then: str = ""
) -> None:
    """Raise `BrokenChain` unless record ``header.seq`` links to what comes before it.

    The one chain-link check: every tool that takes a kit's records (this verifier, the
    collector, the district's sync) calls it.  Record N's ``prev`` must be the SHA-256 of
    record N-1's bytes as stored, ``previous`` (`storage.record.record_hash`; None when that
    record is not held); record 1's must be the kit certificate's, and ``previous`` is not
    read.  ``then`` says what to do next, for a tool that can act on it (collect again).
    """
    first = header.seq == 1
    if header.prev != (certificate.digest if first else previous):
        link = "the kit certificate" if first else f"record {header.seq - 1}"
        advice = f": {then}" if then else ""
        raise BrokenChain(f"record {header.seq} does not link to {link}{advice}", seq=header.seq)


@dataclass
class ChainReport:
    """What a kit's records add up to; ``gaps`` are inclusive (first, last) missing seqs."""

    kit_id: str
    count: int = 0
    first: int | None = None
    last: int | None = None
    gaps: list[tuple[int, int]] = field(default_factory=list)
    problems: list[tuple[str, RecordError]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.gaps


def _gaps(seqs: Sequence[int]) -> list[tuple[int, int]]:
    """Missing runs in 1..max(seqs), given sorted distinct ``seqs``."""
    gaps, expected = [], 1
    for seq in seqs:
        if seq > expected:
            gaps.append((expected, seq - 1))
        expected = seq + 1
    return gaps


class Verifier:
    """Checks kit certificates and records against one authority's public keys.

    An authority loaded from its folder brings its revocation list (`storage.revocation`):
    a key-file certificate for a kit certified TPM-keyed is refused, and records a
    revoked kit sealed from the moment of revocation on are named.
    """

    def __init__(self, authority: AuthorityPublic) -> None:
        self.authority = authority
        self.revocations: RevocationList = load_revocations(authority)

    def certificate(self, data: bytes) -> Certificate:
        """A kit certificate signed by this authority (its window is checked per record)."""
        certificate = verify_certificate(data, self.authority, at=None)
        self.revocations.check_certificate(certificate)
        return certificate

    def refuse_revoked(self, certificate: Certificate) -> None:
        """Raise `KitRevoked` if the authority revoked this kit: a collector calls this."""
        self.revocations.check_collectable(certificate)

    def refuse_training(self, certificate: Certificate) -> None:
        """Raise `TrainingKit` for a training kit's certificate: practice never counts as
        coverage, so a collector and the district call this before taking any record."""
        if certificate.training:
            raise TrainingKit(
                f"kit {certificate.kit_id} is a training kit (the simulator's training mode): "
                "its records are practice and never count; collect from a real kit"
            )

    def verify_record(self, data: bytes, certificate: Certificate) -> RecordHeader:
        """Every check one record allows on its own; returns its header if all pass."""
        msg = parse_sign1_record(data)
        try:
            check_signer(msg, certificate.kit_key, kid=certificate.kit_kid)
        except WrongKey as exc:
            raise UnknownKit(
                f"record is signed by key {exc.found}, not by kit {certificate.kit_id} "
                f"({certificate.kit_kid.hex()}): use that kit's certificate"
            ) from exc
        record = parse_payload(msg)
        header = record.header
        if header.kit_id != certificate.kit_id:
            raise UnknownKit(
                f"record {header.seq} names kit {header.kit_id!r} but is signed by kit "
                f"{certificate.kit_id!r}",
                seq=header.seq,
            )
        try:
            certificate.check_time(header.sealed_at)
        except CertificateError as exc:
            raise type(exc)(f"record {header.seq}: {exc}", seq=header.seq) from exc
        self.revocations.check_sealed(header.kit_id, header.sealed_at, seq=header.seq)
        check_body_binding(record, self.authority)
        return header

    def verify_chain(
        self,
        items: Iterable[tuple[str, bytes]],
        certificate_bytes: bytes,
        *,
        verified: Callable[[int, RecordHeader, bytes], None] = lambda index, header, digest: None,
    ) -> ChainReport:
        """Verify named records of one kit as a chain from its certificate, ordered by seq.

        ``verified`` is told each record that passes on its own (its place in ``items``,
        header and SHA-256), so a caller that needs the headers (the collector's audit)
        verifies each record once.
        """
        certificate = self.certificate(certificate_bytes)
        report = ChainReport(kit_id=certificate.kit_id)
        by_seq: dict[int, list[tuple[str, RecordHeader, bytes]]] = {}
        for index, (name, data) in enumerate(items):
            try:
                header = self.verify_record(data, certificate)
            except RecordError as exc:
                report.problems.append((name, exc))
                continue
            stem = PurePath(name).stem
            if stem.isdigit() and int(stem) != header.seq:
                report.problems.append(
                    (name, BrokenChain(f"{name} holds record {header.seq}", seq=header.seq))
                )
            digest = record_hash(data)
            verified(index, header, digest)
            by_seq.setdefault(header.seq, []).append((name, header, digest))
        seqs = sorted(by_seq)
        report.count = len(seqs)
        report.first, report.last = (seqs[0], seqs[-1]) if seqs else (None, None)
        report.gaps = _gaps(seqs)
        for first, last in report.gaps:
            after = by_seq[last + 1][0][0]
            missing = f"record {first}" if first == last else f"records {first}-{last}"
            report.problems.append(
                (after, BrokenChain(f"{missing} missing before {after}", seq=first))
            )
        for seq in seqs:
            entries = by_seq[seq]
            if len(entries) > 1:
                names = ", ".join(name for name, _, _ in entries)
                report.problems.append(
                    (entries[1][0], BrokenChain(f"{names} all claim seq {seq}", seq=seq))
                )
            if seq > 1 and seq - 1 not in by_seq:
                continue  # after a gap, named above
            previous = by_seq[seq - 1][0][2] if seq > 1 else None
            for name, header, _ in entries:
                try:
                    check_link(header, certificate, previous)
                except BrokenChain as exc:
                    report.problems.append((name, exc))
        return report


def verify_folder(path: str | os.PathLike[str], authority_public: AuthorityPublic) -> ChainReport:
    """Verify a kit's ``records/`` folder (or the folder holding it): kit.cert + *.cose."""
    folder = Path(path)
    if (folder / "records").is_dir():
        folder = folder / "records"
    cert_path = folder / CERTIFICATE_NAME
    if not cert_path.is_file():
        raise CertificateError(
            f"{folder} has no {CERTIFICATE_NAME}: copy the kit's certificate beside its records"
        )
    items = [(p.name, p.read_bytes()) for p in sorted(folder.glob("*" + RECORD_SUFFIX))]
    return Verifier(authority_public).verify_chain(items, cert_path.read_bytes())
