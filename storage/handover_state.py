"""The kit's handover state: the batches the office sent, and what the kit recorded of them.

Why sealed: a batch holds residents' names and finger templates, which never rest in clear
on the kit's card; it is kept as ciphertext under the kit's data key
(`storage.datakey.StateCipher`, bound to the batch's name), as the journal is.  The events
(`storage.handover.HandoverEvent`) name no one: a card by its record, an official by id, a
signature only encrypted to the authority; they are kept as they will be signed, in the
order they happened, and the kit's ledger answer carries them all.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from storage import codec
from storage.datakey import StateCipher
from storage.errors import StateError
from storage.handover import HandoverBatch, HandoverEvent, HandoverKind, seal_signature
from storage.keys import AuthorityPublic
from storage.state import iso_utc, transaction


class SqliteHandovers:
    """Batches sealed under the data key, and the handover events, in ``state.db``."""

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.Lock,
        now: Callable[[], datetime],
        cipher: StateCipher,
        authority: AuthorityPublic,
    ) -> None:
        self._db, self._lock, self._now, self._cipher = db, lock, now, cipher
        self._authority = authority

    @staticmethod
    def _context(batch: str) -> bytes:
        return b"handover:" + batch.encode()

    def keep(self, batch: HandoverBatch) -> HandoverBatch:
        """Keep ``batch``; its cards join those of a part of it held already (a village's
        batch too large for one frame comes in parts), a card sent again replacing the
        one held.  Returns the batch as now held."""
        held = next((b for b in self.batches() if b.batch == batch.batch), None)
        if held is not None:
            cards = {card.card: card for card in held.cards} | {c.card: c for c in batch.cards}
            batch = replace(batch, cards=tuple(cards.values()))
        sealed = self._cipher.encrypt(batch.to_bytes(), context=self._context(batch.batch))
        with self._lock, transaction(self._db) as db:
            db.execute(
                "INSERT OR REPLACE INTO handover_batches (batch, at, sealed) VALUES (?, ?, ?)",
                (batch.batch, iso_utc(self._now()), sealed),
            )
        return batch

    def batches(self) -> list[HandoverBatch]:
        """Every batch held, in the order they came."""
        with self._lock:
            rows = self._db.execute("SELECT batch, sealed FROM handover_batches ORDER BY at, batch")
            return [
                HandoverBatch.from_bytes(self._cipher.decrypt(sealed, context=self._context(name)))
                for name, sealed in rows
            ]

    def record(self, event: HandoverEvent) -> None:
        if event.batch not in {batch.batch for batch in self.batches()}:
            raise StateError(f"batch {event.batch} is not on this kit")
        with self._lock, transaction(self._db) as db:
            db.execute(
                "INSERT INTO handover_events (event) VALUES (?)", (codec.dumps(event.to_list()),)
            )

    def signature_evidence(
        self, strokes: Sequence[Sequence[tuple[int, int]]], *, batch: str, card: tuple[bytes, int]
    ) -> bytes:
        """A resident's signature at a receipt, encrypted to the authority: the kit keeps no
        signature it could read back."""
        chain, seq = card
        return seal_signature(strokes, self._authority, batch=batch, chain=chain, seq=seq)

    def events(self) -> list[HandoverEvent]:
        with self._lock:
            rows = self._db.execute("SELECT event FROM handover_events ORDER BY id").fetchall()
        return [HandoverEvent.from_list(codec.loads(event)) for (event,) in rows]

    def acknowledged(self, batch: str) -> bool:
        """Whether the official took ``batch``: on this kit, or at the office already (the
        batch the office sent says so, and the office's signed ledger records it)."""
        held = next((b for b in self.batches() if b.batch == batch), None)
        if held is not None and held.acknowledged is not None:
            return True
        return any(e.kind is HandoverKind.ACKNOWLEDGED and e.batch == batch for e in self.events())

    def received(self) -> set[tuple[bytes, int]]:
        """The cards residents took on this kit."""
        return {
            e.card for e in self.events() if e.kind is HandoverKind.RECEIVED and e.card is not None
        }
