"""The PIN back-off: after five wrong PINs in a row the kit waits, longer each time.

Why in storage: a six-digit PIN has 10^6 values; the back-off is what stops someone at the
keypad from trying them, so it must outlive a reboot (a power cycle must not reset it) and
must hold whichever screen asks.  The count and the end of the wait live in state.db; a
right PIN sets the count back to zero.  Each wait is written to the audit log.

Why sealed, and why the row must exist: state.db is a file on the SD card, and whoever
holds the kit can take the card out, delete or edit the row, and put it back.  So the row
is sealed under the data key (`storage.datakey.StateCipher`, which authenticates as it
encrypts, bound to this row's context), which opens only in this kit (sealed by its TPM
on a real kit): an edited or swapped row does not open.  And a flash writes the row
(:func:`start_count`), so a kit that finds none was tampered with, not new: a deleted or
altered row counts as the longest wait (:data:`MOST_FAILURES` wrong PINs), written back
sealed and audited (``pin-guard-tampered``), so an edit never buys a try.

What this cannot see: the whole row put back as it was earlier (a copy of state.db from
before the wrong PINs).  That needs a counter the card does not hold: the TPM's NV
counters on a TPM kit (docs/keys.md, "PIN back-off").
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from storage import codec
from storage.audit import AuditKind
from storage.datakey import StateCipher, StateDecryptError
from storage.state import SqliteAudit, iso_utc, open_database, transaction

#: Wrong PINs in a row allowed before the first wait.
FREE_TRIES = 5
FIRST_WAIT_SECONDS = 30
LONGEST_WAIT_SECONDS = 3600
#: The audit kind of a back-off row found deleted or altered.
TAMPERED = AuditKind.PIN_GUARD_TAMPERED
#: What the row is sealed to: another row's, or another kit's, ciphertext does not open.
_CONTEXT = b"pin_guard:1"


def wait_after(failures: int) -> int:
    """Seconds to wait after ``failures`` wrong PINs in a row: 0, then 30 s doubling to 1 h."""
    if failures < FREE_TRIES:
        return 0
    return min(FIRST_WAIT_SECONDS * 2 ** (failures - FREE_TRIES), LONGEST_WAIT_SECONDS)


#: The fewest wrong PINs in a row that wait the longest: what a missing or altered row
#: counts as.
MOST_FAILURES = next(
    n for n in itertools.count(FREE_TRIES) if wait_after(n) == LONGEST_WAIT_SECONDS
)


def _write(db: sqlite3.Connection, cipher: StateCipher, failures: int, until: str | None) -> None:
    """Store the count and the end of the wait, sealed (inside the caller's transaction)."""
    sealed = cipher.encrypt(codec.dumps([failures, until]), context=_CONTEXT)
    db.execute("INSERT OR REPLACE INTO pin_guard (id, sealed) VALUES (1, ?)", (sealed,))


def start_count(state_db: Path, cipher: StateCipher) -> None:
    """Write the back-off row at zero: a flash does this, so from then on a kit that finds
    no row knows it was deleted."""
    db = open_database(state_db)
    try:
        with transaction(db):
            _write(db, cipher, 0, None)
    finally:
        db.close()


class PinGuard:
    """Counts wrong PINs in ``state.db`` and says how long the keypad must wait."""

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.Lock,
        now: Callable[[], datetime],
        audit: SqliteAudit,
        cipher: StateCipher,
    ) -> None:
        self._db, self._lock, self._now, self._audit = db, lock, now, audit
        self._cipher = cipher

    def _read(self) -> tuple[int, datetime | None] | str:
        """The count and the end of the wait, or what is wrong with the row."""
        row = self._db.execute("SELECT sealed FROM pin_guard WHERE id = 1").fetchone()
        if row is None:
            return "was deleted"
        try:
            failures, until = codec.loads(self._cipher.decrypt(row[0], context=_CONTEXT))
            if type(failures) is not int or failures < 0:
                raise ValueError(f"count {failures!r}")
            return failures, datetime.fromisoformat(until) if until is not None else None
        except (StateDecryptError, codec.CodecError, TypeError, ValueError):
            return "was altered"

    def _count(self) -> tuple[int, datetime | None, str | None]:
        """The count, the end of the wait, and what was wrong with the row if anything.

        A row found deleted or altered is first set to the longest wait; the caller (which
        holds the lock) audits it with :meth:`_tampered` once it has let the lock go.
        """
        found = self._read()
        if not isinstance(found, str):
            return (*found, None)
        until = self._now() + timedelta(seconds=LONGEST_WAIT_SECONDS)
        with transaction(self._db) as db:
            _write(db, self._cipher, MOST_FAILURES, iso_utc(until))
        return MOST_FAILURES, until, found

    def _tampered(self, found: str | None) -> str | None:
        """Audit a row found deleted or altered; the note for the technician, or None."""
        if found is None:
            return None
        self._audit.append(TAMPERED, row=found, failures=MOST_FAILURES, wait=LONGEST_WAIT_SECONDS)
        return (
            f"the PIN back-off row in state.db {found} while the kit was off: counted as "
            f"{MOST_FAILURES} wrong PINs in a row, the next PIN waits "
            f"{LONGEST_WAIT_SECONDS // 60} minutes"
        )

    def check(self) -> str | None:
        """Boot's look at the row: None if it opens; else the technician's note, the row
        set to the longest wait and audited."""
        with self._lock:
            found = self._count()[2]
        return self._tampered(found)

    def wait_seconds(self) -> int:
        """How long before the next PIN may be tried (0: now)."""
        with self._lock:
            _, until, found = self._count()
        self._tampered(found)
        if until is None:
            return 0
        return max(0, int((until - self._now()).total_seconds() + 0.999))

    def failed(self, officer_id: str) -> None:
        """One more wrong PIN; from the fifth in a row, start a wait and audit it."""
        with self._lock:
            counted, _, found = self._count()
            failures = counted + 1
            wait = wait_after(failures)
            until = iso_utc(self._now() + timedelta(seconds=wait)) if wait else None
            with transaction(self._db) as db:
                _write(db, self._cipher, failures, until)
        self._tampered(found)
        if wait:
            self._audit.append(
                AuditKind.PIN_BACKOFF, officer=officer_id, failures=failures, wait=wait
            )

    def succeeded(self) -> None:
        """A right PIN: the count starts again from zero."""
        with self._lock, transaction(self._db) as db:
            _write(db, self._cipher, 0, None)
