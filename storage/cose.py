"""COSE_Sign1 and COSE_Encrypt (RFC 9052/9053), written directly on cbor2 and cryptography.

Why not a COSE library: pycose fails under cbor2 6 and rejects X25519 recipients, and
python-cwt pins cbor2 < 6.  What is needed is small: Ed25519 and ES256 signatures over
stored bytes, and encryption to one X25519 public key (ECDH-ES + HKDF-256 recipient,
ChaCha20/Poly1305 content, which the Pi 4 runs fast without AES instructions).

Signing algorithms: a key file signs with alg -8 (EdDSA); a TPM, which has no Ed25519,
signs ES256 (-7, P-256, the raw 64-byte r||s of RFC 9053, not DER).  RFC 9864 (2025)
registers -19 (Ed25519) and deprecates -8, but widely deployed COSE verifiers still know
only -8, and our records must be checkable by other implementations for years.  The
verifier never lets the header choose: the algorithms it accepts follow from the public
key it was handed (which a kit certificate names), so a header saying -8 over a P-256
key, or -7 over an Ed25519 key, is refused before any signature arithmetic.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol

import cbor2
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
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


class SignAlg(IntEnum):
    """COSE signature algorithms (RFC 9053, RFC 9864) this format knows."""

    ES256 = -7  # ECDSA P-256 with SHA-256: TPM-held kit keys
    EDDSA = -8  # Ed25519, as widely deployed verifiers know it: key files
    ED25519 = -19  # RFC 9864; accepted on verify, never written (see module docstring)


#: ES256 signatures are r || s, each a 32-byte big-endian integer (RFC 9053 section 2.1).
ES256_COORDINATE_BYTES = 32
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

#: The public keys a COSE_Sign1 here can be verified with.
VerifyKey = Ed25519PublicKey | ec.EllipticCurvePublicKey


class Signer(Protocol):
    """Anything that signs for `sign1`: a key file's key or a key held in a TPM.

    ``alg`` is what it signs with; ``sign`` returns the COSE signature bytes of ``data``
    (for ES256 the raw r||s of the SHA-256 of ``data``).
    """

    @property
    def alg(self) -> SignAlg: ...

    def sign(self, data: bytes) -> bytes: ...


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


@dataclass(frozen=True)
class Ed25519Signer:
    """An Ed25519 private key in memory (the authority's, or a kit's key file)."""

    key: Ed25519PrivateKey
    alg: SignAlg = SignAlg.EDDSA

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data)


@dataclass(frozen=True)
class Es256Signer:
    """A P-256 private key in memory: the test vectors' stand-in for a TPM-held key."""

    key: ec.EllipticCurvePrivateKey
    deterministic: bool = False  # RFC 6979 nonces, so test vectors come out the same
    alg: SignAlg = SignAlg.ES256

    def sign(self, data: bytes) -> bytes:
        scheme = ec.ECDSA(hashes.SHA256(), deterministic_signing=self.deterministic)
        r, s = decode_dss_signature(self.key.sign(data, scheme))
        return es256_signature(r, s)


def es256_signature(r: int, s: int) -> bytes:
    """ECDSA (r, s) as COSE wants it: two 32-byte big-endian integers, concatenated."""
    return r.to_bytes(ES256_COORDINATE_BYTES, "big") + s.to_bytes(ES256_COORDINATE_BYTES, "big")


def es256_digest(data: bytes) -> bytes:
    """What an ES256 signer signs: SHA-256 of the Sig_structure (a TPM is handed this)."""
    return hashlib.sha256(data).digest()


def sign1(
    payload: bytes,
    key: Signer | Ed25519PrivateKey,
    *,
    kid: bytes,
    content_type: str | None = None,
) -> bytes:
    """Sign ``payload`` into a tagged COSE_Sign1 with ``key``'s alg and ``kid`` protected.

    An Ed25519 private key is signed with as alg -8; any other signer names its own alg.
    """
    signer: Signer = Ed25519Signer(key) if isinstance(key, Ed25519PrivateKey) else key
    protected: dict[int, Any] = {HDR_ALG: int(signer.alg), HDR_KID: kid}
    if content_type is not None:
        protected[HDR_CONTENT_TYPE] = content_type
    protected_bytes = dumps(protected)
    signature = signer.sign(_sig_structure(protected_bytes, payload))
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


def algorithms_for(public_key: VerifyKey) -> tuple[SignAlg, ...]:
    """The header algorithms a signature by ``public_key`` may name: the key decides."""
    if isinstance(public_key, Ed25519PublicKey):
        return (SignAlg.EDDSA, SignAlg.ED25519)
    if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(
        public_key.curve, ec.SECP256R1
    ):
        return (SignAlg.ES256,)
    raise TypeError(f"no COSE signature algorithm here for a {type(public_key).__name__}")


def verify_sign1(msg: Sign1, public_key: VerifyKey) -> None:
    """Raise `BadSignature` unless ``msg`` is signed by ``public_key`` with its algorithm.

    The accepted algorithms come from the key (`algorithms_for`), never from the header,
    so a header cannot switch a P-256 key to EdDSA or the reverse.
    """
    alg = msg.protected.get(HDR_ALG)
    allowed = algorithms_for(public_key)
    if type(alg) is not int or alg not in allowed:
        names = ", ".join(f"{a.name} ({int(a)})" for a in allowed)
        raise BadSignature(
            f"COSE_Sign1 names algorithm {alg!r}, but the signer's certified key signs "
            f"only {names}: the header was altered or the record is from another key"
        )
    signed = _sig_structure(msg.protected_bytes, msg.payload)
    try:
        if isinstance(public_key, Ed25519PublicKey):
            public_key.verify(msg.signature, signed)
        else:
            public_key.verify(_der_signature(msg.signature), signed, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise BadSignature("signature does not verify: the bytes were altered") from exc


class WrongKey(BadSignature):
    """A COSE_Sign1 whose kid names another key than the one it is checked against."""

    def __init__(self, found: object, expected: bytes) -> None:
        #: The kid the message names, as a technician reads it (hex, or whatever else it is).
        self.found = found.hex() if isinstance(found, bytes) else repr(found)
        super().__init__(f"signed by another key ({self.found}, not {expected.hex()})")


def check_signer(msg: Sign1, public_key: VerifyKey, *, kid: bytes) -> Sign1:
    """``msg``, once its kid is ``kid`` (else `WrongKey`) and its signature verifies under
    ``public_key`` (else `BadSignature`).

    The one place a signer is checked: every signed thing (records, certificates, profiles,
    revocation lists, the port's requests, answers and receipts, the collector's statements)
    comes through here, mostly by :func:`open_sign1`.  A caller that checks a message's
    structure first (a record's) parses it itself and calls this.
    """
    found = msg.protected.get(HDR_KID)
    if found != kid:
        raise WrongKey(found, kid)
    verify_sign1(msg, public_key)
    return msg


def open_sign1(data: bytes, public_key: VerifyKey, *, kid: bytes) -> Sign1:
    """``data`` decoded strictly as a COSE_Sign1 (a `storage.codec.CodecError` if it is not
    one), its signer checked by :func:`check_signer`: its payload may be trusted.

    The stored bytes are what is verified, never a re-encoding.  The content type is left to
    the caller, which says in its own words what else it expected.
    """
    return check_signer(parse_sign1(data), public_key, kid=kid)


def _der_signature(raw: bytes) -> bytes:
    """COSE's r||s as the DER that cryptography verifies; anything else is a bad signature."""
    if len(raw) != 2 * ES256_COORDINATE_BYTES:
        raise BadSignature(
            f"ES256 signature is {len(raw)} bytes, not {2 * ES256_COORDINATE_BYTES} (r||s); "
            "a DER-encoded signature is not COSE"
        )
    r = int.from_bytes(raw[:ES256_COORDINATE_BYTES], "big")
    s = int.from_bytes(raw[ES256_COORDINATE_BYTES:], "big")
    return encode_dss_signature(r, s)


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
