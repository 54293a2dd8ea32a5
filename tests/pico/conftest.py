"""The co-processor's own firmware under the real MicroPython, and the Pi's driver on its pty.

``pico`` runs ``pico_micropython/main.py`` in the unix ``micropython`` with the fake
``machine`` (hw_sim.pico); ``driver`` is the kit's ``hal.coprocessor`` driver on the pty,
exactly as it opens ``/dev/ttyAMA1`` on a kit.  Durations are the firmware's own, read
from INFO, and pass on the simulator's virtual clock.
"""

from __future__ import annotations

import runpy
from collections.abc import Iterator

import pytest

from hal.coprocessor import CoprocessorStatus, PowerCoprocessor
from hw_sim.pico import FIRMWARE_DIR, PicoSim

#: How often the simulated Pi heartbeats, in seconds of virtual time (the kit: every tick).
BEAT_SECONDS = 5.0
#: The driver's deadline per attempt in tests: the kit's 0.5 s, with room for a test
#: machine so busy that the Pico's virtual clock falls behind the wall clock.
DRIVER_TIMEOUT = 2.0


def firmware_version() -> str:
    """The version ``pico_micropython/version.py`` declares (plain assignments: CPython runs it)."""
    names = runpy.run_path(str(FIRMWARE_DIR / "version.py"))
    return f"{names['MAJOR']}.{names['MINOR']}.{names['PATCH']}"


@pytest.fixture
def pico() -> Iterator[PicoSim]:
    with PicoSim() as sim:
        yield sim


@pytest.fixture
def driver(pico: PicoSim) -> Iterator[PowerCoprocessor]:
    with PowerCoprocessor(port=pico.port, timeout=DRIVER_TIMEOUT) as coprocessor:
        yield coprocessor


def beat_for(
    driver: PowerCoprocessor, pico: PicoSim, seconds: float, *, sealing: bool = False
) -> CoprocessorStatus:
    """Heartbeat every BEAT_SECONDS while ``seconds`` of virtual time pass; the last status."""
    status = driver.heartbeat(sealing=sealing)
    passed = 0.0
    while passed < seconds:
        step = min(BEAT_SECONDS, seconds - passed)
        pico.advance(step)
        passed += step
        status = driver.heartbeat(sealing=sealing)
    return status
