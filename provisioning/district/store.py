"""The district store's reads and writes, one transaction per step, safe under overlap.

Why unique keys and ``ON CONFLICT DO NOTHING`` rather than "look, then insert": eight
laptops may push the same kit at once.  The primary keys (province, chain, seq) make the
database the one judge of "already held"; a row that loses the race is then compared with
the winner, so the same bytes are a no-op and different bytes a fork, whoever came first.
The same code runs on SQLite (a quick local look, unit tests) and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Table, create_engine, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from provisioning.district import schema as s
from provisioning.district.arrival import Ledger
from provisioning.district.errors import StoreUnreachable
from storage.certificate import Certificate
from storage.record import record_hash


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

    def __str__(self) -> str:
        return (
            f"kit {self.kit_id} record {self.seq} forked: {self.held_source} holds "
            f"{self.held_digest.hex()[:12]}, {self.offered_source} offers "
            f"{self.offered_digest.hex()[:12]}; the district keeps the first and refuses the "
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
                f"cannot reach the district store at {url}: {exc.orig}; start it "
                "(`make district`) or check the URL"
            ) from None
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> DistrictStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _insert_new(self, table: Table) -> Insert:
        """INSERT ... ON CONFLICT DO NOTHING in the store's dialect: the keys decide what is new."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()

    def _upsert(self, table: Table, key: str, values: dict[str, Any]) -> Insert:
        """INSERT ... ON CONFLICT (key) DO UPDATE: ``values`` replace the row of that key."""
        changed = {column: value for column, value in values.items() if column != key}
        if self.engine.dialect.name == "postgresql":
            pg = postgresql.insert(table).values(values)
            return pg.on_conflict_do_update(index_elements=[key], set_=changed)
        lite = sqlite.insert(table).values(values)
        return lite.on_conflict_do_update(index_elements=[key], set_=changed)

    # -- writes ----------------------------------------------------------------------------

    def add_chain(self, certificate: Certificate, source: str) -> StoredChain:
        province = s.province_of(certificate.region)
        with self.engine.begin() as c:
            c.execute(
                self._insert_new(s.chains).values(
                    province=province,
                    cert_digest=certificate.digest,
                    kit_id=certificate.kit_id,
                    region=certificate.region,
                    cert=certificate.data,
                    first_source=source,
                )
            )
        return StoredChain(
            province, certificate.digest, certificate.kit_id, certificate.region, certificate.data
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
                        self._insert_new(s.records).returning(
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
        the next sync pushes again (it is idempotent); and `mark_synced`, a normal commit
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
                self._insert_new(s.forks).values(
                    province=chain.province,
                    chain=chain.digest,
                    seq=fork.seq,
                    offered_digest=fork.offered_digest,
                    kit_id=fork.kit_id,
                    held_digest=fork.held_digest,
                    held_source=fork.held_source,
                    offered_source=fork.offered_source,
                )
            )

    def add_ledger(
        self, chain: StoredChain, ledger: Ledger, receipt: bytes | None, source: str
    ) -> bool:
        """Keep a verified head and card ledger (and its receipt); False if already held."""
        with self.engine.begin() as c:
            added = c.execute(
                self._insert_new(s.ledgers)
                .values(
                    province=chain.province,
                    chain=chain.digest,
                    signed_digest=record_hash(ledger.signed),
                    signed=ledger.signed,
                    signed_at=ledger.at,
                    head_seq=ledger.head_seq,
                    head=ledger.head,
                    loaded=ledger.loaded,
                    printed=ledger.printed,
                    spoiled=ledger.spoiled,
                    unresolved=ledger.unresolved,
                    receipt=receipt,
                    source=source,
                )
                .returning(s.ledgers.c.chain)
            ).first()
            if ledger.printed_cards:
                c.execute(
                    self._insert_new(s.cards).values(
                        [
                            {
                                "province": chain.province,
                                "chain": chain.digest,
                                "seq": n,
                                "serial": serial,
                            }
                            for n, serial in ledger.printed_cards
                        ]
                    )
                )
        return added is not None

    def add_residents(self, rows: Iterable[dict[str, Any]]) -> int:
        """Register worklist lines (no names, no NIKs); returns how many were new."""
        batch = list(rows)
        if not batch:
            return 0
        with self.engine.begin() as c:
            return len(
                c.execute(
                    self._insert_new(s.residents).values(batch).returning(s.residents.c.ref_digest)
                ).all()
            )

    def mark_synced(self, source: str) -> None:
        """Note the last sync; its commit is durable, and with it every batch before it."""
        when = datetime.now(UTC).isoformat(timespec="seconds")
        with self.engine.begin() as c:
            c.execute(
                self._upsert(s.meta, "key", {"key": "last_sync", "value": f"{when} {source}"})
            )

    # -- reads -----------------------------------------------------------------------------

    def chains(self) -> list[StoredChain]:
        query = select(
            s.chains.c.province,
            s.chains.c.cert_digest,
            s.chains.c.kit_id,
            s.chains.c.region,
            s.chains.c.cert,
        ).order_by(s.chains.c.kit_id, s.chains.c.cert_digest)
        with self.engine.connect() as c:
            return [StoredChain(*row) for row in c.execute(query)]

    def record_bytes(self, chain: StoredChain) -> Iterator[tuple[int, bytes]]:
        query = (
            select(s.records.c.seq, s.records.c.data)
            .where(s.records.c.province == chain.province, s.records.c.chain == chain.digest)
            .order_by(s.records.c.seq)
        )
        with self.engine.connect() as c:
            yield from ((seq, data) for seq, data in c.execute(query))

    def ledgers(self, connection: Connection | None = None) -> list[dict[str, Any]]:
        """Every kept ledger's counts with its kit, newest first per chain."""
        query = (
            select(
                s.chains.c.kit_id,
                s.chains.c.region,
                s.ledgers.c.chain,
                s.ledgers.c.signed_at,
                s.ledgers.c.head_seq,
                s.ledgers.c.head,
                s.ledgers.c.loaded,
                s.ledgers.c.printed,
                s.ledgers.c.spoiled,
                s.ledgers.c.unresolved,
            )
            .join(
                s.chains,
                (s.chains.c.province == s.ledgers.c.province)
                & (s.chains.c.cert_digest == s.ledgers.c.chain),
            )
            .order_by(s.ledgers.c.chain, s.ledgers.c.signed_at.desc(), s.ledgers.c.head_seq.desc())
        )
        if connection is not None:
            return [dict(row._mapping) for row in connection.execute(query)]
        with self.engine.connect() as c:
            return [dict(row._mapping) for row in c.execute(query)]

    def forks(self) -> list[Fork]:
        query = select(
            s.forks.c.chain,
            s.forks.c.kit_id,
            s.forks.c.seq,
            s.forks.c.held_digest,
            s.forks.c.held_source,
            s.forks.c.offered_digest,
            s.forks.c.offered_source,
        ).order_by(s.forks.c.kit_id, s.forks.c.seq)
        with self.engine.connect() as c:
            return [Fork(*row) for row in c.execute(query)]
