"""What an emulator remembers of what it was sent, for a test to read: the latest, not a
day's.

The display's register model records every write and command, the panel's mock pins
every press.  Over an outreach day that is the simulator's growth, and on the Pi
program's path (``tests/bench/pi_path.py``) those models sit in the kit's own process,
where it would show in the kit's memory figures as if it were the kit's.
"""

from __future__ import annotations

from typing import Any

#: How many of its latest entries a history keeps once it has grown past twice as many.
KEPT = 4096


def trim(history: list[Any]) -> None:
    """Forget all but the last :data:`KEPT` entries of ``history`` once it holds twice as
    many (so a test that looks at the first few of a short run sees them all)."""
    if len(history) > 2 * KEPT:
        del history[:-KEPT]
