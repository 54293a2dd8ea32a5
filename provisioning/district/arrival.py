"""What the district checks of a laptop's signed heads, ledgers and receipts on arrival.

Why again: a laptop is a file anyone could edit, so the district trusts nothing of it
that a signature does not cover.  Records go through `storage.verify.Verifier` (in
`provisioning.district.sync`); a head and its card ledger must be an answer signed by the
certified key of the kit whose chain it describes; a receipt must be the authority's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kitlink import protocol as p
from storage.certificate import Certificate
from storage.codec import Tampered, loads
from storage.cose import HDR_CONTENT_TYPE, BadSignature, open_sign1
from storage.errors import RecordError
from storage.keys import AuthorityPublic


class BadLedger(RecordError):
    """A head and card ledger that the kit it names did not sign, or malformed."""


class BadReceipt(RecordError):
    """A collection receipt the authority did not sign for this head."""


@dataclass(frozen=True)
class Ledger:
    """A kit's signed head and card counts at one collection."""

    signed: bytes
    at: datetime
    head_seq: int
    head: bytes | None
    loaded: int
    printed: int
    spoiled: int
    unresolved: int
    printed_cards: tuple[tuple[int, str], ...]


def verify_ledger(signed: bytes, certificate: Certificate) -> Ledger:
    """The ledger answer ``signed`` if the kit of ``certificate`` signed it; BadLedger if not."""
    kit = certificate.kit_id
    try:
        msg = open_sign1(signed, certificate.kit_key, kid=certificate.kit_kid)
        body = loads(msg.payload)
        result = body["result"]
        if msg.protected.get(HDR_CONTENT_TYPE) != p.ANSWER_TYPE or body["op"] != p.Op.LEDGER:
            raise BadSignature("not a ledger answer")
        if result["kit_id"] != kit:
            raise BadSignature(f"names kit {result['kit_id']!r}")
        seq, head = result["head"]
        counts = result["cards"]
        return Ledger(
            signed=signed,
            at=p.moment(result["at"]),
            head_seq=int(seq),
            head=head,
            loaded=int(counts["loaded"]),
            printed=int(counts["printed"]),
            spoiled=int(counts["spoiled"]),
            unresolved=int(counts["unresolved"]),
            printed_cards=tuple((int(n), str(serial)) for n, serial in result["printed"]),
        )
    except (Tampered, BadSignature, KeyError, TypeError, ValueError) as exc:
        raise BadLedger(f"a head and card ledger of kit {kit} does not verify: {exc}") from exc


def verify_receipt(receipt: bytes, authority: AuthorityPublic, ledger: Ledger, kit_id: str) -> None:
    """BadReceipt unless ``authority`` signed this receipt for exactly ``ledger``'s head."""
    try:
        signed = p.verify_receipt(receipt, authority, kit_id=kit_id)
    except p.MessageError as exc:
        raise BadReceipt(f"a receipt for kit {kit_id}: {exc}") from exc
    if (signed.seq, signed.head) != (ledger.head_seq, ledger.head):
        raise BadReceipt(
            f"a receipt for kit {kit_id} covers record {signed.seq}, not the head "
            f"{ledger.head_seq} it was kept with"
        )
