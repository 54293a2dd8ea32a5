"""Logging for the kit: a rotating file in the data folder, never the officer's screen.

The officer sees prompts on the display; the technician reads ``DATA_DIR/logs/kit.log``
after a bad day.  The log is bounded so it can never fill the SD card that holds records.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

#: Size of one log file and how many old ones are kept: 4 x 1 MB at most.
LOG_BYTES = 1_000_000
LOG_BACKUPS = 3

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


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
        logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    ]
    if echo:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._jemput = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    return path
