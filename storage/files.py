"""Immutable record files, written so that a crash leaves the whole record or nothing.

The protocol (DESIGN "Storage"): write to a temporary name opened with O_EXCL and mode
0600, fsync the file, rename it to its final name, fsync the folder.  Only then is the
record safe.  An error from write or fsync is fatal for that write: after a failed fsync
Linux may already have dropped the dirty pages, so a retry could "succeed" with data lost.

Every filesystem call goes through a :class:`FileOps`, so a test can hand in a simulated
filesystem that loses unsynced data, tears writes and fails on demand (see
tests/storage/test_write_protocol.py); the kit uses :data:`OS_OPS`.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from storage.errors import StorageFull, WriteError

#: Temporary files carry this suffix; boot removes any that a crash left behind.
TEMP_SUFFIX = ".tmp"
RECORD_SUFFIX = ".cose"
#: The kit's certificate sits beside its records, so a folder verifies on its own.
CERTIFICATE_NAME = "kit.cert"


class FileOps:
    """The filesystem calls the record store makes, each the plain ``os`` call.

    A subclass may override any of them to simulate a filesystem; raising OSError from
    one is how a fault (ENOSPC, EIO, EROFS) reaches the store.
    """

    def open_excl(self, path: Path) -> int:
        """Create ``path`` for writing, failing if it exists; owner-only (0600)."""
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    def write(self, fd: int, data: memoryview) -> int:
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        os.fsync(fd)

    def close(self, fd: int) -> None:
        os.close(fd)

    def rename(self, src: Path, dst: Path) -> None:
        os.rename(src, dst)

    def fsync_dir(self, folder: Path) -> None:
        """Make the folder's entries (creations, renames, removals) durable."""
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def unlink(self, path: Path) -> None:
        os.unlink(path)

    def exists(self, path: Path) -> bool:
        return os.path.lexists(path)

    def listdir(self, folder: Path) -> list[str]:
        return os.listdir(folder)

    def read(self, path: Path) -> bytes:
        return Path(path).read_bytes()

    def size(self, path: Path) -> int:
        """The file's size in bytes, without reading it (boot compares it with the index)."""
        return os.stat(path).st_size

    def mkdir(self, path: Path) -> None:
        """Create the folder ``path`` (its parent exists), owner-only (0700)."""
        os.mkdir(path, 0o700)

    def rmdir(self, path: Path) -> None:
        os.rmdir(path)

    def is_dir(self, path: Path) -> bool:
        """Whether ``path`` is a folder itself (a symbolic link to one is not)."""
        return os.path.isdir(path) and not os.path.islink(path)

    def symlink(self, target: str, path: Path) -> None:
        """Make ``path`` a symbolic link holding ``target`` (fails if ``path`` exists)."""
        os.symlink(target, path)

    def readlink(self, path: Path) -> str | None:
        """What the symbolic link ``path`` holds, or None if there is no link there."""
        try:
            return os.readlink(path)
        except OSError:  # none there, or not a link
            return None


#: The real filesystem.
OS_OPS = FileOps()


def private_folder(path: Path) -> Path:
    """Make ``path`` (and its parents) a folder only its owner opens: 0700, even if it existed."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def record_name(seq: int) -> str:
    return f"{seq:08d}{RECORD_SUFFIX}"


def write_atomic(path: Path, data: bytes, *, replace: bool = False, ops: FileOps = OS_OPS) -> None:
    """Write ``data`` as ``path`` so that a crash leaves all of it or none.

    Records are never overwritten (``replace`` False); the kit's profile is replaced whole
    at a reflash.  Raises WriteError (naming the file and the cause) when the data is not
    safe; the temporary file is then removed and ``path`` is as it was.
    """
    temp = path.with_name(path.name + TEMP_SUFFIX)
    if ops.exists(path) and not replace:
        raise WriteError(f"{path} already exists: a sealed file is never overwritten")
    try:
        try:
            fd = ops.open_excl(temp)
        except FileExistsError:
            # a temporary from a crash before boot cleaned up: it was never confirmed
            ops.unlink(temp)
            fd = ops.open_excl(temp)
    except OSError as exc:
        raise _write_error(exc, path, "creating") from exc
    step = "writing"
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[ops.write(fd, view) :]
            step = "syncing"
            ops.fsync(fd)
        finally:
            ops.close(fd)
        step = "renaming"
        ops.rename(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            ops.unlink(temp)
        raise _write_error(exc, path, step) from exc
    try:
        ops.fsync_dir(path.parent)
    except OSError as exc:
        # The data is whole but its name may not survive a crash: take the name back, so
        # the caller may write this file again instead of trusting a name that can vanish.
        if not replace:
            with contextlib.suppress(OSError):
                ops.unlink(path)
        raise _write_error(exc, path, "syncing the folder of") from exc


def _write_error(exc: OSError, path: Path, step: str) -> WriteError:
    """The error of a write that failed: what failed, where, and what to do, for the
    technician and the log; its class (a full disk is :class:`StorageFull`) for the kit's
    display, which says it in the officer's language."""
    lost = "the record is" if path.suffix == RECORD_SUFFIX else f"{path.name} is"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(
            f"storage full while writing {path.name}; {lost} NOT saved: "
            "collect the records to free space, then save again"
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return WriteError(
            f"cannot write {path}: the data folder is read-only ({exc.strerror}); {lost} "
            "NOT saved: check the storage card (its lock switch, or a card the system "
            "remounted read-only after errors)"
        )
    return WriteError(
        f"{step} {path.name} failed: {exc.strerror or exc}; {lost} NOT saved: "
        "check the storage card, it may be failing"
    )


def remove_temporaries(folder: Path, *, ops: FileOps = OS_OPS) -> list[Path]:
    """Delete what a crash left half-written; returns what was removed (for the audit log)."""
    removed = sorted(folder / name for name in ops.listdir(folder) if name.endswith(TEMP_SUFFIX))
    for path in removed:
        ops.unlink(path)
    if removed:
        ops.fsync_dir(folder)
    return removed


def record_files(folder: Path, *, ops: FileOps = OS_OPS) -> Iterator[tuple[int, Path]]:
    """(seq, path) of every record file in ``folder``, in sequence order."""
    found = []
    for name in ops.listdir(folder):
        stem = name.removesuffix(RECORD_SUFFIX)
        if name.endswith(RECORD_SUFFIX) and stem.isdigit():
            found.append((int(stem), folder / name))
    yield from sorted(found)
