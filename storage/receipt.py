"""A collector's receipt: the authority's signed word that it holds a kit's records up to a seq.

Why it lives in storage: the receipt is what lets a kit delete a record (DESIGN: "a record
is never deleted until a collector's signed receipt covers it"), so the kit must be able to
check one wherever it reads it, not only when the port hands it over.  A receipts row put
on the card with the kit off is then a row that does not verify, and frees nothing.  The
port (kitlink) and the tools make and read receipts through these two functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from storage.codec import Tampered, dumps, loads
from storage.cose import HDR_CONTENT_TYPE, BadSignature, open_sign1, sign1
from storage.errors import StorageError
from storage.keys import Authority, AuthorityPublic

RECEIPT_TYPE = "application/jemput-receipt+cbor"
#: A SHA-256 chain head.
HEAD_BYTES = 32
#: The longest kit id a receipt may name, and the latest moment it may carry (year 2200).
KIT_ID_MAX = 64
LATEST_SECONDS = 7_258_118_400


class ReceiptError(StorageError, ValueError):
    """A collection receipt that is not the authority's for this kit's records as it claims."""


@dataclass(frozen=True)
class Receipt:
    """A collector's signed statement that it holds a kit's records up to ``seq``."""

    kit_id: str
    seq: int
    head: bytes
    at: datetime


def make_receipt(
    authority: Authority, *, kit_id: str, seq: int, head: bytes, at: datetime
) -> bytes:
    """The authority's receipt for records 1..``seq`` of ``kit_id``, whose last is ``head``."""
    body = dumps({"kit": kit_id, "seq": seq, "head": head, "at": int(at.timestamp())})
    return sign1(body, authority.signing_key, kid=authority.kid, content_type=RECEIPT_TYPE)


def read_receipt(data: bytes, authority: AuthorityPublic, *, kit_id: str) -> Receipt:
    """The receipt ``data`` holds, signed by ``authority`` for ``kit_id``; ReceiptError if not."""
    try:
        msg = open_sign1(data, authority.sign_public, kid=authority.kid)
        body = loads(msg.payload)
    except (Tampered, BadSignature) as exc:
        raise ReceiptError(f"receipt is not signed by authority {authority.name!r}: {exc}") from exc
    if msg.protected.get(HDR_CONTENT_TYPE) != RECEIPT_TYPE:
        raise ReceiptError("the signed object is not a collection receipt")
    receipt = _fields(body)
    if receipt.kit_id != kit_id:
        raise ReceiptError(f"receipt is for kit {receipt.kit_id!r}, not {kit_id!r}")
    return receipt


def _fields(body: Any) -> Receipt:
    """The receipt's four fields, each of its type and range, and nothing else."""
    if not isinstance(body, dict) or set(body) != {"kit", "seq", "head", "at"}:
        raise ReceiptError("the receipt must hold exactly kit, seq, head and at")
    kit, seq, head, at = body["kit"], body["seq"], body["head"], body["at"]
    if not isinstance(kit, str) or not 1 <= len(kit) <= KIT_ID_MAX:
        raise ReceiptError(f"the receipt's kit must be text of 1 to {KIT_ID_MAX} characters")
    if type(seq) is not int or seq < 1:
        raise ReceiptError("the receipt's seq must be a whole number from 1")
    if not isinstance(head, bytes) or len(head) != HEAD_BYTES:
        raise ReceiptError(f"the receipt's head must be {HEAD_BYTES} bytes")
    if type(at) is not int or not 0 <= at <= LATEST_SECONDS:
        raise ReceiptError("the receipt's time is not a moment")
    return Receipt(kit, seq, head, datetime.fromtimestamp(at, UTC))
