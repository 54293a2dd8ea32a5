"""The district's blank cards: each batch registered as a serial range, each range handed
to a kit or an office, each range returned unused, as statements the authority signs.

Why signed statements and not rows: the figures the ministry reads ("blangko: 27% used")
come from these, and a row anyone with a login could insert or edit would move them.  A
statement is signed with the authority's key (the one that signs the sync log), kept in
``blank_moves`` with the columns derived from it, and named by a sync statement, so the
audit finds a statement edited, added without a signature, or removed.

Who holds a serial follows from the statements in the order they were made: registered at
the district's warehouse (holder ``""``), assigned to a holder (a kit id, or an office desk
`provisioning.office_log`), returned to the warehouse.  `Stock.check` refuses a statement
that would hand out a serial the warehouse does not hold, or take back one a holder does
not; `provisioning.district.reconcile` then follows every serial to a printed card, a
spoiled one, the warehouse or its holder.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from provisioning.district import schema as s
from provisioning.signed_statements import BadStatement, Shape, open_statement, sign
from storage.blanks import BadSerialRange, SerialRange
from storage.keys import Authority, AuthorityPublic

#: The district's warehouse: who holds a serial registered and not handed out, or returned.
WAREHOUSE = ""
SHAPE = Shape(
    content_type="application/jemput-district-blanks+cbor",
    what="blank-card statement",
    scalars={
        "kind": "text",
        "batch": "text",
        "first": "count",
        "last": "count",
        "regency": "text",
        "holder": "text",
        "at": "count",
    },
)


class MoveKind(enum.StrEnum):
    """What a statement does with its range."""

    #: A batch arrives at the district: its serials are at the warehouse.
    REGISTERED = "registered"
    #: Serials leave the warehouse for a kit (at its flash) or an office's printer.
    ASSIGNED = "assigned"
    #: Unused serials come back from their holder to the warehouse.
    RETURNED = "returned"


class BadMove(ValueError):
    """A statement that cannot be: a bad regency, a holder where none goes, or a range the
    serials' history does not allow."""


@dataclass(frozen=True)
class Move:
    """One signed statement: ``kind`` of ``range`` of regency ``regency`` for ``holder``."""

    kind: MoveKind
    range: SerialRange
    regency: str
    holder: str
    at: datetime
    signed: bytes = b""

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.signed).digest()

    def __str__(self) -> str:
        at = self.at.date().isoformat()
        if self.kind is MoveKind.REGISTERED:
            return f"batch {self.range} registered for regency {self.regency} on {at}"
        if self.kind is MoveKind.ASSIGNED:
            return f"{self.range} handed to {self.holder} on {at}"
        return f"{self.range} returned by {self.holder} on {at}"

    def values(self) -> dict[str, Any]:
        """The ``blank_moves`` row's columns, all from the signed statement."""
        return {
            "province": s.province_of(self.regency),
            "digest": self.digest,
            "signed": self.signed,
            "kind": self.kind.value,
            "batch": self.range.batch,
            "first": self.range.first,
            "last": self.range.last,
            "regency_code": self.regency,
            "holder": self.holder,
            "at": self.at,
        }


def sign_move(
    authority: Authority,
    kind: MoveKind,
    serials: SerialRange,
    *,
    regency: str,
    holder: str = WAREHOUSE,
    at: datetime | None = None,
) -> Move:
    """The authority's statement of ``kind`` for ``serials``; ValueError if ill-formed."""
    if len(regency) != 4 or not regency.isdigit():
        raise BadMove(f"regency {regency!r} is not a four-digit regency code such as 3505")
    if (kind is MoveKind.REGISTERED) != (holder == WAREHOUSE):
        raise BadMove(f"a {kind.value} range needs {'no' if holder else 'a'} holder")
    when = (at or datetime.now(UTC)).replace(microsecond=0)
    body = {
        "kind": kind.value,
        "batch": serials.batch,
        "first": serials.first,
        "last": serials.last,
        "regency": regency,
        "holder": holder,
        "at": int(when.timestamp()),
    }
    return Move(kind, serials, regency, holder, when, sign(authority, SHAPE, body))


def read_move(data: Any, authority: AuthorityPublic) -> Move:
    """A statement signed by ``authority``; BadStatement saying what is wrong otherwise."""
    body = open_statement(data, authority, SHAPE)
    try:
        kind = MoveKind(body["kind"])
        serials = SerialRange(body["batch"], body["first"], body["last"])
    except (ValueError, BadSerialRange) as exc:
        raise BadStatement(f"the blank-card statement is malformed: {exc}") from exc
    at = datetime.fromtimestamp(body["at"], UTC)
    return Move(kind, serials, body["regency"], body["holder"], at, data)


def in_order(moves: Iterable[Move]) -> list[Move]:
    """The statements in the order they were made (registration first within a moment)."""
    rank = {MoveKind.REGISTERED: 0, MoveKind.ASSIGNED: 1, MoveKind.RETURNED: 2}
    return sorted(moves, key=lambda move: (move.at, rank[move.kind], move.digest))


@dataclass
class Stock:
    """Who holds each registered serial, (batch, number) -> holder, and its regency, after
    the statements in their order; ``refused`` those the history did not allow."""

    held: dict[tuple[str, int], str]
    regency: dict[tuple[str, int], str]
    refused: list[tuple[Move, str]]

    @classmethod
    def of(cls, moves: Iterable[Move]) -> Stock:
        """`Stock.check` refuses a statement before it is signed; one that reaches the store
        anyway changes nothing here and is listed in ``refused``."""
        stock = cls({}, {}, [])
        for move in in_order(moves):
            why = stock.check(move)
            if why is not None:
                stock.refused.append((move, why))
                continue
            to = WAREHOUSE if move.kind is MoveKind.RETURNED else move.holder
            for number in range(move.range.first, move.range.last + 1):
                stock.held[(move.range.batch, number)] = to
                if move.kind is MoveKind.REGISTERED:
                    stock.regency[(move.range.batch, number)] = move.regency
        return stock

    def check(self, move: Move) -> str | None:
        """Why ``move`` cannot follow these holdings, or None when it can."""
        want = {MoveKind.ASSIGNED: WAREHOUSE, MoveKind.RETURNED: move.holder}.get(move.kind)
        for number in range(move.range.first, move.range.last + 1):
            key = (move.range.batch, number)
            holder = self.held.get(key)
            serial = move.range.serial(number)
            if move.kind is MoveKind.REGISTERED:
                if holder is not None:
                    return f"serial {serial} is registered already"
                continue
            if holder != want:
                return f"serial {serial} is {where_held(holder)}"
            if self.regency[key] != move.regency:
                return f"serial {serial} is registered for regency {self.regency[key]}"
        return None

    def free_range(self, regency: str, count: int) -> SerialRange | None:
        """The first ``count`` consecutive serials of ``regency`` at the warehouse."""
        run: list[tuple[str, int]] = []
        free = sorted(
            key
            for key, holder in self.held.items()
            if holder == WAREHOUSE and self.regency[key] == regency
        )
        for batch, number in free:
            if run and (batch != run[-1][0] or number != run[-1][1] + 1):
                run = []
            run.append((batch, number))
            if len(run) == count:
                return SerialRange(batch, run[0][1], number)
        return None


def where_held(holder: str | None) -> str:
    """Where a serial is, as messages say it."""
    if holder is None:
        return "in no registered batch"
    return "at the district's warehouse" if holder == WAREHOUSE else f"held by {holder}"
