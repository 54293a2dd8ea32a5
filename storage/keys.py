"""The kit's signing key and the authority's keys, as files only their owner can read.

Why the files are so strict: a kit key that leaks lets anyone forge records in the kit's
name; an authority decryption key that leaks opens every body.  Keys are written with
O_EXCL and mode 0600 (never overwritten, never briefly world-readable) and a key file that
group or others can read is refused rather than used.  No class here has an export
method: the private halves leave only as key objects handed to `storage.cose`.

A kit's key has a backend (`KeyBackend`): a real kit's is generated inside its TPM and
never leaves it (`storage.tpm`); the key file here (`KitKey`) is for the simulator and
developers only, and is named UNPROTECTED wherever a kit reports it, because mode 0600
protects nothing once the SD card is out of the kit.  Both satisfy `KitSigner`, so
sealing, answering and certifying do not care which one signs.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from storage.codec import CodecError, dumps, loads
from storage.cose import SignAlg, Signer, VerifyKey
from storage.errors import KeyFileError
from storage.files import write_atomic
from storage.reference import REFERENCE_KEY_FILE, ReferenceKey

SIGNING_KEY_FILE = "signing.key"
ENCRYPTION_KEY_FILE = "encryption.key"
AUTHORITY_PUBLIC_FILE = "authority.pub.cbor"
KID_BYTES = 8


#: Raw public key sizes: Ed25519's 32 bytes; P-256 as an uncompressed SEC1 point (0x04||x||y).
ED25519_PUBLIC_BYTES = 32
P256_PUBLIC_BYTES = 65


class KeyBackend(StrEnum):
    """Where a kit's private key lives; the kit certificate records it."""

    FILE = "file"  # a PEM file on the SD card: simulator and developers only, UNPROTECTED
    TPM = "tpm"  # generated inside the kit's TPM 2.0, never leaves it

    @property
    def protected(self) -> bool:
        return self is KeyBackend.TPM

    def describe(self) -> str:
        """How `status` and `selftest` name the backend to a technician."""
        if self is KeyBackend.TPM:
            return "TPM 2.0 (key never leaves the chip)"
        return "key file (UNPROTECTED: anyone with the SD card can sign as this kit)"


class KitSigner(Signer, Protocol):
    """A kit's signing key, whatever holds it: public half, kid, backend, and `sign`."""

    @property
    def public_bytes(self) -> bytes: ...

    @property
    def kid(self) -> bytes: ...

    @property
    def backend(self) -> KeyBackend: ...

    def close(self) -> None: ...


def kid_of(raw_public: bytes) -> bytes:
    """Key id: the first 8 bytes of SHA-256 of the raw public key (as the EU DCC does)."""
    return hashlib.sha256(raw_public).digest()[:KID_BYTES]


def kit_public_key(raw_public: bytes, alg: SignAlg | None = None) -> VerifyKey:
    """The public key a kit signs with, from its raw bytes and the algorithm certified for it.

    Both must agree (32 bytes for EdDSA, a 65-byte uncompressed P-256 point for ES256):
    a certificate whose key does not fit its algorithm is damaged or forged.  Without
    ``alg`` (a kit's fresh key, not certified yet) the encoding decides: the two sizes
    cannot be mistaken for each other.
    """
    if alg is None:
        alg = SignAlg.ES256 if len(raw_public) == P256_PUBLIC_BYTES else SignAlg.EDDSA
    try:
        if alg in (SignAlg.EDDSA, SignAlg.ED25519) and len(raw_public) == ED25519_PUBLIC_BYTES:
            return Ed25519PublicKey.from_public_bytes(raw_public)
        if alg is SignAlg.ES256 and len(raw_public) == P256_PUBLIC_BYTES:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw_public)
    except ValueError as exc:
        raise KeyFileError(f"{alg.name} public key is not a valid point: {exc}") from exc
    raise KeyFileError(f"a {len(raw_public)}-byte public key is not an {alg.name} key")


def p256_public_bytes(public: ec.EllipticCurvePublicKey) -> bytes:
    """A P-256 public key as certificates carry it: the uncompressed SEC1 point."""
    return public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def _write_private(path: Path, key: Ed25519PrivateKey | X25519PrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    if os.path.lexists(path):
        raise KeyFileError(f"key file {path} already exists; refusing to overwrite it")
    write_atomic(path, pem)


def _read_private(path: Path, kind: type[Any]) -> Any:
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise KeyFileError(
                f"key file {path} is readable by group or others "
                f"(mode {stat.S_IMODE(mode):o}): run `chmod 600 {path}`"
            )
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise KeyFileError(f"key file {path} is missing: provision the keys first") from exc
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"key file {path} does not hold a PEM private key: {exc}") from exc
    if not isinstance(key, kind):
        raise KeyFileError(f"key file {path} holds a {type(key).__name__}, not {kind.__name__}")
    return key


class KitKey:
    """The file backend: an Ed25519 key in ``kit/kit.key``, for simulated and developers' kits.

    Generated on the kit and never sent anywhere, but a file: whoever copies the SD card
    can sign as the kit.  `backend` says so, and a real kit uses `storage.tpm` instead.
    """

    alg = SignAlg.EDDSA
    backend = KeyBackend.FILE

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_bytes: bytes = private.public_key().public_bytes_raw()
        self.kid: bytes = kid_of(self.public_bytes)

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)

    def close(self) -> None:
        """Nothing to release (the TPM backend's key unloads here); for a uniform `KitSigner`."""

    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> KitKey:
        """Generate a key and write it to ``path`` (must not exist yet), mode 0600."""
        key = cls(Ed25519PrivateKey.generate())
        _write_private(Path(path), key._private)
        return key

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> KitKey:
        return cls(_read_private(Path(path), Ed25519PrivateKey))

    @property
    def private(self) -> Ed25519PrivateKey:
        return self._private

    def __repr__(self) -> str:
        return f"KitKey(kid={self.kid.hex()})"


#: The file that holds a release key in its folder (`ReleaseKey`); the authority's
#: certificate of it lies beside it (`kitlink.release.RELEASE_CERT_FILE`).
RELEASE_KEY_FILE = "release.key"


class ReleaseKey:
    """The Ed25519 key that signs release bundles (`kitlink.release`), in a folder of its own.

    Why not the authority's key: bundles are built where the software is built, and the
    authority's signing key stays offline; the authority certifies this key once, and a
    kit trusts a bundle through that certificate.  The file is 0600 and never overwritten.
    """

    alg = SignAlg.EDDSA

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_bytes: bytes = private.public_key().public_bytes_raw()
        self.kid: bytes = kid_of(self.public_bytes)

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)

    @classmethod
    def create(cls, folder: str | os.PathLike[str]) -> ReleaseKey:
        """A new key in ``folder`` (made 0700; refused if it holds one already)."""
        path = Path(folder)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = cls(Ed25519PrivateKey.generate())
        _write_private(path / RELEASE_KEY_FILE, key._private)
        return key

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> ReleaseKey:
        return cls(_read_private(Path(folder) / RELEASE_KEY_FILE, Ed25519PrivateKey))

    def __repr__(self) -> str:
        return f"ReleaseKey(kid={self.kid.hex()})"


@dataclass(frozen=True)
class AuthorityPublic:
    """What a kit and a collector know of the authority: its name and public keys.

    ``folder`` is the authority folder it was loaded from, if any: the verifier finds the
    authority's revocation list there (`storage.revocation`).  It is not part of the keys.
    """

    name: str
    demo: bool
    sign_raw: bytes
    enc_raw: bytes
    folder: Path | None = field(default=None, compare=False)

    @property
    def kid(self) -> bytes:
        return kid_of(self.sign_raw)

    @property
    def enc_kid(self) -> bytes:
        return kid_of(self.enc_raw)

    @property
    def sign_public(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.sign_raw)

    @property
    def enc_public(self) -> X25519PublicKey:
        return X25519PublicKey.from_public_bytes(self.enc_raw)

    def to_cbor(self) -> bytes:
        return dumps(
            {
                "name": self.name,
                "demo": self.demo,
                "sign": self.sign_raw,
                "enc": self.enc_raw,
                "kid": self.kid,
            }
        )

    @classmethod
    def from_cbor(cls, data: bytes) -> AuthorityPublic:
        """Parse `to_cbor` output; a kid that does not match the key means a damaged file."""
        try:
            fields = loads(data)
            public = cls(fields["name"], fields["demo"], fields["sign"], fields["enc"])
            valid = (
                isinstance(public.name, str)
                and isinstance(public.demo, bool)
                and len(public.sign_raw) == 32
                and len(public.enc_raw) == 32
                and fields["kid"] == public.kid
            )
        except (CodecError, KeyError, TypeError) as exc:
            raise KeyFileError(f"authority public key data is malformed: {exc}") from exc
        if not valid:
            raise KeyFileError("authority public key data is inconsistent (kid or key sizes)")
        return public

    @classmethod
    def load(cls, dir_or_file: str | os.PathLike[str]) -> AuthorityPublic:
        """Read ``authority.pub.cbor`` from a directory, or the file itself."""
        path = Path(dir_or_file)
        if path.is_dir():
            path = path / AUTHORITY_PUBLIC_FILE
        try:
            public = cls.from_cbor(path.read_bytes())
            return cls(public.name, public.demo, public.sign_raw, public.enc_raw, path.parent)
        except FileNotFoundError as exc:
            raise KeyFileError(f"authority public key {path} is missing") from exc
        except KeyFileError as exc:
            raise KeyFileError(f"{path}: {exc}") from exc


class Authority:
    """The authority's private keys: Ed25519 to certify kits, X25519 to open bodies, and
    the reference key that keys worklist references in record headers (`storage.reference`).

    An authority made in memory (tests, vectors) without ``references`` gets a fresh one.
    """

    def __init__(
        self,
        *,
        name: str,
        demo: bool,
        signing: Ed25519PrivateKey,
        decryption: X25519PrivateKey,
        folder: Path | None = None,
        references: ReferenceKey | None = None,
    ) -> None:
        self._signing = signing
        self._decryption = decryption
        self.references = references if references is not None else ReferenceKey.generate()
        self.public = AuthorityPublic(
            name=name,
            demo=demo,
            sign_raw=signing.public_key().public_bytes_raw(),
            enc_raw=decryption.public_key().public_bytes_raw(),
            folder=folder,
        )

    @classmethod
    def init(cls, directory: str | os.PathLike[str], *, name: str, demo: bool = False) -> Authority:
        """Create new authority keys in ``directory``; refuses one that already has keys."""
        path = Path(directory)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        for file in (
            SIGNING_KEY_FILE,
            ENCRYPTION_KEY_FILE,
            AUTHORITY_PUBLIC_FILE,
            REFERENCE_KEY_FILE,
        ):
            if (path / file).exists():
                raise KeyFileError(f"{path} already holds authority keys ({file}); not replacing")
        authority = cls(
            name=name,
            demo=demo,
            signing=Ed25519PrivateKey.generate(),
            decryption=X25519PrivateKey.generate(),
            folder=path,
            references=ReferenceKey.create(path),
        )
        _write_private(path / SIGNING_KEY_FILE, authority._signing)
        _write_private(path / ENCRYPTION_KEY_FILE, authority._decryption)
        (path / AUTHORITY_PUBLIC_FILE).write_bytes(authority.public.to_cbor())
        return authority

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> Authority:
        path = Path(directory)
        public = AuthorityPublic.load(path)
        authority = cls(
            name=public.name,
            demo=public.demo,
            signing=_read_private(path / SIGNING_KEY_FILE, Ed25519PrivateKey),
            decryption=_read_private(path / ENCRYPTION_KEY_FILE, X25519PrivateKey),
            folder=path,
            references=ReferenceKey.load(path),
        )
        if authority.public != public:
            raise KeyFileError(f"{path}: {AUTHORITY_PUBLIC_FILE} does not match the private keys")
        return authority

    @property
    def kid(self) -> bytes:
        return self.public.kid

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        return self._signing

    @property
    def decrypt_key(self) -> X25519PrivateKey:
        return self._decryption

    def sign(self, data: bytes) -> bytes:
        return self._signing.sign(data)

    def __repr__(self) -> str:
        public = self.public
        return f"Authority(name={public.name!r}, kid={public.kid.hex()}, demo={public.demo})"
