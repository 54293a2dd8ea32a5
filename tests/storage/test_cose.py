"""COSE_Sign1 and COSE_Encrypt checked against an independent reading of RFC 9052/9053, and
the key files' permissions."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.codec import CodecError, Tampered, dumps
from storage.cose import (
    BadSignature,
    DecryptError,
    Es256Signer,
    SignAlg,
    WrongKey,
    check_signer,
    decrypt,
    encrypt,
    open_sign1,
    parse_encrypt,
    parse_sign1,
    sign1,
    verify_sign1,
)
from storage.errors import KeyFileError
from storage.keys import Authority, AuthorityPublic, KitKey, kit_public_key, p256_public_bytes

KID = b"kid-0001"


def fixed_rng(size: int) -> bytes:
    return bytes(range(1, size + 1))


@pytest.fixture
def signer() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)


def test_sign1_layout_and_signature_per_rfc_9052(signer: Ed25519PrivateKey) -> None:
    data = sign1(b"payload", signer, kid=KID)
    item = cbor2.loads(data)
    assert item.tag == 18
    protected, unprotected, payload, signature = item.value
    assert cbor2.loads(protected) == {1: -8, 4: KID}
    assert (unprotected, payload) == ({}, b"payload")
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", b"payload"])
    signer.public_key().verify(signature, to_be_signed)  # raises if not per the RFC


def test_parse_and_verify(signer: Ed25519PrivateKey) -> None:
    msg = parse_sign1(sign1(b"p", signer, kid=KID, content_type="x/y"))
    assert msg.protected == {1: -8, 3: "x/y", 4: KID}
    assert msg.payload == b"p"
    verify_sign1(msg, signer.public_key())


def test_verify_refuses_other_key_and_altered_payload(signer: Ed25519PrivateKey) -> None:
    msg = parse_sign1(sign1(b"p", signer, kid=KID))
    with pytest.raises(BadSignature):
        verify_sign1(msg, Ed25519PrivateKey.generate().public_key())
    altered = parse_sign1(dumps(cbor2.CBORTag(18, [msg.protected_bytes, {}, b"q", msg.signature])))
    with pytest.raises(BadSignature, match="altered"):
        verify_sign1(altered, signer.public_key())


def test_open_sign1_checks_the_kid_then_the_signature(signer: Ed25519PrivateKey) -> None:
    data = sign1(b"p", signer, kid=KID, content_type="x/y")
    assert open_sign1(data, signer.public_key(), kid=KID) == parse_sign1(data)
    other_kid = b"kid-0002"
    with pytest.raises(
        WrongKey, match=rf"^signed by another key \({KID.hex()}, not {other_kid.hex()}\)$"
    ):
        open_sign1(data, signer.public_key(), kid=other_kid)
    with pytest.raises(BadSignature, match="altered") as forged:
        open_sign1(data, Ed25519PrivateKey.generate().public_key(), kid=KID)
    assert not isinstance(forged.value, WrongKey), "the kid matched: the signature failed"
    with pytest.raises(CodecError):
        open_sign1(data[:-1], signer.public_key(), kid=KID)


def test_a_sign1_without_a_kid_names_what_it_found(signer: Ed25519PrivateKey) -> None:
    protected = dumps({1: -8})
    signature = signer.sign(dumps(["Signature1", protected, b"", b"p"]))
    msg = parse_sign1(dumps(cbor2.CBORTag(18, [protected, {}, b"p", signature])))
    with pytest.raises(WrongKey) as missing:
        check_signer(msg, signer.public_key(), kid=KID)
    assert missing.value.found == "None"


@pytest.mark.parametrize(("alg", "accepted"), [(-8, True), (-19, True), (-7, False)])
def test_algorithm_from_header_is_limited_to_eddsa(
    signer: Ed25519PrivateKey, alg: int, accepted: bool
) -> None:
    protected = dumps({1: alg, 4: KID})
    signature = signer.sign(dumps(["Signature1", protected, b"", b"p"]))
    msg = parse_sign1(dumps(cbor2.CBORTag(18, [protected, {}, b"p", signature])))
    if accepted:
        verify_sign1(msg, signer.public_key())
    else:
        with pytest.raises(BadSignature, match="algorithm -7"):
            verify_sign1(msg, signer.public_key())


@pytest.fixture
def p256() -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(0xC0FFEE, ec.SECP256R1())


def test_es256_sign1_is_raw_r_s_over_sha256_per_rfc_9053(p256: ec.EllipticCurvePrivateKey) -> None:
    data = sign1(b"payload", Es256Signer(p256), kid=KID)
    protected, _, _, signature = cbor2.loads(data).value
    assert cbor2.loads(protected) == {1: -7, 4: KID}
    assert len(signature) == 64  # r || s, never DER
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", b"payload"])
    p256.public_key().verify(  # an independent check: DER re-encoded from r and s
        encode_dss_signature(r, s), to_be_signed, ec.ECDSA(hashes.SHA256())
    )
    verify_sign1(parse_sign1(data), p256.public_key())


def test_deterministic_es256_repeats_and_random_es256_does_not(
    p256: ec.EllipticCurvePrivateKey,
) -> None:
    fixed = Es256Signer(p256, deterministic=True)
    assert sign1(b"p", fixed, kid=KID) == sign1(b"p", fixed, kid=KID)
    assert sign1(b"p", Es256Signer(p256), kid=KID) != sign1(b"p", Es256Signer(p256), kid=KID)


@pytest.mark.parametrize(("alg", "accepted"), [(-7, True), (-8, False), (-19, False), (-35, False)])
def test_a_p256_key_accepts_only_es256_whatever_the_header_says(
    p256: ec.EllipticCurvePrivateKey, alg: int, accepted: bool
) -> None:
    protected = dumps({1: alg, 4: KID})
    signature = Es256Signer(p256).sign(dumps(["Signature1", protected, b"", b"p"]))
    msg = parse_sign1(dumps(cbor2.CBORTag(18, [protected, {}, b"p", signature])))
    if accepted:
        verify_sign1(msg, p256.public_key())
    else:
        with pytest.raises(BadSignature, match="signs only ES256"):
            verify_sign1(msg, p256.public_key())


def test_an_es256_signature_in_der_is_refused(p256: ec.EllipticCurvePrivateKey) -> None:
    protected = dumps({1: -7, 4: KID})
    der = p256.sign(dumps(["Signature1", protected, b"", b"p"]), ec.ECDSA(hashes.SHA256()))
    msg = parse_sign1(dumps(cbor2.CBORTag(18, [protected, {}, b"p", der])))
    with pytest.raises(BadSignature, match="DER-encoded signature is not COSE"):
        verify_sign1(msg, p256.public_key())


def test_a_p384_key_is_no_cose_key_here() -> None:
    msg = parse_sign1(sign1(b"p", Ed25519PrivateKey.generate(), kid=KID))
    with pytest.raises(TypeError, match="no COSE signature algorithm"):
        verify_sign1(msg, ec.generate_private_key(ec.SECP384R1()).public_key())


@pytest.mark.parametrize(
    ("raw", "alg", "kind"),
    [
        (b"\x01" * 32, SignAlg.EDDSA, Ed25519PublicKey),
        (None, SignAlg.ES256, ec.EllipticCurvePublicKey),
    ],
)
def test_kit_public_key_follows_the_certified_algorithm(
    p256: ec.EllipticCurvePrivateKey, raw: bytes | None, alg: SignAlg, kind: type
) -> None:
    point = p256_public_bytes(p256.public_key())
    assert isinstance(kit_public_key(raw or point, alg), kind)
    wrong = SignAlg.ES256 if alg is SignAlg.EDDSA else SignAlg.EDDSA
    with pytest.raises(KeyFileError, match=f"not an {wrong.name} key"):
        kit_public_key(raw or point, wrong)


def test_a_point_off_the_curve_is_refused(p256: ec.EllipticCurvePrivateKey) -> None:
    point = bytearray(p256_public_bytes(p256.public_key()))
    point[-1] ^= 1
    with pytest.raises(KeyFileError, match="not a valid point"):
        kit_public_key(bytes(point), SignAlg.ES256)


@pytest.mark.parametrize(
    "item",
    [
        cbor2.CBORTag(17, [b"", {}, b"", b""]),
        cbor2.CBORTag(18, [b"", {}, b""]),
        cbor2.CBORTag(18, [b"", {}, "text", b""]),
        cbor2.CBORTag(18, [dumps([1]), {}, b"", b""]),
        [b"", {}, b"", b""],
    ],
)
def test_parse_sign1_refuses_wrong_shapes(item: object) -> None:
    with pytest.raises(Tampered):
        parse_sign1(dumps(item))


def independent_decrypt(item: cbor2.CBORTag, private: X25519PrivateKey, aad: bytes) -> bytes:
    """RFC 9053 5.2 / RFC 9052 5.3 written out again without storage.cose."""
    protected, unprotected, ciphertext, [[r_protected, r_header, _]] = item.value
    assert cbor2.loads(r_protected) == {1: -25}
    epk = r_header[-1]
    assert (epk[1], epk[-1]) == (1, 4)
    shared = private.exchange(X25519PublicKey.from_public_bytes(epk[-2]))
    context = cbor2.dumps([24, [None, None, None], [None, None, None], [256, r_protected]])
    key = HKDF(hashes.SHA256(), 32, salt=None, info=context).derive(shared)
    enc_structure = cbor2.dumps(["Encrypt", protected, aad])
    return ChaCha20Poly1305(key).decrypt(unprotected[5], ciphertext, enc_structure)


def test_encrypt_decrypt_and_independent_reading() -> None:
    private = X25519PrivateKey.generate()
    item = encrypt(b"secret body", private.public_key(), external_aad=b"aad", kid=b"k")
    assert item.tag == 96
    assert decrypt(item, private, external_aad=b"aad") == b"secret body"
    round_tripped = cbor2.loads(dumps(item))
    assert independent_decrypt(round_tripped, private, b"aad") == b"secret body"
    parsed = parse_encrypt(round_tripped)
    assert (len(parsed.iv), parsed.recipient_kid) == (12, b"k")
    assert len(parsed.ciphertext) == len(b"secret body") + 16


def test_encryption_is_repeatable_with_an_injected_rng() -> None:
    public = X25519PrivateKey.from_private_bytes(b"\x05" * 32).public_key()
    first = encrypt(b"x", public, external_aad=b"", rng=fixed_rng, protected={"seq": 1})
    again = encrypt(b"x", public, external_aad=b"", rng=fixed_rng, protected={"seq": 1})
    assert dumps(first) == dumps(again)
    assert parse_encrypt(first).protected == {1: 24, "seq": 1}


def test_wrong_aad_wrong_key_and_altered_protected_fail() -> None:
    private = X25519PrivateKey.generate()
    item = encrypt(b"body", private.public_key(), external_aad=b"kit/1", protected={"seq": 1})
    with pytest.raises(DecryptError):
        decrypt(item, private, external_aad=b"kit/2")
    with pytest.raises(DecryptError):
        decrypt(item, X25519PrivateKey.generate(), external_aad=b"kit/1")
    _, unprotected, ciphertext, recipients = item.value
    moved = cbor2.CBORTag(96, [dumps({1: 24, "seq": 2}), unprotected, ciphertext, recipients])
    with pytest.raises(DecryptError):
        decrypt(moved, private, external_aad=b"kit/1")


def test_low_order_ephemeral_key_is_a_decrypt_error() -> None:
    private = X25519PrivateKey.generate()
    item = encrypt(b"body", private.public_key(), external_aad=b"")
    protected, unprotected, ciphertext, [[r_protected, r_header, empty]] = item.value
    r_header = {-1: {**r_header[-1], -2: bytes(32)}}
    bad = cbor2.CBORTag(96, [protected, unprotected, ciphertext, [[r_protected, r_header, empty]]])
    with pytest.raises(DecryptError):
        decrypt(bad, private, external_aad=b"")


# -- key files ---------------------------------------------------------------------------


def test_kit_key_file_is_private_and_reloads(tmp_path: Path) -> None:
    path = tmp_path / "kit.key"
    key = KitKey.create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = KitKey.load(path)
    assert (loaded.public_bytes, loaded.kid) == (key.public_bytes, key.kid)
    assert key.kid == hashlib.sha256(key.public_bytes).digest()[:8]
    assert not any(name.startswith("export") for name in dir(key))
    with pytest.raises(KeyFileError, match="already exists"):
        KitKey.create(path)


def test_readable_key_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "kit.key"
    KitKey.create(path)
    os.chmod(path, 0o640)
    with pytest.raises(KeyFileError, match=f"chmod 600 {path}"):
        KitKey.load(path)


def test_missing_and_wrong_key_files(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="missing"):
        KitKey.load(tmp_path / "none.key")
    Authority.init(tmp_path / "auth", name="A")
    with pytest.raises(KeyFileError, match="X25519PrivateKey, not Ed25519PrivateKey"):
        KitKey.load(tmp_path / "auth" / "encryption.key")


def test_authority_init_load_and_public(tmp_path: Path) -> None:
    folder = tmp_path / "auth"
    authority = Authority.init(folder, name="Dukcapil Palembang", demo=True)
    for name in ("signing.key", "encryption.key"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    with pytest.raises(KeyFileError, match="already holds authority keys"):
        Authority.init(folder, name="again")
    loaded = Authority.load(folder)
    assert loaded.public == authority.public
    public = AuthorityPublic.load(folder)
    assert public == AuthorityPublic.load(folder / "authority.pub.cbor") == authority.public
    assert (public.name, public.demo) == ("Dukcapil Palembang", True)
    assert public.kid == hashlib.sha256(public.sign_raw).digest()[:8]
    assert AuthorityPublic.from_cbor(public.to_cbor()) == public
    message = b"provisioning request"
    public.sign_public.verify(loaded.sign(message), message)
    assert loaded.decrypt_key.public_key().public_bytes_raw() == public.enc_raw


def test_damaged_authority_public_file_is_refused(tmp_path: Path) -> None:
    authority = Authority.init(tmp_path, name="A")
    fields = cbor2.loads(authority.public.to_cbor())
    fields["kid"] = b"\0" * 8
    (tmp_path / "authority.pub.cbor").write_bytes(dumps(fields))
    with pytest.raises(KeyFileError, match="inconsistent"):
        AuthorityPublic.load(tmp_path)
    with pytest.raises(KeyFileError, match="malformed"):
        AuthorityPublic.from_cbor(b"\x01")
