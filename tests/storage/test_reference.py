"""The reference key: made with the authority, 0600, refused with what to do when unusable;
the kit's view of who is recorded, from the index's plain or rebuilt keyed references."""

from __future__ import annotations

import hmac
import stat
from pathlib import Path

import pytest

from storage.errors import KeyFileError
from storage.keys import Authority
from storage.reference import (
    KEY_BYTES,
    REFERENCE_KEY_FILE,
    RecordedRefs,
    ReferenceKey,
    ReferenceKeyError,
    named,
    resident_key,
)


def test_the_keyed_reference_is_hmac_sha256_with_a_context() -> None:
    raw = bytes(range(KEY_BYTES))
    key = ReferenceKey(raw)
    expected = hmac.digest(raw, b"jemput-worklist-ref\0" + b"3505014404920005", "sha256")
    assert key.keyed("3505014404920005") == expected
    assert key.keyed("3505014404920005") != ReferenceKey.generate().keyed("3505014404920005")
    assert key.keyed("walk-in:3505014404920005") != key.keyed("3505014404920005")


def test_authority_init_makes_the_reference_key_0600_and_load_reads_it(tmp_path: Path) -> None:
    folder = tmp_path / "authority"
    made = Authority.init(folder, name="t")
    path = folder / REFERENCE_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) == KEY_BYTES
    assert Authority.load(folder).references == made.references
    with pytest.raises(ReferenceKeyError, match="already exists"):
        ReferenceKey.create(folder)


def test_a_missing_reference_key_names_the_file_and_what_to_do(tmp_path: Path) -> None:
    folder = tmp_path / "authority"
    Authority.init(folder, name="t")
    (folder / REFERENCE_KEY_FILE).unlink()
    with pytest.raises(ReferenceKeyError) as caught:
        Authority.load(folder)
    message = str(caught.value)
    assert str(folder / REFERENCE_KEY_FILE) in message and "missing" in message
    assert "backup" in message and "jemput-prov authority reference-key" in message
    assert isinstance(caught.value, KeyFileError)


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda path: path.chmod(0o644), "chmod 600"),
        (lambda path: path.write_bytes(b"short"), "holds 5 bytes"),
        (lambda path: (path.unlink(), path.mkdir(mode=0o700)), "cannot be read"),
    ],
)
def test_an_unreadable_reference_key_is_refused_with_the_file_named(
    tmp_path: Path, damage, said: str
) -> None:
    folder = tmp_path / "authority"
    Authority.init(folder, name="t")
    damage(folder / REFERENCE_KEY_FILE)
    with pytest.raises(ReferenceKeyError, match=said) as caught:
        ReferenceKey.load(folder)
    assert str(folder / REFERENCE_KEY_FILE) in str(caught.value)


def test_resident_key_keys_a_plain_reference_and_keeps_a_keyed_one() -> None:
    key = ReferenceKey.generate()
    assert resident_key(key, keyed_ref=None, worklist_ref="W-1") == key.keyed("W-1")
    assert resident_key(key, keyed_ref=b"k" * 32, worklist_ref=None) == b"k" * 32
    assert resident_key(key, keyed_ref=None, worklist_ref=None) is None


def test_recorded_refs_name_rebuilt_rows_from_the_worklist_and_find_the_rest() -> None:
    key = ReferenceKey.generate()
    held = ["W-1", key.keyed("W-2").hex(), key.keyed("walk-in:3505014404920005").hex()]
    refs = RecordedRefs(held, key, ["W-1", "W-2", "W-3", None])
    assert "W-1" in refs and "W-2" in refs and "walk-in:3505014404920005" in refs
    assert "W-3" not in refs and "walk-in:3505014404920006" not in refs
    assert set(refs) == {"W-1", "W-2", key.keyed("walk-in:3505014404920005").hex()}
    assert named(held, key, ["W-2"]) == {key.keyed("W-2").hex(): "W-2"}
    assert RecordedRefs([key.keyed("W-2").hex()], ReferenceKey.generate(), ["W-2"]) == {
        key.keyed("W-2").hex()
    }, "a row keyed under another key names nobody"


def test_recorded_refs_set_operations_go_through_membership() -> None:
    """`interrupted - recorded` must not miss a walk-in that only a keyed row names."""
    key = ReferenceKey.generate()
    refs = RecordedRefs([key.keyed("walk-in:1").hex(), "W-1"], key, [])
    assert {"walk-in:1", "W-1", "W-2"} - refs == {"W-2"}
    assert refs != {"walk-in:1", "W-1"}, "equality is of what the rows hold"
    assert len(refs) == 2 and "W-1" in set(refs)
