"""Verify a collector database from its signed bytes alone, row by row.

Why every value is derived again: the columns beside the signed bytes (a record's
worklist_ref, a collection's head) are kept for speed, and sqlite3 edits them as easily as
anything else.  So `verify` and `report` trust only what carries a signature they check
here: the chain's certificate (the authority's), each record (the kit's, checked as a
chain from the certificate), each ledger the kit signed at a collection, and the
collector's own statement of each collection (the authority's, hash-linked; see
`provisioning.collection_log`).  Every column is compared with what those say, and any
difference is a problem naming its table and row.  `report` counts only an audit without
problems, from the facts derived here, never from a column.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from kitlink import protocol as p
from kitlink.messages import Head, kept_ledger, kept_status
from provisioning import collection_log as log
from provisioning.checks import KitReport, check_authority
from provisioning.collector import Chain, CollectorDB
from storage.certificate import Certificate, CertificateError, check_kit_id
from storage.errors import RecordError
from storage.files import record_name
from storage.keys import AuthorityPublic
from storage.model import CardKind, CorrectableField, FlaggedError
from storage.record import RecordHeader
from storage.verify import BrokenChain, Verifier
from vocabulary.purpose import Purpose


class ColumnMismatch(RecordError):
    """A column kept for speed that disagrees with the signed bytes beside it."""


class MissingChain(RecordError):
    """A signed statement names a kit chain, or rows a chain, that the database lacks."""


class BrokenLog(RecordError):
    """The collector's statements are not one unbroken, signed sequence."""


class DatabaseRefused(RecordError):
    """A collector database that fails verification: nothing is reported from it."""


@dataclass(frozen=True)
class CollectedRecord:
    """A verified record's header facts as the report counts them; ``chain`` is the digest
    of its certificate, ``kit_id`` the certificate's kit id."""

    chain: bytes
    kit_id: str
    seq: int
    worklist_ref: str | None
    walk_in: bool
    excepted: int
    voids: int | None
    print_card: bool
    #: Record format version 2's facts (a version-1 record: an e-KTP first recording).
    kind: CardKind = CardKind.EKTP
    purpose: Purpose = Purpose.BARU
    corrected: tuple[CorrectableField, ...] = ()
    flagged: tuple[FlaggedError, ...] = ()
    domicile: bool = False
    early: bool = False
    signature_excepted: bool = False
    #: Record format version 3 names the resident by keyed reference only (then
    #: ``worklist_ref`` is None): `storage.reference.resident_key` matches both.
    keyed_ref: bytes | None = None


Problem = tuple[str, RecordError]


@dataclass
class DatabaseAudit:
    """What a collector database verifies to; ``problems`` name table and row.

    ``records`` and ``printed`` (per certificate digest, the seqs the kit's latest signed
    ledger says were printed) hold only what verified.  ``log_length`` and ``log_head``
    (SHA-256 of the newest statement) let a reader compare with an earlier report.
    """

    path: Path
    kits: list[KitReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    records: list[CollectedRecord] = field(default_factory=list)
    printed: dict[bytes, set[int]] = field(default_factory=dict)
    log_length: int = 0
    log_head: bytes | None = None
    uncovered: list[str] = field(default_factory=list)
    #: Per certificate digest, each verified record's header and SHA-256 by seq: what
    #: `provisioning.district.sync` pushes, checking the bytes it reads are these.
    verified: dict[bytes, dict[int, tuple[RecordHeader, bytes]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def require_ok(self) -> DatabaseAudit:
        """This audit, or DatabaseRefused naming how many problems there are."""
        if self.problems:
            raise DatabaseRefused(
                f"{self.path} fails verification ({len(self.problems)} problem(s), first: "
                f"{self.problems[0][0]}: {self.problems[0][1]}); run `jemput-prov verify "
                f"{self.path}` for the list, keep the file and collect into a new database"
            )
        return self


def _chain_label(digest: Any, kit_id: str | None = None) -> str:
    shown = digest.hex()[:8] if isinstance(digest, bytes) else repr(digest)
    return f"chain {kit_id}-{shown}" if kit_id else f"chain {shown}"


class _Audit:
    """One pass over a database; each step adds to ``result``."""

    def __init__(self, db: CollectorDB, authority: AuthorityPublic) -> None:
        self.db = db
        self.authority = authority
        self.verifier = Verifier(authority)
        self.result = DatabaseAudit(db.path)
        self.certificates: dict[bytes, Certificate] = {}

    def fail(self, where: str, exc: RecordError) -> None:
        self.result.problems.append((where, exc))

    def run(self) -> DatabaseAudit:
        """The audit; WrongAuthority (one line) when no kit certificate is the authority's."""
        self.chains()
        check_authority(
            self.authority, len(self.certificates), (e for _, e in self.result.problems)
        )
        self.records()
        self.collections()
        return self.result

    # -- chains ------------------------------------------------------------------------------

    def chains(self) -> None:
        for digest, kit_id, region, cert in self.db.chain_rows():
            where = f"chains row {_chain_label(digest, kit_id)}"
            if not self._blobs(where, cert=cert):
                continue
            try:
                certificate = self.verifier.certificate(cert)
                check_kit_id(certificate.kit_id)
            except (CertificateError, RecordError) as exc:
                self.fail(where, exc)
                continue
            columns = {
                "cert_digest": (digest, certificate.digest),
                "kit_id": (kit_id, certificate.kit_id),
                "region": (region, certificate.region),
            }
            self._compare(where, "the certificate", columns)
            self.certificates[digest] = certificate

    def _blobs(self, where: str, **columns: Any) -> bool:
        """True if every one of ``columns`` holds bytes; a problem for each that does not."""
        for column, value in columns.items():
            if not isinstance(value, bytes):
                self.fail(
                    where,
                    ColumnMismatch(
                        f"column {column} holds {type(value).__name__}, not the signed bytes: "
                        "the row was edited"
                    ),
                )
        return all(isinstance(value, bytes) for value in columns.values())

    def _compare(self, where: str, source: str, columns: dict[str, tuple[Any, Any]]) -> None:
        for column, (stored, signed) in columns.items():
            if stored != signed:
                self.fail(
                    where,
                    ColumnMismatch(
                        f"column {column} holds {_shown(stored)} but {source} says "
                        f"{_shown(signed)}: the row was edited"
                    ),
                )

    # -- records -----------------------------------------------------------------------------

    def records(self) -> None:
        """Each verified chain's records, streamed: memory of a record and each one's
        columns, not of the file; then every row of no verified chain."""
        for digest, certificate in self.certificates.items():
            self._chain_records(certificate, digest, self.db.record_rows(digest))
        for digest, seq in self.db.record_keys():
            if digest not in self.certificates:
                self.fail(
                    f"records row ({_chain_label(digest)}, seq {seq})",
                    MissingChain(
                        "the record belongs to no verified chain of this database: its "
                        "chains row was removed, edited or fails"
                    ),
                )

    def _chain_records(
        self, certificate: Certificate, digest: bytes, rows: Iterator[tuple[Any, ...]]
    ) -> None:
        chain = Chain(digest, certificate.kit_id, certificate.region, certificate.data)
        label = _chain_label(digest, certificate.kit_id)
        verified = self.result.verified.setdefault(digest, {})
        #: Each row given to the verifier, without its bytes, by its place among them.
        columns: list[tuple[Any, ...]] = []

        def items() -> Iterator[tuple[str, bytes]]:
            for row in rows:
                where = f"records row ({label}, seq {row[1]})"
                if not isinstance(row[1], int):
                    self.fail(where, ColumnMismatch(f"column seq holds {row[1]!r}, not a number"))
                elif self._blobs(where, data=row[3]):
                    columns.append((*row[:3], None, *row[4:]))
                    yield record_name(row[1]), row[3]

        def one(index: int, header: RecordHeader, record_digest: bytes) -> None:
            row = columns[index]
            where = f"records row ({label}, seq {row[1]})"
            self._compare(where, "the signed record", _record_columns(row, header, record_digest))
            verified[header.seq] = (header, record_digest)
            self.result.records.append(
                CollectedRecord(
                    digest,
                    certificate.kit_id,
                    header.seq,
                    header.worklist_ref,
                    header.walk_in,
                    len(header.excepted),
                    header.voids,
                    header.print_card,
                    header.kind,
                    header.purpose,
                    header.corrected,
                    header.flagged,
                    header.domicile,
                    header.early,
                    header.signature_excepted,
                    header.keyed_ref,
                )
            )

        report = self.verifier.verify_chain(items(), certificate.data, verified=one)
        for name, exc in report.problems:
            stem = Path(name).stem
            self.fail(f"records row ({label}, seq {int(stem) if stem.isdigit() else name})", exc)
        self.result.kits.append(KitReport(self.db.path / chain.folder, report))

    # -- collections -------------------------------------------------------------------------

    def collections(self) -> None:
        prev, expected = log.GENESIS, 1
        heads: dict[bytes, log.Statement] = {}
        for (
            row_id,
            chain,
            at,
            head_seq,
            head,
            signed,
            receipt,
            statement_bytes,
            status,
        ) in self.db.collection_rows():
            where = f"collections row {row_id}"
            try:
                statement = log.read_statement(statement_bytes, self.authority)
            except log.BadCollectionStatement as exc:
                self.fail(where, exc)
                prev = log.digest(statement_bytes) if isinstance(statement_bytes, bytes) else prev
                expected += 1
                continue
            broken = broken_link(statement.index, statement.prev, expected, prev, "collections")
            if broken is not None:
                self.fail(where, broken)
            prev, expected = log.digest(statement_bytes), statement.index + 1
            self.result.log_length, self.result.log_head = statement.index, prev
            self._compare(
                where,
                "the signed statement",
                {
                    "chain": (chain, statement.chain),
                    "head_seq": (head_seq, statement.head_seq),
                    "head": (head, statement.head),
                    "at": (at, statement.at.astimezone(UTC).isoformat()),
                },
            )
            self._status(where, statement, status)
            printed = self._ledger(where, statement, signed, receipt)
            if printed is None:
                continue
            before = heads.get(statement.chain)
            if before is not None and (
                statement.head_seq < before.head_seq
                or (statement.head_seq == before.head_seq and statement.head != before.head)
            ):
                self.fail(
                    where,
                    BrokenChain(
                        f"the head {statement.head_seq} signed here does not extend head "
                        f"{before.head_seq} of collection {before.index}"
                    ),
                )
            self._head_held(where, statement)
            heads[statement.chain] = statement
            self.result.printed[statement.chain] = printed  # the latest ledger counts
        self._uncovered(heads)

    def _uncovered(self, heads: dict[bytes, log.Statement]) -> None:
        """Name records held beyond a chain's last signed head (not a problem: a cut, or
        records taken from a card, which carries no head the kit signed)."""
        for digest, certificate in self.certificates.items():
            covered = heads[digest].head_seq if digest in heads else 0
            beyond = sorted(seq for seq in self.result.verified.get(digest, {}) if seq > covered)
            if beyond:
                self.result.uncovered.append(
                    f"{_chain_label(digest, certificate.kit_id)}: records {beyond[0]}-"
                    f"{beyond[-1]} came after the last signed head ({covered}): a collection "
                    "was cut (run collect again), or they came from the kit's card (collect "
                    "--from-card), which no head the kit signed covers"
                )

    def _ledger(
        self, where: str, statement: log.Statement, signed: Any, receipt: Any
    ) -> set[int] | None:
        """The seqs the kit's signed ledger of this collection says were printed, once
        ledger and receipt check out; None after a problem."""
        certificate = self.certificates.get(statement.chain)
        if certificate is None:
            self.fail(
                where,
                MissingChain(
                    f"the collection of kit {statement.kit_id} ({_chain_label(statement.chain)})"
                    " names a chain this database no longer holds: its rows were removed"
                ),
            )
            return None
        if not isinstance(signed, bytes) or log.digest(signed) != statement.ledger:
            self.fail(where, ColumnMismatch("column signed is not the ledger the collector kept"))
            return None
        try:
            ledger = kept_ledger(signed, kit_public=certificate.kit_public)
        except p.MessageError as exc:
            self.fail(where, ColumnMismatch(f"column signed is no ledger the kit signed: {exc}"))
            return None
        printed = {seq for seq, _ in ledger.printed}
        if ledger.head != Head(statement.head_seq, statement.head) or (
            statement.kit_id != certificate.kit_id
        ):
            self.fail(where, ColumnMismatch("the kit's signed head differs from the statement"))
            return None
        if receipt is not None:
            try:
                signed_receipt = p.verify_receipt(
                    receipt, self.authority, kit_id=certificate.kit_id
                )
            except p.MessageError as exc:
                self.fail(where, ColumnMismatch(f"column receipt: {exc}"))
            else:
                if (signed_receipt.seq, signed_receipt.head) != (
                    statement.head_seq,
                    statement.head,
                ):
                    self.fail(where, ColumnMismatch("column receipt covers another head"))
        return printed

    def _status(self, where: str, statement: log.Statement, status: Any) -> None:
        """The kit's status answer kept with a collection: the one the statement names,
        signed by the kit whose chain the collection is of."""
        held = log.digest(status) if isinstance(status, bytes) else None
        if held != statement.status:
            self.fail(
                where,
                ColumnMismatch(
                    f"column status holds {_shown(held)} but the signed statement names "
                    f"{_shown(statement.status)}: the row was edited"
                ),
            )
            return
        certificate = self.certificates.get(statement.chain)
        if status is None or certificate is None:  # no status kept; a chain failing is named
            return
        try:
            facts = kept_status(status, kit_public=certificate.kit_public)
        except p.MessageError as exc:
            self.fail(where, ColumnMismatch(f"column status is no status the kit signed: {exc}"))
            return
        if facts.kit_id != certificate.kit_id:
            self.fail(where, ColumnMismatch(f"the kit's signed status names {facts.kit_id}"))

    def _head_held(self, where: str, statement: log.Statement) -> None:
        """Every record up to a signed head must be held: nothing cut from the end."""
        if not statement.head_seq:
            return
        held = self.result.verified.get(statement.chain, {})
        missing = [seq for seq in range(1, statement.head_seq + 1) if seq not in held]
        if missing:
            what = (
                f"record {missing[0]} is"
                if len(missing) == 1
                else f"records {missing[0]}-{missing[-1]} ({len(missing)}) are"
            )
            self.fail(
                where,
                BrokenChain(
                    f"the kit signed record {statement.head_seq} as its head here, but {what} "
                    f"not held or fail: records were removed from kit "
                    f"{statement.kit_id}'s chain"
                ),
            )
        elif held[statement.head_seq][1] != statement.head:
            self.fail(
                where,
                BrokenChain(f"record {statement.head_seq} differs from the kit's signed head"),
            )


def broken_link(
    index: int, prev: bytes, expected: int, before: bytes, rows: str
) -> BrokenLog | None:
    """Why a log's statement ``index``, linking to ``prev``, is not the statement
    ``expected`` that links to ``before`` (the SHA-256 of the one before it); None if it is.
    ``rows`` names what the statements stand for, in the message."""
    if index != expected:
        return BrokenLog(
            f"it holds statement {index} where statement {expected} is due: {rows} were "
            "removed or reordered"
        )
    if prev != before:
        return BrokenLog(
            f"statement {index} does not link to the statement before it: {rows} were replaced"
        )
    return None


def _record_columns(
    row: tuple[Any, ...], header: RecordHeader, digest: bytes
) -> dict[str, tuple[Any, Any]]:
    (_, seq, stored_digest, _, sealed_at, officer, ref, walk_in, excepted, voids, card) = row
    return {
        "seq": (seq, header.seq),
        "digest": (stored_digest, digest),
        "sealed_at": (sealed_at, header.sealed_at.astimezone(UTC).isoformat()),
        "officer": (officer, header.officer_id),
        "worklist_ref": (ref, header.reference),
        "walk_in": (walk_in, int(header.walk_in)),
        "excepted": (excepted, len(header.excepted)),
        "voids": (voids, header.voids),
        "print_card": (card, int(header.print_card)),
    }


def _shown(value: Any) -> str:
    return value.hex()[:16] if isinstance(value, bytes) else repr(value)


def audit_database(db: CollectorDB, authority: AuthorityPublic) -> DatabaseAudit:
    """Verify every row of ``db`` against the signatures it carries (see the module)."""
    return _Audit(db, authority).run()


def problems_by_row(audit: DatabaseAudit) -> Iterator[str]:
    """Each problem as one line: database, table and row, error class, why."""
    for where, exc in audit.problems:
        yield f"{audit.path}: {where}: {type(exc).__name__}: {exc}"
