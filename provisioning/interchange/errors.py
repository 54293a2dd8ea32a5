"""The interchange export's exception tree: one root, leaves that also inherit builtins."""

from __future__ import annotations

from storage.errors import StorageError


class InterchangeError(StorageError):
    """Anything an interchange export refuses or cannot do."""


class UnfitRecord(InterchangeError, ValueError):
    """A record that opens but holds what no interchange file may carry (an image the
    sensor cannot make, a separator character in a text field); it is named, never written."""


class CodecMissing(InterchangeError, ImportError):
    """The `interchange` extra (WSQ codec, ANSI/NIST-ITL writer) is not installed."""


class BadAgency(InterchangeError, ValueError):
    """An agency id (ORI, DAI) that Type-1, 7-bit ASCII without separators, cannot carry."""
