"""What the audit derived from signed bytes, in tables private to its database session.

Why the report counts from these and not from the store's tables: every column of those
can be edited by anyone who can write to the database.  A temporary table belongs to the
one session that made it: no other login sees it or can change it, and it goes with the
session.  The audit (`provisioning.district.audit`) fills these as it derives: each
record's header facts, the cards the kits' signed ledgers list, and each verified worklist
line once per resident; the report's GROUP BYs then run over them in the same session, so
a national store is still counted in SQL, without its rows in Python's memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from provisioning.district.store import insert_rows

metadata = MetaData()
_TEMPORARY = ["TEMPORARY"]


def _record() -> list[Column[Any]]:
    """The columns that name a record: its province, chain and seq."""
    return [
        Column("province", String(2), nullable=False),
        Column("chain", LargeBinary, nullable=False),
        Column("seq", Integer, nullable=False),
    ]


records = Table(
    "audited_records",
    metadata,
    *_record(),
    Column("day", Date, nullable=False),
    Column("region", String(16), nullable=False),
    Column("ref_digest", LargeBinary),
    Column("walk_in", Boolean, nullable=False),
    Column("excepted", Integer, nullable=False),
    Column("voids", Integer),
    Column("round_code", String(32)),
    Column("venue", String(32)),
    Column("first_voter", Boolean, nullable=False),
    Column("kia", Boolean, nullable=False),
    Column("domicile", Boolean, nullable=False),
    Column("disability", Boolean, nullable=False),
    # a walk-in's keyed reference (of "walk-in:<NIK>"), which the store keeps no column
    # of: a round's list is checked against walk-ins too (`provisioning.district.rounds`)
    Column("walk_in_ref", LargeBinary),
    # what the office desk and the card states need: when it was sealed, and why the
    # office prints its card should the kit not have printed it (`office_reason`)
    Column("sealed_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    prefixes=_TEMPORARY,
)
Index("audited_records_voids", records.c.province, records.c.chain, records.c.voids)

cards = Table("audited_cards", metadata, *_record(), prefixes=_TEMPORARY)
Index("audited_cards_record", cards.c.province, cards.c.chain, cards.c.seq)

# one row per resident: a resident on two lists counts once, placed by the first line the
# audit reads (lists in digest order), whatever order the lists were registered in
residents = Table(
    "audited_residents",
    metadata,
    Column("ref_digest", LargeBinary, primary_key=True),
    Column("regency_code", String(4), nullable=False),
    Column("regency", Text, nullable=False),
    Column("district", Text, nullable=False),
    Column("village", Text, nullable=False),
    prefixes=_TEMPORARY,
)

# each round whose signed plan verified, and its list as the plan signs it
rounds = Table(
    "audited_rounds",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("venue", String(32), nullable=False),
    Column("place", Text),
    Column("kecamatan", Text, nullable=False),
    Column("day", Date, nullable=False),
    Column("listed", Integer, nullable=False),
    Column("left_out", Integer, nullable=False),
    Column("no_nik", Integer, nullable=False),
    prefixes=_TEMPORARY,
)
round_people = Table(
    "audited_round_people",
    metadata,
    Column("round", String(32), primary_key=True),
    Column("ref_digest", LargeBinary, primary_key=True),
    prefixes=_TEMPORARY,
)

#: Rows written at a time.
BATCH = 5_000


class Sink:
    """The audited tables of one connection, filled in batches as the audit derives."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._pending: dict[Table, list[dict[str, Any]]] = {
            table: [] for table in metadata.tables.values()
        }

    def add(self, table: Table, row: dict[str, Any]) -> None:
        pending = self._pending[table]
        pending.append({column.name: row[column.name] for column in table.columns})
        if len(pending) >= BATCH:
            self._write(table)

    def flush(self) -> None:
        """Write what is pending; on PostgreSQL gather the tables' statistics, which no
        autovacuum gathers for temporary tables, so the report's joins are planned well."""
        for table in self._pending:
            self._write(table)
            if self.connection.dialect.name == "postgresql":
                self.connection.execute(text(f"ANALYZE {table.name}"))

    def _write(self, table: Table) -> None:
        pending = self._pending[table]
        insert_rows(self.connection, table, pending)  # a resident placed keeps its first line
        pending.clear()


@contextmanager
def tables(connection: Connection) -> Iterator[Sink]:
    """The audited tables, empty, in ``connection``'s session; dropped afterwards.

    After a failure the transaction's rollback drops them on PostgreSQL; a pooled SQLite
    connection may keep them, so they are dropped before they are made.
    """
    metadata.drop_all(connection, checkfirst=True)
    metadata.create_all(connection)
    yield Sink(connection)
    metadata.drop_all(connection)
