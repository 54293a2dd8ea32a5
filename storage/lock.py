"""One writer per data folder: an exclusive ``flock`` on the data folder itself.

Why a lock: two kit processes sealing into one folder would both take the next sequence
number, and the port's host would answer from a head the other process has moved.  Every
command that writes (``run``, ``demo``, the port's host) holds the lock for as long as it
runs; a second writer is refused at once (never waits), told which folder and which
process holds it.  Readers (``jemput-kit status``) do not take it.

``flock`` rather than a PID file: the kernel drops the lock when the holder dies, however
it dies, so a pulled battery or a SIGKILL never leaves a stale lock behind.  And the lock
is on a descriptor of the folder, not of a file in it: a lock file (the ``DATA/.lock`` of
earlier releases) can be deleted under a running kit, and the next writer then locks a
new file of the same name and seals beside it.  The folder cannot be deleted while it
holds the kit's files.  The holder's PID comes from the kernel's table of locks
(``/proc/locks``), so nothing on the card names it or can be edited to hide it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path

from storage.errors import StorageError
from storage.files import private_folder

#: The kernel's table of the locks held now: one line per lock, ``maj:min:inode`` in it.
PROC_LOCKS = Path("/proc/locks")


class FolderBusy(StorageError, BlockingIOError):
    """Another process writes to this data folder."""


class FolderLock:
    """Holds the data folder's write lock from construction until :meth:`close`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        private_folder(self.data_dir)
        self._fd: int | None = os.open(self.data_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _holder(os.fstat(self._fd))
            os.close(self._fd)
            self._fd = None
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise FolderBusy(f"cannot lock the data folder {self.data_dir}: {exc}") from exc
            raise FolderBusy(
                f"the data folder {self.data_dir} is in use by another kit process "
                f"(PID {holder}): stop it first (systemctl stop jemput-kit, or end that "
                "jemput-kit), or use another --data-dir"
            ) from exc

    def __repr__(self) -> str:
        return f"<FolderLock {self.data_dir} {'held' if self._fd is not None else 'released'}>"

    def close(self) -> None:
        """Release the lock; safe twice."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.close(self._fd)  # closing the descriptor drops the flock
        self._fd = None

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _holder(folder: os.stat_result) -> str:
    """The PID holding a flock on ``folder`` as the kernel lists it, or "unknown".

    A line of /proc/locks reads ``1: FLOCK  ADVISORY  WRITE 4242 b3:02:1234 0 EOF``: the
    device in hex major:minor, then the inode.  Unknown where the kernel has no such table
    (not Linux) or the holder let go between our try and this read.
    """
    where = f"{os.major(folder.st_dev):02x}:{os.minor(folder.st_dev):02x}:{folder.st_ino}"
    try:
        lines = PROC_LOCKS.read_text().splitlines()
    except OSError:
        return "unknown"
    for line in lines:
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == where:
            return fields[4]
    return "unknown"
