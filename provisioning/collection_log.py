"""The collector's log: one statement per collection, signed by the authority, hash-linked.

Why a log the authority signs: a collector database is a file anyone on the laptop can
edit with sqlite3.  Records and ledgers carry the kit's signature, so editing them shows;
but deleting rows whole (a kit's whole chain, a collection, the last records with the
head columns edited to match) leaves only valid signatures behind.  So every collection
adds a statement, signed with the authority's key (which `collect` holds anyway, to sign
the receipt), naming the kit's chain, the head the kit signed and the ledger it handed
over, and linked to the statement before it by its SHA-256.  Removing or editing any
collection but the newest breaks the links; each statement pins the head it names, so
the records up to it must all be there.

Each statement also names the kit's signed `status` answer taken at that collection (its
SHA-256) and the laptop's time just after it arrived (``at``): the kit's software, its
battery and its clock as the kit signed them, and the laptop's time as the authority's key
signs it, so the district's fleet table (`provisioning.district.arrival.verify_status`)
derives a kit's clock drift and its last collection from signatures alone.  A statement
of a database made before (schema 2) names no status.

What no file can show is a database rolled back whole to an earlier state (the newest
collections dropped together with everything they brought): `verify` and `report` print
the log's length and head, so a report sent earlier (to the district) tells.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from provisioning.signed_statements import BadStatement
from storage.codec import Tampered, dumps, loads
from storage.cose import HDR_CONTENT_TYPE, BadSignature, open_sign1, sign1
from storage.keys import Authority, AuthorityPublic

STATEMENT_TYPE = "application/jemput-collection+cbor"
#: The ``prev`` of the first statement of a database.
GENESIS = bytes(32)


class BadCollectionStatement(BadStatement):
    """A collection statement that is not the authority's, or does not decode."""


@dataclass(frozen=True)
class Statement:
    """What the collector signed at one collection.

    ``index`` counts collections in the database from 1; ``prev`` is the SHA-256 of the
    statement before (GENESIS for the first); ``chain`` is the kit certificate's SHA-256;
    ``head`` is (last seq, its record's SHA-256) as the kit signed it (None before any
    record); ``ledger`` is the SHA-256 of the kit's signed ledger answer kept beside it.
    """

    index: int
    prev: bytes
    chain: bytes
    kit_id: str
    head_seq: int
    head: bytes | None
    ledger: bytes
    at: datetime
    status: bytes | None = None


def digest(data: bytes) -> bytes:
    """SHA-256 of a statement's bytes: the next statement's ``prev``."""
    return hashlib.sha256(data).digest()


def sign_statement(authority: Authority, statement: Statement) -> bytes:
    body = {
        "n": statement.index,
        "prev": statement.prev,
        "chain": statement.chain,
        "kit": statement.kit_id,
        "head": [statement.head_seq, statement.head],
        "ledger": statement.ledger,
        "at": int(statement.at.timestamp()),
        "status": statement.status,
    }
    return sign1(dumps(body), authority.signing_key, kid=authority.kid, content_type=STATEMENT_TYPE)


_FIELDS: dict[str, type | tuple[type, ...]] = {
    "n": int,
    "prev": bytes,
    "chain": bytes,
    "kit": str,
    "head": list,
    "ledger": bytes,
    "at": int,
}
#: Fields a statement may lack: one made before statuses were kept has no "status".
_LATER = {"status"}


def read_statement(data: Any, authority: AuthorityPublic) -> Statement:
    """A statement signed by ``authority``; BadCollectionStatement saying what is wrong
    otherwise."""
    if not isinstance(data, bytes):
        raise BadCollectionStatement("no signed collection statement (the column is empty)")
    try:
        msg = open_sign1(data, authority.sign_public, kid=authority.kid)
        body = loads(msg.payload)
    except (Tampered, BadSignature) as exc:
        raise BadCollectionStatement(
            f"the collection statement is not signed by authority {authority.name!r}: {exc}"
        ) from exc
    if (
        msg.protected.get(HDR_CONTENT_TYPE) != STATEMENT_TYPE
        or not isinstance(body, dict)
        or not set(_FIELDS) <= set(body) <= set(_FIELDS) | _LATER
        or any(type(body[key]) is not kind for key, kind in _FIELDS.items())
        or not _digest_or_none(body.get("status"))
        or len(body["head"]) != 2
        or type(body["head"][0]) is not int
        or not isinstance(body["head"][1], bytes | None)
    ):
        raise BadCollectionStatement("the signed object is not a collection statement")
    return Statement(
        index=body["n"],
        prev=body["prev"],
        chain=body["chain"],
        kit_id=body["kit"],
        head_seq=body["head"][0],
        head=body["head"][1],
        ledger=body["ledger"],
        at=datetime.fromtimestamp(body["at"], UTC),
        status=body.get("status"),
    )


def _digest_or_none(value: object) -> bool:
    return value is None or (isinstance(value, bytes) and len(value) == len(GENESIS))
