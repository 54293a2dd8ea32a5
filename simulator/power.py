"""The simulated kit's power co-processor: the Pico's own firmware under MicroPython.

`hw_sim.pico.PicoSim` runs ``pico_micropython`` on a pty; the kit opens it with the real
driver and guards its loop with it exactly as on a Pi (`firmware.power.KitPower`).  The
simulator's battery is one number, a charge in percent; the Pico measures a cell's
voltage, so :func:`cell_volts` turns the one into the other.
"""

from __future__ import annotations

import itertools

from firmware.power import KitPower, open_coprocessor
from hal.types import Press
from hw_sim.pico import PicoSim

#: (charge %, cell volts) the simulated cell passes through: the fuel gauge's policy
#: defaults (low 15 %, critical 5 %) meet the Pico's thresholds (LOW 3.45 V, CRITICAL
#: 3.30 V), so the page's slider brings both to the same verdict at the same charge.
DISCHARGE_CURVE = ((0.0, 3.225), (5.0, 3.30), (15.0, 3.45), (100.0, 4.2))
#: The driver's deadline here: MicroPython on a busy laptop answers slower than a Pico.
SIM_COPROCESSOR_TIMEOUT = 2.0
#: How long the power button is held for a "hold" from the page: past the Pico's 3 s.
HOLD_SECONDS = 3.5
#: A short press of the power button.
PRESS_SECONDS = 0.2


def cell_volts(percent: float) -> float:
    """The cell's voltage at ``percent`` charge, along :data:`DISCHARGE_CURVE`."""
    percent = min(max(percent, 0.0), 100.0)
    for (low, low_volts), (high, high_volts) in itertools.pairwise(DISCHARGE_CURVE):
        if percent <= high:
            return low_volts + (high_volts - low_volts) * (percent - low) / (high - low)
    return DISCHARGE_CURVE[-1][1]


def sim_power(pico: PicoSim) -> KitPower:
    """The kit's side of ``pico``: the real driver on its pty (or why it did not answer)."""
    return KitPower(open_coprocessor(pico.port, timeout=SIM_COPROCESSOR_TIMEOUT))


def press_power(pico: PicoSim, how: Press) -> None:
    """The power button pressed (the battery shown) or held past 3 s (a safe shutdown),
    as the Pico's own firmware sees it."""
    pico.press(HOLD_SECONDS if how is Press.HOLD else PRESS_SECONDS)
