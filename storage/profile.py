"""What provisioning gave the kit: identity, policy, officers, worklist, authority keys.

Kept as one file, replaced whole at a reflash, separate from the SQLite state so a
damaged database never costs the kit its provisioning.  The file is ciphertext under the
kit's data key (`storage.datakey.StateCipher`, context ``profile``): the worklist (NIKs,
names, birth dates) and the officers' PIN hashes are never on the card in clear.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from hashlib import sha256
from pathlib import Path
from typing import Any

from storage import codec
from storage.datakey import StateCipher, StateDecryptError
from storage.errors import StateError
from storage.files import write_atomic
from storage.keys import AuthorityPublic
from storage.model import Officer, Policy, Resident
from storage.policy import PolicyError, check_pages, parse_policy
from vocabulary.people import Role, Sex
from vocabulary.purpose import Purpose


@dataclass(frozen=True)
class Profile:
    kit_id: str
    region: str
    policy: Policy
    officers: tuple[Officer, ...]
    worklist: tuple[Resident, ...]
    #: The authority's public keys as provisioning sent them (`AuthorityPublic.to_cbor`):
    #: the bytes the profile's signature covers, kept as they came.
    authority: bytes
    demo: bool = False
    #: The authority's COSE_Sign1 over this profile's manifest (`storage.signed_profile`).
    signature: bytes = b""
    #: The authority's reference key (`storage.reference`): the kit names residents in record
    #: headers by keyed references.  Empty in a profile flashed before keyed references.
    reference_key: bytes = b""

    @functools.cached_property
    def authority_public(self) -> AuthorityPublic:
        """The authority's public keys, decoded once for everyone who reads this profile
        (the store, the boot's signature check, the port); `KeyFileError` if damaged."""
        return AuthorityPublic.from_cbor(self.authority)


_RESIDENT_FIELDS = tuple(field.name for field in dataclasses.fields(Resident))
_RESIDENT_KEYS = frozenset(_RESIDENT_FIELDS)


def resident_to_map(resident: Resident) -> dict[str, Any]:
    # field by field, not dataclasses.asdict (which deep-copies): a worklist is hashed,
    # saved and checked again at a flash, 100,000 residents each time
    data = {name: getattr(resident, name) for name in _RESIDENT_FIELDS}
    data["sex"] = resident.sex.value
    data["birth_date"] = resident.birth_date.isoformat()
    data["purpose"] = resident.purpose.value
    return data


def resident_from_map(data: Mapping[str, Any]) -> Resident:
    # A kecamatan's 100,000 residents repeat their places, religions and occupations, and a
    # flash's staged list and the list the kit then loads name the same people: interned,
    # each text is held once (CPython drops an interned string with its last holder).
    fields: dict[str, Any] = {
        name: sys.intern(v) if type(v) is str else v for name, v in data.items()
    }
    fields["sex"] = Sex(fields["sex"])
    fields["birth_date"] = date.fromisoformat(fields["birth_date"])
    # A record of format version 1 (and a profile flashed before it) has no purpose: BARU.
    fields["purpose"] = Purpose(fields.get("purpose", Purpose.BARU.value))
    return Resident(**fields)


def officer_to_map(officer: Officer) -> dict[str, Any]:
    """An officer as the profile keeps it and ``flash`` carries it (one codec for both)."""
    return {
        "id": officer.officer_id,
        "name": officer.name,
        "role": officer.role.value,
        "salt": officer.pin_salt,
        "hash": officer.pin_hash,
        "pages": list(officer.finger_pages),
    }


def officer_from_map(data: Mapping[str, Any]) -> Officer:
    return Officer(
        data["id"],
        data["name"],
        Role(data["role"]),
        data["salt"],
        data["hash"],
        tuple(data["pages"]),
    )


#: Policy keys added after kits were flashed, with their defaults: carried only when set,
#: so a profile signed before a key existed keeps the digest it was signed with.
ADDED_LATER = {"allow_no_fingers": False}


def policy_to_map(policy: Policy) -> dict[str, Any]:
    """The policy as the profile keeps it and ``flash`` carries it."""
    voter_date = None if policy.voter_date is None else policy.voter_date.isoformat()
    data = {**dataclasses.asdict(policy), "fingers": list(policy.fingers), "voter_date": voter_date}
    return {k: v for k, v in data.items() if k not in ADDED_LATER or v != ADDED_LATER[k]}


def policy_from_map(data: Mapping[str, Any]) -> Policy:
    """The policy a flash request or the profile carries, if it keeps every rule
    (`storage.policy.parse_policy`; PolicyError names each one it breaks)."""
    fields = dict(data)
    voter_date = fields.pop("voter_date", None)
    if voter_date is not None:
        fields["voter_date"] = _day(voter_date)
    return parse_policy(fields)


def _day(value: object) -> object:
    """An ISO date as a date; anything else as it is, for `parse_policy` to name."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return value


PROFILE_CONTEXT = b"profile"
#: What the technician does about a profile whose policy breaks a rule (the kit does not start).
FLASH_FIXED = (
    "move the kit's data folder aside (keep it: its records are still to be collected) and "
    "flash the kit again with a policy jemput-prov flash accepts (docs/provisioning.md, "
    '"The policy")'
)


def worklist_sha256(worklist: Sequence[Resident]) -> bytes:
    """SHA-256 of the worklist as resident maps in canonical CBOR, one resident at a time:
    what a transfer's commit compares and the profile's signed manifest holds."""
    return codec.sha256(_worklist_array(worklist))


def _worklist_array(worklist: Sequence[Resident]) -> codec.Array:
    return codec.Array(len(worklist), map(resident_to_map, worklist))


def _profile_map(profile: Profile) -> dict[str, Any]:
    return {
        "kit_id": profile.kit_id,
        "region": profile.region,
        "policy": policy_to_map(profile.policy),
        "officers": [officer_to_map(o) for o in profile.officers],
        "worklist": _worklist_array(profile.worklist),
        "authority": profile.authority,
        "demo": profile.demo,
        "signature": profile.signature,
        "reference_key": profile.reference_key,
    }


def save_profile(path: Path, profile: Profile, cipher: StateCipher) -> None:
    """Encrypt ``profile`` into ``path``, replacing it atomically (the old profile or the
    new, never half).  The worklist is encoded resident by resident into one buffer: a
    100,000-resident list costs its bytes, not 100,000 maps."""
    sealed = cipher.encrypt(codec.dumps(_profile_map(profile)), context=PROFILE_CONTEXT)
    write_atomic(path, sealed, replace=True)


def _resident_map(value: Mapping[Any, Any]) -> object:
    """A resident's map as its Resident, as soon as it is decoded; any other map as it is
    (a profile flashed before the purpose was kept: its residents are read after)."""
    return resident_from_map(value) if value.keys() == _RESIDENT_KEYS else value


def _as_map(item: object) -> object:
    return resident_to_map(item) if isinstance(item, Resident) else item


def load_profile(path: Path, cipher: StateCipher) -> Profile:
    try:
        plain = cipher.decrypt(path.read_bytes(), context=PROFILE_CONTEXT)
    except StateDecryptError as exc:
        raise StateError(
            f"kit profile {path} does not open with this kit's data key ({exc}): flash the "
            "kit again"
        ) from exc
    try:
        # each resident becomes a Resident as it is decoded (100,000 maps are never held);
        # what was read must be the encoding of what it gave, as codec.loads checks
        data = codec.loads(
            plain, max_bytes=64 * 1024 * 1024, deterministic=False, object_hook=_resident_map
        )
        listed = data["worklist"]
        worklist = tuple(
            item if isinstance(item, Resident) else resident_from_map(item) for item in listed
        )
        profile = Profile(
            kit_id=data["kit_id"],
            region=data["region"],
            policy=policy_from_map(data["policy"]),
            officers=tuple(officer_from_map(o) for o in data["officers"]),
            worklist=worklist,
            authority=data["authority"],
            demo=data["demo"],
            signature=data.get("signature", b""),
            reference_key=data.get("reference_key", b""),
        )
        again = {**data, "worklist": codec.Array(len(listed), map(_as_map, listed))}
        if codec.sha256(again) != sha256(plain).digest():
            raise ValueError("CBOR is not in deterministic encoding (RFC 8949 section 4.2.1)")
        check_pages(profile.policy, profile.officers)
        return profile
    except FileNotFoundError:
        raise
    except PolicyError as exc:
        raise StateError(
            f"kit profile {path}: the kit will not record: {exc}; {FLASH_FIXED}"
        ) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(f"kit profile {path} is damaged ({exc}): reflash the kit") from exc
