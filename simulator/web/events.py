"""The kit's event log as the page shows it: the last lines the kit logged.

A logging handler on the kit's own loggers keeps a bounded ring of lines, each with a
sequence number, so the page asks only for what it has not seen.
"""

from __future__ import annotations

import collections
import logging
import threading
from datetime import UTC, datetime

#: The loggers whose lines a developer or trainer wants to follow.
KIT_LOGGERS = ("capture", "firmware", "hal", "storage")
#: Lines kept; older ones fall off the page.
KEEP = 200


class EventLog(logging.Handler):
    """Keeps the last :data:`KEEP` lines of the kit's loggers; attach with :meth:`attach`."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self._lines: collections.deque[tuple[int, str]] = collections.deque(maxlen=KEEP)
        self._count = 0
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        line = f"{when} {record.levelname.lower():7} {self.format(record)}"
        with self._guard:
            self._count += 1
            self._lines.append((self._count, line))

    def note(self, message: str) -> None:
        """A line from the web kit itself (a fault switched, a scenario step)."""
        self.emit(logging.LogRecord("simulator.web", logging.INFO, __file__, 0, message, (), None))

    @property
    def count(self) -> int:
        """How many lines were ever logged: the page's change marker."""
        with self._guard:
            return self._count

    def tail(self, limit: int = 50) -> list[str]:
        """The newest ``limit`` lines, oldest first."""
        with self._guard:
            return [line for _, line in list(self._lines)[-limit:]]

    def attach(self) -> None:
        for name in KIT_LOGGERS:
            logger = logging.getLogger(name)
            logger.addHandler(self)
            if logger.getEffectiveLevel() > logging.INFO:
                logger.setLevel(logging.INFO)

    def detach(self) -> None:
        for name in KIT_LOGGERS:
            logging.getLogger(name).removeHandler(self)
