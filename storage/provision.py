"""What provisioning gives a kit: one :class:`KitSetup`, installed into its data folder.

Why one dataclass: the technician's ``jemput-prov flash``, the demo provisioning and the
kit's side of the port's ``flash`` all carry the same facts (kit id, region, officers,
worklist, policy, blank cards); each used to spell them out as its own list of keyword
arguments.  Now the tool sends a setup (`provisioning.protocol.setup_to_map`), the kit
reads one back (``setup_from_map``) and installs it with :func:`install`, and
:func:`provision` installs one on a kit whose key is made here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage.certificate import certify_kit
from storage.files import write_atomic
from storage.keys import Authority, KitKey
from storage.layout import certificate_path, key_path, profile_path, records_dir
from storage.model import Officer, Policy, Resident
from storage.profile import Profile, save_profile


@dataclass(frozen=True)
class KitSetup:
    """Who the kit is and what it is given: everything a flash loads but keys and time."""

    kit_id: str
    region: str
    officers: tuple[Officer, ...]
    worklist: tuple[Resident, ...]
    policy: Policy
    #: Blank cards loaded into the card ledger at the flash (0: none).
    cards: int = 0

    def profile(self, authority: bytes, *, demo: bool) -> Profile:
        """The kit's profile: this setup under ``authority`` (its public keys, CBOR)."""
        return Profile(
            self.kit_id,
            self.region,
            self.policy,
            self.officers,
            self.worklist,
            authority,
            demo=demo,
        )


def install(data_dir: Path, *, certificate: bytes, profile: Profile) -> None:
    """Store what provisioning gives a kit whose key pair is already in its place.

    The certificate goes beside the records (record 1 links to it) and is never replaced
    within a chain; the profile is replaced whole.  Shared by the demo provisioning and
    the kit's side of `jemput-prov flash`.
    """
    records_dir(data_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    if not certificate_path(data_dir).exists():
        write_atomic(certificate_path(data_dir), certificate)
    save_profile(profile_path(data_dir), profile)


def provision(
    data_dir: Path,
    *,
    authority: Authority,
    kit_id: str,
    region: str,
    officers: tuple[Officer, ...],
    worklist: tuple[Resident, ...],
    policy: Policy,
    now: datetime,
    demo: bool = False,
    training: bool = False,
) -> KitSetup:
    """Make the kit's key pair, have the authority certify it, and install the setup.

    The keyword arguments are the :class:`KitSetup`'s (tests and the demo provisioning
    name them); returns the setup installed.  ``training`` certifies a simulator's
    training kit, whose records collectors refuse.
    """
    setup = KitSetup(kit_id, region, officers, worklist, policy)
    key_file = key_path(data_dir)
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = KitKey.load(key_file) if key_file.exists() else KitKey.create(key_file)
    certificate = certify_kit(
        authority,
        kit_id=kit_id,
        region=region,
        kit_public=key.public_bytes,
        now=now,
        training=training,
    )
    profile = setup.profile(authority.public.to_cbor(), demo=demo)
    install(data_dir, certificate=certificate, profile=profile)
    return setup
