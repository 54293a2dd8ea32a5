"""What provisioning gives a kit: one :class:`KitSetup`, installed into its data folder.

Why one dataclass: the technician's ``jemput-prov flash``, the demo provisioning and the
kit's side of the port's ``flash`` all carry the same facts (kit id, region, officers,
worklist, policy, blank cards); each used to spell them out as its own list of keyword
arguments.  Now the tool sends a setup (`kitlink.messages.FlashArgs.of`), the kit
reads one back (``FlashArgs.setup``) and installs it with :func:`install`, and
:func:`provision` installs one on a kit whose key is made here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage.blanks import BadSerialRange, SerialRange, first_overlap, total
from storage.certificate import certify_kit
from storage.datakey import DataKey, create_data_key, data_key_backend, open_data_key
from storage.files import private_folder, write_atomic
from storage.keys import Authority, KeyBackend, KitKey
from storage.kitkey import backend_of
from storage.layout import (
    certificate_path,
    key_path,
    kit_dir,
    profile_path,
    records_dir,
    round_path,
    state_path,
)
from storage.model import Officer, Policy, Resident
from storage.pin_guard import start_count
from storage.policy import check_pages
from storage.profile import Profile, load_profile, save_profile
from storage.rounds import LoadedRound, save_loaded
from storage.signed_profile import signed, verify_profile
from storage.tpm import DEFAULT_TCTI


@dataclass(frozen=True)
class KitSetup:
    """Who the kit is and what it is given: everything a flash loads but keys and time."""

    kit_id: str
    region: str
    officers: tuple[Officer, ...]
    worklist: tuple[Resident, ...]
    policy: Policy
    #: The serial ranges of blank cards the district hands the kit (`storage.blanks`),
    #: held and loaded into its card ledger at the flash (none: no card printing).
    cards: tuple[SerialRange, ...] = ()

    def __post_init__(self) -> None:
        # the tool before it opens the port, the kit before it installs: the officers'
        # login pages must lie in the sensor library the policy sizes
        check_pages(self.policy, self.officers)
        overlap = first_overlap(self.cards)
        if overlap is not None:
            raise BadSerialRange(f"serial ranges {overlap[0]} and {overlap[1]} overlap")

    @property
    def card_count(self) -> int:
        """Blank cards the flash loads: every card of its ranges."""
        return total(self.cards)

    def profile(self, authority: bytes, *, demo: bool, reference_key: bytes) -> Profile:
        """The kit's profile: this setup under ``authority`` (its public keys, CBOR) and its
        reference key (raw; the profile is encrypted at rest)."""
        return Profile(
            self.kit_id,
            self.region,
            self.policy,
            self.officers,
            self.worklist,
            authority,
            demo=demo,
            reference_key=reference_key,
        )


def install(
    data_dir: Path, *, certificate: bytes, profile: Profile, tcti: str = DEFAULT_TCTI
) -> None:
    """Store what provisioning gives a kit whose key pair is already in its place.

    The certificate goes beside the records (record 1 links to it) and is never replaced
    within a chain; the profile is replaced whole, encrypted with the kit's data key.  The
    data key is made here at the first install, in the signing key's backend (sealed by
    the TPM for a TPM-keyed kit).  The PIN back-off starts here, at zero: a kit that later
    finds no back-off row knows it was deleted (`storage.pin_guard`).  Shared by the demo
    provisioning and the kit's side of `jemput-prov flash`.
    """
    private_folder(Path(data_dir))
    private_folder(records_dir(data_dir))
    private_folder(kit_dir(data_dir))
    if not certificate_path(data_dir).exists():
        write_atomic(certificate_path(data_dir), certificate)
    cipher = kit_data_key(data_dir, tcti=tcti).cipher()
    save_profile(profile_path(data_dir), profile, cipher)
    start_count(state_path(data_dir), cipher)


def install_round(data_dir: Path, loaded: LoadedRound, *, tcti: str = DEFAULT_TCTI) -> None:
    """Keep the next round in the kit's folder (encrypted with its data key), replacing the
    last: the store that opens next names it in every record it seals.  The chain, the
    profile and the key stay as they are."""
    save_loaded(round_path(data_dir), loaded, kit_data_key(data_dir, tcti=tcti).cipher())


def kit_data_key(data_dir: Path, *, tcti: str = DEFAULT_TCTI) -> DataKey:
    """The kit's data key, made on first use in the backend of the kit's signing key."""
    folder = kit_dir(data_dir)
    if data_key_backend(folder) is not None:
        return open_data_key(folder, tcti=tcti)
    return create_data_key(folder, backend_of(folder) or KeyBackend.FILE, tcti=tcti)


def read_profile(data_dir: Path, *, tcti: str = DEFAULT_TCTI) -> Profile | None:
    """The installed profile, decrypted and checked against the authority's signature
    (`storage.signed_profile`); None when the kit was never flashed."""
    path = profile_path(data_dir)
    if not path.exists():
        return None
    profile = load_profile(path, open_data_key(kit_dir(data_dir), tcti=tcti).cipher())
    verify_profile(profile, certificate_path(data_dir).read_bytes())
    return profile


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
    private_folder(Path(data_dir))
    private_folder(key_file.parent)
    key = KitKey.load(key_file) if key_file.exists() else KitKey.create(key_file)
    certificate = certify_kit(
        authority,
        kit_id=kit_id,
        region=region,
        kit_public=key.public_bytes,
        now=now,
        training=training,
    )
    profile = signed(
        setup.profile(
            authority.public.to_cbor(), demo=demo, reference_key=authority.references.to_bytes()
        ),
        authority,
    )
    install(data_dir, certificate=certificate, profile=profile)
    return setup
