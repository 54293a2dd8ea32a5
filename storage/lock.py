"""One writer per data folder: an exclusive ``flock`` on ``DATA/.lock``.

Why a lock: two kit processes sealing into one folder would both take the next sequence
number, and the port's host would answer from a head the other process has moved.  Every
command that writes (``run``, ``demo``, the port's host) holds the lock for as long as it
runs; a second writer is refused at once (never waits), told which folder and which
process holds it.  Readers (``jemput-kit status``) do not take it.

``flock`` rather than a PID file: the kernel drops the lock when the holder dies, however
it dies, so a pulled battery or a SIGKILL never leaves a stale lock behind.  The PID
written into the file is only there to name the holder in the message.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path

from storage.errors import StorageError
from storage.files import private_folder
from storage.layout import lock_path


class FolderBusy(StorageError, BlockingIOError):
    """Another process writes to this data folder."""


class FolderLock:
    """Holds the data folder's write lock from construction until :meth:`close`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        private_folder(self.data_dir)
        path = lock_path(self.data_dir)
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _holder(self._fd)
            os.close(self._fd)
            self._fd = None
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise FolderBusy(f"cannot lock the data folder {self.data_dir}: {exc}") from exc
            raise FolderBusy(
                f"the data folder {self.data_dir} is in use by another kit process "
                f"(PID {holder}): stop it first (systemctl stop jemput-kit, or end that "
                "jemput-kit), or use another --data-dir"
            ) from exc
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def __repr__(self) -> str:
        return f"<FolderLock {self.data_dir} {'held' if self._fd is not None else 'released'}>"

    def close(self) -> None:
        """Release the lock; safe twice."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the descriptor drops the flock
        self._fd = None

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _holder(fd: int) -> str:
    """The PID the holder wrote into the lock file, or "unknown" while it writes it."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"
