"""The roots of every storage error.

Leaves live beside the code that raises them (the record verifier, the store) and inherit
one of these, so callers catch by area: a record that fails verification, a write that did
not reach the disk, a state database that is damaged.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error raised by `storage`."""


class RecordError(StorageError, ValueError):
    """Record bytes that do not decode or do not verify; ``seq`` names the record if known."""

    def __init__(self, message: str, *, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


class KeyFileError(StorageError, PermissionError):
    """A key file that is missing, unreadable or too widely readable."""


class WriteError(StorageError, OSError):
    """A write that did not reach the disk; the data it carried is NOT safe."""


class StorageFull(WriteError):
    """The data folder's disk is full (ENOSPC, SQLite's "database or disk is full").

    What the write carried is NOT saved; whatever was saved before stays safe.  The kit
    shows its "storage full" screen and tries again once space is freed.
    """


class StateError(StorageError):
    """The state database is damaged or from an unknown schema."""
