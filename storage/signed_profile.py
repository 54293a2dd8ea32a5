"""The profile signed by the authority: made at flash, checked at every boot.

Why: the profile says whom the kit encrypts records to (the authority's keys), who may log
in (the officers' PIN hashes) and whom it enrols (the worklist).  Encrypted at rest it
cannot be read, but a kit must also refuse one that was changed: with another authority
key it would encrypt new records to whoever swapped it.  So provisioning signs a manifest
of the profile with the authority's key, as it signs kit certificates: the kit's identity
and the authority's public keys in full, and a SHA-256 of each section (policy, officers,
worklist).  Boot checks the signature, then each section against its digest, so a refusal
names what changed; and checks that the same authority issued the kit's certificate.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from storage import codec
from storage.certificate import CertificateError, verify_certificate
from storage.cose import (
    HDR_CONTENT_TYPE,
    BadSignature,
    WrongKey,
    check_signer,
    parse_sign1,
    sign1,
)
from storage.errors import RecordError, StateError
from storage.keys import Authority, AuthorityPublic
from storage.profile import Profile, officer_to_map, policy_to_map, worklist_sha256

CONTENT_TYPE = "application/jemput-profile"
#: The manifest's plain fields, each named as a technician reads it in a refusal.
FIELDS = {
    "kit_id": "kit id",
    "region": "region",
    "demo": "demo flag",
    "authority": "authority key",
}
SECTIONS = {
    "policy": "policy",
    "officers": "officers",
    "worklist": "worklist",
    "reference": "reference key",
}
FLASH_AGAIN = "flash the kit again with jemput-prov flash"
#: Sections a manifest signed before they existed is read as signing empty: a profile
#: flashed before keyed references carries no reference key, and is as it was signed
#: (the kit then refuses to seal with it, naming why, rather than calling it changed).
EMPTY_BEFORE = {"reference": b""}


class ProfileChanged(StateError):
    """A profile the authority did not sign as it is: boot refuses to run with it."""


def _digest(value: Any) -> bytes:
    return codec.sha256(value)


def _sections(profile: Profile) -> dict[str, bytes]:
    """SHA-256 of each section's canonical CBOR."""
    maps: dict[str, Any] = {
        "policy": policy_to_map(profile.policy),
        "officers": [officer_to_map(o) for o in profile.officers],
        # a digest of a 32-byte random key says nothing of it; a profile flashed before
        # keyed references has no such section, and boot asks for a new flash
        "reference": profile.reference_key,
    }
    # the worklist is hashed one resident at a time (100,000 maps are never held)
    return {
        **{name: _digest(value) for name, value in maps.items()},
        "worklist": worklist_sha256(profile.worklist),
    }


def manifest(profile: Profile) -> dict[str, Any]:
    """What the authority signs: the plain fields and each section's digest."""
    fields = {name: getattr(profile, name) for name in FIELDS}
    return {**fields, "sections": _sections(profile)}


def sign_profile(profile: Profile, authority: Authority) -> bytes:
    """The authority's signature over ``profile`` (a COSE_Sign1 of its manifest)."""
    return sign1(
        codec.dumps(manifest(profile)),
        authority.signing_key,
        kid=authority.kid,
        content_type=CONTENT_TYPE,
    )


def signed(profile: Profile, authority: Authority) -> Profile:
    """``profile`` carrying the authority's signature."""
    return dataclasses.replace(profile, signature=sign_profile(profile, authority))


def changes(profile: Profile) -> list[str]:
    """What in ``profile`` differs from what the authority signed; [] when it is as signed.

    Raises ProfileChanged when there is no valid signature at all.
    """
    if not profile.signature:
        raise ProfileChanged(f"the kit profile carries no authority signature: {FLASH_AGAIN}")
    try:
        msg = parse_sign1(profile.signature)
        signed_manifest = codec.loads(msg.payload)
        if not isinstance(signed_manifest, dict) or not isinstance(
            signed_manifest.get("sections"), dict
        ):
            raise ValueError("not a profile manifest")
        authority = AuthorityPublic.from_cbor(signed_manifest["authority"])
    except (RecordError, ValueError, KeyError, TypeError, PermissionError) as exc:
        raise ProfileChanged(
            f"the kit profile's authority signature does not decode ({exc}): {FLASH_AGAIN}"
        ) from exc
    not_a_profile = f"the kit profile's signature is not a profile's: {FLASH_AGAIN}"
    if msg.protected.get(HDR_CONTENT_TYPE) != CONTENT_TYPE:
        raise ProfileChanged(not_a_profile)
    try:
        check_signer(msg, authority.sign_public, kid=authority.kid)
    except WrongKey as exc:
        raise ProfileChanged(not_a_profile) from exc
    except BadSignature as exc:
        raise ProfileChanged(
            f"the kit profile's authority signature does not verify: {FLASH_AGAIN}"
        ) from exc
    now = manifest(profile)
    changed = [label for name, label in FIELDS.items() if now[name] != signed_manifest.get(name)]
    signed_sections = dict(signed_manifest["sections"])
    for name, empty in EMPTY_BEFORE.items():
        signed_sections.setdefault(name, _digest(empty))
    changed += [
        label
        for name, label in SECTIONS.items()
        if now["sections"][name] != signed_sections.get(name)
    ]
    return changed


def verify_profile(profile: Profile, certificate: bytes) -> None:
    """Refuse a profile changed since the authority signed it, or not of this kit's authority.

    ``certificate`` is the kit certificate (records/kit.cert): the profile's authority
    must be the one that issued it, for this kit id.
    """
    changed = changes(profile)
    if changed:
        raise ProfileChanged(
            f"the kit profile was changed after the authority signed it ({', '.join(changed)} "
            f"changed): {FLASH_AGAIN}"
        )
    try:
        issued = verify_certificate(certificate, profile.authority_public)
    except CertificateError as exc:
        raise ProfileChanged(
            f"the kit profile's authority key did not issue this kit's certificate ({exc}): "
            f"{FLASH_AGAIN}"
        ) from exc
    if issued.kit_id != profile.kit_id:
        raise ProfileChanged(
            f"the kit profile is for kit {profile.kit_id}, its certificate for kit "
            f"{issued.kit_id}: {FLASH_AGAIN}"
        )
