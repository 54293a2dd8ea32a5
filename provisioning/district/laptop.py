"""What sync reads of a laptop's collector database beyond `CollectorDB`'s own methods.

Why a read-only connection of its own: `CollectorDB` keeps only the latest signed head
per chain in reach, but the district wants every collection's head, ledger and receipt
(each is a signed fact about cards).  Opening the file read-only also guarantees sync
never changes the laptop's database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def collections(path: Path) -> dict[bytes, list[tuple[bytes, bytes | None]]]:
    """Per chain (certificate digest), each collection's signed ledger and its receipt."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        # CAST: a hand-edited file may hold text where bytes belong; the verifier judges them
        rows = db.execute(
            "SELECT CAST(chain AS BLOB), CAST(signed AS BLOB), CAST(receipt AS BLOB) "
            "FROM collections ORDER BY id"
        ).fetchall()
    finally:
        db.close()
    found: dict[bytes, list[tuple[bytes, bytes | None]]] = {}
    for chain, signed, receipt in rows:
        found.setdefault(chain, []).append((signed, receipt))
    return found
