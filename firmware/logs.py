"""Logging for the kit: a rotating file in the data folder, never the officer's screen.

The officer sees prompts on the display; the technician reads ``DATA_DIR/logs/kit.log``
after a bad day.  The log is bounded so it can never fill the SD card that holds records.
It is on that card, so when the card is full anyway (the kit shows "storage full" and
waits) the log drops its lines, counting them, instead of raising: the standard handler
printed a "Logging error" traceback for every line it could not write, 32,000 lines in
5 s from a kit that logs each tick.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import sys
from pathlib import Path

#: Size of one log file and how many old ones are kept: 4 x 1 MB at most.
LOG_BYTES = 1_000_000
LOG_BACKUPS = 3

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class DroppingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file that drops the lines it cannot write, and says how many.

    A line that meets an OSError (a full disk, a card that went read-only) is dropped and
    counted in :attr:`dropped`, and the file is reopened for the next line (what was
    buffered for it is dropped with it).  The first line written after that is preceded
    by one that says how many were dropped and why.  Any other error (a bad format
    string) is reported as the standard handler does: it is a bug, not the disk.
    """

    def __init__(self, filename: Path, *, max_bytes: int, backups: int) -> None:
        super().__init__(filename, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        #: Lines dropped since the last line that was written.
        self.dropped = 0
        self._failure: OSError | None = None
        self._last_failure = ""

    def emit(self, record: logging.LogRecord) -> None:
        if self.dropped:
            dropped, self.dropped = self.dropped, 0
            if not self._wrote(self._dropped_notice(dropped)):
                self.dropped = dropped + 1  # still failing: this line goes too
                return
        if not self._wrote(record):
            self.dropped += 1

    def _wrote(self, record: logging.LogRecord) -> bool:
        """Write one record through the standard handler; False if the disk refused it."""
        self._failure = None
        super().emit(record)
        return self._failure is None

    def handleError(self, record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            super().handleError(record)
            return
        self._failure = error
        self._last_failure = error.strerror or str(error)
        stream, self.stream = self.stream, None
        if stream is not None:
            with contextlib.suppress(OSError):  # its buffer cannot be flushed either
                stream.close()

    def _dropped_notice(self, count: int) -> logging.LogRecord:
        return logging.LogRecord(
            __name__,
            logging.WARNING,
            __file__,
            0,
            "%d log line(s) were dropped: the log could not be written (%s)",
            (count, self._last_failure),
            None,
        )


def setup_logging(data_dir: Path, *, level: str = "INFO", echo: bool = False) -> Path:
    """Send the kit's log to ``data_dir/logs/kit.log``; ``echo`` also writes to stderr."""
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = log_dir / "kit.log"
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_jemput", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [
        DroppingFileHandler(path, max_bytes=LOG_BYTES, backups=LOG_BACKUPS)
    ]
    if echo:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._jemput = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    return path
