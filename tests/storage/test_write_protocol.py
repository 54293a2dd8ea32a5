"""The record write protocol against a filesystem that forgets: crash at every step.

`tests.crashfs.ForgetfulFS`, over the records folder, keeps what is durable apart from
what is only in the page cache: file data not yet fsynced and folder changes (create,
rename, unlink) not yet made durable by an fsync of the folder.  A crash keeps any prefix
of the pending folder changes (a journalling filesystem commits them in order) and, of each
file's unsynced data, none, a torn prefix or all of it.  The kit's real :class:`KitStore`
seals a few records on it, the power is cut before every filesystem call in turn (and once
after the last), every way the crash can fall is replayed, and a rebooted store must still
hold every record whose seal() returned, byte for byte, with no temporary and no half
record.

Two deliberately broken protocols (no file fsync, no folder fsync) show that the model
catches what it is meant to catch.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import pytest

from storage.files import CERTIFICATE_NAME, TEMP_SUFFIX, record_name
from storage.kit import KitStore
from storage.record import read_header, record_hash
from tests.crashfs import TEARS, Crash, ForgetfulFS, NoFileSync, NoFolderSync, PowerCut
from tests.storage.conftest import enrolment, now

SEALS = 3


def _new_fs(kit_dir: Path, kind: type[ForgetfulFS]) -> ForgetfulFS:
    records = kit_dir / "records"
    fs = kind(records)
    fs.seed(CERTIFICATE_NAME, (records / CERTIFICATE_NAME).read_bytes())
    return fs


def _seal_until_cut(kit_dir: Path, fs: ForgetfulFS, cut_at: int | None) -> dict[int, bytes]:
    """Seal SEALS records, cutting the power before call ``cut_at``; the confirmed digests."""
    for part in kit_dir.glob("state.db*"):
        part.unlink()
    confirmed: dict[int, bytes] = {}
    with KitStore(kit_dir, now=now, ops=fs) as store:
        fs.calls, fs.cut_at = 0, cut_at
        try:
            for n in range(SEALS):
                sealed = store.seal(enrolment(n, face_bytes=900))
                confirmed[sealed.seq] = sealed.digest
        except PowerCut:
            pass
    return confirmed


def _violations(kit_dir: Path, fs: ForgetfulFS, confirmed: dict[int, bytes]) -> list[str]:
    """What is wrong after a reboot; also seals once more to see the chain carry on."""
    found = []
    with KitStore(kit_dir, now=now, ops=fs) as store:
        names = fs.listdir(fs.folder)
        found += [f"temporary {name} survived boot" for name in names if name.endswith(TEMP_SUFFIX)]
        for seq, digest in confirmed.items():
            path = fs.folder / record_name(seq)
            if not fs.exists(path) or record_hash(fs.read(path)) != digest:
                found.append(f"confirmed record {seq} is not there as sealed")
        found += [f"half record visible: {damaged}" for damaged in store.damaged]
        if store.damaged:
            return found
        following = store.seal(enrolment(99))
        header = read_header(fs.read(following.path))
        before = fs.folder / (record_name(following.seq - 1) if following.seq > 1 else "kit.cert")
        if header.prev != record_hash(fs.read(before)):
            found.append(f"record {following.seq} does not link to the one before it")
        if following.seq - 1 < max(confirmed, default=0):
            found.append(f"record {following.seq} reuses a confirmed sequence number")
    return found


def _explore(kit_dir: Path, kind: type[ForgetfulFS]) -> list[str]:
    """Every cut point x every way the crash can fall; the violations found."""
    fs = _new_fs(kit_dir, kind)
    _seal_until_cut(kit_dir, fs, None)
    found = []
    state = kit_dir / "state.db"
    for cut_at in range(fs.calls + 1):
        before_crash = _new_fs(kit_dir, kind)
        confirmed = _seal_until_cut(kit_dir, before_crash, cut_at)
        state_after_cut = state.read_bytes()
        ways = itertools.product(range(len(before_crash.pending) + 1), TEARS)
        for dir_changes, tear in ways:
            fs = copy.deepcopy(before_crash)
            state.write_bytes(state_after_cut)
            fs.crash(Crash(dir_changes, tear))
            found += [
                f"cut before call {cut_at}, {dir_changes} folder change(s) kept, "
                f"{tear:.0%} of unsynced data kept: {problem}"
                for problem in _violations(kit_dir, fs, confirmed)
            ]
    return found


def test_every_confirmed_record_survives_a_crash_at_every_step(kit_dir: Path) -> None:
    assert _explore(kit_dir, ForgetfulFS) == []


@pytest.mark.parametrize("broken", [NoFileSync, NoFolderSync])
def test_the_model_catches_a_protocol_that_skips_a_sync(
    kit_dir: Path, broken: type[ForgetfulFS]
) -> None:
    found = _explore(kit_dir, broken)
    assert any("confirmed record" in problem for problem in found)


def test_a_crash_during_boot_cleanup_is_cleaned_up_at_the_next_boot(kit_dir: Path) -> None:
    fs = _new_fs(kit_dir, ForgetfulFS)
    confirmed = _seal_until_cut(kit_dir, fs, 3)  # record 1 half written, its temporary named
    fs.crash(Crash(dir_changes=1, tear=1.0))
    assert any(name.endswith(TEMP_SUFFIX) for name in fs.listdir(fs.folder))
    fs.cut_at = 1  # boot removes the temporary, then the power goes before the folder sync
    with pytest.raises(PowerCut):
        KitStore(kit_dir, now=now, ops=fs)
    fs.crash(Crash(dir_changes=0, tear=0.0))
    assert _violations(kit_dir, fs, confirmed) == []
    assert fs.listdir(fs.folder) == [CERTIFICATE_NAME, record_name(1)]
