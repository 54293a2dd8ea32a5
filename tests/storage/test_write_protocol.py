"""The record write protocol against a filesystem that forgets: crash at every step.

:class:`ForgetfulFS` keeps, for the records folder, what is durable apart from what is only
in the page cache: file data not yet fsynced and folder changes (create, rename, unlink)
not yet made durable by an fsync of the folder.  A crash keeps any prefix of the pending
folder changes (a journalling filesystem commits them in order) and, of each file's unsynced
data, none, a torn prefix or all of it.  The kit's real :class:`KitStore` seals a few
records on it, the power is cut before every filesystem call in turn (and once after the
last), every way the crash can fall is replayed, and a rebooted store must still hold every
record whose seal() returned, byte for byte, with no temporary and no half record.

Two deliberately broken protocols (no file fsync, no folder fsync) show that the model
catches what it is meant to catch.
"""

from __future__ import annotations

import copy
import errno
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from storage.files import CERTIFICATE_NAME, TEMP_SUFFIX, FileOps, record_name
from storage.kit import KitStore
from storage.record import read_header, record_hash
from tests.storage.conftest import enrolment, now

SEALS = 3
#: Bytes per write call: records take several calls, so a crash can fall between them.
CHUNK = 700
#: How much of a file's unsynced data survives a crash: none, a torn half, all of it.
TEARS = (0.0, 0.5, 1.0)


class PowerCut(BaseException):
    """The battery was pulled: nothing after this call happens (not an OSError to handle)."""


@dataclass
class Crash:
    """How a power cut falls: folder changes kept, and the share of unsynced data kept."""

    dir_changes: int
    tear: float


@dataclass
class ForgetfulFS(FileOps):
    """A one-folder filesystem with a page cache that a crash can partly lose."""

    folder: Path
    durable_names: dict[str, int] = field(default_factory=dict)
    durable_data: dict[int, bytes] = field(default_factory=dict)
    names: dict[str, int] = field(default_factory=dict)
    data: dict[int, bytearray] = field(default_factory=dict)
    #: folder changes since the last folder fsync, oldest first: (name, inode or None)
    pending: list[tuple[str, int | None]] = field(default_factory=list)
    fds: dict[int, int] = field(default_factory=dict)
    calls: int = 0
    cut_at: int | None = None

    def seed(self, name: str, content: bytes) -> None:
        """A durable file from before the test (the kit certificate)."""
        inode = len(self.data) + 1
        self.durable_names[name] = self.names[name] = inode
        self.durable_data[inode] = content
        self.data[inode] = bytearray(content)

    def _step(self) -> None:
        if self.cut_at is not None and self.calls >= self.cut_at:
            raise PowerCut
        self.calls += 1

    def _name(self, path: Path) -> str:
        assert Path(path).parent == self.folder, f"{path} is outside the records folder"
        return Path(path).name

    def _change(self, name: str, inode: int | None) -> None:
        if inode is None:
            del self.names[name]
        else:
            self.names[name] = inode
        self.pending.append((name, inode))

    def open_excl(self, path: Path) -> int:
        self._step()
        name = self._name(path)
        if name in self.names:
            raise FileExistsError(errno.EEXIST, "File exists", str(path))
        inode = len(self.data) + 1
        self.data[inode] = bytearray()
        self.durable_data[inode] = b""
        self._change(name, inode)
        fd = 100 + inode
        self.fds[fd] = inode
        return fd

    def write(self, fd: int, data: memoryview) -> int:
        self._step()
        piece = bytes(data[:CHUNK])
        self.data[self.fds[fd]] += piece
        return len(piece)

    def fsync(self, fd: int) -> None:
        self._step()
        inode = self.fds[fd]
        self.durable_data[inode] = bytes(self.data[inode])

    def close(self, fd: int) -> None:
        del self.fds[fd]

    def rename(self, src: Path, dst: Path) -> None:
        self._step()
        inode = self.names[self._name(src)]
        self._change(self._name(src), None)
        self._change(self._name(dst), inode)

    def fsync_dir(self, folder: Path) -> None:
        self._step()
        assert Path(folder) == self.folder
        self.durable_names = dict(self.names)
        self.pending.clear()

    def unlink(self, path: Path) -> None:
        self._step()
        name = self._name(path)
        if name not in self.names:
            raise FileNotFoundError(errno.ENOENT, "No such file", str(path))
        self._change(name, None)

    def exists(self, path: Path) -> bool:
        return self._name(path) in self.names

    def listdir(self, folder: Path) -> list[str]:
        assert Path(folder) == self.folder
        return list(self.names)

    def read(self, path: Path) -> bytes:
        name = self._name(path)
        if name not in self.names:
            raise FileNotFoundError(errno.ENOENT, "No such file", str(path))
        return bytes(self.data[self.names[name]])

    def size(self, path: Path) -> int:
        return len(self.read(path))

    def crash(self, how: Crash) -> None:
        """Lose what the crash loses; the page cache and open files are gone."""
        for name, inode in self.pending[: how.dir_changes]:
            if inode is None:
                self.durable_names.pop(name, None)
            else:
                self.durable_names[name] = inode
        for inode, content in self.data.items():
            durable = self.durable_data[inode]
            unsynced = bytes(content[len(durable) :])
            self.durable_data[inode] = durable + unsynced[: int(len(unsynced) * how.tear)]
        self.names = dict(self.durable_names)
        self.data = {inode: bytearray(content) for inode, content in self.durable_data.items()}
        self.pending.clear()
        self.fds.clear()
        self.cut_at = None


class NoFileSync(ForgetfulFS):
    """A broken protocol: the file's data is never forced to disk."""

    def fsync(self, fd: int) -> None:
        self._step()


class NoFolderSync(ForgetfulFS):
    """A broken protocol: the rename is never made durable."""

    def fsync_dir(self, folder: Path) -> None:
        self._step()


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
