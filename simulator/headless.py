"""`jemput-kit sim headless --port-link PATH`: the simulated kit with no terminal.

Why headless: the technician's tool and the scenario tests need a kit to flash and collect
from, in another process, as they would a kit on a USB cable.  The kit's provisioning pty
is linked at PATH (the tool opens PATH as its serial port).  A data folder that was never
flashed is served as an unflashed kit (no demo provisioning) until ``flash`` makes it
one; from then on the simulated kit runs on it until SIGTERM.  The port is served by the
running kit's own host, as on the Pi (`firmware.host`); only the pty is the simulator's.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import replace
from pathlib import Path

from simulator.kit import open_sim_kit, pty_port
from simulator.options import Provisioning, SimOptions


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set ``stop`` (from the main thread only, as Python allows)."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())


def run_headless(
    options: SimOptions, port_link: Path, *, stop: threading.Event | None = None
) -> None:
    """Serve the simulated kit's provisioning port at ``port_link`` until SIGTERM (or ``stop``)."""
    stop = stop or threading.Event()
    stop_on_signals(stop)
    headless = replace(
        options,
        provisioning=Provisioning.UNFLASHED,
        booted=False,  # host.run boots it
        parts=replace(options.parts, coprocessor=True),
    )
    with (
        open_sim_kit(headless) as sim,
        pty_port(sim.host, link_path=port_link) as port,
    ):
        print(f"jemput-kit: provisioning port {port.port} linked at {port_link}", flush=True)
        sim.host.run(stop)
