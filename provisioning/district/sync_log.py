"""The district's sync log: one statement per sync, signed by the authority, hash-linked.

Why a log, when records, heads and ledgers carry the kits' signatures: deleting rows
whole leaves only valid signatures behind.  A chain removed with its ledgers, the last
records of a chain, a worklist's lines (which no kit signs): nothing left in the store
would show.  So each sync ends by appending a statement naming what the store holds after
it: per kit chain it pushed, the last record of the run it verified and holds (seq and
SHA-256); each ledger it kept (and its receipt); each worklist it registered (the digest of
its chained lines and how many); each fork it met; each kit status it kept.  Registering a
round (`jemput-prov round plan --db`) appends one naming the round's signed plan, and
every round held that no statement named yet (those registered before rounds were
listed): from the first statement naming a round on, every round must be named, so a round
removed whole is found even when no record names it.  Statements
are numbered from 1 and each names the SHA-256 of the one before, as the collector's log
does (`provisioning.collection_log`).  The audit then requires all of it to be held.

Who signs: the authority's signing key, which the laptop holds anyway (collecting a kit
signs its receipt with it), so `sync` needs the authority folder with its private keys.
Checking needs only the public key, so whoever runs `verify` or `report` cannot forge a
statement.  Not an HMAC under the reference key: every tool that matches worklists holds
that key, and every kit carries it in its profile.

What it cannot show: an insider holding the signing key writes statements as the tool
does; and a store rolled back whole, or wiped, to a consistent earlier state (the newest
statements dropped with all they named) looks like that state.  `verify` and `report`
print the log's length and head so a figure sent earlier tells.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from provisioning.signed_statements import BadStatement, Shape, open_statement, sign
from storage.keys import Authority, AuthorityPublic

#: The ``prev`` of the first statement of a store.
GENESIS = bytes(32)
DIGEST_BYTES = 32
#: A sync statement's fields; ``blanks`` and ``offices`` came with the office desk,
#: ``statuses`` with the fleet and ``rounds`` with the rounds' listing (a statement signed
#: before reads them as empty).
SHAPE = Shape(
    content_type="application/jemput-district-sync+cbor",
    what="district sync statement",
    scalars={"n": "count", "prev": "digest", "at": "count", "source": "text"},
    rows={
        "heads": ("digest", "text", "count", "digest?"),
        "ledgers": ("digest", "digest", "digest?"),
        "worklists": ("digest", "count"),
        "forks": ("digest", "count", "digest"),
    },
    added={
        "blanks": ("digest",),
        "offices": ("text", "count", "digest"),
        "statuses": ("digest", "digest"),
        "rounds": ("text", "text", "digest"),
    },
)


class BadSyncStatement(BadStatement):
    """A sync statement that is not the authority's, or not a sync statement."""


@dataclass(frozen=True)
class Head:
    """A chain as a sync left it: the store holds its records 1..``seq``, the last with
    SHA-256 ``digest`` (``seq`` 0 and no digest: the chain, no record yet)."""

    chain: bytes
    kit_id: str
    seq: int
    digest: bytes | None


@dataclass(frozen=True)
class KeptLedger:
    """A kit's signed ledger that a sync kept (SHA-256 of it and of its receipt, if any)."""

    chain: bytes
    digest: bytes
    receipt: bytes | None


@dataclass(frozen=True)
class KeptStatus:
    """A kit's signed status at a collection that a sync kept (SHA-256 of the answer)."""

    chain: bytes
    digest: bytes


@dataclass(frozen=True)
class Worklist:
    """A registered worklist: the link of its last line (its digest) and how many lines."""

    digest: bytes
    lines: int


@dataclass(frozen=True)
class ForkMet:
    """A record a sync refused because the store held another with its kit and seq."""

    chain: bytes
    seq: int
    offered: bytes


@dataclass(frozen=True)
class OfficeHead:
    """An office's ledger as a sync left it: its entries 1..``n``, the last ``digest``."""

    office: str
    n: int
    digest: bytes


@dataclass(frozen=True)
class ListedRound:
    """A round the store holds: its province, code and the SHA-256 of its signed plan
    (which signs the round's list in turn)."""

    province: str
    code: str
    plan: bytes

    @classmethod
    def of(cls, province: str, code: str, signed: bytes) -> ListedRound:
        """The round ``code`` of ``province`` whose signed plan is ``signed``."""
        return cls(province, code, hashlib.sha256(signed).digest())


@dataclass(frozen=True)
class SyncStatement:
    """What one sync signed: its number, the link to the statement before, and its facts.

    ``blanks`` are the SHA-256 of the district's signed blank-card statements it added
    (`provisioning.district.blank_stock`), ``offices`` where it left each office's ledger,
    ``rounds`` the rounds registered (`provisioning.district.rounds`) that no statement
    before named.
    """

    index: int
    prev: bytes
    at: datetime
    source: str
    heads: tuple[Head, ...] = ()
    ledgers: tuple[KeptLedger, ...] = ()
    worklists: tuple[Worklist, ...] = ()
    forks: tuple[ForkMet, ...] = ()
    blanks: tuple[bytes, ...] = ()
    offices: tuple[OfficeHead, ...] = ()
    statuses: tuple[KeptStatus, ...] = ()
    rounds: tuple[ListedRound, ...] = ()


def digest(data: bytes) -> bytes:
    """SHA-256 of a statement's bytes: the next statement's ``prev``."""
    return hashlib.sha256(data).digest()


def sign_statement(authority: Authority, statement: SyncStatement) -> bytes:
    body: dict[str, Any] = {
        "n": statement.index,
        "prev": statement.prev,
        "at": int(statement.at.timestamp()),
        "source": statement.source,
        "heads": [[h.chain, h.kit_id, h.seq, h.digest] for h in statement.heads],
        "ledgers": [[k.chain, k.digest, k.receipt] for k in statement.ledgers],
        "worklists": [[w.digest, w.lines] for w in statement.worklists],
        "forks": [[f.chain, f.seq, f.offered] for f in statement.forks],
    }
    if statement.blanks:
        body["blanks"] = [[moved] for moved in statement.blanks]
    if statement.offices:
        body["offices"] = [[o.office, o.n, o.digest] for o in statement.offices]
    if statement.statuses:
        body["statuses"] = [[k.chain, k.digest] for k in statement.statuses]
    if statement.rounds:
        body["rounds"] = [[r.province, r.code, r.plan] for r in statement.rounds]
    return sign(authority, SHAPE, body)


def read_statement(data: Any, authority: AuthorityPublic) -> SyncStatement:
    """A sync statement signed by ``authority``; BadSyncStatement saying what is wrong."""
    try:
        body = open_statement(data, authority, SHAPE)
    except BadStatement as exc:
        raise BadSyncStatement(str(exc)) from exc
    return SyncStatement(
        index=body["n"],
        prev=body["prev"],
        at=datetime.fromtimestamp(body["at"], UTC),
        source=body["source"],
        heads=tuple(Head(*row) for row in body["heads"]),
        ledgers=tuple(KeptLedger(*row) for row in body["ledgers"]),
        worklists=tuple(Worklist(*row) for row in body["worklists"]),
        forks=tuple(ForkMet(*row) for row in body["forks"]),
        blanks=tuple(moved for (moved,) in body["blanks"]),
        offices=tuple(OfficeHead(*row) for row in body["offices"]),
        statuses=tuple(KeptStatus(*row) for row in body["statuses"]),
        rounds=tuple(ListedRound(*row) for row in body["rounds"]),
    )
