"""Maintenance: the Pi writes a new firmware into the slot that is not running.

The Pi sends MAINTAIN, then for each module OPEN (its size and name), WRITE (an offset
and up to WRITE_BYTES bytes) and CLOSE (its SHA-256, which the Pico checks on what it
wrote), then SWITCH: the Pico marks that slot on trial, makes it active and resets into
it; the boot stub counts its boots until the Pi sends CONFIRM (docs/devices/coprocessor.md,
"Maintenance").  Nothing here touches the running slot, so a session cut off anywhere
leaves the firmware that runs as it was.

Every command answers a request sent again after a lost answer as it answered the first:
a WRITE that ends where the file ends, a CLOSE of the file just closed.
"""

import hashlib
import os

from micropython import const

import bootslots

#: MicroPython has no typing module; mypy takes this name as true, the Pico as false.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

#: Bytes of firmware per WRITE (the frame: offset u32 + data).
WRITE_BYTES = const(192)
#: The largest module a Pico takes (its flash holds about 1.4 MB).
MAX_FILE = const(65_536)
_HASH_CHUNK = const(256)

# What a refusal says (the NAK's reason; docs/devices/coprocessor.md).
NO_SESSION = const(3)
BAD_FILE = const(4)
BAD_HASH = const(5)
FLASH_ERROR = const(6)


class Refused(Exception):
    """A maintenance command the Pico cannot do; ``args[0]`` is the NAK's reason."""


def _valid_name(name: str) -> bool:
    if not name.endswith(".py") or len(name) > 24 or name in ("main.py", "bootslots.py"):
        return False
    return all(char == "_" or "a" <= char <= "z" or "0" <= char <= "9" for char in name[:-3])


class Session:
    """One firmware being written into the slot that is not running, ``inactive``."""

    def __init__(self) -> None:
        self.running = bootslots.active()
        self.inactive = bootslots.other(self.running)
        self._path = ""
        self._size = 0
        self._written = 0
        self._closed = b""
        self._file: BinaryIO | None = None
        try:
            self._empty()
        except OSError:
            raise Refused(FLASH_ERROR) from None

    def _empty(self) -> None:
        """Remove the old firmware from the slot (created if the Pico never had it)."""
        try:
            names = os.listdir(self.inactive)
        except OSError:
            os.mkdir(self.inactive)
            return
        for name in names:
            os.remove(self.inactive + "/" + name)

    def open(self, size: int, name: str) -> None:
        if not _valid_name(name) or size > MAX_FILE:
            raise Refused(BAD_FILE)
        self._close_file()
        self._path = self.inactive + "/" + name
        self._size = size
        self._written = 0
        self._closed = b""
        try:
            # held open across WRITE frames, closed by CLOSE, OPEN or SWITCH
            self._file = open(self._path, "wb")  # noqa: SIM115
        except OSError:
            raise Refused(FLASH_ERROR) from None

    def write(self, offset: int, data: bytes) -> int:
        """Bytes written so far, ``data`` included."""
        if self._file is None:
            raise Refused(NO_SESSION)
        if offset + len(data) == self._written and offset < self._written:
            return self._written  # sent again: its answer was lost
        if offset != self._written or self._written + len(data) > self._size:
            raise Refused(BAD_FILE)
        try:
            self._file.write(data)
        except OSError:
            raise Refused(FLASH_ERROR) from None
        self._written += len(data)
        return self._written

    def close(self, digest: bytes) -> None:
        """The file is whole: its SHA-256 as written must be ``digest``."""
        if self._file is None:
            if self._closed and self._closed == digest:
                return  # sent again: its answer was lost
            raise Refused(NO_SESSION)
        self._close_file()
        if self._written != self._size or _sha256(self._path) != digest:
            raise Refused(BAD_HASH)
        self._closed = digest

    def switch(self) -> None:
        """Put the written slot on trial and make it active (the caller then resets)."""
        self._close_file()
        try:
            bootslots.write(bootslots.TRIAL, self.inactive + " 0")
            bootslots.write(bootslots.ACTIVE, self.inactive)
        except OSError:
            raise Refused(FLASH_ERROR) from None

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def confirm() -> bool:
    """The Pi found this firmware good: it is no longer on trial.  Whether it was."""
    was = bootslots.read(bootslots.TRIAL) != ""
    bootslots.forget(bootslots.TRIAL)
    return was


def _sha256(path: str) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while True:
            chunk = file.read(_HASH_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
    result: bytes = digest.digest()
    return result
