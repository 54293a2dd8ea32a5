"""The PIN back-off: after five wrong PINs in a row the kit waits, longer each time.

Why in storage: a six-digit PIN has 10^6 values; the back-off is what stops someone at the
keypad from trying them, so it must outlive a reboot (a power cycle must not reset it) and
must hold whichever screen asks.  The count and the end of the wait live in state.db; a
right PIN clears them.  Each wait is written to the audit log.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from storage.audit import AuditKind
from storage.state import SqliteAudit, iso_utc, transaction

#: Wrong PINs in a row allowed before the first wait.
FREE_TRIES = 5
FIRST_WAIT_SECONDS = 30
LONGEST_WAIT_SECONDS = 3600


def wait_after(failures: int) -> int:
    """Seconds to wait after ``failures`` wrong PINs in a row: 0, then 30 s doubling to 1 h."""
    if failures < FREE_TRIES:
        return 0
    return min(FIRST_WAIT_SECONDS * 2 ** (failures - FREE_TRIES), LONGEST_WAIT_SECONDS)


class PinGuard:
    """Counts wrong PINs in ``state.db`` and says how long the keypad must wait."""

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.Lock,
        now: Callable[[], datetime],
        audit: SqliteAudit,
    ) -> None:
        self._db, self._lock, self._now, self._audit = db, lock, now, audit

    def _row(self) -> tuple[int, datetime | None]:
        row = self._db.execute("SELECT failures, wait_until FROM pin_guard").fetchone()
        if row is None:
            return 0, None
        return row[0], datetime.fromisoformat(row[1]) if row[1] else None

    def wait_seconds(self) -> int:
        """How long before the next PIN may be tried (0: now)."""
        with self._lock:
            _, until = self._row()
        if until is None:
            return 0
        return max(0, int((until - self._now()).total_seconds() + 0.999))

    def failed(self, officer_id: str) -> None:
        """One more wrong PIN; from the fifth in a row, start a wait and audit it."""
        with self._lock, transaction(self._db) as db:
            failures = self._row()[0] + 1
            wait = wait_after(failures)
            until = iso_utc(self._now() + timedelta(seconds=wait)) if wait else None
            db.execute(
                "INSERT OR REPLACE INTO pin_guard (id, failures, wait_until) VALUES (1, ?, ?)",
                (failures, until),
            )
        if wait:
            self._audit.append(
                AuditKind.PIN_BACKOFF, officer=officer_id, failures=failures, wait=wait
            )

    def succeeded(self) -> None:
        with self._lock, transaction(self._db) as db:
            db.execute("DELETE FROM pin_guard")
