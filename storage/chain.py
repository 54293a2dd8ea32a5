"""The kit's chain as sealed: each sequence number's record hash, in memory, behind one lock.

Why its own lock: the capture loop's worker seals while the provisioning port's thread
reads the head and the collection code prunes; :attr:`SealedChain.lock` is held for a
whole seal or prune, so a reader sees the chain before or after it, never half-way.
Boot fills it from the files (`storage.boot`); it is never written anywhere else.
"""

from __future__ import annotations

import threading


class SealedChain:
    """seq -> SHA-256 of the record as sealed; safe to use from any thread."""

    def __init__(self, digests: dict[int, bytes] | None = None) -> None:
        self._digests = dict(digests or {})
        #: Held across a seal or a prune (re-entrant: they read the chain while holding it).
        self.lock = threading.RLock()

    def __repr__(self) -> str:
        return f"<SealedChain {len(self)} record(s), head #{self.last_seq}>"

    def __len__(self) -> int:
        with self.lock:
            return len(self._digests)

    @property
    def last_seq(self) -> int:
        with self.lock:
            return max(self._digests, default=0)

    def head(self) -> tuple[int, bytes | None]:
        """The last sequence number and that record's hash, read together."""
        with self.lock:
            last = self.last_seq
            return last, self._digests.get(last)

    def digest(self, seq: int) -> bytes | None:
        with self.lock:
            return self._digests.get(seq)

    def add(self, seq: int, digest: bytes) -> None:
        with self.lock:
            self._digests[seq] = digest

    def count_after(self, seq: int) -> int:
        """How many records have a sequence number above ``seq`` (not yet collected)."""
        with self.lock:
            return sum(1 for known in self._digests if known > seq)
