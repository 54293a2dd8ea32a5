"""A provisioned kit data folder and enrolments to seal, for the store's tests.

Keys are fixed so a kit provisions in milliseconds; the clock stands still, so every
record is sealed inside the certificate's window.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from storage.certificate import certify_kit
from storage.keys import Authority, KeyBackend
from storage.kit import KitSetup, KitStore, install, provision
from storage.kitkey import create_kit_key
from storage.layout import kit_dir as kit_folder
from storage.model import Enrolment, Policy, Resident
from storage.signed_profile import signed
from storage.tpm import shared_tpm
from tests.swtpm import SoftwareTpm
from vocabulary.people import Sex

NOW = datetime(2025, 6, 2, 8, 30, tzinfo=UTC)
AUTHORITY = Authority(
    name="Dukcapil (test)",
    demo=True,
    signing=Ed25519PrivateKey.from_private_bytes(b"\x01" * 32),
    decryption=X25519PrivateKey.from_private_bytes(b"\x02" * 32),
)


def now() -> datetime:
    return NOW


def enrolment(n: int, *, face_bytes: int = 64) -> Enrolment:
    """The ``n``-th person of a test session, with a face of ``face_bytes`` bytes."""
    resident = Resident(
        nik=f"3505{n:012d}",
        name=f"WARGA {n}",
        sex=Sex.FEMALE if n % 2 else Sex.MALE,
        birth_place="BLITAR",
        birth_date=date(1990, 1, 1),
        worklist_ref=f"REF-{n}",
    )
    return Enrolment(
        resident=resident,
        officer_id="OFF-1",
        started_at=NOW,
        face_jpeg=bytes([n % 256]) * face_bytes,
    )


@pytest.fixture(scope="session")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One provisioned data folder, copied for every test that wants a kit."""
    data_dir = tmp_path_factory.mktemp("provisioned") / "kit"
    provision(
        data_dir,
        authority=AUTHORITY,
        kit_id="TEST-3505-01",
        region="3505",
        officers=(),
        worklist=(),
        policy=Policy(),
        now=NOW,
    )
    return data_dir


@pytest.fixture
def kit_dir(provisioned: Path, tmp_path: Path) -> Path:
    """A fresh copy of the provisioned data folder: no records, no state yet."""
    data_dir = tmp_path / "kit"
    shutil.copytree(provisioned, data_dir)
    return data_dir


@pytest.fixture
def store(kit_dir: Path) -> Iterator[KitStore]:
    with KitStore(kit_dir, now=now) as opened:
        yield opened


def provision_tpm_kit(data_dir: Path, tcti: str, *, kit_id: str = "TEST-3505-09") -> None:
    """Provision a kit whose signing key and data key are in the TPM on ``tcti``, as the
    port's keygen and flash do, then let go of the TPM: swtpm serves one client at a time,
    and the kit processes a test starts need it."""
    key = create_kit_key(kit_folder(data_dir), KeyBackend.TPM, tcti=tcti)
    certificate = certify_kit(
        AUTHORITY,
        kit_id=kit_id,
        region="3505",
        kit_public=key.public_bytes,
        now=NOW,
        alg=key.alg,
        backend=key.backend,
    )
    setup = KitSetup(kit_id, "3505", (), (), Policy())
    profile = setup.profile(
        AUTHORITY.public.to_cbor(), demo=True, reference_key=AUTHORITY.references.to_bytes()
    )
    install(data_dir, certificate=certificate, profile=signed(profile, AUTHORITY), tcti=tcti)
    shared_tpm(tcti).close()


@pytest.fixture
def software_tpm(tmp_path: Path) -> Iterator[SoftwareTpm]:
    """A fresh swtpm (its own seeds, free ports), stopped after the test."""
    with SoftwareTpm(tmp_path / "swtpm-state") as tpm:
        yield tpm
