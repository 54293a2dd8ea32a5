"""The district store's tables, partitioned by province, and their versioned DDL.

Why versioned DDL and not Alembic: the store has had four schema versions, and its
partitions (one per province, created at `district init`) are plain DDL that Alembic's
autogenerate does not model.  ``district_meta`` holds the version; `open_store` refuses a
database of another version with what to do, and the next version adds a numbered step
in `create` (docs/district.md): `district init` upgrades a store of version 3 in place.
If the steps grow beyond a few, move to Alembic.

Why partitioned by province: every row carries the province code (the first two digits
of a kit's region or of a resident's NIK), so a national store splits along the same key
onto replicas or Citus shards without rewriting a query.  SQLite (for a quick local
look) ignores the partitioning and gets the same tables.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from provisioning.district.errors import NotADistrictStore

#: Version 4 keeps each kit's signed status at a collection (the fleet table).  Version 3
#: keeps what the audit derives every column from: the signed sync log, each worklist's
#: lines in their hash chain, and a fork's offered record.  Version 2 kept keyed
#: references (`storage.reference`) but none of that; version 1 kept an unkeyed SHA-256.
SCHEMA_VERSION = 4
#: Versions `district init` upgrades in place: the tables they lack are created.
UPGRADE = ("3",)
#: What to redo from the laptops when a store of an older version can only be rebuilt.
_RESYNC = (
    "create a new store with `jemput-prov district init URL`, then sync every laptop into "
    "it again with its worklists (--worklist); the laptops' databases hold every record"
)
#: What to do with a store of a version no step upgrades.
REBUILD = {
    "1": f"its worklist digests are unkeyed and cannot be converted: {_RESYNC}",
    "2": "it keeps no signed sync log and no worklist hash chains, so its rows cannot be "
    f"verified: {_RESYNC}",
}

#: Kemendagri province codes (38 provinces); anything else goes to the default partition.
PROVINCES = (
    "11", "12", "13", "14", "15", "16", "17", "18", "19", "21",
    "31", "32", "33", "34", "35", "36", "51", "52", "53",
    "61", "62", "63", "64", "65", "71", "72", "73", "74", "75", "76",
    "81", "82", "91", "92", "93", "94", "95", "96",
)  # fmt: skip

metadata = MetaData()
#: Every table but district_meta is split by province (see docs/district.md).
PARTITION_BY = "LIST (province)"


def _province() -> Column[str]:
    return Column("province", String(2), primary_key=True)


meta = Table(
    "district_meta",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

chains = Table(
    "chains",
    metadata,
    _province(),
    Column("cert_digest", LargeBinary, primary_key=True),
    Column("kit_id", String(64), nullable=False),
    Column("region", String(16), nullable=False),
    Column("cert", LargeBinary, nullable=False),
    Column("first_source", Text, nullable=False),
    postgresql_partition_by=PARTITION_BY,
)

records = Table(
    "records",
    metadata,
    _province(),
    Column("chain", LargeBinary, primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("digest", LargeBinary, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("sealed_at", DateTime(timezone=True), nullable=False),
    Column("day", Date, nullable=False),
    Column("region", String(16), nullable=False),
    Column("officer", String(64), nullable=False),
    # the keyed reference (HMAC-SHA256 under the authority's reference key,
    # storage.reference) of the worklist reference, a NIK in most worklists: matched,
    # never shown; NULL for a walk-in or a record naming no one
    Column("ref_digest", LargeBinary),
    Column("walk_in", Boolean, nullable=False),
    Column("excepted", Integer, nullable=False),
    Column("voids", Integer),
    Column("print_card", Boolean, nullable=False),
    Column("source", Text, nullable=False),
    postgresql_partition_by=PARTITION_BY,
)
Index("records_ref", records.c.ref_digest)
Index("records_voids", records.c.chain, records.c.voids)

ledgers = Table(
    "ledgers",
    metadata,
    _province(),
    Column("chain", LargeBinary, primary_key=True),
    Column("signed_digest", LargeBinary, primary_key=True),
    Column("signed", LargeBinary, nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
    Column("head_seq", Integer, nullable=False),
    Column("head", LargeBinary),
    Column("loaded", Integer, nullable=False),
    Column("printed", Integer, nullable=False),
    Column("spoiled", Integer, nullable=False),
    Column("unresolved", Integer, nullable=False),
    Column("receipt", LargeBinary),
    Column("source", Text, nullable=False),
    postgresql_partition_by=PARTITION_BY,
)

cards = Table(
    "cards",
    metadata,
    _province(),
    Column("chain", LargeBinary, primary_key=True),
    Column("serial", String(64), primary_key=True),
    Column("seq", Integer, nullable=False),
    postgresql_partition_by=PARTITION_BY,
)
Index("cards_record", cards.c.chain, cards.c.seq)

# One row per line of a registered worklist, in the list's order: ``list`` is the list's
# digest (the link of its last line, which a signed sync statement names), ``link`` the
# SHA-256 chain through this line (`provisioning.district.rows.line_link`).  A resident on
# two lists has two rows; the report counts them once.
residents = Table(
    "residents",
    metadata,
    _province(),
    Column("list", LargeBinary, primary_key=True),
    Column("line", Integer, primary_key=True, autoincrement=False),
    Column("ref_digest", LargeBinary, nullable=False),
    Column("regency_code", String(4), nullable=False),
    Column("regency", Text, nullable=False),
    Column("district", Text, nullable=False),
    Column("village", Text, nullable=False),
    Column("link", LargeBinary, nullable=False),
    postgresql_partition_by=PARTITION_BY,
)
Index("residents_line", residents.c.list, residents.c.line)

forks = Table(
    "forks",
    metadata,
    _province(),
    Column("chain", LargeBinary, primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("offered_digest", LargeBinary, primary_key=True),
    Column("kit_id", String(64), nullable=False),
    Column("held_digest", LargeBinary, nullable=False),
    Column("held_source", Text, nullable=False),
    Column("offered_source", Text, nullable=False),
    # the refused record as the kit signed it: the fork is evidence, checkable by anyone
    Column("offered", LargeBinary, nullable=False),
    postgresql_partition_by=PARTITION_BY,
)

# A kit's status at one collection: the answer the kit signed (software, cards, battery,
# clock) and the collector's statement of the collection, which the authority signed with
# the laptop's time; every other column is derived from those two (`rows.status_values`).
statuses = Table(
    "statuses",
    metadata,
    _province(),
    Column("chain", LargeBinary, primary_key=True),
    Column("status_digest", LargeBinary, primary_key=True),
    Column("status", LargeBinary, nullable=False),
    Column("statement", LargeBinary, nullable=False),
    Column("collected_at", DateTime(timezone=True), nullable=False),
    Column("kit_time", DateTime(timezone=True), nullable=False),
    Column("drift", Integer, nullable=False),
    Column("version", String(100), nullable=False),
    Column("pico_version", String(100)),
    Column("minimum", String(100)),
    Column("stock", Integer),
    Column("battery_percent", Integer),
    Column("battery_millivolts", Integer),
    Column("source", Text, nullable=False),
    postgresql_partition_by=PARTITION_BY,
)

# The signed, hash-linked statements of the syncs (`provisioning.district.sync_log`), one
# per sync, numbered from 1: a whole store's order, so not split by province.
sync_log = Table(
    "sync_log",
    metadata,
    Column("n", Integer, primary_key=True, autoincrement=False),
    Column("statement", LargeBinary, nullable=False),
)

PARTITIONED_TABLES = tuple(t for t in metadata.sorted_tables if t not in (meta, sync_log))


def province_of(code: str) -> str:
    """The partition key of a region code or NIK: its first two digits."""
    return code[:2]


def create(connection: Connection) -> None:
    """Create every table (and on PostgreSQL one partition per province) at this version."""
    metadata.create_all(connection)
    if connection.dialect.name == "postgresql":
        # sealed records are encrypted: trying to compress them only costs time
        connection.execute(text("ALTER TABLE records ALTER COLUMN data SET STORAGE EXTERNAL"))
        for table in PARTITIONED_TABLES:
            for code in PROVINCES:
                connection.execute(
                    text(
                        f"CREATE TABLE IF NOT EXISTS {table.name}_p{code} "
                        f"PARTITION OF {table.name} FOR VALUES IN ('{code}')"
                    )
                )
            connection.execute(
                text(
                    f"CREATE TABLE IF NOT EXISTS {table.name}_other "
                    f"PARTITION OF {table.name} DEFAULT"
                )
            )
    version = meta.c.key == "schema_version"
    held = connection.execute(select(meta.c.value).where(version)).scalar()
    if held is None:
        connection.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
    elif held in UPGRADE:  # create_all above made the tables it lacked
        connection.execute(meta.update().where(version).values(value=str(SCHEMA_VERSION)))
    check_version(connection)


def check_version(connection: Connection) -> None:
    """NotADistrictStore unless the database holds this version of the schema."""
    try:
        value = connection.execute(
            select(meta.c.value).where(meta.c.key == "schema_version")
        ).scalar()
    except DBAPIError as exc:  # no district_meta table: some other database
        raise NotADistrictStore(
            "this database holds no office store: run `jemput-prov district init URL` first"
        ) from exc
    if value in UPGRADE:
        raise NotADistrictStore(
            f"this district store is at schema version {value}, this tool speaks "
            f"{SCHEMA_VERSION}: upgrade it with `jemput-prov district init URL` (it keeps every "
            "row and adds the tables it lacks)"
        )
    if value in REBUILD:
        raise NotADistrictStore(
            f"this office store is at schema version {value}, this tool speaks "
            f"{SCHEMA_VERSION}: {REBUILD[value]}"
        )
    if value != str(SCHEMA_VERSION):
        raise NotADistrictStore(
            f"this office store is at schema version {value}, this tool speaks "
            f"{SCHEMA_VERSION}: use the matching jemput-prov"
        )
