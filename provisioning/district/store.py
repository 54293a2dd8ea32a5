"""The district store's reads and writes, one transaction per step, safe under overlap.

Why unique keys and ``ON CONFLICT DO NOTHING`` rather than "look, then insert": eight
laptops may push the same kit at once.  The primary keys (province, chain, seq) make the
database the one judge of "already held"; a row that loses the race is then compared with
the winner, so the same bytes are a no-op and different bytes a fork, whoever came first.
The same code runs on SQLite (a quick local look, unit tests) and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Select,
    Table,
    create_engine,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from provisioning.district import schema as s
from provisioning.district.arrival import KitStatusAt, Ledger
from provisioning.district.errors import StoreUnreachable
from provisioning.district.rows import chain_values, ledger_values, status_values
from provisioning.district.sync_log import GENESIS, digest
from storage.certificate import Certificate

#: Rows fetched at a time from a server-side cursor: a read's memory is this many rows,
#: whatever the table's length (records are up to a few hundred KiB each).
STREAM_ROWS = 8


def engine_url(url: str) -> str:
    """``postgresql://`` as users write it, with the psycopg 3 driver SQLAlchemy needs."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@dataclass(frozen=True)
class StoredChain:
    """One kit certificate's chain in the store."""

    province: str
    digest: bytes
    kit_id: str
    region: str
    cert: bytes

    @property
    def folder(self) -> str:
        return f"{self.kit_id}-{self.digest.hex()[:8]}"


@dataclass(frozen=True)
class Fork:
    """Two different records with one kit and seq, and where each came from."""

    chain: bytes
    kit_id: str
    seq: int
    held_digest: bytes
    held_source: str
    offered_digest: bytes
    offered_source: str
    #: The refused record's bytes, kept as evidence of the fork.
    offered: bytes

    def __str__(self) -> str:
        return (
            f"kit {self.kit_id} record {self.seq} forked: {self.held_source} holds "
            f"{self.held_digest.hex()[:12]}, {self.offered_source} offers "
            f"{self.offered_digest.hex()[:12]}; the office store keeps the first and refuses the "
            "second: report the kit"
        )


@dataclass(frozen=True)
class RecordRow:
    """A verified record's columns, ready to insert."""

    seq: int
    digest: bytes
    values: dict[str, Any]


class _ForkMet(Exception):
    """Unwinds a batch's transaction when one of its records forks the chain."""

    def __init__(self, fork: Fork) -> None:
        super().__init__(str(fork))
        self.fork = fork


class DistrictStore:
    """A connection pool to one district store (PostgreSQL or SQLite)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __repr__(self) -> str:
        return f"<DistrictStore {self.engine.url.render_as_string(hide_password=True)}>"

    @classmethod
    def open(cls, url: str, *, create: bool = False) -> DistrictStore:
        """Connect; with ``create`` make the schema, else NotADistrictStore if it is missing."""
        engine = create_engine(engine_url(url), pool_pre_ping=True)
        try:
            with engine.begin() as connection:
                (s.create if create else s.check_version)(connection)
        except OperationalError as exc:
            engine.dispose()
            raise StoreUnreachable(
                f"cannot reach the office store at {url}: {exc.orig}; start it "
                "(`make district`) or check the URL"
            ) from None
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def concurrent(self) -> bool:
        """True when writes may come from another thread than reads (a PostgreSQL pool;
        SQLite's in-memory store is one connection per thread)."""
        return self.engine.dialect.name == "postgresql"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> DistrictStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """One transaction that sees the store as it was when it began.

        On PostgreSQL a REPEATABLE READ snapshot: an audit, and the figures built from what
        it derived, see one state of every table while syncs go on.
        """
        with self.engine.connect() as c:
            if c.dialect.name == "postgresql":
                c = c.execution_options(isolation_level="REPEATABLE READ")
            with c.begin():
                yield c

    # -- writes ----------------------------------------------------------------------------

    def add_chain(self, certificate: Certificate, source: str) -> StoredChain:
        values = chain_values(certificate)
        with self.engine.begin() as c:
            c.execute(insert_new(c, s.chains).values(**values, first_source=source))
        return StoredChain(
            values["province"],
            certificate.digest,
            certificate.kit_id,
            certificate.region,
            certificate.data,
        )

    def held(self, chain: StoredChain) -> dict[int, bytes]:
        """seq -> record hash of every record of ``chain`` the store holds."""
        query = select(s.records.c.seq, s.records.c.digest).where(
            s.records.c.province == chain.province, s.records.c.chain == chain.digest
        )
        with self.engine.connect() as c:
            return {seq: digest for seq, digest in c.execute(query)}

    def add_records(
        self, chain: StoredChain, rows: Sequence[RecordRow], source: str
    ) -> tuple[int, Fork | None]:
        """Insert ``rows`` (in seq order) in one transaction; stop at the first fork.

        Returns how many were new and the fork, if one was met: rows after it are not
        inserted (they extend the other branch).  The fork itself is kept in ``forks``.
        """
        if not rows:
            return 0, None
        base = {"province": chain.province, "chain": chain.digest, "source": source}
        try:
            with self.engine.begin() as c:
                self._commit_without_waiting(c)
                inserted = set(
                    c.execute(  # executemany: one compiled statement, rows sent in bulk
                        insert_new(c, s.records).returning(
                            s.records.c.seq, sort_by_parameter_order=True
                        ),
                        [{**base, **row.values} for row in rows],
                    ).scalars()
                )
                lost = [row for row in rows if row.seq not in inserted]
                winners = self._held_rows(c, chain, [row.seq for row in lost]) if lost else {}
                for row in lost:
                    held_digest, held_source = winners[row.seq]
                    if held_digest != row.digest:
                        raise _ForkMet(
                            Fork(
                                chain.digest,
                                chain.kit_id,
                                row.seq,
                                held_digest,
                                held_source,
                                row.digest,
                                source,
                                row.values["data"],
                            )
                        )
                return len(inserted), None
        except _ForkMet as met:  # rolled back: rows after the fork extend the other branch
            fork = met.fork
        new, _ = self.add_records(chain, [row for row in rows if row.seq < fork.seq], source)
        self._add_fork(chain, fork)
        return new, fork

    def _commit_without_waiting(self, c: Connection) -> None:
        """Let PostgreSQL commit this batch without waiting for its WAL flush.

        A server crash could then lose the last batches, which the laptop still holds and
        the next sync pushes again (it is idempotent); and `append_statement`, a normal commit
        at the end of every sync, waits for the flush of everything before it, so a sync
        that reports success is durable.  About half the ingest time is saved.
        """
        if self.engine.dialect.name == "postgresql":
            c.execute(text("SET LOCAL synchronous_commit = off"))

    def _held_rows(
        self, c: Connection, chain: StoredChain, seqs: list[int]
    ) -> dict[int, tuple[bytes, str]]:
        query = select(s.records.c.seq, s.records.c.digest, s.records.c.source).where(
            s.records.c.province == chain.province,
            s.records.c.chain == chain.digest,
            s.records.c.seq.in_(seqs),
        )
        return {seq: (digest, source) for seq, digest, source in c.execute(query)}

    def _add_fork(self, chain: StoredChain, fork: Fork) -> None:
        with self.engine.begin() as c:
            c.execute(
                insert_new(c, s.forks).values(
                    province=chain.province,
                    chain=chain.digest,
                    seq=fork.seq,
                    offered_digest=fork.offered_digest,
                    kit_id=fork.kit_id,
                    held_digest=fork.held_digest,
                    held_source=fork.held_source,
                    offered_source=fork.offered_source,
                    offered=fork.offered,
                )
            )

    def add_ledger(
        self, chain: StoredChain, ledger: Ledger, receipt: bytes | None, source: str
    ) -> tuple[bool, bytes | None]:
        """Keep a verified head and card ledger (and its receipt).

        Returns whether it was new, and the receipt the store holds with it: the first
        sync's, when another sync kept the ledger before this one.
        """
        key = {"province": chain.province, "chain": chain.digest}
        values = ledger_values(ledger)
        with self.engine.begin() as c:
            added = c.execute(
                insert_new(c, s.ledgers)
                .values(**key, **values, receipt=receipt, source=source)
                .returning(s.ledgers.c.chain)
            ).first()
            if added is None:
                receipt = c.execute(
                    select(s.ledgers.c.receipt).where(
                        s.ledgers.c.province == chain.province,
                        s.ledgers.c.chain == chain.digest,
                        s.ledgers.c.signed_digest == values["signed_digest"],
                    )
                ).scalar_one()
            if ledger.printed_cards:
                c.execute(  # executemany: a kit's whole card history in one statement
                    insert_new(c, s.cards),
                    [{**key, "seq": n, "serial": serial} for n, serial in ledger.printed_cards],
                )
        return added is not None, receipt

    def add_status(self, chain: StoredChain, kept: KitStatusAt, source: str) -> None:
        """Keep a verified status of a kit at a collection (a no-op if held already)."""
        with self.engine.begin() as c:
            c.execute(
                insert_new(c, s.statuses).values(
                    province=chain.province,
                    chain=chain.digest,
                    **status_values(kept),
                    source=source,
                )
            )

    def lines_held(self, digest: bytes) -> int:
        """How many lines of worklist ``digest`` the store holds from line 1 without a gap:
        where a cut registration resumes (0 when the lines held have a gap)."""
        query = select(func.count(), func.max(s.residents.c.line)).where(
            s.residents.c.list == digest
        )
        with self.engine.connect() as c:
            count, last = c.execute(query).one()
        return int(count) if count and count == last else 0

    def add_lines(self, rows: Sequence[dict[str, Any]]) -> int:
        """Register worklist lines in one transaction; returns how many were new."""
        with self.engine.begin() as c:
            self._commit_without_waiting(c)
            return insert_rows(c, s.residents, rows)

    def add_move(self, values: dict[str, Any]) -> bool:
        """Keep a signed blank-card statement's row (`blank_stock.Move.values`); whether new."""
        with self.engine.begin() as c:
            added = c.execute(
                insert_new(c, s.blank_moves).values(**values).returning(s.blank_moves.c.digest)
            ).first()
        return added is not None

    def moves(self) -> list[bytes]:
        """Every blank-card statement's signed bytes (for what a new statement may do)."""
        with self.engine.connect() as c:
            return [signed for (signed,) in c.execute(select(s.blank_moves.c.signed))]

    def office_entries(self, office: str) -> dict[int, bytes]:
        """n -> SHA-256 of each entry of ``office``'s ledger the store holds."""
        query = select(s.office_entries.c.n, s.office_entries.c.digest).where(
            s.office_entries.c.office == office
        )
        with self.engine.connect() as c:
            return {n: digest for n, digest in c.execute(query)}

    def add_office_entries(self, rows: Sequence[dict[str, Any]]) -> int:
        """Keep office ledger entries (`OfficeEntry.values` with province and source) in one
        transaction; returns how many were new."""
        if not rows:
            return 0
        with self.engine.begin() as c:
            return int(c.execute(insert_new(c, s.office_entries), list(rows)).rowcount)

    def append_statement(self, sign: Callable[[int, bytes], bytes]) -> int:
        """Append the sync log's next statement, ``sign(index, prev)``; returns its index.

        An ordinary commit: it waits for the WAL flush of every batch before it, so a
        sync that reports success is durable.
        """
        with self.engine.begin() as c:
            return append_statement(c, sign)

    # -- reads -----------------------------------------------------------------------------

    def chains(self) -> list[StoredChain]:
        with self.engine.connect() as c:
            return [StoredChain(*row) for row in c.execute(chains_query())]

    def record_bytes(self, chain: StoredChain) -> Iterator[tuple[int, bytes]]:
        """The chain's records in seq order, `STREAM_ROWS` at a time."""
        query = (
            select(s.records.c.seq, s.records.c.data)
            .where(s.records.c.province == chain.province, s.records.c.chain == chain.digest)
            .order_by(s.records.c.seq)
        )
        with self.engine.connect() as c, c.begin():
            yield from stream(c, query)


def lock_log(c: Connection) -> None:
    """Hold the sync log for this transaction: concurrent syncs append one at a time (a
    table lock on PostgreSQL; SQLite has one writer), so each statement links to the one
    really before it."""
    if c.dialect.name == "postgresql":
        c.execute(text("LOCK TABLE sync_log IN EXCLUSIVE MODE"))


def append_statement(c: Connection, sign: Callable[[int, bytes], bytes]) -> int:
    """Append the sync log's next statement, ``sign(index, prev)``, in the transaction on
    ``c`` (with what it names, when they are written in it too); returns its index."""
    lock_log(c)
    last = select(s.sync_log.c.n, s.sync_log.c.statement).order_by(s.sync_log.c.n.desc())
    held = c.execute(last.limit(1)).first()
    index, prev = (held[0] + 1, digest(held[1])) if held else (1, GENESIS)
    c.execute(s.sync_log.insert().values(n=index, statement=sign(index, prev)))
    return index


def chains_query() -> Select[Any]:
    """Every chain's columns (those of a `StoredChain`), in kit order."""
    c = s.chains.c
    return select(c.province, c.cert_digest, c.kit_id, c.region, c.cert).order_by(
        c.kit_id, c.cert_digest
    )


def insert_new(c: Connection, table: Table) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING in the store's dialect: the keys decide what is new."""
    if c.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def insert_rows(c: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` but those whose key ``table`` holds; returns how many were new.

    On PostgreSQL the rows are copied (COPY) into a staging table and moved with one
    INSERT ... SELECT ... ON CONFLICT DO NOTHING: no limit on parameters, and three times
    quicker than INSERTs of many VALUES for a batch of worklist lines.  Elsewhere one
    executemany.
    """
    if not rows:
        return 0
    if c.dialect.name != "postgresql":
        return int(c.execute(insert_new(c, table), rows).rowcount)
    names = [column.name for column in table.columns]
    staging = f"{table.name}_staging"
    c.execute(text(f"CREATE TEMPORARY TABLE {staging} (LIKE {table.name})"))
    cursor = c.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(f"COPY {staging} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])
    moved = f"INSERT INTO {table.name} SELECT * FROM {staging} ON CONFLICT DO NOTHING"
    new = c.execute(text(moved)).rowcount
    c.execute(text(f"DROP TABLE {staging}"))
    return int(new)


def stream(c: Connection, query: Any, *, rows: int = STREAM_ROWS) -> Iterator[Any]:
    """The rows of ``query`` through a server-side cursor, ``rows`` at a time: memory that
    does not grow with the table (psycopg fetches a whole result otherwise)."""
    yield from c.execute(query, execution_options={"yield_per": rows})
