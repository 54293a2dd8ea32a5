"""COSE_Sign1 and COSE_Encrypt (RFC 9052/9053), written directly on cbor2 and cryptography.

Why not a COSE library: pycose fails under cbor2 6 and rejects X25519 recipients, and
python-cwt pins cbor2 < 6.  What is needed is small: Ed25519 signatures over stored
bytes, and encryption to one X25519 public key (ECDH-ES + HKDF-256 recipient,
ChaCha20/Poly1305 content, which the Pi 4 runs fast without AES instructions).

Signing algorithm: we write alg -8 (EdDSA).  RFC 9864 (2025) registers -19 (Ed25519) and
deprecates -8, but widely deployed COSE verifiers still know only -8, and our records must
be checkable by other implementations for years.  A verifier here accepts both, because it
never trusts the header for the key type: the key comes from the kit certificate (found by
kid) and is always Ed25519.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.codec import Tampered, dumps, loads
from storage.errors import RecordError

TAG_SIGN1 = 18
TAG_ENCRYPT = 96

HDR_ALG = 1
HDR_CONTENT_TYPE = 3
HDR_KID = 4
HDR_IV = 5
HDR_EPHEMERAL_KEY = -1

ALG_EDDSA = -8
ALG_ED25519 = -19  # RFC 9864; accepted on verify, never written (see module docstring)
ALG_ECDH_ES_HKDF_256 = -25
ALG_CHACHA20_POLY1305 = 24

KTY_OKP = 1
CRV_X25519 = 4
KEY_KTY = 1
KEY_CRV = -1
KEY_X = -2

CONTENT_KEY_BYTES = 32
IV_BYTES = 12

#: A source of random bytes; injectable so test vectors come out the same every run.
Rng = Callable[[int], bytes]


class BadSignature(RecordError):
    """A COSE_Sign1 whose signature does not verify under the expected key."""


class DecryptError(RecordError):
    """A COSE_Encrypt that does not decrypt: wrong key, altered bytes or wrong external_aad."""


@dataclass(frozen=True)
class Sign1:
    """A parsed COSE_Sign1; ``protected_bytes`` are kept as received, for verifying."""

    protected_bytes: bytes
    protected: Mapping[Any, Any]
    unprotected: Mapping[Any, Any]
    payload: bytes
    signature: bytes


def sign1(
    payload: bytes, key: Ed25519PrivateKey, *, kid: bytes, content_type: str | None = None
) -> bytes:
    """Sign ``payload`` into a tagged COSE_Sign1 with alg -8 and ``kid`` in the protected header."""
    protected: dict[int, Any] = {HDR_ALG: ALG_EDDSA, HDR_KID: kid}
    if content_type is not None:
        protected[HDR_CONTENT_TYPE] = content_type
    protected_bytes = dumps(protected)
    signature = key.sign(_sig_structure(protected_bytes, payload))
    return dumps(cbor2.CBORTag(TAG_SIGN1, [protected_bytes, {}, payload, signature]))


def _sig_structure(protected_bytes: bytes, payload: bytes) -> bytes:
    return dumps(["Signature1", protected_bytes, b"", payload])


def _tagged(item: Any, tag: int, types: tuple[Any, ...], what: str) -> tuple[Any, ...]:
    """The array inside a COSE tag, checked element by element against ``types``."""
    if not isinstance(item, cbor2.CBORTag) or item.tag != tag:
        raise Tampered(f"{what}: expected CBOR tag {tag}, found {_describe(item)}")
    return _array(item.value, types, what)


def _array(value: Any, types: tuple[Any, ...], what: str) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple) or len(value) != len(types):
        raise Tampered(f"{what}: expected an array of {len(types)}, found {_describe(value)}")
    for index, (field, kind) in enumerate(zip(value, types, strict=True)):
        if not isinstance(field, kind):
            raise Tampered(f"{what}: element {index} is {_describe(field)}")
    return tuple(value)


def _describe(value: Any) -> str:
    if isinstance(value, cbor2.CBORTag):
        return f"tag {value.tag}"
    return type(value).__name__


def _header_map(data: bytes, what: str) -> Mapping[Any, Any]:
    header = loads(data) if data else {}
    if not isinstance(header, Mapping):
        raise Tampered(f"{what}: protected header is {_describe(header)}, not a map")
    return header


def parse_sign1(data: bytes) -> Sign1:
    """Decode a tagged COSE_Sign1 strictly, without checking its signature."""
    protected_bytes, unprotected, payload, signature = _tagged(
        loads(data), TAG_SIGN1, (bytes, Mapping, bytes, bytes), "COSE_Sign1"
    )
    return Sign1(
        protected_bytes=protected_bytes,
        protected=_header_map(protected_bytes, "COSE_Sign1"),
        unprotected=unprotected,
        payload=payload,
        signature=signature,
    )


def verify_sign1(msg: Sign1, public_key: Ed25519PublicKey) -> None:
    """Raise `BadSignature` unless ``msg`` is an EdDSA signature by ``public_key``."""
    alg = msg.protected.get(HDR_ALG)
    if alg not in (ALG_EDDSA, ALG_ED25519):
        raise BadSignature(f"COSE_Sign1 names algorithm {alg!r}; only EdDSA (-8, -19) is used")
    try:
        public_key.verify(msg.signature, _sig_structure(msg.protected_bytes, msg.payload))
    except InvalidSignature as exc:
        raise BadSignature("signature does not verify: the bytes were altered") from exc


def _kdf_context(recipient_protected: bytes) -> bytes:
    """COSE_KDF_Context of RFC 9053 section 5.2, no party identities."""
    party = [None, None, None]
    return dumps(
        [
            ALG_CHACHA20_POLY1305,
            party,
            party,
            [CONTENT_KEY_BYTES * 8, recipient_protected],
        ]
    )


def _content_key(shared: bytes, recipient_protected: bytes) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=CONTENT_KEY_BYTES,
        salt=None,
        info=_kdf_context(recipient_protected),
    )
    return hkdf.derive(shared)


def _enc_structure(protected_bytes: bytes, external_aad: bytes) -> bytes:
    return dumps(["Encrypt", protected_bytes, external_aad])


def encrypt(
    plaintext: bytes,
    recipient: X25519PublicKey,
    *,
    external_aad: bytes,
    rng: Rng = os.urandom,
    protected: Mapping[Any, Any] | None = None,
    kid: bytes | None = None,
) -> cbor2.CBORTag:
    """Encrypt to ``recipient`` as a COSE_Encrypt (tag 96) item, ready to embed.

    ``protected`` adds labels to the content layer's protected header (authenticated by
    the AEAD, readable without the key); ``kid`` names the recipient key.
    """
    ephemeral = X25519PrivateKey.from_private_bytes(rng(32))
    recipient_protected = dumps({HDR_ALG: ALG_ECDH_ES_HKDF_256})
    recipient_header: dict[int, Any] = {
        HDR_EPHEMERAL_KEY: {
            KEY_KTY: KTY_OKP,
            KEY_CRV: CRV_X25519,
            KEY_X: ephemeral.public_key().public_bytes_raw(),
        }
    }
    if kid is not None:
        recipient_header[HDR_KID] = kid
    key = _content_key(ephemeral.exchange(recipient), recipient_protected)
    iv = rng(IV_BYTES)
    protected_bytes = dumps({**(protected or {}), HDR_ALG: ALG_CHACHA20_POLY1305})
    ciphertext = ChaCha20Poly1305(key).encrypt(
        iv, plaintext, _enc_structure(protected_bytes, external_aad)
    )
    recipients = [[recipient_protected, recipient_header, b""]]
    return cbor2.CBORTag(TAG_ENCRYPT, [protected_bytes, {HDR_IV: iv}, ciphertext, recipients])


@dataclass(frozen=True)
class Encrypted:
    """A parsed COSE_Encrypt with its one recipient; readable without the private key."""

    protected_bytes: bytes
    protected: Mapping[Any, Any]
    iv: bytes
    ciphertext: bytes
    recipient_protected: bytes
    recipient_kid: bytes | None
    ephemeral_x: bytes


def parse_encrypt(item: Any) -> Encrypted:
    """Check the shape of a COSE_Encrypt item as this format writes it."""
    protected_bytes, unprotected, ciphertext, recipients = _tagged(
        item, TAG_ENCRYPT, (bytes, Mapping, bytes, list | tuple), "COSE_Encrypt"
    )
    if len(recipients) != 1:
        raise Tampered(f"COSE_Encrypt: expected one recipient, found {len(recipients)}")
    r_protected, r_header, _ = _array(recipients[0], (bytes, Mapping, bytes), "COSE_recipient")
    protected = _header_map(protected_bytes, "COSE_Encrypt")
    if protected.get(HDR_ALG) != ALG_CHACHA20_POLY1305:
        raise Tampered(f"COSE_Encrypt: content algorithm {protected.get(HDR_ALG)!r} is not 24")
    if _header_map(r_protected, "COSE_recipient").get(HDR_ALG) != ALG_ECDH_ES_HKDF_256:
        raise Tampered("COSE_recipient: algorithm is not ECDH-ES + HKDF-256 (-25)")
    epk = r_header.get(HDR_EPHEMERAL_KEY)
    iv = unprotected.get(HDR_IV)
    kid = r_header.get(HDR_KID)
    if not (
        isinstance(epk, Mapping)
        and epk.get(KEY_KTY) == KTY_OKP
        and epk.get(KEY_CRV) == CRV_X25519
        and isinstance(epk.get(KEY_X), bytes)
        and len(epk[KEY_X]) == 32
        and isinstance(iv, bytes)
        and len(iv) == IV_BYTES
        and (kid is None or isinstance(kid, bytes))
    ):
        raise Tampered("COSE_Encrypt: ephemeral X25519 key, IV or kid is malformed")
    return Encrypted(protected_bytes, protected, iv, ciphertext, r_protected, kid, epk[KEY_X])


def decrypt(item: Any, private: X25519PrivateKey, *, external_aad: bytes) -> bytes:
    """Decrypt a COSE_Encrypt item made by `encrypt`; `DecryptError` if it does not open."""
    enc = parse_encrypt(item)
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(enc.ephemeral_x))
        key = _content_key(shared, enc.recipient_protected)
        return ChaCha20Poly1305(key).decrypt(
            enc.iv, enc.ciphertext, _enc_structure(enc.protected_bytes, external_aad)
        )
    except (InvalidTag, ValueError) as exc:  # ValueError: a low-order ephemeral key
        raise DecryptError(
            "encrypted body does not open: wrong key, altered bytes or another record's body"
        ) from exc
