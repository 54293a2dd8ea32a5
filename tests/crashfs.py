"""A filesystem that forgets what was not made durable: the crash model of the write tests.

:class:`ForgetfulFS` is a `storage.files.FileOps` over a folder tree held in memory.  It
keeps what is durable apart from what is only in the page cache: file data not yet
fsynced, and folder changes (create, rename, unlink, mkdir, rmdir, symlink) not yet made
durable by an fsync of their folder.  A crash keeps any prefix of the pending folder
changes (a journalling filesystem commits them in order) and, of each file's unsynced data,
none, a torn prefix or all of it (:class:`Crash`).  A symbolic link's target is written
with its entry, so it survives exactly when its entry does (ext4 stores short targets in
the inode).

The power is cut before call ``cut_at`` (:class:`PowerCut`, a BaseException no handler
catches), and every way the crash can fall is replayed by the tests that use it: the
record store's write protocol (tests/storage/test_write_protocol.py) and the software
slots' install, start, commit and rollback (tests/firmware/test_update_crash.py).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from pathlib import Path

from storage.files import FileOps

#: Bytes per write call: files take several calls, so a crash can fall between them.
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


_FILE, _DIR, _LINK = "file", "dir", "link"


@dataclass
class ForgetfulFS(FileOps):
    """The tree under ``folder`` with a page cache that a crash can partly lose."""

    folder: Path
    durable_names: dict[Path, int] = field(default_factory=dict)
    durable_data: dict[int, bytes] = field(default_factory=dict)
    names: dict[Path, int] = field(default_factory=dict)
    data: dict[int, bytearray] = field(default_factory=dict)
    kinds: dict[int, str] = field(default_factory=dict)
    targets: dict[int, str] = field(default_factory=dict)
    #: folder changes since their folder's last fsync, oldest first: (path, inode or None)
    pending: list[tuple[Path, int | None]] = field(default_factory=list)
    fds: dict[int, int] = field(default_factory=dict)
    calls: int = 0
    cut_at: int | None = None

    def seed(self, name: str, content: bytes) -> None:
        """A durable file from before the test (``name`` relative to the folder)."""
        path = self.folder / name
        inode = self._new(_FILE)
        self.durable_names[path] = self.names[path] = inode
        self.durable_data[inode] = content
        self.data[inode] = bytearray(content)

    def _new(self, kind: str) -> int:
        inode = len(self.kinds) + 1
        self.kinds[inode] = kind
        self.data[inode] = bytearray()
        self.durable_data[inode] = b""
        return inode

    def _step(self) -> None:
        if self.cut_at is not None and self.calls >= self.cut_at:
            raise PowerCut
        self.calls += 1

    def _path(self, path: Path) -> Path:
        path = Path(path)
        assert path == self.folder or self.folder in path.parents, (
            f"{path} is outside {self.folder}"
        )
        return path

    def _change(self, path: Path, inode: int | None) -> None:
        if inode is None:
            del self.names[path]
        else:
            self.names[path] = inode
        self.pending.append((path, inode))

    def _kind(self, path: Path) -> str | None:
        path = self._path(path)
        if path == self.folder:
            return _DIR
        inode = self.names.get(path)
        return None if inode is None else self.kinds[inode]

    def _missing(self, path: Path) -> OSError:
        return FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))

    # -- FileOps ----------------------------------------------------------------------------

    def open_excl(self, path: Path) -> int:
        self._step()
        path = self._path(path)
        if path in self.names:
            raise FileExistsError(errno.EEXIST, "File exists", str(path))
        if self._kind(path.parent) != _DIR:
            raise self._missing(path.parent)
        inode = self._new(_FILE)
        self._change(path, inode)
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
        src, dst = self._path(src), self._path(dst)
        inode = self.names[src]
        self._change(src, None)
        self._change(dst, inode)

    def fsync_dir(self, folder: Path) -> None:
        self._step()
        folder = self._path(folder)
        assert self._kind(folder) == _DIR, f"{folder} is not a folder"
        kept = []
        for path, inode in self.pending:
            if path.parent != folder:
                kept.append((path, inode))
            elif inode is None:
                self.durable_names.pop(path, None)
            else:
                self.durable_names[path] = inode
        self.pending = kept

    def unlink(self, path: Path) -> None:
        self._step()
        path = self._path(path)
        if self._kind(path) in (None, _DIR):
            raise self._missing(path)
        self._change(path, None)

    def exists(self, path: Path) -> bool:
        return self._kind(path) is not None

    def listdir(self, folder: Path) -> list[str]:
        folder = self._path(folder)
        return [path.name for path in self.names if path.parent == folder]

    def read(self, path: Path) -> bytes:
        path = self._path(path)
        if self._kind(path) != _FILE:
            raise self._missing(path)
        return bytes(self.data[self.names[path]])

    def size(self, path: Path) -> int:
        return len(self.read(path))

    def mkdir(self, path: Path) -> None:
        self._step()
        path = self._path(path)
        if path in self.names:
            raise FileExistsError(errno.EEXIST, "File exists", str(path))
        self._change(path, self._new(_DIR))

    def rmdir(self, path: Path) -> None:
        self._step()
        path = self._path(path)
        assert self._kind(path) == _DIR and not self.listdir(path), f"{path} is no empty folder"
        self._change(path, None)

    def is_dir(self, path: Path) -> bool:
        return self._kind(path) == _DIR

    def symlink(self, target: str, path: Path) -> None:
        self._step()
        path = self._path(path)
        if path in self.names:
            raise FileExistsError(errno.EEXIST, "File exists", str(path))
        inode = self._new(_LINK)
        self.targets[inode] = target
        self._change(path, inode)

    def readlink(self, path: Path) -> str | None:
        if self._kind(path) != _LINK:
            return None
        return self.targets[self.names[self._path(path)]]

    # -- the crash --------------------------------------------------------------------------

    def crash(self, how: Crash) -> None:
        """Lose what the crash loses; the page cache and open files are gone."""
        for path, inode in self.pending[: how.dir_changes]:
            if inode is None:
                self.durable_names.pop(path, None)
            else:
                self.durable_names[path] = inode
        for inode, content in self.data.items():
            durable = self.durable_data[inode]
            unsynced = bytes(content[len(durable) :])
            self.durable_data[inode] = durable + unsynced[: int(len(unsynced) * how.tear)]
        # an entry whose folder did not survive is gone with it
        self.names = {
            path: inode
            for path, inode in self.durable_names.items()
            if all(
                parent == self.folder or self.kinds.get(self.durable_names.get(parent, 0)) == _DIR
                for parent in path.parents
                if parent == self.folder or self.folder in parent.parents
            )
        }
        self.durable_names = dict(self.names)
        self.data = {inode: bytearray(content) for inode, content in self.durable_data.items()}
        self.pending.clear()
        self.fds.clear()
        self.cut_at = None


class NoFileSync(ForgetfulFS):
    """A broken protocol: the file's data is never forced to disk."""

    def fsync(self, fd: int) -> None:
        self._step()


class NoFolderSync(ForgetfulFS):
    """A broken protocol: a folder's changes are never made durable."""

    def fsync_dir(self, folder: Path) -> None:
        self._step()
