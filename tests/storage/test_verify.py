"""The one verifier: every altered byte, missing or swapped record, moved body, bad certificate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from storage.certificate import issue_certificate
from storage.codec import dumps, loads
from storage.cose import sign1
from storage.errors import RecordError
from storage.keys import Authority, KitKey
from storage.model import Enrolment, FingerRecord, Resident
from storage.record import CONTENT_TYPE, open_record, record_hash, seal_record
from storage.verify import (
    BadSignature,
    BodyMismatch,
    BrokenChain,
    CertificateError,
    CertificateExpired,
    CertificateNotYetValid,
    ForeignCertificate,
    MalformedCertificate,
    UnknownKit,
    Verifier,
    WrongRecipient,
    check_link,
    verify_folder,
)
from vocabulary.people import Sex

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)
ENROLMENT = Enrolment(
    resident=Resident("3505010101800001", "AGUS", Sex.MALE, "BLITAR", date(1980, 1, 1)),
    officer_id="OFC-2",
    started_at=START,
    fingers=(FingerRecord(1, image_png=b"png", template=b"t", quality=60),),
)


def new_authority(name: str) -> Authority:
    return Authority(
        name=name,
        demo=True,
        signing=Ed25519PrivateKey.generate(),
        decryption=X25519PrivateKey.generate(),
    )


@dataclass
class Kit:
    """A provisioned kit with a chain of sealed records, for the tests to damage."""

    authority: Authority
    key: KitKey
    cert: bytes
    records: list[bytes]

    def seal(self, seq: int, prev: bytes, *, at: datetime, authority: Authority | None = None):
        return seal_record(
            ENROLMENT,
            kit_id="KIT-9",
            seq=seq,
            prev_hash=prev,
            sealed_at=at,
            kit_key=self.key,
            authority=(authority or self.authority).public,
            reference_key=(authority or self.authority).references,
        )

    def resign(self, data: bytes, change: dict[str, object]) -> bytes:
        fields = loads(loads(data).value[2]) | change
        return sign1(dumps(fields), self.key.private, kid=self.key.kid, content_type=CONTENT_TYPE)

    def items(self, seqs: list[int] | None = None) -> list[tuple[str, bytes]]:
        chosen = seqs or range(1, len(self.records) + 1)
        return [(f"{seq:08d}.cose", self.records[seq - 1]) for seq in chosen]


def make_kit(count: int = 3) -> Kit:
    authority = new_authority("Dukcapil")
    key = KitKey(Ed25519PrivateKey.generate())
    cert = issue_certificate(
        authority,
        kit_id="KIT-9",
        region="3505",
        kit_public=key.public_bytes,
        not_before=START,
        not_after=END,
    )
    kit = Kit(authority, key, cert, [])
    prev = record_hash(cert)
    for seq in range(1, count + 1):
        kit.records.append(kit.seal(seq, prev, at=START + timedelta(days=seq)))
        prev = record_hash(kit.records[-1])
    return kit


@pytest.fixture(scope="module")
def kit() -> Kit:
    return make_kit()


@pytest.fixture(scope="module")
def verifier(kit: Kit) -> Verifier:
    return Verifier(kit.authority.public)


def test_intact_chain_verifies(kit: Kit, verifier: Verifier) -> None:
    report = verifier.verify_chain(list(reversed(kit.items())), kit.cert)
    assert (report.ok, report.kit_id, report.count, report.first, report.last) == (
        True,
        "KIT-9",
        3,
        1,
        3,
    )
    header = verifier.verify_record(kit.records[1], verifier.certificate(kit.cert))
    assert (header.seq, header.prev) == (2, record_hash(kit.records[0]))


def test_every_flipped_byte_is_detected(kit: Kit, verifier: Verifier) -> None:
    certificate = verifier.certificate(kit.cert)
    data = kit.records[0]
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= 0x20
        with pytest.raises(RecordError):
            verifier.verify_record(bytes(damaged), certificate)


def test_every_truncation_is_detected(kit: Kit, verifier: Verifier) -> None:
    certificate = verifier.certificate(kit.cert)
    for length in range(len(kit.records[0])):
        with pytest.raises(RecordError):
            verifier.verify_record(kit.records[0][:length], certificate)


def test_flipped_signature_byte_is_a_bad_signature(kit: Kit, verifier: Verifier) -> None:
    damaged = kit.records[0][:-1] + bytes([kit.records[0][-1] ^ 1])
    with pytest.raises(BadSignature):
        verifier.verify_record(damaged, verifier.certificate(kit.cert))


def test_deleted_record_names_the_missing_seq(kit: Kit, verifier: Verifier) -> None:
    report = verifier.verify_chain(kit.items([1, 3]), kit.cert)
    assert not report.ok
    assert report.gaps == [(2, 2)]
    [(name, error)] = report.problems
    assert name == "00000003.cose"
    assert isinstance(error, BrokenChain)
    assert "record 2 missing" in str(error)
    report = verifier.verify_chain(kit.items([3]), kit.cert)
    assert report.gaps == [(1, 2)]
    assert "records 1-2 missing" in str(report.problems[0][1])


def test_swapped_files_are_named(kit: Kit, verifier: Verifier) -> None:
    items = [("00000001.cose", kit.records[1]), ("00000002.cose", kit.records[0])]
    report = verifier.verify_chain(items + kit.items([3]), kit.cert)
    assert report.gaps == []
    messages = sorted(str(error) for _, error in report.problems)
    assert messages == ["00000001.cose holds record 2", "00000002.cose holds record 1"]
    assert all(isinstance(error, BrokenChain) for _, error in report.problems)


def test_replaced_record_breaks_the_link(kit: Kit, verifier: Verifier) -> None:
    forged = kit.seal(2, b"\0" * 32, at=START + timedelta(days=2))
    items = [*kit.items([1]), ("00000002.cose", forged), *kit.items([3])]
    problems = verifier.verify_chain(items, kit.cert).problems
    assert [(name, str(error)) for name, error in problems] == [
        ("00000002.cose", "record 2 does not link to record 1"),
        ("00000003.cose", "record 3 does not link to record 2"),
    ]


def test_first_record_must_link_to_the_certificate(kit: Kit, verifier: Verifier) -> None:
    other_start = kit.seal(1, b"\1" * 32, at=START + timedelta(days=1))
    [(_, error)] = verifier.verify_chain([("00000001.cose", other_start)], kit.cert).problems
    assert str(error) == "record 1 does not link to the kit certificate"


def test_the_one_link_check_takes_the_certificate_first_then_the_record_before(
    kit: Kit, verifier: Verifier
) -> None:
    certificate = verifier.certificate(kit.cert)
    first, second = (verifier.verify_record(data, certificate) for data in kit.records[:2])
    check_link(first, certificate, None)  # record 1: the certificate, nothing before it
    check_link(second, certificate, record_hash(kit.records[0]))
    stranger = verifier.verify_record(kit.seal(1, b"\1" * 32, at=START), certificate)
    with pytest.raises(BrokenChain, match=r"^record 1 does not link to the kit certificate$"):
        check_link(stranger, certificate, record_hash(kit.records[0]))
    with pytest.raises(BrokenChain, match=r"^record 2 does not link to record 1: collect again$"):
        check_link(second, certificate, record_hash(kit.records[1]), then="collect again")
    with pytest.raises(BrokenChain) as missing:
        check_link(second, certificate, None)  # record 1 is not held
    assert missing.value.seq == 2


def test_two_records_with_one_seq_are_a_fork(kit: Kit, verifier: Verifier) -> None:
    twin = kit.seal(3, record_hash(kit.records[1]), at=START + timedelta(days=9))
    report = verifier.verify_chain([*kit.items(), ("fork.cose", twin)], kit.cert)
    assert [str(error) for _, error in report.problems] == [
        "00000003.cose, fork.cose all claim seq 3"
    ]


def test_body_moved_into_another_record(kit: Kit, verifier: Verifier) -> None:
    donor = loads(loads(kit.records[0]).value[2])["body"]
    moved = kit.resign(kit.records[1], {"body": donor})
    with pytest.raises(BodyMismatch, match="carries the body of record 1"):
        verifier.verify_record(moved, verifier.certificate(kit.cert))


def test_relabelled_moved_body_passes_structure_but_not_opening(kit: Kit, verifier: Verifier):
    """What a verifier without the private key cannot see, open_record does."""
    donor = loads(loads(kit.records[0]).value[2])["body"]
    protected, *rest = donor.value
    relabelled = type(donor)(96, [dumps(loads(protected) | {"seq": 2}), *rest])
    moved = kit.resign(kit.records[1], {"body": relabelled})
    verifier.verify_record(moved, verifier.certificate(kit.cert))
    with pytest.raises(BodyMismatch, match="does not open"):
        open_record(moved, kit.authority)


@pytest.mark.parametrize(
    ("at", "error"),
    [
        (END + timedelta(seconds=1), CertificateExpired),
        (START - timedelta(days=1), CertificateNotYetValid),
    ],
)
def test_record_outside_the_certificate_window(kit: Kit, verifier: Verifier, at, error) -> None:
    data = kit.seal(1, record_hash(kit.cert), at=at)
    with pytest.raises(error, match="record 1: certificate of kit KIT-9") as caught:
        verifier.verify_record(data, verifier.certificate(kit.cert))
    assert caught.value.seq == 1


def test_other_authority(kit: Kit) -> None:
    other = Verifier(new_authority("Other").public)
    with pytest.raises(ForeignCertificate, match="not by authority 'Other'"):
        other.certificate(kit.cert)
    with pytest.raises(ForeignCertificate):
        other.verify_chain(kit.items(), kit.cert)


def test_forged_certificate_with_the_right_kid(kit: Kit, verifier: Verifier) -> None:
    impostor = Authority(
        name="Dukcapil",
        demo=True,
        signing=Ed25519PrivateKey.generate(),
        decryption=X25519PrivateKey.generate(),
    )
    claims = loads(loads(kit.cert).value[2])
    forged = sign1(
        dumps(claims),
        impostor.signing_key,
        kid=kit.authority.kid,
        content_type="application/jemput-kit-cert+cbor",
    )
    with pytest.raises(ForeignCertificate, match="does not verify"):
        verifier.certificate(forged)
    with pytest.raises(MalformedCertificate):
        verifier.certificate(kit.cert[:-3])


def test_body_encrypted_to_another_authority(kit: Kit, verifier: Verifier) -> None:
    data = kit.seal(1, record_hash(kit.cert), at=START, authority=new_authority("Other"))
    with pytest.raises(WrongRecipient):
        verifier.verify_record(data, verifier.certificate(kit.cert))


def test_record_of_another_kit(kit: Kit, verifier: Verifier) -> None:
    stranger = make_kit(1)
    with pytest.raises(UnknownKit, match="not by kit KIT-9"):
        verifier.verify_record(stranger.records[0], verifier.certificate(kit.cert))
    renamed = kit.resign(kit.records[0], {"kit": "KIT-10"})
    with pytest.raises(UnknownKit, match="names kit 'KIT-10'"):
        verifier.verify_record(renamed, verifier.certificate(kit.cert))


def write_folder(folder: Path, kit: Kit) -> None:
    folder.mkdir(parents=True)
    (folder / "kit.cert").write_bytes(kit.cert)
    for name, data in kit.items():
        (folder / name).write_bytes(data)


def test_verify_folder_reads_the_kit_layout(kit: Kit, tmp_path: Path) -> None:
    write_folder(tmp_path / "records", kit)
    assert verify_folder(tmp_path, kit.authority.public).ok
    (tmp_path / "records" / "00000002.cose").unlink()
    report = verify_folder(tmp_path / "records", kit.authority.public)
    assert (report.count, report.gaps) == (2, [(2, 2)])
    (tmp_path / "records" / "kit.cert").unlink()
    with pytest.raises(CertificateError, match=r"no kit\.cert"):
        verify_folder(tmp_path, kit.authority.public)
