"""Kit certificates, version 2 (algorithm and backend certified) and version 1 (still read)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from storage.certificate import CONTENT_TYPE, MalformedCertificate, issue_certificate
from storage.codec import dumps
from storage.cose import SignAlg, sign1
from storage.keys import KeyBackend, p256_public_bytes
from tests.storage.conftest import AUTHORITY

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2030, 1, 1, tzinfo=UTC)
ED25519_RAW = Ed25519PrivateKey.from_private_bytes(b"\x05" * 32).public_key().public_bytes_raw()
P256_RAW = p256_public_bytes(ec.derive_private_key(12345, ec.SECP256R1()).public_key())


def claims(**change: Any) -> dict[str, Any]:
    base = {
        "v": 2,
        "kit": "K",
        "region": "3505",
        "key": P256_RAW,
        "alg": -7,
        "store": "tpm",
        "nbf": int(START.timestamp()),
        "exp": int(END.timestamp()),
        "iss": AUTHORITY.kid,
    }
    return {k: v for k, v in (base | change).items() if v is not None}


def signed(fields: dict[str, Any]) -> bytes:
    return sign1(dumps(fields), AUTHORITY.signing_key, kid=AUTHORITY.kid, content_type=CONTENT_TYPE)


def verify(data: bytes) -> Any:
    from storage.verify import Verifier

    return Verifier(AUTHORITY.public).certificate(data)


@pytest.mark.parametrize(
    ("raw", "alg", "backend"),
    [
        (P256_RAW, SignAlg.ES256, KeyBackend.TPM),
        (P256_RAW, SignAlg.ES256, KeyBackend.FILE),
        (ED25519_RAW, SignAlg.EDDSA, KeyBackend.FILE),
    ],
)
def test_issued_certificates_carry_algorithm_and_backend(
    raw: bytes, alg: SignAlg, backend: KeyBackend
) -> None:
    data = issue_certificate(
        AUTHORITY,
        kit_id="K",
        region="3505",
        kit_public=raw,
        not_before=START,
        not_after=END,
        alg=alg,
        backend=backend,
    )
    certificate = verify(data)
    assert (certificate.version, certificate.alg, certificate.backend) == (2, alg, backend)
    assert certificate.kit_public == raw


@pytest.mark.parametrize(
    ("raw", "alg", "backend", "message"),
    [
        (ED25519_RAW, SignAlg.EDDSA, KeyBackend.TPM, "TPM 2.0 has no Ed25519"),
        (P256_RAW, SignAlg.EDDSA, KeyBackend.FILE, "does not fit EDDSA"),
        (ED25519_RAW, SignAlg.ES256, KeyBackend.TPM, "does not fit ES256"),
        (ED25519_RAW, SignAlg.ED25519, KeyBackend.FILE, "not"),
    ],
)
def test_issuing_refuses_a_key_that_does_not_fit(
    raw: bytes, alg: SignAlg, backend: KeyBackend, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        issue_certificate(
            AUTHORITY,
            kit_id="K",
            region="3505",
            kit_public=raw,
            not_before=START,
            not_after=END,
            alg=alg,
            backend=backend,
        )


def test_a_version_1_certificate_is_an_ed25519_key_file() -> None:
    fields = claims(v=1, key=ED25519_RAW, alg=None, store=None)
    certificate = verify(signed(fields))
    assert (certificate.version, certificate.alg, certificate.backend) == (
        1,
        SignAlg.EDDSA,
        KeyBackend.FILE,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alg": -8, "store": "file"}, "is not an EDDSA key"),  # P-256 point as Ed25519
        ({"key": ED25519_RAW}, "is not an ES256 key"),
        ({"alg": -19, "key": ED25519_RAW, "store": "file"}, "not certified for kit keys"),
        ({"alg": -35}, "certificate key, algorithm or backend"),
        ({"store": "hsm"}, "certificate key, algorithm or backend"),
        ({"alg": -8, "key": ED25519_RAW}, "TPM key that is not P-256"),
        ({"v": 1}, "not those of version 1"),  # v1 never had alg and store
        ({"alg": None}, "not those of version 2"),
        ({"v": 3}, "version 3 is unknown"),
        ({"v": True}, "version True is unknown"),
        ({"alg": "ES256"}, "claim 'alg' is not int"),
    ],
)
def test_a_malformed_certificate_says_what_is_wrong(change: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedCertificate, match=message):
        verify(signed(claims(**change)))
