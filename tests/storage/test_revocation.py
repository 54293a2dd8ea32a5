"""The authority's signed revocation list, applied by the one verifier."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from storage.certificate import certify_kit
from storage.cose import Es256Signer
from storage.files import CERTIFICATE_NAME, record_name
from storage.keys import Authority, AuthorityPublic, KeyBackend, KitKey, kid_of, p256_public_bytes
from storage.record import record_hash, seal_record
from storage.revocation import (
    REVOCATIONS_FILE,
    RevocationListError,
    list_path,
    load_revocations,
    register_hardware_kit,
    revoke,
)
from storage.verify import (
    KitRevoked,
    SealedAfterRevocation,
    UnprotectedKey,
    Verifier,
    verify_folder,
)
from tests.storage.conftest import enrolment

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
KIT_ID = "KIT-3505-07"


class SoftTpmKey:
    """A P-256 key certified as TPM-held (the ES256 path without a TPM, for list rules)."""

    alg = Es256Signer.alg
    backend = KeyBackend.TPM

    def __init__(self) -> None:
        self._signer = Es256Signer(ec.generate_private_key(ec.SECP256R1()))
        self.public_bytes = p256_public_bytes(self._signer.key.public_key())
        self.kid = kid_of(self.public_bytes)

    def sign(self, data: bytes) -> bytes:
        return self._signer.sign(data)

    def close(self) -> None:
        """Nothing to release: a key in memory."""


def kit_folder(tmp: Path, authority: Authority, key: KitKey | SoftTpmKey, hours: int = 3) -> Path:
    """A kit's records folder: records sealed at T0, T0+1h, ... by ``key``."""
    folder = tmp / "kit" / "records"
    folder.mkdir(parents=True)
    cert = certify_kit(
        authority,
        kit_id=KIT_ID,
        region="3505",
        kit_public=key.public_bytes,
        now=T0,
        alg=key.alg,
        backend=key.backend,
    )
    (folder / CERTIFICATE_NAME).write_bytes(cert)
    prev = record_hash(cert)
    for seq in range(1, hours + 1):
        data = seal_record(
            enrolment(seq),
            kit_id=KIT_ID,
            seq=seq,
            prev_hash=prev,
            sealed_at=T0 + timedelta(hours=seq - 1),
            kit_key=key,
            authority=authority.public,
            reference_key=authority.references,
        )
        (folder / record_name(seq)).write_bytes(data)
        prev = record_hash(data)
    return folder


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return Authority.init(tmp_path / "authority", name="Dukcapil Blitar")


def public(tmp_path: Path) -> AuthorityPublic:
    return AuthorityPublic.load(tmp_path / "authority")


def test_records_sealed_from_the_revocation_on_are_named(
    tmp_path: Path, authority: Authority
) -> None:
    folder = kit_folder(tmp_path, authority, KitKey(Ed25519PrivateKey.generate()))
    assert verify_folder(folder, public(tmp_path)).ok
    revoke(
        tmp_path / "authority",
        authority,
        kit_id=KIT_ID,
        since=T0 + timedelta(hours=1),
        reason="stolen at Pasar Wlingi",
        now=T0 + timedelta(days=1),
    )
    report = verify_folder(folder, public(tmp_path))
    named = {name: exc for name, exc in report.problems if isinstance(exc, SealedAfterRevocation)}
    assert sorted(named) == [record_name(2), record_name(3)]
    assert "stolen at Pasar Wlingi" in str(named[record_name(2)])
    assert named[record_name(3)].seq == 3
    assert report.first == 1  # record 1, sealed before, still verifies


def test_the_list_file_is_signed_private_and_grows_its_serial(
    tmp_path: Path, authority: Authority
) -> None:
    directory = tmp_path / "authority"
    first = revoke(directory, authority, kit_id="A", since=T0, reason="lost", now=T0)
    second = revoke(directory, authority, kit_id="B", since=T0, reason="stolen", now=T0)
    assert (first.serial, second.serial) == (1, 2)
    assert sorted(second.revoked) == ["A", "B"]
    assert stat.S_IMODE(list_path(directory).stat().st_mode) == 0o600
    assert load_revocations(public(tmp_path)) == second


def test_revoking_again_never_moves_the_moment_later(tmp_path: Path, authority: Authority) -> None:
    directory = tmp_path / "authority"
    revoke(directory, authority, kit_id=KIT_ID, since=T0, reason="lost", now=T0)
    later = revoke(
        directory, authority, kit_id=KIT_ID, since=T0 + timedelta(days=2), reason="x", now=T0
    )
    assert later.revoked[KIT_ID].since == T0
    earlier = revoke(
        directory, authority, kit_id=KIT_ID, since=T0 - timedelta(days=1), reason="y", now=T0
    )
    assert earlier.revoked[KIT_ID].since == T0 - timedelta(days=1)


def test_a_time_without_offset_is_refused_and_nothing_written(
    tmp_path: Path, authority: Authority
) -> None:
    with pytest.raises(ValueError, match="no timezone"):
        revoke(
            tmp_path / "authority",
            authority,
            kit_id=KIT_ID,
            since=datetime(2026, 3, 2, 8, 0),
            reason="lost",
            now=T0,
        )
    assert not list_path(tmp_path / "authority").exists()


@pytest.mark.parametrize("damage", ["flip", "foreign", "garbage"])
def test_a_damaged_or_foreign_list_stops_verification(
    tmp_path: Path, authority: Authority, damage: str
) -> None:
    directory = tmp_path / "authority"
    revoke(directory, authority, kit_id=KIT_ID, since=T0, reason="lost", now=T0)
    path = directory / REVOCATIONS_FILE
    if damage == "flip":
        data = bytearray(path.read_bytes())
        data[-1] ^= 1
        path.write_bytes(bytes(data))
    elif damage == "foreign":  # an un-revoking list, signed by someone else
        other = Authority.init(tmp_path / "other", name="Other")
        revoke(tmp_path / "other", other, kit_id="NONE", since=T0, reason="x", now=T0)
        path.write_bytes((tmp_path / "other" / REVOCATIONS_FILE).read_bytes())
    else:
        path.write_bytes(b"\x00\x01")
    with pytest.raises(RevocationListError, match=r"restore revocations\.cose"):
        Verifier(public(tmp_path))


def test_collecting_from_a_revoked_kit_is_refused_with_what_to_do(
    tmp_path: Path, authority: Authority
) -> None:
    folder = kit_folder(tmp_path, authority, KitKey(Ed25519PrivateKey.generate()), hours=1)
    certificate_bytes = (folder / CERTIFICATE_NAME).read_bytes()
    verifier = Verifier(public(tmp_path))
    verifier.refuse_revoked(verifier.certificate(certificate_bytes))  # not revoked: fine
    revoke(tmp_path / "authority", authority, kit_id=KIT_ID, since=T0, reason="stolen", now=T0)
    verifier = Verifier(public(tmp_path))
    with pytest.raises(KitRevoked, match="nothing is collected from it"):
        verifier.refuse_revoked(verifier.certificate(certificate_bytes))


def test_a_key_file_certificate_for_a_tpm_kit_is_refused(
    tmp_path: Path, authority: Authority
) -> None:
    register_hardware_kit(tmp_path / "authority", authority, kit_id=KIT_ID, now=T0)
    downgraded = kit_folder(tmp_path, authority, KitKey(Ed25519PrivateKey.generate()))
    with pytest.raises(UnprotectedKey, match="certified with its key in a TPM"):
        Verifier(public(tmp_path)).certificate((downgraded / CERTIFICATE_NAME).read_bytes())
    without_list = AuthorityPublic.from_cbor(authority.public.to_cbor())  # e.g. a kit's profile
    assert Verifier(without_list).certificate((downgraded / CERTIFICATE_NAME).read_bytes())


def test_a_tpm_certificate_for_a_tpm_kit_verifies(tmp_path: Path, authority: Authority) -> None:
    register_hardware_kit(tmp_path / "authority", authority, kit_id=KIT_ID, now=T0)
    folder = kit_folder(tmp_path, authority, SoftTpmKey())
    report = verify_folder(folder, public(tmp_path))
    assert report.ok and report.count == 3


def test_a_kits_own_profile_authority_has_no_list(tmp_path: Path, authority: Authority) -> None:
    revoke(tmp_path / "authority", authority, kit_id=KIT_ID, since=T0, reason="lost", now=T0)
    from_profile = AuthorityPublic.from_cbor(authority.public.to_cbor())
    assert from_profile == public(tmp_path) and from_profile.folder is None
    assert load_revocations(from_profile).revoked == {}
