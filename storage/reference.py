"""The reference key: how a record names its resident without naming a NIK.

Why a keyed hash: a record header is cleartext (the collector counts without opening
bodies), and a worklist reference is the resident's NIK unless the village gave another.
A plain NIK, or an unkeyed hash of one, lets anyone holding the SD card list who was
recorded: the NIK space (region, birth date, serial) is small enough to hash through.  So
a header carries HMAC-SHA256 of the reference under a 32-byte key made with the authority
(`reference.key` in the authority folder, 0600).  The authority's tools hold it and match
headers to worklists; a kit holds it only inside its profile, which is encrypted with its
data key (sealed by its TPM on a real kit).

One key per authority, not per kit: the district matches coverage across every kit of
its authority without knowing which worklist went on which kit, and a resident recorded
on two kits must be found twice.  What that costs: a thief who also breaks a kit's TPM
has the key of every card of that authority, and could test NIKs against them; a thief
with a card alone has nothing to test with.  docs/keys.md says so.

The stdlib's ``hmac.digest`` (OpenSSL underneath) is used rather than ``cryptography``'s
HMAC object: one call per reference, no object per call, which matters when a district
keys a whole province's worklists.
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from collections.abc import Iterable, Iterator, Set
from pathlib import Path
from typing import Any

from storage.errors import KeyFileError
from storage.files import write_atomic

REFERENCE_KEY_FILE = "reference.key"
KEY_BYTES = 32
#: Bytes of a keyed reference (HMAC-SHA256).
REF_BYTES = 32
#: Domain separation: this key hashes worklist references and nothing else.
_CONTEXT = b"jemput-worklist-ref\0"


class ReferenceKeyError(KeyFileError):
    """The authority folder's reference key is missing, unreadable or not a key."""


class ReferenceKey:
    """The authority's secret for keyed worklist references (no export method)."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ReferenceKeyError(f"a reference key is {KEY_BYTES} bytes, not {len(key)}")
        self._key = key

    @classmethod
    def generate(cls) -> ReferenceKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def create(cls, folder: str | os.PathLike[str]) -> ReferenceKey:
        """A new key written to ``folder``/reference.key (O_EXCL, 0600); never replaces one."""
        path = Path(folder) / REFERENCE_KEY_FILE
        if os.path.lexists(path):
            raise ReferenceKeyError(f"{path} already exists; refusing to replace it")
        key = cls.generate()
        write_atomic(path, key._key)
        return key

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> ReferenceKey:
        """The key in ``folder``; ReferenceKeyError naming the file and what to do."""
        path = Path(folder) / REFERENCE_KEY_FILE
        try:
            mode = path.stat().st_mode
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise ReferenceKeyError(
                f"reference key {path} is missing: restore the authority folder from its "
                "backup; an authority made before keyed references has none: make it with "
                f"`jemput-prov authority reference-key {path.parent}` and flash every kit again"
            ) from exc
        except OSError as exc:
            raise ReferenceKeyError(
                f"reference key {path} cannot be read ({exc.strerror or exc}): restore it from the "
                "authority's backup"
            ) from exc
        if mode & 0o077:
            raise ReferenceKeyError(
                f"reference key {path} is readable by group or others "
                f"(mode {stat.S_IMODE(mode):o}): run `chmod 600 {path}`"
            )
        if len(data) != KEY_BYTES:
            raise ReferenceKeyError(
                f"reference key {path} holds {len(data)} bytes, not {KEY_BYTES}: it is damaged; "
                "restore it from the authority's backup"
            )
        return cls(data)

    @classmethod
    def from_bytes(cls, data: bytes) -> ReferenceKey:
        """The key as a kit's profile carries it (inside the encrypted profile only)."""
        return cls(data)

    def to_bytes(self) -> bytes:
        """The raw key, for the kit's encrypted profile and the flash request only."""
        return self._key

    def keyed(self, worklist_ref: str) -> bytes:
        """HMAC-SHA256 of a worklist reference (a walk-in's ``walk-in:<NIK>`` as it is)."""
        return hmac.digest(self._key, _CONTEXT + worklist_ref.encode(), "sha256")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReferenceKey) and hmac.compare_digest(self._key, other._key)

    def __hash__(self) -> int:
        return hash(self.keyed(""))

    def __repr__(self) -> str:
        return "ReferenceKey(<secret>)"


def resident_key(
    key: ReferenceKey, *, keyed_ref: bytes | None, worklist_ref: str | None
) -> bytes | None:
    """The keyed reference a record names its resident by, whatever its format version.

    A record of format version 3 carries it (``keyed_ref``); one of version 1 or 2 carries
    the plain ``worklist_ref``, keyed here, so old and new records match one worklist.
    """
    if keyed_ref is not None:
        return keyed_ref
    return None if worklist_ref is None else key.keyed(worklist_ref)


def named(held: Iterable[str], key: ReferenceKey, worklist: Iterable[str | None]) -> dict[str, str]:
    """Each of ``held`` that is a keyed reference (hex) of a ``worklist`` reference, to it.

    The kit's index keeps each sealed record's plain reference encrypted; a row boot rebuilt
    from a version-3 record file holds the header's keyed reference instead, since the
    header has no other.  The kit holds the key, so its own worklist names such rows.
    """
    keyed = {ref for ref in held if _looks_keyed(ref)}
    if not keyed:
        return {}
    plain = {key.keyed(ref).hex(): ref for ref in worklist if ref is not None}
    return {ref: plain[ref] for ref in keyed if ref in plain}


class RecordedRefs(Set[str]):
    """The worklist references a kit has sealed, named through `named` where they can be.

    Membership also finds a reference by its keyed form, so a walk-in (on no worklist)
    whose index row boot rebuilt from its record still counts as recorded.  A `Set` whose
    every operation (``in``, ``==``, ``-``) goes through that membership; not a builtin set,
    whose operators would compare hash tables and miss the keyed rows.
    """

    __slots__ = ("_key", "_refs")

    def __init__(
        self, held: Iterable[str], key: ReferenceKey, worklist: Iterable[str | None]
    ) -> None:
        refs = set(held)
        names = named(refs, key, worklist)
        self._refs = frozenset(names.get(ref, ref) for ref in refs)
        self._key = key

    @classmethod
    def _from_iterable(cls, it: Iterable[Any]) -> frozenset[Any]:
        return frozenset(it)

    def __contains__(self, ref: object) -> bool:
        if not isinstance(ref, str):
            return False
        return ref in self._refs or self._key.keyed(ref).hex() in self._refs

    def __iter__(self) -> Iterator[str]:
        return iter(self._refs)

    def __len__(self) -> int:
        return len(self._refs)

    def __repr__(self) -> str:
        return f"RecordedRefs({len(self._refs)} reference(s))"


def _looks_keyed(ref: str) -> bool:
    return len(ref) == 2 * REF_BYTES and all(c in "0123456789abcdef" for c in ref)
