"""The handover of printed cards (berita acara serah terima): what the office sends a kit,
and what the kit records of it.

Why on the kit: a village official acknowledges the batch of their village's cards with
their PIN or finger, and each resident who takes a card is confirmed 1:1, their finger
matched against their own templates from the record (or, where their fingers were
excepted, their signature on the pad).  The office opens the records' bodies, so it sends
the batch's names and templates to the kit: signed (the port's request is the authority's)
and encrypted to that kit alone (`seal_batch`, to an X25519 key the kit made for this
transfer and signed as its own).  The kit keeps the batch under its data key, never in
clear, and records each acknowledgement, receipt and failed match as a `HandoverEvent`;
its signed ledger carries them to the collector and the district.

An event names a card by its record (the chain's certificate digest and the seq), never
the resident; a signature given at a receipt travels encrypted to the authority.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from storage import codec
from storage.blanks import parse_serial
from storage.cose import decrypt, encrypt
from storage.errors import RecordError
from storage.keys import AuthorityPublic

#: A batch's name: what the office writes on its document and the kit shows.
BATCH_MAX = 64
#: The most cards one batch holds (a village's; Batanghari's officials took about 13 each).
CARDS_MAX = 2_000
#: The most templates one resident's card carries (ten fingers).
TEMPLATES_MAX = 10
TEMPLATE_BYTES = 4096
NAME_MAX = 200
DIGEST_BYTES = 32
_AAD = "jemput-handover"
_SIGNATURE_AAD = "jemput-handover-signature"


class BadHandover(RecordError):
    """A batch or an event that does not decode as one: named with what is wrong."""


class HandoverKind(enum.StrEnum):
    """What a kit recorded of a batch."""

    #: The village official acknowledged the batch (``by``, ``how``: pin or finger).
    ACKNOWLEDGED = "acknowledged"
    #: A resident took their card (``how``: finger, or signature with ``evidence``).
    RECEIVED = "received"
    #: A resident's finger did not match their own templates: the card was not handed over.
    NOT_MATCHED = "not-matched"


class Proof(enum.StrEnum):
    """How a person was confirmed."""

    PIN = "pin"
    FINGER = "finger"
    SIGNATURE = "signature"


@dataclass(frozen=True)
class HandoverCard:
    """One card of a batch: its record, its serial, and what the kit needs to hand it over."""

    chain: bytes
    seq: int
    kit_id: str
    name: str
    serial: str
    #: (finger position, template) from the record; none: the fingers were excepted, the
    #: resident signs on the pad instead.
    templates: tuple[tuple[int, bytes], ...] = ()

    @property
    def card(self) -> tuple[bytes, int]:
        return self.chain, self.seq


@dataclass(frozen=True)
class HandoverBatch:
    """One village's printed cards, for its official and its residents."""

    batch: str
    office: str
    village: str
    kecamatan: str
    cards: tuple[HandoverCard, ...]
    #: The village official who took the batch at the office already (their id), if any:
    #: then the kit does not ask them again.
    acknowledged: str | None = None

    def to_bytes(self) -> bytes:
        return codec.dumps(
            {
                "batch": self.batch,
                "office": self.office,
                "village": self.village,
                "kecamatan": self.kecamatan,
                "acknowledged": self.acknowledged,
                "cards": [
                    [c.chain, c.seq, c.kit_id, c.name, c.serial, [list(t) for t in c.templates]]
                    for c in self.cards
                ],
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> HandoverBatch:
        """A batch `to_bytes` wrote; BadHandover naming what is wrong with anything else."""
        try:
            body = codec.loads(data, max_bytes=CARDS_MAX * TEMPLATES_MAX * TEMPLATE_BYTES)
            cards = tuple(_card(item) for item in _list(body["cards"], CARDS_MAX))
            official = body["acknowledged"]
            batch = cls(
                _text(body["batch"], BATCH_MAX),
                _text(body["office"], BATCH_MAX),
                _text(body["village"], NAME_MAX),
                _text(body["kecamatan"], NAME_MAX),
                cards,
                None if official is None else _text(official, NAME_MAX),
            )
            if set(body) != {"batch", "office", "village", "kecamatan", "cards", "acknowledged"}:
                raise ValueError(f"fields {sorted(body)}")
        except (codec.Tampered, KeyError, TypeError, ValueError) as exc:
            raise BadHandover(f"the handover batch is malformed: {exc}") from exc
        return batch


def _text(value: Any, most: int) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= most:
        raise ValueError(f"{value!r:.40} is not text of 1-{most} characters")
    return value


def _list(value: Any, most: int) -> list[Any]:
    if not isinstance(value, list) or len(value) > most:
        raise ValueError(f"{value!r:.40} is not a list of at most {most}")
    return value


def _card(item: Any) -> HandoverCard:
    chain, seq, kit_id, name, serial, templates = _list(item, 6)
    if not (
        isinstance(chain, bytes) and len(chain) == DIGEST_BYTES and type(seq) is int and seq > 0
    ):
        raise ValueError(f"card {item!r:.60} names no record")
    if not isinstance(serial, str) or parse_serial(serial) is None:
        raise ValueError(f"card {seq} has no serial but {serial!r:.40}")
    pairs = []
    for pair in _list(templates, TEMPLATES_MAX):
        position, template = _list(pair, 2)
        if not (type(position) is int and 1 <= position <= 10):
            raise ValueError(f"finger position {position!r:.10}")
        if not (isinstance(template, bytes) and 0 < len(template) <= TEMPLATE_BYTES):
            raise ValueError(f"a template of card {seq} is not 1-{TEMPLATE_BYTES} bytes")
        pairs.append((position, template))
    return HandoverCard(chain, seq, _text(kit_id, 32), _text(name, NAME_MAX), serial, tuple(pairs))


def _aad(kit_id: str) -> bytes:
    return codec.dumps([_AAD, kit_id])


def seal_batch(batch: HandoverBatch, recipient: bytes, *, kit_id: str) -> bytes:
    """``batch`` encrypted to the X25519 key ``recipient`` (32 bytes) the kit ``kit_id``
    made for this transfer: COSE_Encrypt, as the records' bodies are."""
    item = encrypt(
        batch.to_bytes(), X25519PublicKey.from_public_bytes(recipient), external_aad=_aad(kit_id)
    )
    return codec.dumps(item)


def open_batch(sealed: bytes, key: X25519PrivateKey, *, kit_id: str) -> HandoverBatch:
    """The batch `seal_batch` encrypted to ``key`` for ``kit_id``; BadHandover otherwise."""
    try:
        plain = decrypt(codec.loads(sealed), key, external_aad=_aad(kit_id))
    except (codec.Tampered, RecordError) as exc:
        raise BadHandover(f"the handover batch does not open on this kit: {exc}") from exc
    return HandoverBatch.from_bytes(plain)


@dataclass(frozen=True)
class HandoverEvent:
    """What a kit recorded: ``kind`` of ``batch`` (for one card, or the batch), when, by
    whom (the official's id for an acknowledgement), how, and a receipt's signature
    encrypted to the authority (`seal_signature`)."""

    kind: HandoverKind
    batch: str
    at: datetime
    chain: bytes | None = None
    seq: int | None = None
    by: str = ""
    how: Proof | None = None
    evidence: bytes | None = None

    @property
    def card(self) -> tuple[bytes, int] | None:
        return None if self.chain is None or self.seq is None else (self.chain, self.seq)

    def to_list(self) -> list[Any]:
        """How the kit's signed ledger carries it."""
        return [
            self.kind.value,
            self.batch,
            int(self.at.timestamp()),
            self.chain,
            self.seq,
            self.by,
            None if self.how is None else self.how.value,
            self.evidence,
        ]

    @classmethod
    def from_list(cls, value: Any) -> HandoverEvent:
        """An event `to_list` wrote; BadHandover naming what is wrong with anything else."""
        try:
            kind, batch, at, chain, seq, by, how, evidence = _list(value, 8)
            checks = {
                "time": type(at) is int,
                "chain": chain is None or (isinstance(chain, bytes) and len(chain) == DIGEST_BYTES),
                "seq": seq is None or (type(seq) is int and seq > 0),
                "by": isinstance(by, str) and len(by) <= NAME_MAX,
                "evidence": evidence is None or isinstance(evidence, bytes),
            }
            wrong = [name for name, fits in checks.items() if not fits]
            if wrong:
                raise ValueError(f"field(s) {', '.join(wrong)}")
            event = cls(
                HandoverKind(kind),
                _text(batch, BATCH_MAX),
                datetime.fromtimestamp(at, UTC),
                chain,
                seq,
                by,
                None if how is None else Proof(how),
                evidence,
            )
        except (TypeError, ValueError, OverflowError, OSError) as exc:
            raise BadHandover(f"a handover event is malformed: {exc}") from exc
        if (event.chain is None) != (event.seq is None) or (
            event.kind is not HandoverKind.ACKNOWLEDGED and event.card is None
        ):
            raise BadHandover(f"a handover event names half a card or none: {value!r:.80}")
        return event


def seal_signature(
    strokes: Sequence[Sequence[tuple[int, int]]],
    authority: AuthorityPublic,
    *,
    batch: str,
    chain: bytes,
    seq: int,
) -> bytes:
    """A resident's signature at a receipt, encrypted to the authority, bound to the card."""
    plain = codec.dumps([[list(point) for point in stroke] for stroke in strokes])
    item = encrypt(
        plain,
        authority.enc_public,
        external_aad=codec.dumps([_SIGNATURE_AAD, batch, chain, seq]),
        kid=authority.enc_kid,
    )
    return codec.dumps(item)
