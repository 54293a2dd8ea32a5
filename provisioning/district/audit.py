"""The district store's audit: every column derived again from signed bytes, and compared.

Why, after sync verified everything on arrival: the store is a database that anyone with a
login can edit, and the ministry's figures are only worth what they are counted from.  So
`jemput-prov verify --db URL` and, before any figure, `report --db URL` trust only what a
signature covers:

| table | derived from |
| --- | --- |
| ``sync_log`` | each statement: the authority's signature, and the link to the one before |
| ``chains`` | the kit certificate (the authority's signature) |
| ``records`` | the record (the kit's signature), its link to the one before, the heads |
| ``ledgers`` | the head and card ledger the kit signed; the receipt the authority signed |
| ``cards`` | the cards the kit's signed ledgers list |
| ``forks`` | the refused record the kit signed, and the record held at its seq |
| ``statuses`` | the status the kit signed, and the collector's statement (the authority's) |
| ``residents`` | each worklist's hash chain, whose digest and length a statement signed |
| ``rounds`` | the round's plan, signed by the authority, whose digest a statement signed |
| ``round_people`` | each round's hash chain of keyed references, which its plan signs |
| ``blank_moves`` | the district's blank-card statement the authority signed |
| ``office_entries`` | each office's signed ledger, numbered and linked from its start |

A sync statement (`provisioning.district.sync_log`) names what the store held after that
sync, so rows removed whole are missed too: a chain, the last records of one (the kits'
signed heads also pin those), a ledger, a worklist's lines, a blank-card statement, an
office's last entries, a round with its list (once a statement names rounds; a store whose
statements all predate that names none, and a round any verified record names must still
be held with its plan).  Every difference is a problem naming its table, its key, the
column, the value held and the value derived.

It streams: each chain's records are read a few at a time through a server-side cursor
and verified one by one keeping only the previous record's hash, so its memory does not
grow with a chain's length.  With a `provisioning.district.audited.Sink` it writes what it
derived into the session's own tables, which the report counts from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from provisioning.checks import check_authority
from provisioning.collector_audit import ColumnMismatch, MissingChain, broken_link
from provisioning.district import audited
from provisioning.district import schema as s
from provisioning.district import sync_log as log
from provisioning.district.arrival import (
    BadLedger,
    BadReceipt,
    BadStatus,
    KitStatusAt,
    Ledger,
    verify_ledger,
    verify_receipt,
    verify_status,
)
from provisioning.district.blank_stock import Move, read_move
from provisioning.district.errors import StoreRefused
from provisioning.district.rows import (
    GROUP_COLUMNS,
    LIST_GENESIS,
    chain_values,
    ledger_values,
    line_link,
    record_values,
    round_values,
    status_values,
)
from provisioning.district.store import Fork, chains_query, stream
from provisioning.office_log import OfficeEntry, OfficeLogError, follow
from provisioning.office_report import office_reason
from provisioning.signed_statements import BadStatement
from storage.certificate import Certificate, check_kit_id
from storage.errors import RecordError
from storage.keys import AuthorityPublic
from storage.record import record_hash
from storage.reference import ReferenceKey, resident_key
from storage.rounds import ROUND_GENESIS, Round, RoundError, read_round, ref_link
from storage.verify import BrokenChain, CertificateError, Verifier, check_link

#: Worklist lines read at a time (small rows, many of them).
LINE_ROWS = 1_000


class UnsignedRow(RecordError):
    """A row that no signature and no signed statement accounts for: it was added."""


class MissingRow(RecordError):
    """A row that a signature or a signed statement requires, and the store lacks."""


Problem = tuple[str, RecordError]


@dataclass(frozen=True)
class AuditedStatus:
    """A kit's status at a collection that verified, with its chain's kit and region."""

    kit_id: str
    region: str
    kept: KitStatusAt


@dataclass
class ChainAudit:
    """One kit chain's line in `verify`'s table."""

    kit_id: str
    folder: str
    records: int = 0
    last: int | None = None
    problems: int = 0


@dataclass
class StoreAudit:
    """What the store verifies to; ``problems`` name table, row, column and both values.

    ``forks`` are verified forks: a kit's own signed evidence that it was cloned, kept as
    the store refused the second branch; not an edit of the store, so the report counts
    them instead of refusing.  ``notes`` name signed rows no sync statement names yet (a
    sync cut before its statement: run it again).  ``kits`` and ``ledgers`` (verified, the
    newest first per chain), ``statuses`` (verified) and ``revoked`` (the kits the
    authority's revocation list names) are what the report needs besides the audited tables.
    """

    where: str
    #: Whose keys the store was audited against.
    authority: AuthorityPublic
    chains: list[ChainAudit] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    forks: list[Fork] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    log_length: int = 0
    log_head: bytes | None = None
    kits: dict[tuple[str, bytes], str] = field(default_factory=dict)
    ledgers: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[AuditedStatus] = field(default_factory=list)
    revoked: frozenset[str] = frozenset()
    #: The verified blank-card statements, and every office's verified ledger entries.
    moves: list[Move] = field(default_factory=list)
    office: list[OfficeEntry] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row is what its signatures say (forks are the kits')."""
        return not self.problems

    @property
    def records(self) -> int:
        return sum(chain.records for chain in self.chains)

    @property
    def log_shown(self) -> str | None:
        """The log's head as reports show it (16 hex digits)."""
        return self.log_head.hex()[:16] if self.log_head else None

    def newest_ledgers(self) -> list[dict[str, Any]]:
        """Each chain's newest verified ledger (a kit's ledger holds all it did before)."""
        newest: dict[bytes, dict[str, Any]] = {}
        for row in self.ledgers:  # newest first per chain
            newest.setdefault(row["chain"], row)
        return list(newest.values())

    def require_ok(self) -> StoreAudit:
        """This audit, or StoreRefused naming how many problems and the first."""
        if self.problems:
            where, exc = self.problems[0]
            raise StoreRefused(
                f"the office store at {self.where} fails verification "
                f"({len(self.problems)} problem(s), first: {where}: {exc}); run `jemput-prov "
                "verify --db URL --authority DIR` for the list; nothing is reported"
            )
        return self


def log_line(length: int, head: str | None) -> str:
    """The sync log as `verify` and `report` print it, to compare with a report before."""
    return f"sync log: {length} statement(s), head {head or 'none'}"


def _shown(value: Any) -> str:
    return value.hex()[:16] if isinstance(value, bytes) else repr(value)


def _comparable(value: Any) -> Any:
    """A time as UTC: SQLite hands back the naive UTC time PostgreSQL keeps with its zone."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _run(word: str, first: int, last: int) -> str:
    """A run of missing seqs or lines, as ``line 4`` or ``lines 4-6``."""
    return f"{word} {first}" if first == last else f"{word}s {first}-{last}"


class _Audit:
    """One pass over a store, in one snapshot; each step adds to ``result``."""

    def __init__(
        self,
        c: Connection,
        authority: AuthorityPublic,
        references: ReferenceKey,
        where: str,
        sink: audited.Sink | None,
    ) -> None:
        self.c = c
        self.authority = authority
        self.references = references
        self.verifier = Verifier(authority)
        self.sink = sink
        self.result = StoreAudit(
            where, authority, revoked=frozenset(self.verifier.revocations.revoked)
        )
        #: The chain whose rows are being read: its problems are counted in verify's table.
        self.chain: ChainAudit | None = None
        # what the sync log names, each with the number of the statement that names it
        self.heads: dict[bytes, list[tuple[log.Head, int]]] = {}
        self.kept: dict[tuple[bytes, bytes], tuple[bytes | None, int]] = {}
        self.statuses: dict[tuple[bytes, bytes], int] = {}
        self.lists: dict[bytes, tuple[int, int]] = {}
        self.forks: dict[tuple[bytes, int, bytes], int] = {}
        self.moves: dict[bytes, int] = {}
        self.offices: dict[str, list[tuple[log.OfficeHead, int]]] = {}
        #: Each chain's kit, as its certificate or a statement names it, for messages.
        self.kit_ids: dict[bytes, str] = {}
        #: Each round a verified record names, with the first such record (for messages).
        self.named_rounds: dict[str, str] = {}
        #: Each round a statement names (province, code): its plan's digest and statement;
        #: and the first statement naming one, from which on every round must be named.
        self.listed: dict[tuple[str, str], tuple[bytes, int]] = {}
        self.rounds_listed: int | None = None

    def label(self, chain: Any) -> str:
        """A chain as messages name it: ``chain KIT-3505-01-1a2b3c4d``."""
        shown = _shown(chain)[:8]
        kit_id = self.kit_ids.get(chain) if isinstance(chain, bytes) else None
        return f"chain {kit_id}-{shown}" if kit_id else f"chain {shown}"

    def fail(self, where: str, exc: RecordError) -> None:
        self.result.problems.append((where, exc))
        if self.chain is not None:
            self.chain.problems += 1

    def compare(self, where: str, source: str, columns: dict[str, tuple[Any, Any]]) -> None:
        """A problem for each column whose value ``source`` does not say."""
        for column, (held, derived) in columns.items():
            if _comparable(held) != _comparable(derived):
                self.fail(
                    where,
                    ColumnMismatch(
                        f"column {column} holds {_shown(held)} but {source} says "
                        f"{_shown(derived)}: the row was edited"
                    ),
                )

    def derived(self, table: Any, row: dict[str, Any]) -> None:
        if self.sink is not None:
            self.sink.add(table, row)

    def run(self) -> StoreAudit:
        """The audit; WrongAuthority (one line) when no kit certificate is the authority's."""
        self.sync_log()
        certificates = self.certificates()
        check_authority(self.authority, len(certificates), (e for _, e in self.result.problems))
        known = {self.one_chain(certificate) for certificate in certificates}
        self.chain = None
        self.missing_chains(known)
        self.missing_ledgers()
        self.missing_statuses()
        self.orphans(known)
        self.residents()
        self.rounds()
        self.blank_moves()
        self.office_entries()
        if self.sink is not None:
            self.sink.flush()
        return self.result

    # -- the sync log ---------------------------------------------------------------------

    def sync_log(self) -> None:
        query = select(s.sync_log.c.n, s.sync_log.c.statement).order_by(s.sync_log.c.n)
        prev, expected = log.GENESIS, 1
        for n, data in stream(self.c, query):
            where = f"sync_log row {n}"
            try:
                statement = log.read_statement(data, self.authority)
            except log.BadSyncStatement as exc:
                self.fail(where, exc)
                prev, expected = log.digest(data) if isinstance(data, bytes) else prev, n + 1
                continue
            broken = broken_link(statement.index, statement.prev, expected, prev, "sync statements")
            if broken is not None:
                self.fail(where, broken)
            self.compare(where, "the signed statement", {"n": (n, statement.index)})
            prev, expected = log.digest(data), statement.index + 1
            self.result.log_length, self.result.log_head = statement.index, prev
            self.named(statement)

    def named(self, statement: log.SyncStatement) -> None:
        """Remember what ``statement`` says the store holds."""
        n = statement.index
        for head in statement.heads:
            self.heads.setdefault(head.chain, []).append((head, n))
            self.kit_ids[head.chain] = head.kit_id
        for kept in statement.ledgers:  # the first statement to name a row is quoted
            self.kept.setdefault((kept.chain, kept.digest), (kept.receipt, n))
        for status in statement.statuses:
            self.statuses.setdefault((status.chain, status.digest), n)
        for worklist in statement.worklists:
            self.lists.setdefault(worklist.digest, (worklist.lines, n))
        for fork in statement.forks:
            self.forks.setdefault((fork.chain, fork.seq, fork.offered), n)
        for moved in statement.blanks:
            self.moves.setdefault(moved, n)
        for office in statement.offices:
            self.offices.setdefault(office.office, []).append((office, n))
        for listed in statement.rounds:
            self.listed.setdefault((listed.province, listed.code), (listed.plan, n))
            self.rounds_listed = self.rounds_listed or n

    # -- chains ---------------------------------------------------------------------------

    def certificates(self) -> list[tuple[str, Certificate]]:
        """Each chains row's verified certificate with the row's province (one per chain)."""
        found: dict[bytes, tuple[str, Certificate]] = {}
        for row in self.c.execute(chains_query()).mappings():
            where = f"chains row (chain {row['kit_id']}-{_shown(row['cert_digest'])[:8]})"
            # named as held: a kit_id edited shows as edited
            try:
                certificate = self.verifier.certificate(row["cert"])
                self.verifier.refuse_training(certificate)
                check_kit_id(certificate.kit_id)
            except (CertificateError, RecordError, TypeError) as exc:
                self.fail(where, exc if isinstance(exc, RecordError) else ColumnMismatch(str(exc)))
                continue
            values = chain_values(certificate)
            if certificate.digest in found:
                self.fail(where, UnsignedRow("a second row for one kit certificate: it was added"))
                continue
            self.compare(
                where,
                "the kit certificate",
                {column: (row[column], values[column]) for column in row if column != "cert"},
            )
            found[certificate.digest] = (values["province"], certificate)
        return list(found.values())

    def missing_chains(self, known: set[tuple[str, bytes]]) -> None:
        """A chain a statement names must be held, with a verified certificate."""
        held = {digest for _, digest in known}
        for chain, named in self.heads.items():
            if chain not in held:
                head, n = named[0]
                self.fail(
                    f"chains row ({self.label(chain)})",
                    MissingChain(
                        f"sync statement {n} names kit {head.kit_id}'s chain, which the store "
                        "no longer holds (or whose row fails): it was removed"
                    ),
                )

    def missing_ledgers(self) -> None:
        """A ledger a statement says was kept must be held (its chain's rows are read)."""
        for (chain, digest), (_, n) in self.kept.items():
            self.fail(
                f"ledgers row ({self.label(chain)}, ledger {digest.hex()[:12]})",
                MissingRow(f"sync statement {n} kept this ledger; it is missing: removed"),
            )

    def missing_statuses(self) -> None:
        """A kit status a statement says was kept must be held (its chain's rows are read)."""
        for (chain, digest), n in self.statuses.items():
            self.fail(
                f"statuses row ({self.label(chain)}, status {digest.hex()[:12]})",
                MissingRow(f"sync statement {n} kept this kit status; it is missing: removed"),
            )

    def one_chain(self, held: tuple[str, Certificate]) -> tuple[str, bytes]:
        province, certificate = held
        key = (province, certificate.digest)
        self.kit_ids[certificate.digest] = certificate.kit_id
        label = self.label(certificate.digest)
        chain = ChainAudit(certificate.kit_id, f"{certificate.kit_id}-{key[1].hex()[:8]}")
        self.chain = chain
        self.result.chains.append(chain)
        self.result.kits[key] = certificate.kit_id
        named = self.heads.get(certificate.digest, [])
        if not named:
            self.result.notes.append(
                f"{label}: no sync statement names it yet: a sync was cut before its "
                "statement; run it again"
            )
        ledgers = self.ledgers(key, label, certificate)
        forks = (
            self.c.execute(
                select(s.forks).where(s.forks.c.province == province, s.forks.c.chain == key[1])
            )
            .mappings()
            .all()
        )
        heads = [
            (head.seq, head.digest, f"sync statement {n}") for head, n in named if head.seq
        ] + [
            (ledger.head_seq, ledger.head, f"the kit's ledger of {ledger.at.isoformat()}")
            for ledger in ledgers
            if ledger.head_seq
        ]
        wanted = {seq for seq, _, _ in heads} | {fork["seq"] for fork in forks}
        held_at = self.records(key, label, certificate, wanted, chain)
        for seq, head, who in heads:
            self.head_held(label, seq, head, who, held_at, chain.last)
        self.cards(key, label, ledgers)
        self.kit_statuses(key, label, certificate)
        for fork in forks:
            self.fork(label, certificate, fork, held_at)
        for (forked, seq, offered), n in self.forks.items():
            if forked == key[1] and not any(
                fork["seq"] == seq and fork["offered_digest"] == offered for fork in forks
            ):
                self.fail(
                    f"forks row ({label}, seq {seq})",
                    MissingRow(
                        f"sync statement {n} met a fork of record {seq} (offered "
                        f"{offered.hex()[:16]}); the row is missing: it was removed"
                    ),
                )
        return key

    # -- records --------------------------------------------------------------------------

    def records(
        self,
        key: tuple[str, bytes],
        label: str,
        certificate: Certificate,
        wanted: set[int],
        chain: ChainAudit,
    ) -> dict[int, bytes]:
        """Stream the chain's records, counting in ``chain`` those that verify; returns the
        hash of each whose seq is in ``wanted`` (the heads and forks to check)."""
        r = s.records.c
        query = (
            select(
                r.seq,
                r.data,
                r.digest,
                r.sealed_at,
                r.day,
                r.region,
                r.officer,
                r.ref_digest,
                r.walk_in,
                r.excepted,
                r.voids,
                r.print_card,
                r.round_code,
                r.venue,
                *(r[column] for column in GROUP_COLUMNS.values()),
                r.notice,
            )
            .where(r.province == key[0], r.chain == key[1])
            .order_by(r.seq)
        )
        held_at: dict[int, bytes] = {}
        expected = 1
        before: bytes | None = None  # the record before's hash; None after a gap: no link
        for row in stream(self.c, query):
            seq, data = row.seq, row.data
            where = f"records row ({label}, seq {seq})"
            if seq != expected:
                missing = _run("record", expected, seq - 1)
                self.fail(where, BrokenChain(f"{missing} missing before it: removed"))
                before = None
            expected = seq + 1
            try:
                header = self.verifier.verify_record(data, certificate)
                if header.seq != seq:
                    raise BrokenChain(f"column seq holds {seq} but the record is {header.seq}")
                if seq == 1 or before is not None:
                    check_link(header, certificate, before)
            except (RecordError, TypeError) as exc:
                self.fail(where, exc if isinstance(exc, RecordError) else ColumnMismatch(str(exc)))
                before = record_hash(data) if isinstance(data, bytes) else None
                continue
            before = record_hash(data)
            values = record_values(header, before, certificate.region, self.references)
            self.compare(
                where,
                "the signed record",
                {column: (row._mapping[column], values[column]) for column in values},
            )
            if seq in wanted:
                held_at[seq] = before
            chain.records += 1
            chain.last = seq
            if values["round_code"] is not None:
                self.named_rounds.setdefault(values["round_code"], where)
            walk_in_ref = (
                resident_key(
                    self.references, keyed_ref=header.keyed_ref, worklist_ref=header.worklist_ref
                )
                if header.walk_in
                else None
            )
            self.derived(
                audited.records,
                {
                    "province": key[0],
                    "chain": key[1],
                    **values,
                    "walk_in_ref": walk_in_ref,
                    "reason": office_reason(header).value,
                },
            )
        return held_at

    def head_held(
        self,
        label: str,
        seq: int,
        head: bytes | None,
        who: str,
        held_at: dict[int, bytes],
        last: int | None,
    ) -> None:
        """Record ``seq``, which ``who`` says the store holds as ``head``, must be there
        (``last``: the last record of the chain that verifies)."""
        where = f"records row ({label}, seq {seq})"
        if seq not in held_at:
            self.fail(
                where,
                MissingRow(
                    f"{who} names record {seq} ({_shown(head)}) as held, but the chain "
                    f"stops at {last or 0} or the record fails: records were removed"
                ),
            )
        elif held_at[seq] != head:
            self.fail(
                where,
                BrokenChain(f"the record held differs from the one {who} names ({_shown(head)})"),
            )

    # -- ledgers and cards ----------------------------------------------------------------

    def ledgers(self, key: tuple[str, bytes], label: str, certificate: Certificate) -> list[Ledger]:
        """The chain's ledgers that verify, each compared column by column."""
        rows = self.c.execute(
            select(s.ledgers).where(s.ledgers.c.province == key[0], s.ledgers.c.chain == key[1])
        ).mappings()
        verified = []
        for row in rows:
            where = f"ledgers row ({label}, ledger {_shown(row['signed_digest'])[:12]})"
            try:
                ledger = verify_ledger(row["signed"], certificate)
            except BadLedger as exc:
                self.fail(where, exc)
                continue
            values = ledger_values(ledger)
            self.compare(
                where,
                "the kit's signed ledger",
                {column: (row[column], values[column]) for column in values if column != "signed"},
            )
            self.receipt(where, row["receipt"], ledger, certificate, key, values["signed_digest"])
            verified.append(ledger)
        verified.sort(
            key=lambda ledger: (ledger.audit_last, ledger.head_seq, ledger.at), reverse=True
        )
        for ledger in verified:
            self.result.ledgers.append(
                {
                    "kit_id": certificate.kit_id,
                    "region": certificate.region,
                    "chain": key[1],
                    "loaded": ledger.loaded,
                    "printed": ledger.printed,
                    "spoiled": ledger.spoiled,
                    "unresolved": ledger.unresolved,
                    "ledger": ledger,
                }
            )
        return verified

    def receipt(
        self,
        where: str,
        receipt: Any,
        ledger: Ledger,
        certificate: Certificate,
        key: tuple[str, bytes],
        digest: bytes,
    ) -> None:
        """The receipt kept with a ledger: the authority's, for its head, the one logged."""
        if receipt is not None:
            try:
                verify_receipt(receipt, self.authority, ledger, certificate.kit_id)
            except BadReceipt as exc:
                self.fail(where, exc)
        named = self.kept.pop((key[1], digest), None)
        if named is None:
            self.result.notes.append(
                f"{where}: no sync statement names it yet: a sync was cut before its "
                "statement; run it again"
            )
            return
        logged, n = named
        held = record_hash(receipt) if isinstance(receipt, bytes) else None
        if held != logged:
            self.fail(
                where,
                ColumnMismatch(
                    f"column receipt holds {_shown(held)} but sync statement {n} names "
                    f"{_shown(logged)}: the row was edited"
                ),
            )

    def cards(self, key: tuple[str, bytes], label: str, ledgers: list[Ledger]) -> None:
        """The chain's cards rows against the cards its verified ledgers list."""
        listed = {serial: seq for ledger in ledgers for seq, serial in ledger.printed_cards}
        for seq in listed.values():
            self.derived(audited.cards, {"province": key[0], "chain": key[1], "seq": seq})
        query = select(s.cards.c.serial, s.cards.c.seq).where(
            s.cards.c.province == key[0], s.cards.c.chain == key[1]
        )
        for serial, seq in stream(self.c, query, rows=LINE_ROWS):
            where = f"cards row ({label}, serial {serial})"
            if serial not in listed:
                self.fail(
                    where,
                    UnsignedRow(
                        f"no ledger the kit signed lists card {serial!r} (for record {seq}): "
                        "the row was added"
                    ),
                )
                continue
            self.compare(where, "the kit's signed ledger", {"seq": (seq, listed.pop(serial))})
        for serial, seq in listed.items():
            self.fail(
                f"cards row ({label}, serial {serial})",
                MissingRow(
                    f"the kit's signed ledger lists card {serial!r} printed for record {seq}; "
                    "the row is missing: it was removed"
                ),
            )

    # -- the kits' statuses ---------------------------------------------------------------

    def kit_statuses(self, key: tuple[str, bytes], label: str, certificate: Certificate) -> None:
        """The chain's statuses that verify, each compared column by column and required
        to be named by a sync statement."""
        rows = self.c.execute(
            select(s.statuses).where(s.statuses.c.province == key[0], s.statuses.c.chain == key[1])
        ).mappings()
        for row in rows:
            where = f"statuses row ({label}, status {_shown(row['status_digest'])[:12]})"
            try:
                kept = verify_status(row["status"], row["statement"], certificate, self.authority)
            except BadStatus as exc:
                self.fail(where, exc)
                continue
            values = status_values(kept)
            self.compare(
                where,
                "the kit's signed status and the collector's signed statement",
                {column: (row[column], values[column]) for column in values},
            )
            if self.statuses.pop((key[1], values["status_digest"]), None) is None:
                self.result.notes.append(
                    f"{where}: no sync statement names it yet: a sync was cut before its "
                    "statement; run it again"
                )
            self.result.statuses.append(AuditedStatus(certificate.kit_id, certificate.region, kept))

    # -- forks ----------------------------------------------------------------------------

    def fork(
        self, label: str, certificate: Certificate, row: Any, held_at: dict[int, bytes]
    ) -> None:
        """A forks row: the refused record the kit signed, differing from the one held."""
        where = f"forks row ({label}, seq {row['seq']})"
        try:
            header = self.verifier.verify_record(row["offered"], certificate)
        except (RecordError, TypeError) as exc:
            self.fail(where, exc if isinstance(exc, RecordError) else ColumnMismatch(str(exc)))
            return
        offered = record_hash(row["offered"])
        held = held_at.get(header.seq)
        self.compare(
            where,
            "the refused record and the one held",
            {
                "seq": (row["seq"], header.seq),
                "offered_digest": (row["offered_digest"], offered),
                "kit_id": (row["kit_id"], certificate.kit_id),
                "held_digest": (row["held_digest"], held),
            },
        )
        if held == offered:
            self.fail(where, UnsignedRow("the record offered is the one held: no fork"))
            return
        self.result.forks.append(
            Fork(
                certificate.digest,
                certificate.kit_id,
                header.seq,
                row["held_digest"],
                row["held_source"],
                offered,
                row["offered_source"],
                row["offered"],
            )
        )

    # -- rows of no chain -----------------------------------------------------------------

    def orphans(self, known: set[tuple[str, bytes]]) -> None:
        """Rows whose chain the store does not hold, or holds under another province."""
        for table in (s.records, s.ledgers, s.cards, s.forks, s.statuses):
            query = select(table.c.province, table.c.chain, func.count()).group_by(
                table.c.province, table.c.chain
            )
            for province, chain, count in self.c.execute(query):
                if (province, chain) not in known:
                    self.fail(
                        f"{table.name} rows ({self.label(chain)}, province {province})",
                        MissingChain(
                            f"{count} row(s) belong to no verified chain of this store: its "
                            "chains row was removed or edited, or the rows were added or moved"
                        ),
                    )

    # -- worklists ------------------------------------------------------------------------

    def residents(self) -> None:
        """Each worklist's lines in order: the hash chain, and the digest a statement signed."""
        r = s.residents.c
        query = select(
            r.list, r.line, r.province, r.ref_digest, r.regency_code, r.regency, r.district,
            r.village, r.link,
        ).order_by(r.list, r.line)  # fmt: skip
        current: bytes | None = None
        expected, before = 1, LIST_GENESIS
        for row in stream(self.c, query, rows=LINE_ROWS):
            line = row._mapping
            if line["list"] != current:
                if current is not None:
                    self.end_list(current, expected - 1, before)
                current, expected, before = line["list"], 1, LIST_GENESIS
            where = f"residents row (worklist {_shown(current)[:12]}, line {line['line']})"
            if line["line"] != expected:
                self.fail(
                    where,
                    MissingRow(f"{_run('line', expected, line['line'] - 1)} missing: removed")
                    if line["line"] > expected
                    else UnsignedRow(f"line {line['line']} is held twice: a row was added"),
                )
            expected = line["line"] + 1
            link = line_link(before, line)
            self.compare(where, "the hash of the line's columns", {"link": (line["link"], link)})
            before = line["link"]
            self.derived(audited.residents, dict(line))
        if current is not None:
            self.end_list(current, expected - 1, before)
        for digest, (lines, n) in self.lists.items():
            if lines:
                self.fail(
                    f"residents rows (worklist {digest.hex()[:12]})",
                    MissingRow(
                        f"sync statement {n} registered its {lines} line(s); the store "
                        "holds none: they were removed"
                    ),
                )

    def end_list(self, digest: bytes, last_line: int, last_link: bytes) -> None:
        """A worklist read to its end: as long as signed, ending in the digest signed."""
        where = f"residents rows (worklist {_shown(digest)[:12]})"
        named = self.lists.pop(digest, None)
        if named is None:
            self.fail(
                where,
                UnsignedRow(
                    "no sync statement names this worklist: its registration was cut (run "
                    "the sync with the worklist again) or its lines were added"
                ),
            )
            return
        lines, n = named
        if last_line != lines:
            self.fail(
                where,
                MissingRow(f"sync statement {n} registered {lines} line(s); the last held is "
                           f"line {last_line}: lines were removed or added"),
            )  # fmt: skip
        if last_link != digest:
            self.fail(
                where,
                BrokenChain(
                    f"its lines hash to {_shown(last_link)}, not to the digest sync statement "
                    f"{n} signed: lines were edited"
                ),
            )

    # -- rounds ---------------------------------------------------------------------------

    def rounds(self) -> None:
        """Each round's plan (the authority's signature), its list (the chain the plan
        signs), every round a statement names, and every round a verified record names."""
        plans: dict[str, Round] = {}
        for row in stream(self.c, select(s.rounds).order_by(s.rounds.c.code)):
            line = row._mapping
            where = f"rounds row (round {line['code']})"
            try:
                plan = read_round(line["plan"], self.authority)
            except (RoundError, TypeError) as exc:
                self.fail(where, exc if isinstance(exc, RecordError) else ColumnMismatch(str(exc)))
                continue
            values = round_values(plan, line["plan"])
            self.compare(
                where,
                "the signed plan",
                {column: (line[column], values[column]) for column in values if column != "plan"},
            )
            self.round_logged(where, plan, line["plan"])
            plans[plan.code] = plan
            self.derived(audited.rounds, values)
        self.round_people(plans)
        for (_, code), (plan_digest, n) in self.listed.items():
            self.fail(
                f"rounds row (round {code})",
                MissingRow(
                    f"sync statement {n} registered round {code} (plan "
                    f"{_shown(plan_digest)}); the store does not hold its plan, or the row "
                    "fails: the round was removed, with its list unless lines are named above"
                ),
            )
        missing = {code for _, code in self.listed}
        for code, where in self.named_rounds.items():
            if code not in plans and code not in missing:
                self.fail(
                    f"rounds row (round {code})",
                    MissingRow(
                        f"{where} names round {code}, whose signed plan the store does not "
                        "hold: register it (jemput-prov round plan --db), or it was removed"
                    ),
                )

    def round_logged(self, where: str, plan: Round, signed: bytes) -> None:
        """A verified plan must be the one a statement names, once statements name rounds
        (a store whose statements all predate that names none, and is not asked to)."""
        named = self.listed.pop((plan.province, plan.code), None)
        if named is None:
            if self.rounds_listed is not None:
                self.fail(
                    where,
                    UnsignedRow(
                        f"no sync statement names round {plan.code}, though from statement "
                        f"{self.rounds_listed} on they name every round registered: the row "
                        "was added"
                    ),
                )
            return
        logged, n = named
        held = log.ListedRound.of(plan.province, plan.code, signed).plan
        if held != logged:
            self.fail(
                where,
                ColumnMismatch(
                    f"column plan hashes to {_shown(held)} but sync statement {n} names "
                    f"{_shown(logged)}: the plan was replaced"
                ),
            )

    def round_people(self, plans: dict[str, Round]) -> None:
        """Each round's list in order: its links, and the count and last link its plan signs."""
        r = s.round_people.c
        query = select(r.round, r.line, r.ref_digest, r.link).order_by(r.round, r.line)
        held: dict[str, tuple[int, bytes]] = {}
        expected, before, current = 1, ROUND_GENESIS, None
        for code, number, ref, link in stream(self.c, query, rows=LINE_ROWS):
            if code != current:
                current, expected, before = code, 1, ROUND_GENESIS
            where = f"round_people row (round {code}, line {number})"
            if code not in plans:
                self.fail(
                    where, UnsignedRow(f"round {code} has no verified plan: the row was added")
                )
                continue
            if number != expected:
                self.fail(
                    where, MissingRow(f"{_run('line', expected, number - 1)} missing: removed")
                )
            expected = number + 1
            derived = ref_link(before, ref) if isinstance(ref, bytes) else None
            self.compare(where, "the hash of the line's reference", {"link": (link, derived)})
            before = link
            held[code] = (number, link)
            self.derived(audited.round_people, {"round": code, "ref_digest": ref})
        for code, plan in plans.items():
            lines, last = held.get(code, (0, ROUND_GENESIS))
            if (lines, last) != (plan.listed, plan.refs):
                self.fail(
                    f"round_people rows (round {code})",
                    BrokenChain(
                        f"the plan signs {plan.listed} line(s) hashing to "
                        f"{_shown(plan.refs)}; the store holds {lines} hashing to "
                        f"{_shown(last)}: lines were removed, added or edited"
                    ),
                )

    # -- blank cards and the office desks ----------------------------------------------

    def blank_moves(self) -> None:
        """Each blank-card statement: the authority's, its columns its own, logged."""
        m = s.blank_moves
        for row in self.c.execute(select(m).order_by(m.c.at, m.c.digest)).mappings():
            where = f"blank_moves row ({_shown(row['digest'])[:12]})"
            try:
                move = read_move(row["signed"], self.authority)
            except BadStatement as exc:
                self.fail(where, exc)
                continue
            values = move.values()
            self.compare(
                where,
                "the signed blank-card statement",
                {column: (row[column], values[column]) for column in values if column != "signed"},
            )
            if self.moves.pop(move.digest, None) is None:
                self.fail(
                    where,
                    UnsignedRow(f"no sync statement names this statement ({move}): it was added"),
                )
                continue
            self.result.moves.append(move)
        for digest, n in self.moves.items():
            self.fail(
                f"blank_moves row ({digest.hex()[:12]})",
                MissingRow(f"sync statement {n} added this blank-card statement; it is missing"),
            )

    def office_entries(self) -> None:
        """Each office's ledger: entries from 1, linked, of one office, as far as logged."""
        o = s.office_entries
        query = select(o).order_by(o.c.office, o.c.n)
        by_office: dict[str, list[dict[str, Any]]] = {}
        for row in stream(self.c, query, rows=LINE_ROWS):
            by_office.setdefault(row.office, []).append(dict(row._mapping))
        for office, rows in by_office.items():
            self.one_office(office, rows)
        for office, named in self.offices.items():
            if office not in by_office:
                head, n = named[0]
                self.fail(
                    f"office_entries rows (office {office})",
                    MissingRow(
                        f"sync statement {n} names {head.n} entries of office {office}'s "
                        "ledger; the store holds none: they were removed"
                    ),
                )

    def one_office(self, office: str, rows: list[dict[str, Any]]) -> None:
        entries: list[OfficeEntry] = []
        for row in rows:
            where = f"office_entries row (office {office}, entry {row['n']})"
            try:
                entry = follow(
                    row["signed"], row["n"], entries[-1] if entries else None, self.authority
                )
            except OfficeLogError as exc:
                self.fail(where, exc)
                break
            values = {**entry.values(), "province": s.province_of(entry.regency)}
            self.compare(
                where,
                "the signed office ledger entry",
                {column: (row[column], values[column]) for column in values if column != "signed"},
            )
            entries.append(entry)
        digests = {entry.n: entry.digest for entry in entries}
        for head, n in self.offices.get(office, []):
            if digests.get(head.n) != head.digest:
                self.fail(
                    f"office_entries row (office {office}, entry {head.n})",
                    MissingRow(
                        f"sync statement {n} names entry {head.n} of office {office}'s ledger "
                        f"({_shown(head.digest)}), but its ledger stops at entry "
                        f"{len(entries)} or differs: entries were removed or replaced"
                    ),
                )
        if entries and not self.offices.get(office):
            self.result.notes.append(
                f"office {office}: no sync statement names its ledger yet: a sync was cut "
                "before its statement; run it again"
            )
        self.result.office.extend(entries)


def audit_store(
    c: Connection,
    authority: AuthorityPublic,
    references: ReferenceKey,
    *,
    where: str,
    sink: audited.Sink | None = None,
) -> StoreAudit:
    """Audit the store on ``c`` (one snapshot, `DistrictStore.snapshot`) from its signed
    bytes; with ``sink``, write what it derived into the audited tables."""
    return _Audit(c, authority, references, where, sink).run()


def problems_by_row(audit: StoreAudit) -> list[str]:
    """Each problem as one line: store, table and row, error class, why."""
    return [f"{audit.where}: {where}: {type(exc).__name__}: {exc}" for where, exc in audit.problems]
