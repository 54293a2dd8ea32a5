"""The kit's event log as the page shows it: the last lines the kit logged.

A logging handler on the kit's own loggers keeps a bounded ring of lines, each with a
sequence number, so the page asks only for what it has not seen.  The web kit's own lines
(:meth:`EventLog.note`) are kept in both of the page's languages, so its language switch
changes them; the kit's log lines are the developers' and are kept as logged.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from datetime import UTC, datetime

from simulator.web.texts import LANGUAGES, Note

#: A line as the page gets it: the kit's own text, or ours per language ({"id": ...}).
Line = str | dict[str, str]


def _stamp(created: float, level: str) -> str:
    """A line's time and level, as every line of the log starts."""
    return f"{datetime.fromtimestamp(created, UTC):%H:%M:%S} {level:7}"


#: The loggers whose lines a developer or trainer wants to follow.
KIT_LOGGERS = ("capture", "firmware", "hal", "storage")
#: Lines kept; older ones fall off the page.
KEEP = 200


class EventLog(logging.Handler):
    """Keeps the last :data:`KEEP` lines of the kit's loggers; attach with :meth:`attach`."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self._lines: collections.deque[Line] = collections.deque(maxlen=KEEP)
        self._count = 0
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter("%(message)s"))

    def _keep(self, line: Line) -> None:
        with self._guard:
            self._count += 1
            self._lines.append(line)

    def emit(self, record: logging.LogRecord) -> None:
        head = _stamp(record.created, record.levelname.lower())
        self._keep(f"{head} {self.format(record)}")

    def note(self, note: Note) -> None:
        """A line from the web kit itself (a fault switched, a scenario step)."""
        head = _stamp(time.time(), "info")
        self._keep({language: f"{head} {note.text(language)}" for language in LANGUAGES})

    @property
    def count(self) -> int:
        """How many lines were ever logged: the page's change marker."""
        with self._guard:
            return self._count

    def tail(self, limit: int = 50) -> list[Line]:
        """The newest ``limit`` lines, oldest first."""
        with self._guard:
            return list(self._lines)[-limit:]

    def attach(self) -> None:
        for name in KIT_LOGGERS:
            logger = logging.getLogger(name)
            logger.addHandler(self)
            if logger.getEffectiveLevel() > logging.INFO:
                logger.setLevel(logging.INFO)

    def detach(self) -> None:
        for name in KIT_LOGGERS:
            logging.getLogger(name).removeHandler(self)
