"""State at rest: what names or shows a person is ciphertext, and leaves the files once done;
the profile is the one the authority signed.

The kit's data key (`storage.datakey`) encrypts the profile, the journal, the audit details
and the index's worklist references; ``secure_delete`` and a TRUNCATE checkpoint take a
cleared journal out of state.db and state.db-wal.  These tests read the files' bytes as a
thief with the card would.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from storage import codec, signed_profile
from storage.cose import sign1
from storage.datakey import (
    PLAIN_FILE,
    SEALED_FILE,
    StateDecryptError,
    create_file_key,
    open_data_key,
)
from storage.errors import KeyFileError, StateError
from storage.keys import Authority, AuthorityPublic, KeyBackend
from storage.kit import KitStore, provision
from storage.layout import kit_dir, state_files
from storage.model import Officer, Policy
from storage.officers import make_officer
from storage.profile import Profile, load_profile, save_profile
from storage.signed_profile import ProfileChanged, signed
from tests.storage.conftest import AUTHORITY, NOW, enrolment, now
from vocabulary.people import Role

PHOTO = b"\xff\xd8\xff\xe0" + b"JFIF-secret-face" * 64
OFFICER: Officer = make_officer("PTG-7", "SITI OFFICER", Role.OFFICER, "246810", finger_pages=(0,))


@pytest.fixture
def peopled(tmp_path: Path) -> Path:
    """A kit provisioned with a worklist of three residents and one officer."""
    data_dir = tmp_path / "kit"
    provision(
        data_dir,
        authority=AUTHORITY,
        kit_id="TEST-3505-02",
        region="3505",
        officers=(OFFICER,),
        worklist=tuple(enrolment(n).resident for n in range(3)),
        policy=Policy(),
        now=NOW,
    )
    return data_dir


def _bytes_on_card(data_dir: Path) -> dict[Path, bytes]:
    """Every file below ``data_dir``, the records included (keyed references only)."""
    return {path: path.read_bytes() for path in data_dir.rglob("*") if path.is_file()}


def _secrets(n: int) -> list[bytes]:
    resident = enrolment(n).resident
    return [resident.nik.encode(), resident.name.encode(), resident.worklist_ref.encode()]


def test_profile_journal_audit_and_index_hold_no_nik_name_photo_or_pin_hash(
    peopled: Path,
) -> None:
    with KitStore(peopled, now=now) as store:
        assert [r.nik for r in store.worklist] == [enrolment(n).resident.nik for n in range(3)]
        assert store.officers["PTG-7"].name == "SITI OFFICER"
        store.seal(enrolment(0))
        store.audit.append("note", ref=enrolment(1).resident.worklist_ref)
        store.journal.save({"ref": enrolment(2).resident.worklist_ref, "face": PHOTO})
        assert store.recorded_refs() == {"REF-0"}
        assert store.recent() == [(1, "REF-0")]
        assert store.audit.entries()[-1][3] == {"ref": "REF-1"}
        assert store.journal.load() == {"ref": "REF-2", "face": PHOTO}
        files = _bytes_on_card(peopled)
    assert any(path.name.startswith("state.db") for path in files)
    assert any(path.suffix == ".cose" for path in files)
    secrets = [b"\xff\xd8\xff", b"JFIF-secret", b"SITI OFFICER", OFFICER.pin_hash]
    secrets += [s for n in range(3) for s in _secrets(n)]
    leaks = [(path.name, s) for path, data in files.items() for s in secrets if s in data]
    assert leaks == []


def test_a_cleared_journal_leaves_neither_state_db_nor_its_wal(store: KitStore) -> None:
    store.journal.save({"face": PHOTO})
    state_db = store.data_dir / "state.db"
    with sqlite3.connect(state_db) as peek:
        (ciphertext,) = peek.execute("SELECT state FROM journal").fetchone()
    store.journal.clear()
    assert store.journal.load() is None
    main, wal, _ = state_files(store.data_dir)
    assert wal.stat().st_size == 0, "the TRUNCATE checkpoint emptied the write-ahead log"
    assert ciphertext[16:80] not in main.read_bytes(), "secure_delete zeroed the freed page"


def test_secure_delete_is_on(store: KitStore) -> None:
    assert store._db.execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_every_file_is_0600_and_every_folder_0700(peopled: Path) -> None:
    with KitStore(peopled, now=now) as store:
        store.seal(enrolment(0))
        store.journal.save({"face": PHOTO})
        modes = {
            path.relative_to(peopled): stat.S_IMODE(path.stat().st_mode)
            for path in [peopled, *peopled.rglob("*")]
        }
    assert Path("state.db-wal") in modes and Path("kit") in modes
    wrong = {
        path: oct(mode)
        for path, mode in modes.items()
        if mode != (0o700 if (peopled / path).is_dir() else 0o600)
    }
    assert wrong == {}


def test_the_file_backend_data_key_is_named_as_such(store: KitStore) -> None:
    assert store.data_key_backend is KeyBackend.FILE
    assert (kit_dir(store.data_dir) / PLAIN_FILE).exists()
    assert not (kit_dir(store.data_dir) / SEALED_FILE).exists()


def test_another_kits_data_key_does_not_open_the_profile(kit_dir: Path) -> None:
    folder = kit_dir / "kit"
    os.unlink(folder / PLAIN_FILE)
    create_file_key(folder)
    with pytest.raises(StateError, match=r"does not open with this kit's data key.*flash"):
        KitStore(kit_dir, now=now)


def test_a_kit_without_its_data_key_says_to_flash_again(kit_dir: Path) -> None:
    os.unlink(kit_dir / "kit" / PLAIN_FILE)
    with pytest.raises(KeyFileError, match=r"holds no data key.*flash the kit again"):
        KitStore(kit_dir, now=now)


def test_a_moved_journal_ciphertext_does_not_open_as_an_audit_detail(store: KitStore) -> None:
    store.audit.append("note", ref="REF-9")
    store.journal.save({"face": PHOTO})
    store.close()
    with sqlite3.connect(store.data_dir / "state.db") as db:
        db.execute("UPDATE audit SET detail = (SELECT state FROM journal) WHERE kind = 'note'")
    with KitStore(store.data_dir, now=now) as reopened:
        assert reopened.audit_break is not None, "the chain hashes the ciphertext it keeps"
        with pytest.raises(StateDecryptError, match="audit:"):
            reopened.audit.entries()


def _stranger() -> Authority:
    return Authority(
        name="Not Dukcapil",
        demo=True,
        signing=Ed25519PrivateKey.generate(),
        decryption=X25519PrivateKey.generate(),
    )


def _rewrite_profile(data_dir: Path, change: Callable[[Profile], Profile]) -> None:
    """Decrypt the kit's profile with its data key, change it, encrypt it back."""
    cipher = open_data_key(kit_dir(data_dir)).cipher()
    path = data_dir / "kit" / "profile.cbor"
    save_profile(path, change(load_profile(path, cipher)), cipher)


def test_a_profile_with_another_authority_key_is_refused_at_boot(kit_dir: Path) -> None:
    stranger = _stranger()
    _rewrite_profile(kit_dir, lambda p: dataclasses.replace(p, authority=stranger.public.to_cbor()))
    with pytest.raises(ProfileChanged, match=r"authority key changed\): flash the kit again"):
        KitStore(kit_dir, now=now)


def test_a_profile_resigned_by_another_authority_does_not_match_the_kit_certificate(
    kit_dir: Path,
) -> None:
    stranger = _stranger()
    _rewrite_profile(
        kit_dir,
        lambda p: signed(dataclasses.replace(p, authority=stranger.public.to_cbor()), stranger),
    )
    with pytest.raises(ProfileChanged, match="did not issue this kit's certificate"):
        KitStore(kit_dir, now=now)


def test_an_added_officer_is_named_as_the_change(kit_dir: Path) -> None:
    _rewrite_profile(kit_dir, lambda p: dataclasses.replace(p, officers=(OFFICER,)))
    with pytest.raises(ProfileChanged, match=r"\(officers changed\)"):
        KitStore(kit_dir, now=now)


def test_an_unchanged_signed_profile_boots(kit_dir: Path) -> None:
    _rewrite_profile(kit_dir, lambda p: p)
    with KitStore(kit_dir, now=now) as store:
        assert store.authority.kid == AUTHORITY.kid


def test_the_store_reads_the_authority_key_the_profile_decoded_once(kit_dir: Path) -> None:
    with KitStore(kit_dir, now=now) as store:
        assert store.authority is store.profile.authority_public  # no second decoding
        assert store.authority == AuthorityPublic.from_cbor(store.profile.authority)


def test_a_profile_without_a_reference_key_is_refused_at_boot(kit_dir: Path) -> None:
    """As a kit flashed before keyed references: signed, but with no key to seal with."""
    _rewrite_profile(
        kit_dir, lambda p: signed(dataclasses.replace(p, reference_key=b""), AUTHORITY)
    )
    with pytest.raises(ProfileChanged, match=r"carries no reference key .*flash the kit again"):
        KitStore(kit_dir, now=now)


def test_a_profile_signed_before_keyed_references_is_refused_as_old_not_as_changed(
    kit_dir: Path,
) -> None:
    """A flash before keyed references signed no reference section and sent no key."""

    def as_flashed_before(profile: Profile) -> Profile:
        old = dataclasses.replace(profile, reference_key=b"")
        manifest = signed_profile.manifest(old)
        del manifest["sections"]["reference"]
        signature = sign1(
            codec.dumps(manifest),
            AUTHORITY.signing_key,
            kid=AUTHORITY.kid,
            content_type=signed_profile.CONTENT_TYPE,
        )
        return dataclasses.replace(old, signature=signature)

    _rewrite_profile(kit_dir, as_flashed_before)
    profile = load_profile(
        kit_dir / "kit" / "profile.cbor", open_data_key(kit_dir / "kit").cipher()
    )
    assert signed_profile.changes(profile) == [], "as the authority signed it"
    with pytest.raises(ProfileChanged, match=r"carries no reference key .*flash the kit again"):
        KitStore(kit_dir, now=now)
    _rewrite_profile(kit_dir, lambda p: dataclasses.replace(p, reference_key=bytes(32)))
    with pytest.raises(ProfileChanged, match=r"\(reference key changed\)"):
        KitStore(kit_dir, now=now)


def test_a_changed_reference_key_is_named_as_the_change(kit_dir: Path) -> None:
    _rewrite_profile(kit_dir, lambda p: dataclasses.replace(p, reference_key=bytes(32)))
    with pytest.raises(ProfileChanged, match=r"\(reference key changed\)"):
        KitStore(kit_dir, now=now)


def test_an_index_rebuilt_from_the_records_names_worklist_residents(peopled: Path) -> None:
    """The headers hold keyed references; the kit keys its worklist to name them again."""
    with KitStore(peopled, now=now) as store:
        store.seal(enrolment(0))
        store.seal(enrolment(7))  # on no worklist: known by keyed reference only
    for path in state_files(peopled):
        path.unlink(missing_ok=True)
    with KitStore(peopled, now=now) as rebuilt:
        refs = rebuilt.recorded_refs()
        assert "REF-0" in refs and "REF-7" in refs and "REF-1" not in refs
        assert "REF-0" in set(refs), "a worklist resident is named, not left keyed"
        recent = dict(rebuilt.recent())
        assert recent[1] == "REF-0" and recent[2] != "REF-7"
        rebuilt.journal.save({"ref": "REF-7"})
        assert rebuilt.clear_journal_if_sealed("REF-7"), "a rebuilt walk-in still counts"
        assert rebuilt.journal.load() is None
