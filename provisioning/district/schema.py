"""The district store's tables, partitioned by province, and their versioned DDL.

Why versioned DDL and not Alembic: the store has had six schema versions, and its
partitions (one per province, created at `district init`) are plain DDL that Alembic's
autogenerate does not model.  ``district_meta`` holds the version; `open_store` refuses a
database of another version with what to do, and the next version adds a numbered step
to `UPGRADES` (docs/district.md): `district init` brings a store of version 3 or later up
in place, one version at a time.  If the steps grow beyond a few, move to Alembic.

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
    false,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from provisioning.district.errors import NotADistrictStore

#: Version 6 keeps each kit's signed status at a collection (the fleet table).  Version 5
#: adds rounds: each record's round, venue kind and groups (record format 4),
#: the rounds' signed plans and their lists.  Version 4 adds the blank cards' signed stock
#: statements and the office desks' signed ledgers.  Version 3 keeps what the audit derives
#: every column from: the signed sync log, each worklist's lines in their hash chain, and a
#: fork's offered record.  Version 2 kept keyed references (`storage.reference`) but none
#: of that; version 1 kept an unkeyed SHA-256.
SCHEMA_VERSION = 6
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
    # record format 4: the round the kit was loaded with (its code and venue kind), the
    # groups the person counts in, one column each (`provisioning.district.rows`), and the
    # notice of processing read (its version); a record of an older format has none
    Column("round_code", String(32)),
    Column("venue", String(32)),
    Column("first_voter", Boolean, nullable=False, server_default=false()),
    Column("kia", Boolean, nullable=False, server_default=false()),
    Column("domicile", Boolean, nullable=False, server_default=false()),
    Column("disability", Boolean, nullable=False, server_default=false()),
    Column("notice", Integer),
    postgresql_partition_by=PARTITION_BY,
)
Index("records_ref", records.c.ref_digest)
Index("records_round", records.c.round_code)
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

# The rounds the office planned: every column but ``plan`` derived from ``plan``, the
# authority's signed plan (`storage.rounds`), which names no person.
rounds = Table(
    "rounds",
    metadata,
    _province(),
    Column("code", String(32), primary_key=True),
    Column("plan", LargeBinary, nullable=False),
    Column("venue", String(32), nullable=False),
    Column("place", Text),
    Column("regency_code", String(4), nullable=False),
    Column("kecamatan", Text, nullable=False),
    Column("day", Date, nullable=False),
    Column("election_day", Date),
    Column("listed", Integer, nullable=False),
    Column("left_out", Integer, nullable=False),
    Column("no_nik", Integer, nullable=False),
    postgresql_partition_by=PARTITION_BY,
)

# A round's list as the kit was given it, by keyed reference only, chained: ``link`` is
# the chain through this line (`storage.rounds.ref_link`), whose last link the plan signs.
round_people = Table(
    "round_people",
    metadata,
    _province(),
    Column("round", String(32), primary_key=True),
    Column("line", Integer, primary_key=True, autoincrement=False),
    Column("ref_digest", LargeBinary, nullable=False),
    Column("link", LargeBinary, nullable=False),
    postgresql_partition_by=PARTITION_BY,
)

# The district's signed statements about blank cards (`provisioning.district.blank_stock`):
# a batch registered as a serial range, a range handed to a kit or an office, a range
# returned unused.  Every column but ``signed`` is derived from it.
blank_moves = Table(
    "blank_moves",
    metadata,
    _province(),
    Column("digest", LargeBinary, primary_key=True),
    Column("signed", LargeBinary, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("batch", String(32), nullable=False),
    Column("first", Integer, nullable=False),
    Column("last", Integer, nullable=False),
    Column("regency_code", String(4), nullable=False),
    Column("holder", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    postgresql_partition_by=PARTITION_BY,
)

# Each office desk's signed, hash-linked ledger (`provisioning.office_log`): prints,
# spoils, reprints, handover batches, acknowledgements at the office, returns.  Every
# column but ``signed`` is derived from it.
office_entries = Table(
    "office_entries",
    metadata,
    _province(),
    Column("office", String(64), primary_key=True),
    Column("n", Integer, primary_key=True, autoincrement=False),
    Column("digest", LargeBinary, nullable=False),
    Column("signed", LargeBinary, nullable=False),
    Column("act", String(16), nullable=False),
    Column("chain", LargeBinary),
    Column("seq", Integer),
    Column("serial", String(64)),
    Column("batch", String(64)),
    Column("at", DateTime(timezone=True), nullable=False),
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


#: What version 5 adds to a version-4 store's ``records``: its rows are records of formats 1
#: to 3, which name no round and no group, so the new columns' defaults are what the audit
#: derives for them.
_V5_RECORD_COLUMNS = (
    "round_code VARCHAR(32)",
    "venue VARCHAR(32)",
    "first_voter BOOLEAN NOT NULL DEFAULT false",
    "kia BOOLEAN NOT NULL DEFAULT false",
    "domicile BOOLEAN NOT NULL DEFAULT false",
    "disability BOOLEAN NOT NULL DEFAULT false",
    "notice INTEGER",
)
#: The steps that bring a store to the next version, by the version they start from: the
#: version reached and the statements to run; the tables a version adds are made by
#: ``create`` afterwards (``create_all`` skips those held).
UPGRADES: dict[str, tuple[str, tuple[str, ...]]] = {
    "3": ("4", ()),
    "4": ("5", tuple(f"ALTER TABLE records ADD COLUMN {column}" for column in _V5_RECORD_COLUMNS)),
    "5": ("6", ()),
}


def create(connection: Connection) -> None:
    """Create every table (and on PostgreSQL one partition per province) at this version,
    bringing a store of an earlier version up by its `UPGRADES` first."""
    held = _version(connection) if has_meta(connection) else None
    while held in UPGRADES:
        held, statements = UPGRADES[held]
        for statement in statements:
            connection.execute(text(statement))
        connection.execute(meta.update().where(meta.c.key == "schema_version").values(value=held))
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
    if _version(connection) is None:
        connection.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
    check_version(connection)


def has_meta(connection: Connection) -> bool:
    """Whether the database holds a district store's ``district_meta`` table."""
    return connection.dialect.has_table(connection, meta.name)


def _version(connection: Connection) -> str | None:
    return connection.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar()


def check_version(connection: Connection) -> None:
    """NotADistrictStore unless the database holds this version of the schema."""
    try:
        value = _version(connection)
    except DBAPIError as exc:  # no district_meta table: some other database
        raise NotADistrictStore(
            "this database holds no office store: run `jemput-prov district init URL` first"
        ) from exc
    if value in REBUILD:
        raise NotADistrictStore(
            f"this office store is at schema version {value}, this tool speaks "
            f"{SCHEMA_VERSION}: {REBUILD[value]}"
        )
    if value in UPGRADES:
        raise NotADistrictStore(
            f"this district store is at schema version {value}, this tool speaks "
            f"{SCHEMA_VERSION}: bring it up with `jemput-prov district init URL` (it adds "
            "what the new version keeps; nothing held is changed)"
        )
    if value != str(SCHEMA_VERSION):
        raise NotADistrictStore(
            f"this office store is at schema version {value}, this tool speaks "
            f"{SCHEMA_VERSION}: use the matching jemput-prov"
        )
