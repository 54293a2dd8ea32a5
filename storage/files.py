"""Immutable record files, written so that a crash leaves the whole record or nothing.

The protocol (DESIGN "Storage"): write to a temporary name opened with O_EXCL and mode
0600, fsync the file, rename it to its final name, fsync the folder.  Only then is the
record safe.  An error from write or fsync is fatal for that write: after a failed fsync
Linux may already have dropped the dirty pages, so a retry could "succeed" with data lost.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from storage.errors import WriteError

#: Temporary files carry this suffix; boot removes any that a crash left behind.
TEMP_SUFFIX = ".tmp"
RECORD_SUFFIX = ".cose"
#: The kit's certificate sits beside its records, so a folder verifies on its own.
CERTIFICATE_NAME = "kit.cert"


def record_name(seq: int) -> str:
    return f"{seq:08d}{RECORD_SUFFIX}"


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write ``data`` as ``path`` so that a crash leaves all of it or none.

    Records are never overwritten (``replace`` False); the kit's profile is replaced whole
    at a reflash.  Raises WriteError (naming the file and the cause) when the data is not
    safe; the temporary file is then removed and ``path`` is as it was.
    """
    temp = path.with_name(path.name + TEMP_SUFFIX)
    if path.exists() and not replace:
        raise WriteError(f"{path} already exists: a sealed file is never overwritten")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # a temporary from a crash before boot cleaned up: it was never confirmed
        temp.unlink()
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise WriteError(_explain(exc, path)) from exc
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise WriteError(_explain(exc, path)) from exc


def _explain(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"storage full while writing {path.name}: free space, or collect the records"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"cannot write {path}: the data folder is read-only ({exc.strerror})"
    return f"writing {path.name} failed: {exc.strerror or exc}; the record is NOT saved"


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete what a crash left half-written; returns what was removed (for the audit log)."""
    removed = sorted(folder.glob(f"*{TEMP_SUFFIX}"))
    for path in removed:
        path.unlink()
    if removed:
        fsync_dir(folder)
    return removed


def record_files(folder: Path) -> Iterator[tuple[int, Path]]:
    """(seq, path) of every record file in ``folder``, in sequence order."""
    found = []
    for path in folder.glob(f"*{RECORD_SUFFIX}"):
        stem = path.name.removesuffix(RECORD_SUFFIX)
        if stem.isdigit():
            found.append((int(stem), path))
    yield from sorted(found)
