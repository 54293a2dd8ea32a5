"""The Pico's boot stub: it runs at power-on, picks the firmware slot and starts it.

Why a stub: the Pi installs a new firmware into the slot that is not running
(maintenance.py) and switches ``active`` to it, so a power cut while files are written
leaves the old firmware whole.  A slot just switched to runs on *trial* (the ``trial``
file, bootslots.py) until the Pi confirms it: each boot on trial is counted here first,
and after TRIAL_BOOTS boots without the Pi's word the stub goes back to the other slot.
A firmware on trial that raises is reset at once (a boot counted), one that hangs before
its own watchdog is reset by the one started here; a committed firmware that raises stops
at the REPL, as it always did.  This file and bootslots.py are flashed once by hand and
never by an update (docs/updates.md).
"""

import sys

import machine

import bootslots

#: Boots a slot on trial gets before the stub goes back to the other slot.
TRIAL_BOOTS = 3
#: The watchdog a firmware on trial starts under, should it hang before starting its own.
TRIAL_WDT_MS = 8_000


def choose() -> tuple[str, bool]:
    """The slot to run and whether it runs on trial; a boot on trial is counted first."""
    slot = bootslots.active()
    trial = bootslots.read(bootslots.TRIAL).split()
    if len(trial) != 2 or trial[0] != slot or not trial[1].isdigit():
        if trial:  # a trial written just before a switch that never happened
            bootslots.forget(bootslots.TRIAL)
        return slot, False
    boots = int(trial[1])
    if boots >= TRIAL_BOOTS:
        slot = bootslots.other(slot)
        bootslots.write(bootslots.ACTIVE, slot)
        bootslots.forget(bootslots.TRIAL)
        return slot, False
    bootslots.write(bootslots.TRIAL, slot + " " + str(boots + 1))
    return slot, True


def boot() -> None:
    slot, on_trial = choose()
    sys.path.insert(0, slot)
    if on_trial:
        machine.WDT(timeout=TRIAL_WDT_MS)
    try:
        import start  # noqa: F401  (the slot's firmware runs as it is imported)
    except Exception:
        if not on_trial:
            raise
        machine.reset()  # counted at the next boot: the firmware on trial failed


boot()
