"""The kit certificate: the authority's signature binding a kit id to the kit's public key.

Why a certificate and not a list of kit keys: a collector trusts only the authority's
public key; each kit carries its own proof (``records/kit.cert``), and its SHA-256 is the
``prev`` of the kit's first record, so the chain starts from something the authority signed.

Version 2 (written since kits keep their keys in a TPM) adds the key's signature
algorithm and its backend, so the verifier takes the algorithm from what the authority
certified, never from a record's header, and the authority can refuse a file key for a
kit it certified as TPM-keyed.  Version-1 certificates (Ed25519, a key file) still verify.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.codec import Tampered, dumps, loads
from storage.cose import (
    HDR_CONTENT_TYPE,
    BadSignature,
    SignAlg,
    VerifyKey,
    WrongKey,
    open_sign1,
    sign1,
)
from storage.errors import KeyFileError, RecordError
from storage.keys import Authority, AuthorityPublic, KeyBackend, kid_of, kit_public_key

CONTENT_TYPE = "application/jemput-kit-cert+cbor"
#: Written now; `LEGACY_VERSION` certificates (Ed25519 key files, no "alg"/"store") still verify.
CERT_VERSION = 2
LEGACY_VERSION = 1
#: The one optional claim (version 2): present, and true, only on a training kit's certificate.
TRAINING_CLAIM = "training"
#: The algorithms a kit key may be certified for (-19 is never written; see storage.cose).
KIT_ALGORITHMS = (SignAlg.EDDSA, SignAlg.ES256)


#: What a kit id may be: it names the kit's folders in exports, so a path must not hide in it.
KIT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}", re.ASCII)


class BadKitId(RecordError):
    """A kit id that is not 1-32 ASCII letters, digits, '-' or '_' (starting alphanumeric)."""


def check_kit_id(kit_id: object) -> str:
    """``kit_id`` if it is a safe kit id (e.g. KIT-3505-07); BadKitId saying why otherwise."""
    if not isinstance(kit_id, str) or not KIT_ID_PATTERN.fullmatch(kit_id):
        raise BadKitId(
            f"kit id {kit_id!r} is not 1-32 ASCII letters, digits, '-' or '_' starting with "
            "a letter or digit (e.g. KIT-3505-07)"
        )
    return kit_id


class CertificateError(RecordError):
    """A kit certificate that cannot be trusted; the leaf says why."""


class MalformedCertificate(CertificateError, Tampered):
    """Certificate bytes that do not decode into a kit certificate."""


class ForeignCertificate(CertificateError):
    """A certificate not signed by this authority (or altered after signing); ``issuer`` is
    the authority key it names (hex) when that is another authority's, so a tool can say
    which authority folder to give instead."""

    def __init__(self, message: str, *, issuer: str | None = None) -> None:
        super().__init__(message)
        self.issuer = issuer


class CertificateExpired(CertificateError):
    """The certificate's validity ended before the time it was checked for."""


class CertificateNotYetValid(CertificateError):
    """The certificate's validity starts after the time it was checked for."""


@dataclass(frozen=True)
class Certificate:
    """A verified kit certificate; ``data`` is the exact bytes the signature covers."""

    kit_id: str
    region: str
    kit_public: bytes
    not_before: datetime
    not_after: datetime
    issuer_kid: bytes
    data: bytes
    alg: SignAlg = SignAlg.EDDSA
    backend: KeyBackend = KeyBackend.FILE
    version: int = CERT_VERSION
    #: A simulator's training kit: its records are practice and never count (collectors
    #: and the district refuse them).
    training: bool = False

    @property
    def kit_kid(self) -> bytes:
        return kid_of(self.kit_public)

    @functools.cached_property
    def kit_key(self) -> VerifyKey:
        """The certified public key, of the certified algorithm (checked when parsed);
        made once, not for every record a collector verifies against it."""
        return kit_public_key(self.kit_public, self.alg)

    @property
    def digest(self) -> bytes:
        """SHA-256 of the certificate bytes: the ``prev`` of the kit's record seq 1."""
        return hashlib.sha256(self.data).digest()

    def check_time(self, at: datetime) -> None:
        """Raise unless ``at`` (timezone-aware) lies within [not_before, not_after]."""
        if at < self.not_before:
            raise CertificateNotYetValid(
                f"certificate of kit {self.kit_id} is valid only from "
                f"{self.not_before.isoformat()}, checked for {at.isoformat()}: "
                "check the kit's clock"
            )
        if at > self.not_after:
            raise CertificateExpired(
                f"certificate of kit {self.kit_id} expired {self.not_after.isoformat()}, "
                f"checked for {at.isoformat()}: re-provision the kit"
            )


#: How long a kit certificate is valid; a kit is reflashed (and recertified) before then.
KIT_CERTIFICATE_YEARS = 5


def _seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no timezone; certificates use UTC instants")
    return int(moment.timestamp())


def issue_certificate(
    authority: Authority,
    *,
    kit_id: str,
    region: str,
    kit_public: bytes,
    not_before: datetime,
    not_after: datetime,
    alg: SignAlg = SignAlg.EDDSA,
    backend: KeyBackend = KeyBackend.FILE,
    training: bool = False,
) -> bytes:
    """Certify ``kit_public`` (raw, of algorithm ``alg``) held by ``backend`` for ``kit_id``.

    ``training`` certifies a simulator's training kit: every record it seals is practice,
    and collectors and the district refuse them (the claim is written only when true, so
    every other certificate is as before).
    """
    check_kit_id(kit_id)
    if alg not in KIT_ALGORITHMS:
        raise ValueError(f"a kit key is certified for {KIT_ALGORITHMS}, not {alg!r}")
    try:
        kit_public_key(kit_public, alg)
    except KeyFileError as exc:
        raise ValueError(f"kit public key does not fit {alg.name}: {exc}") from exc
    if backend is KeyBackend.TPM and alg is not SignAlg.ES256:
        raise ValueError("a TPM-held kit key is P-256 (ES256): TPM 2.0 has no Ed25519")
    if not_after <= not_before:
        raise ValueError("certificate not_after must be later than not_before")
    claims = {
        "v": CERT_VERSION,
        "kit": kit_id,
        "region": region,
        "key": kit_public,
        "alg": int(alg),
        "store": backend.value,
        "nbf": _seconds(not_before),
        "exp": _seconds(not_after),
        "iss": authority.kid,
    }
    if training:
        claims[TRAINING_CLAIM] = True
    return sign1(dumps(claims), authority.signing_key, kid=authority.kid, content_type=CONTENT_TYPE)


def certify_kit(
    authority: Authority,
    *,
    kit_id: str,
    region: str,
    kit_public: bytes,
    now: datetime,
    alg: SignAlg = SignAlg.EDDSA,
    backend: KeyBackend = KeyBackend.FILE,
    training: bool = False,
) -> bytes:
    """A kit certificate with the validity every kit gets: from a day before ``now`` (a
    kit clock a little behind must not make its first record predate its certificate) for
    :data:`KIT_CERTIFICATE_YEARS` years.  ``alg`` and ``backend`` are the kit key's
    (`storage.keys.KitSigner`): pass ``key.alg, key.backend``."""
    return issue_certificate(
        authority,
        kit_id=kit_id,
        region=region,
        kit_public=kit_public,
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=365 * KIT_CERTIFICATE_YEARS),
        alg=alg,
        backend=backend,
        training=training,
    )


#: Claims of a version-1 certificate and their types; version 2 adds `_V2_CLAIMS`.
_V1_CLAIMS: dict[str, type] = {
    "v": int,
    "kit": str,
    "region": str,
    "key": bytes,
    "nbf": int,
    "exp": int,
    "iss": bytes,
}
_V2_CLAIMS: dict[str, type] = {**_V1_CLAIMS, "alg": int, "store": str}


def _claims(payload: bytes) -> dict[str, Any]:
    """The claims of a v1 or v2 certificate, with v1's implicit alg and backend filled in."""
    claims = loads(payload)
    if not isinstance(claims, Mapping):
        raise MalformedCertificate("certificate claims are not a map")
    version = claims.get("v")
    known = {LEGACY_VERSION: _V1_CLAIMS, CERT_VERSION: _V2_CLAIMS}
    types = known.get(version) if type(version) is int else None
    if types is None:
        raise MalformedCertificate(f"certificate version {version!r} is unknown: upgrade jemput")
    optional = {TRAINING_CLAIM} if version == CERT_VERSION else set()
    if not set(types) <= set(claims) <= set(types) | optional:
        raise MalformedCertificate(f"certificate claims are not those of version {version}")
    if claims.get(TRAINING_CLAIM, True) is not True:
        raise MalformedCertificate("certificate claim 'training' is written only as true")
    for key, kind in types.items():
        if type(claims[key]) is not kind:
            raise MalformedCertificate(f"certificate claim {key!r} is not {kind.__name__}")
    fields = dict(claims)
    if version == LEGACY_VERSION:
        fields.update(alg=int(SignAlg.EDDSA), store=KeyBackend.FILE.value)
    try:
        alg, backend = SignAlg(fields["alg"]), KeyBackend(fields["store"])
        if alg not in KIT_ALGORITHMS:
            raise ValueError(f"algorithm {alg.name} is not certified for kit keys")
        if backend is KeyBackend.TPM and alg is not SignAlg.ES256:
            raise ValueError("a TPM key that is not P-256")
        kit_public_key(fields["key"], alg)
    except (ValueError, KeyFileError) as exc:
        raise MalformedCertificate(f"certificate key, algorithm or backend: {exc}") from exc
    fields.update(alg=alg, store=backend)
    return fields


def verify_certificate(
    data: bytes, authority_public: AuthorityPublic, *, at: datetime | None = None
) -> Certificate:
    """Check a kit certificate against the authority; with ``at``, also its validity window.

    ``at=None`` skips the window: a collector checks each record's ``sealed_at`` against
    it instead, so records sealed while the certificate was valid stay valid after it ends.
    """
    try:
        msg = open_sign1(data, authority_public.sign_public, kid=authority_public.kid)
    except Tampered as exc:
        raise MalformedCertificate(f"kit certificate does not decode: {exc}") from exc
    except WrongKey as exc:
        raise ForeignCertificate(
            f"kit certificate is signed by key {exc.found}, "
            f"not by authority {authority_public.name!r} ({authority_public.kid.hex()}): "
            "use the kit's own authority key, or re-provision the kit",
            issuer=exc.found,
        ) from exc
    except BadSignature as exc:
        raise ForeignCertificate(
            f"kit certificate signature does not verify under authority "
            f"{authority_public.name!r}: altered or forged"
        ) from exc
    try:
        claims = _claims(msg.payload)
    except Tampered as exc:
        raise MalformedCertificate(f"kit certificate claims: {exc}") from exc
    if msg.protected.get(HDR_CONTENT_TYPE) != CONTENT_TYPE or claims["iss"] != authority_public.kid:
        raise MalformedCertificate("signed object is not a kit certificate of this authority")
    certificate = Certificate(
        kit_id=claims["kit"],
        region=claims["region"],
        kit_public=claims["key"],
        not_before=datetime.fromtimestamp(claims["nbf"], UTC),
        not_after=datetime.fromtimestamp(claims["exp"], UTC),
        issuer_kid=claims["iss"],
        data=bytes(data),
        alg=claims["alg"],
        backend=claims["store"],
        version=claims["v"],
        training=TRAINING_CLAIM in claims,
    )
    if at is not None:
        certificate.check_time(at)
    return certificate
