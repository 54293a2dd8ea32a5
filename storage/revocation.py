"""The authority's revocation list: kits not to be trusted from a moment on, signed.

Why a list beside the certificates: a kit certificate is valid for years and cannot be
recalled, so when a kit is stolen the authority says so once, in ``revocations.cose`` in
its folder, and every verifier that reads the authority folder applies it: records the
kit sealed at or after the moment are named (`SealedAfterRevocation`), and collecting
from the kit is refused (`KitRevoked`).  The list is a COSE_Sign1 by the authority's
signing key, so a copy handed to a collector or the district cannot be edited to
un-revoke a kit; ``serial`` grows with every change so that a newer list is told from
an older one.

The list also names the kits the authority certified as TPM-keyed ("hardware"): a
certificate with a key *file* for one of them is refused (`UnprotectedKey`), which is what
a kit whose TPM was bypassed, or a card moved to a simulator and reflashed, would present.

What a moment cannot do: a thief who sets the kit's clock back seals records that claim
an earlier time.  Records past the head of the kit's last collection deserve the same
doubt; docs/provisioning.md ("Kit stolen") says what to do with them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage.certificate import Certificate, CertificateError
from storage.codec import Tampered, dumps, loads
from storage.cose import HDR_CONTENT_TYPE, BadSignature, open_sign1, sign1
from storage.errors import KeyFileError, RecordError
from storage.files import write_atomic
from storage.keys import Authority, AuthorityPublic, KeyBackend

REVOCATIONS_FILE = "revocations.cose"
CONTENT_TYPE = "application/jemput-revocations+cbor"
LIST_VERSION = 1


class RevocationListError(KeyFileError):
    """A revocation list that is damaged or not signed by this authority: nothing is trusted."""


class KitRevoked(RecordError):
    """The authority revoked this kit: nothing more is collected from it."""


class SealedAfterRevocation(RecordError):
    """A record sealed at or after the moment its kit was revoked."""


class UnprotectedKey(CertificateError):
    """A key-file certificate for a kit the authority certified as TPM-keyed."""


@dataclass(frozen=True)
class Revocation:
    """One revoked kit: records it sealed at or after ``since`` are not trusted."""

    kit_id: str
    since: datetime
    reason: str
    revoked_at: datetime

    def describe(self) -> str:
        return (
            f"kit {self.kit_id} was revoked from {self.since.isoformat()} "
            f"({self.reason}; revoked {self.revoked_at.isoformat()})"
        )


@dataclass(frozen=True)
class RevocationList:
    """What the authority has signed about its kits beyond their certificates."""

    serial: int = 0
    issued_at: datetime | None = None
    revoked: Mapping[str, Revocation] = field(default_factory=dict)
    hardware: frozenset[str] = frozenset()

    # -- what a verifier asks --------------------------------------------------------------

    def check_certificate(self, certificate: Certificate) -> None:
        """Refuse a key-file certificate for a kit certified as TPM-keyed."""
        if certificate.kit_id in self.hardware and certificate.backend is not KeyBackend.TPM:
            raise UnprotectedKey(
                f"kit {certificate.kit_id} was certified with its key in a TPM, but this "
                f"certificate is for a {certificate.backend.value} key: the kit's TPM was "
                "bypassed or its card moved to another device; do not trust its records, "
                "report the kit"
            )

    def check_sealed(self, kit_id: str, sealed_at: datetime, *, seq: int | None = None) -> None:
        """Refuse a record of a revoked kit sealed at or after the revocation's moment."""
        revocation = self.revoked.get(kit_id)
        if revocation is not None and sealed_at >= revocation.since:
            raise SealedAfterRevocation(
                f"record {seq} was sealed {sealed_at.isoformat()}, after "
                f"{revocation.describe()}: do not trust it",
                seq=seq,
            )

    def check_collectable(self, certificate: Certificate) -> None:
        """Refuse to collect from a revoked kit, saying what to do instead."""
        revocation = self.revoked.get(certificate.kit_id)
        if revocation is not None:
            raise KitRevoked(
                f"{revocation.describe()}: nothing is collected from it and no receipt is "
                "sent; keep the kit off the network, take its SD card to the authority, and "
                "check its records there with `jemput-prov verify`"
            )

    # -- what the authority changes --------------------------------------------------------

    def with_revocation(self, revocation: Revocation) -> RevocationList:
        """This list with ``revocation`` added; a kit already revoked keeps the earlier moment."""
        before = self.revoked.get(revocation.kit_id)
        if before is not None and before.since <= revocation.since:
            revocation = replace(revocation, since=before.since)
        return replace(self, revoked={**self.revoked, revocation.kit_id: revocation})

    def with_hardware_kit(self, kit_id: str) -> RevocationList:
        return replace(self, hardware=self.hardware | {kit_id})

    # -- the signed file -------------------------------------------------------------------

    def sign(self, authority: Authority, *, now: datetime) -> bytes:
        """The next version of this list (serial + 1, issued ``now``), signed."""
        payload = {
            "v": LIST_VERSION,
            "iss": authority.kid,
            "serial": self.serial + 1,
            "at": _seconds(now),
            "revoked": [
                {
                    "kit": entry.kit_id,
                    "from": _seconds(entry.since),
                    "at": _seconds(entry.revoked_at),
                    "reason": entry.reason,
                }
                for _, entry in sorted(self.revoked.items())
            ],
            "hardware": sorted(self.hardware),
        }
        return sign1(
            dumps(payload), authority.signing_key, kid=authority.kid, content_type=CONTENT_TYPE
        )

    @classmethod
    def parse(cls, data: bytes, authority: AuthorityPublic) -> RevocationList:
        """A list signed by ``authority``; `RevocationListError` for anything else."""
        try:
            msg = open_sign1(data, authority.sign_public, kid=authority.kid)
            if msg.protected.get(HDR_CONTENT_TYPE) != CONTENT_TYPE:
                raise Tampered("not a revocation list")
            return cls._from_payload(loads(msg.payload), authority)
        except (Tampered, BadSignature, KeyError, TypeError, ValueError) as exc:
            raise RevocationListError(
                f"the revocation list is not one signed by authority {authority.name!r} "
                f"({exc}): restore {REVOCATIONS_FILE} from the authority's backup"
            ) from exc

    @classmethod
    def _from_payload(cls, fields: Any, authority: AuthorityPublic) -> RevocationList:
        if not isinstance(fields, Mapping) or set(fields) != {
            "v",
            "iss",
            "serial",
            "at",
            "revoked",
            "hardware",
        }:
            raise Tampered("revocation list fields are not those of version 1")
        if fields["v"] != LIST_VERSION or fields["iss"] != authority.kid:
            raise Tampered(f"version {fields['v']!r} or issuer is not this authority's")
        revoked = {}
        for entry in fields["revoked"]:
            if not isinstance(entry, Mapping) or set(entry) != {"kit", "from", "at", "reason"}:
                raise Tampered("a revocation entry is not {kit, from, at, reason}")
            revocation = Revocation(
                kit_id=_typed(entry["kit"], str),
                since=_moment(entry["from"]),
                reason=_typed(entry["reason"], str),
                revoked_at=_moment(entry["at"]),
            )
            revoked[revocation.kit_id] = revocation
        return cls(
            serial=_typed(fields["serial"], int),
            issued_at=_moment(fields["at"]),
            revoked=revoked,
            hardware=frozenset(_typed(kit, str) for kit in fields["hardware"]),
        )


def _typed(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise TypeError(f"{value!r} is not {kind.__name__}")
    return value


def _moment(value: Any) -> datetime:
    return datetime.fromtimestamp(_typed(value, int), UTC)


def _seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no timezone: give the offset, e.g. +07:00")
    return int(moment.timestamp())


def list_path(directory: str | os.PathLike[str]) -> Path:
    return Path(directory) / REVOCATIONS_FILE


def load_revocations(authority: AuthorityPublic) -> RevocationList:
    """The list in the folder ``authority`` was loaded from; empty if it has none yet.

    An authority known only from a kit's profile has no folder, and so no list: the kit
    does not judge itself.
    """
    if authority.folder is None:
        return RevocationList()
    path = list_path(authority.folder)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return RevocationList()
    try:
        return RevocationList.parse(data, authority)
    except RevocationListError as exc:
        raise RevocationListError(f"{path}: {exc}") from exc


def _update(
    directory: str | os.PathLike[str], authority: Authority, change: Any, now: datetime
) -> RevocationList:
    current = load_revocations(replace(authority.public, folder=Path(directory)))
    changed: RevocationList = change(current)
    data = changed.sign(authority, now=now)
    write_atomic(list_path(directory), data, replace=True)
    return RevocationList.parse(data, authority.public)


def revoke(
    directory: str | os.PathLike[str],
    authority: Authority,
    *,
    kit_id: str,
    since: datetime,
    reason: str,
    now: datetime,
) -> RevocationList:
    """Revoke ``kit_id`` from ``since`` in the authority folder's list; the new list back."""
    if not kit_id.strip():
        raise ValueError("give the id of the kit to revoke, e.g. KIT-3505-07")
    _seconds(since)  # refuses a time without its offset before anything is written
    entry = Revocation(kit_id=kit_id, since=since, reason=reason, revoked_at=now)
    return _update(directory, authority, lambda current: current.with_revocation(entry), now)


def register_hardware_kit(
    directory: str | os.PathLike[str], authority: Authority, *, kit_id: str, now: datetime
) -> RevocationList:
    """Note that ``kit_id`` was certified TPM-keyed: a key-file certificate for it is refused."""
    return _update(directory, authority, lambda current: current.with_hardware_kit(kit_id), now)
