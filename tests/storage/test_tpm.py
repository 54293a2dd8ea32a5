"""The TPM backend on a real swtpm: a kit key made in the TPM signs records that verify, and
what is left on the SD card signs nothing anywhere else."""

from __future__ import annotations

import stat
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from storage.certificate import certify_kit
from storage.codec import dumps, loads
from storage.cose import (
    HDR_ALG,
    TAG_SIGN1,
    BadSignature,
    Es256Signer,
    SignAlg,
    parse_sign1,
    sign1,
    verify_sign1,
)
from storage.errors import KeyFileError
from storage.files import CERTIFICATE_NAME, record_name
from storage.keys import KeyBackend, KitKey
from storage.model import Enrolment, FingerRecord, Resident
from storage.record import CONTENT_TYPE, open_record, record_hash, seal_record
from storage.tpm import Tpm, TpmError, TpmKeyBlob, TpmKitKey
from storage.verify import UnknownKit, Verifier, verify_folder
from tests.storage.conftest import AUTHORITY, provision_tpm_kit
from tests.swtpm import SoftwareTpm
from vocabulary.people import Sex

NOW = datetime(2025, 6, 2, 8, 30, tzinfo=UTC)
KIT_ID = "JMP-3505-0042"
ENROLMENT = Enrolment(
    resident=Resident("3505014501900001", "SITI", Sex.FEMALE, "BLITAR", date(1990, 1, 5)),
    officer_id="OFC-1",
    started_at=NOW,
    face_jpeg=b"\xff\xd8 face \xff\xd9",
    fingers=(FingerRecord(1, image_png=b"\x89PNG", template=b"tpl", quality=70),),
)


def seal_chain(key: TpmKitKey | KitKey, folder: Path, count: int) -> bytes:
    """Certify ``key`` for KIT_ID and seal ``count`` records into ``folder``; the cert back."""
    cert = certify_kit(
        AUTHORITY,
        kit_id=KIT_ID,
        region="3505",
        kit_public=key.public_bytes,
        now=NOW,
        alg=key.alg,
        backend=key.backend,
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CERTIFICATE_NAME).write_bytes(cert)
    prev = record_hash(cert)
    for seq in range(1, count + 1):
        data = seal_record(
            ENROLMENT,
            kit_id=KIT_ID,
            seq=seq,
            prev_hash=prev,
            sealed_at=NOW,
            kit_key=key,
            authority=AUTHORITY.public,
            reference_key=AUTHORITY.references,
        )
        (folder / record_name(seq)).write_bytes(data)
        prev = record_hash(data)
    return cert


def resign_with(record: bytes, signer: Es256Signer | Ed25519PrivateKey, kid: bytes) -> bytes:
    """``record``'s header signed again by another key under ``kid``: a forgery attempt."""
    payload = loads(record).value[2]
    return sign1(payload, signer, kid=kid, content_type=CONTENT_TYPE)


def test_a_tpm_kit_key_seals_records_that_verify_and_open(
    software_tpm: SoftwareTpm, tmp_path: Path
) -> None:
    with Tpm(software_tpm.tcti) as tpm:
        key = TpmKitKey.create(tpm, tmp_path / "kit.tpm")
        cert = seal_chain(key, tmp_path / "records", 3)
        key.close()
    report = verify_folder(tmp_path / "records", AUTHORITY.public)
    assert report.ok and (report.count, report.first, report.last) == (3, 1, 3)
    certificate = Verifier(AUTHORITY.public).certificate(cert)
    assert (certificate.alg, certificate.backend) == (SignAlg.ES256, KeyBackend.TPM)
    assert certificate.kit_public == key.public_bytes and len(key.public_bytes) == 65
    record = (tmp_path / "records" / record_name(2)).read_bytes()
    msg = parse_sign1(record)
    assert msg.protected[HDR_ALG] == SignAlg.ES256 and len(msg.signature) == 64
    assert open_record(record, AUTHORITY).resident.nik == ENROLMENT.resident.nik


#: One boot of a kit as its own process: open the store on the TPM, seal one record, exit.
BOOT = """
import sys
from pathlib import Path
from storage.kit import KitStore
from tests.storage.conftest import enrolment, now
store = KitStore(Path(sys.argv[1]), now=now, tcti=sys.argv[2])
store.seal(enrolment(int(sys.argv[3])))
"""


def test_three_kit_boots_without_a_resource_manager_leave_the_tpm_empty(
    software_tpm: SoftwareTpm, tmp_path: Path
) -> None:
    """swtpm on its socket has no resource manager (as /dev/tpm0): what a process loads
    stays loaded after it exits, and the TPM has room for three objects.  Each boot here
    exits without closing anything, as a kit killed or halted does."""
    data_dir = tmp_path / "kit"
    provision_tpm_kit(data_dir, software_tpm.tcti)
    for boot in range(1, 4):
        done = subprocess.run(
            [sys.executable, "-c", BOOT, str(data_dir), software_tpm.tcti, str(boot)],
            cwd=Path(__file__).parents[2],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"boot {boot}: {done.stderr[-600:]}"
    assert verify_folder(data_dir / "records", AUTHORITY.public).count == 3
    with Tpm(software_tpm.tcti) as tpm:
        c = tpm.tss.constants
        _, found = tpm.esapi.get_capability(c.TPM2_CAP.HANDLES, c.TPM2_HT.TRANSIENT << 24, 8)
        assert list(found.data.handles) == [], "every object a boot loaded was flushed"


def test_the_key_survives_a_reboot_of_the_same_tpm(tmp_path: Path) -> None:
    swtpm = SoftwareTpm(tmp_path / "state")
    with swtpm, Tpm(swtpm.tcti) as tpm:
        made = TpmKitKey.create(tpm, tmp_path / "kit.tpm")
    with swtpm, Tpm(swtpm.tcti) as tpm:  # the same chip (same seeds), started again
        again = TpmKitKey.load(tpm, tmp_path / "kit.tpm")
        signed = sign1(b"after reboot", again, kid=again.kid)
    assert again.public_bytes == made.public_bytes
    verify_sign1(parse_sign1(signed), made.public_key)


def test_the_blob_on_the_card_signs_nothing_on_another_tpm(tmp_path: Path) -> None:
    """The stolen-card attack: the kit's files moved to another TPM yield no signature."""
    with SoftwareTpm(tmp_path / "kit-tpm") as kit_tpm, Tpm(kit_tpm.tcti) as tpm:
        TpmKitKey.create(tpm, tmp_path / "kit.tpm")
    with (
        SoftwareTpm(tmp_path / "thief-tpm") as thief_tpm,
        Tpm(thief_tpm.tcti) as tpm,
        pytest.raises(TpmError, match="load the kit key"),
    ):
        TpmKitKey.load(tpm, tmp_path / "kit.tpm")


def test_the_blob_holds_no_usable_private_key(software_tpm: SoftwareTpm, tmp_path: Path) -> None:
    with Tpm(software_tpm.tcti) as tpm:
        TpmKitKey.create(tpm, tmp_path / "kit.tpm")
    path = tmp_path / "kit.tpm"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    blob = path.read_bytes()
    assert b"PRIVATE KEY" not in blob
    fields = loads(blob)
    assert set(fields) == {"v", "parent", "public", "private"}
    for candidate in (fields["private"], blob):
        for loader in (serialization.load_der_private_key, serialization.load_pem_private_key):
            with pytest.raises((ValueError, TypeError)):
                loader(candidate, password=None)


def test_create_refuses_to_overwrite_a_blob(software_tpm: SoftwareTpm, tmp_path: Path) -> None:
    with Tpm(software_tpm.tcti) as tpm:
        TpmKitKey.create(tpm, tmp_path / "kit.tpm")
        before = (tmp_path / "kit.tpm").read_bytes()
        with pytest.raises(KeyFileError, match="already exists"):
            TpmKitKey.create(tpm, tmp_path / "kit.tpm")
    assert (tmp_path / "kit.tpm").read_bytes() == before


def test_a_blob_with_an_altered_public_part_does_not_load(
    software_tpm: SoftwareTpm, tmp_path: Path
) -> None:
    """Another key's public part beside this key's private part: the TPM's integrity check."""
    with Tpm(software_tpm.tcti) as tpm:
        first = TpmKitKey.create(tpm, tmp_path / "a.tpm")
        second = TpmKitKey.create(tpm, tmp_path / "b.tpm")
        mixed = TpmKeyBlob(public=second.blob.public, private=first.blob.private)
        (tmp_path / "mixed.tpm").write_bytes(mixed.to_cbor())
        with pytest.raises(TpmError, match="load the kit key"):
            TpmKitKey.load(tpm, tmp_path / "mixed.tpm")


def test_a_blob_of_an_exportable_or_decrypting_key_is_refused(
    software_tpm: SoftwareTpm, tmp_path: Path
) -> None:
    """A key the TPM would let out (not fixedTPM) is no kit key, whatever signs with it."""
    import tpm2_pytss
    from tpm2_pytss.constants import TPMA_OBJECT

    with Tpm(software_tpm.tcti) as tpm:
        loose = (
            TPMA_OBJECT.USERWITHAUTH | TPMA_OBJECT.SIGN_ENCRYPT | TPMA_OBJECT.SENSITIVEDATAORIGIN
        )
        template = tpm2_pytss.types.TPM2B_PUBLIC.parse(
            "ecc256:ecdsa-sha256:null", objectAttributes=loose
        )
        with tpm.primary() as parent:
            private, public, *_ = tpm.esapi.create(parent, None, template)
        blob = TpmKeyBlob(public=public.marshal(), private=private.marshal())
        (tmp_path / "loose.tpm").write_bytes(blob.to_cbor())
        with pytest.raises(KeyFileError, match="non-exportable P-256 signing key"):
            TpmKitKey.load(tpm, tmp_path / "loose.tpm")


@pytest.mark.parametrize(
    "content",
    [b"", b"\xa0", dumps({"v": 9, "parent": "x", "public": b"", "private": b""})],
    ids=["empty", "empty-map", "unknown-version"],
)
def test_a_damaged_blob_file_says_reflash(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "kit.tpm").write_bytes(content)
    with pytest.raises(KeyFileError, match="reflash the kit"):
        TpmKeyBlob.load(tmp_path / "kit.tpm")


def test_no_tpm_on_the_port_is_a_clear_error(tmp_path: Path) -> None:
    swtpm = SoftwareTpm(tmp_path / "state")
    with swtpm:
        tcti = swtpm.tcti
    with pytest.raises(TpmError, match="no TPM answers"):
        Tpm(tcti)


def test_a_closed_tpm_refuses_commands_and_closes_twice(software_tpm: SoftwareTpm) -> None:
    tpm = Tpm(software_tpm.tcti)
    tpm.close()
    tpm.close()
    with pytest.raises(TpmError, match="closed"), tpm.primary():
        pass


# -- tampering and forgery against a TPM kit's records ------------------------------------


@pytest.fixture
def tpm_chain(software_tpm: SoftwareTpm, tmp_path: Path) -> tuple[Path, bytes, TpmKitKey]:
    with Tpm(software_tpm.tcti) as tpm:
        key = TpmKitKey.create(tpm, tmp_path / "kit.tpm")
        cert = seal_chain(key, tmp_path / "records", 2)
        key.close()
    return tmp_path / "records", cert, key


def verify(folder: Path, cert: bytes, record: bytes) -> None:
    verifier = Verifier(AUTHORITY.public)
    verifier.verify_record(record, verifier.certificate(cert))


def test_every_flipped_byte_of_the_signature_is_caught(
    tpm_chain: tuple[Path, bytes, TpmKitKey],
) -> None:
    folder, cert, _ = tpm_chain
    record = (folder / record_name(1)).read_bytes()
    for index in range(len(record) - 64, len(record)):
        damaged = bytearray(record)
        damaged[index] ^= 0x80
        with pytest.raises(BadSignature):
            verify(folder, cert, bytes(damaged))


def test_a_header_that_claims_eddsa_for_the_tpm_key_is_refused(
    tpm_chain: tuple[Path, bytes, TpmKitKey],
) -> None:
    folder, cert, _ = tpm_chain
    protected, _, payload, signature = loads((folder / record_name(1)).read_bytes()).value
    header = dict(loads(protected))
    header[HDR_ALG] = int(SignAlg.EDDSA)
    swapped = dumps(cbor2.CBORTag(TAG_SIGN1, [dumps(header), {}, payload, signature]))
    with pytest.raises(BadSignature, match="signs only ES256"):
        verify(folder, cert, swapped)


def test_a_forger_with_another_p256_key_and_the_kits_kid_fails(
    tpm_chain: tuple[Path, bytes, TpmKitKey],
) -> None:
    folder, cert, key = tpm_chain
    record = (folder / record_name(1)).read_bytes()
    forger = Es256Signer(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(BadSignature, match="does not verify"):
        verify(folder, cert, resign_with(record, forger, key.kid))


def test_a_key_file_signature_for_the_tpm_kit_is_refused(
    tpm_chain: tuple[Path, bytes, TpmKitKey],
) -> None:
    """The forgery of the issue, tried on a TPM kit: a key file's Ed25519 signature."""
    folder, cert, key = tpm_chain
    record = (folder / record_name(1)).read_bytes()
    file_key = Ed25519PrivateKey.generate()
    with pytest.raises(BadSignature, match="signs only ES256"):
        verify(folder, cert, resign_with(record, file_key, key.kid))
    stranger = KitKey(file_key)
    with pytest.raises(UnknownKit):
        verify(folder, cert, resign_with(record, file_key, stranger.kid))
