"""The two files that say which firmware slot the Pico runs: shared by the boot stub and
the maintenance commands, flashed once with the stub and never by an update.

``active`` holds ``a`` or ``b``: the slot the stub starts.  ``trial`` exists while a slot
just switched to has not been confirmed by the Pi: ``<slot> <boots>``, the boots it has
had.  Each is replaced whole by a rename, which LittleFS (the Pico's filesystem) makes
atomic, so a power cut leaves the old text or the new, never half of either.
"""

import os

ACTIVE = "active"
TRIAL = "trial"
SLOTS = ("a", "b")


def read(name: str) -> str:
    """The file's text, stripped; "" when it is missing or unreadable."""
    try:
        with open(name) as file:
            text: str = file.read()
    except OSError:
        return ""
    return text.strip()


def write(name: str, text: str) -> None:
    """Replace ``name`` whole: a new file beside it, then a rename over it."""
    temporary = name + ".new"
    with open(temporary, "w") as file:
        file.write(text)
    os.rename(temporary, name)


def forget(name: str) -> None:
    try:  # noqa: SIM105 (MicroPython has no contextlib)
        os.remove(name)
    except OSError:
        pass  # already gone


def active() -> str:
    """The slot ``active`` names (``a`` on a Pico flashed before slots)."""
    slot = read(ACTIVE)
    return slot if slot in SLOTS else SLOTS[0]


def other(slot: str) -> str:
    return SLOTS[1] if slot == SLOTS[0] else SLOTS[0]
