"""The authority's signed statements: one way to sign them, open them and check their shape.

Why one module: the district's sync log, its blank-card stock and the office's ledger are
each a small CBOR map signed with the authority's key, which a reader must check three
ways before it believes a field: the signature and key id, the content type (so one kind
of statement can never be taken for another), and the shape (every field present, of its
type, and nothing else).  Written once here, each kind only declares its content type and
its fields.

A shape names each scalar field's kind, and each list field's kind of cell per row:
``digest`` is 32 bytes, ``digest?`` that or nothing, ``count`` a whole number from 0,
``text`` a string, ``text?`` that or nothing, ``bytes?`` bytes or nothing, ``bool`` true
or false, ``pairs`` a list of ``[digest, count]`` (cards named by chain and record), ``any``
left to the caller.  Fields a kind added after statements were signed without them are
``added``: absent, they read as empty lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from storage.codec import Tampered, dumps, loads
from storage.cose import HDR_CONTENT_TYPE, BadSignature, open_sign1, sign1
from storage.errors import RecordError
from storage.keys import Authority, AuthorityPublic

DIGEST_BYTES = 32


class BadStatement(RecordError):
    """A statement that is not the authority's, not of its kind, or not of its shape."""


@dataclass(frozen=True)
class Shape:
    """One kind of statement: its content type, what messages call it, and its fields."""

    content_type: str
    what: str
    scalars: Mapping[str, str]
    rows: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    added: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def fits(self, body: Any) -> bool:
        if not isinstance(body, dict) or not set(self.scalars) | set(self.rows) <= set(body):
            return False
        if not set(body) <= set(self.scalars) | set(self.rows) | set(self.added):
            return False
        rows = {**self.rows, **{name: kinds for name, kinds in self.added.items() if name in body}}
        return all(_fits(body[name], kind) for name, kind in self.scalars.items()) and all(
            type(body[name]) is list and all(_row_fits(row, kinds) for row in body[name])
            for name, kinds in rows.items()
        )


def _row_fits(row: Any, kinds: tuple[str, ...]) -> bool:
    return (
        type(row) is list
        and len(row) == len(kinds)
        and all(_fits(cell, kind) for cell, kind in zip(row, kinds, strict=True))
    )


def _fits(value: Any, kind: str) -> bool:
    if kind.endswith("?"):
        return value is None or _fits(value, kind[:-1])
    if kind == "digest":
        return type(value) is bytes and len(value) == DIGEST_BYTES
    if kind == "count":
        return type(value) is int and value >= 0
    if kind == "bool":
        return type(value) is bool
    if kind == "bytes":
        return type(value) is bytes
    if kind == "pairs":
        return type(value) is list and all(_row_fits(row, ("digest", "count")) for row in value)
    if kind == "any":
        return True
    return type(value) is str


def sign(authority: Authority, shape: Shape, body: Mapping[str, Any]) -> bytes:
    """``body`` signed with the authority's key as a statement of ``shape``."""
    if not shape.fits(dict(body)):
        raise ValueError(f"not a well-formed {shape.what}: {sorted(body)}")
    return sign1(
        dumps(dict(body)), authority.signing_key, kid=authority.kid, content_type=shape.content_type
    )


def open_statement(data: Any, authority: AuthorityPublic, shape: Shape) -> dict[str, Any]:
    """The body of a statement of ``shape`` signed by ``authority``, the fields ``shape``
    added later filled in as empty lists; BadStatement saying what is wrong otherwise."""
    if not isinstance(data, bytes):
        raise BadStatement(f"the column holds no signed {shape.what}")
    try:
        msg = open_sign1(data, authority.sign_public, kid=authority.kid)
        body = loads(msg.payload)
    except (Tampered, BadSignature) as exc:
        raise BadStatement(
            f"the {shape.what} is not signed by authority {authority.name!r}: {exc}"
        ) from exc
    if msg.protected.get(HDR_CONTENT_TYPE) != shape.content_type or not shape.fits(body):
        raise BadStatement(f"the signed object is not a {shape.what}")
    return {**{name: [] for name in shape.added}, **body}
