"""The audit log as the capture loop writes it: an entry that finds the disk full waits.

Why not raise: the audit log is written on failure paths too (a seal that failed because
the disk is full), and a second failure there must not crash the kit.  The entries that
waited are written, in order, before the next one once there is space.
"""

from __future__ import annotations

import logging
from collections import deque

from capture.ports import AuditLog
from storage.audit import AuditKind
from storage.errors import StorageFull

log = logging.getLogger(__name__)


class AuditTrail:
    """Appends to ``log``, keeping in memory what a full disk refused until it has room."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log
        self._unwritten: deque[tuple[AuditKind, dict[str, object]]] = deque()

    def append(self, kind: AuditKind, **detail: object) -> None:
        self._unwritten.append((kind, detail))
        try:
            while self._unwritten:
                waiting, waiting_detail = self._unwritten[0]
                self._log.append(waiting, **waiting_detail)
                self._unwritten.popleft()
        except StorageFull as exc:
            log.error("audit entry %s waits for space: %s", kind, exc)
