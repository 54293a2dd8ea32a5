"""The district store: every laptop's collected records in one PostgreSQL database.

Why a package of its own: the laptop's collector stays a single SQLite file that works
offline; the district store is shared by many technicians at once, so it lives on a
server, re-verifies everything a laptop sends, and is the only place where one coverage
figure for a whole kabupaten/kota can be computed without counting a record twice.
See docs/district.md.
"""

#: URL schemes that name a district store rather than a laptop's collector file.
STORE_SCHEMES = ("postgresql://", "postgresql+psycopg://", "sqlite://")


def is_store_url(target: str) -> bool:
    """True when ``target`` names a district store (a database URL), not a collector file."""
    return target.startswith(STORE_SCHEMES)
