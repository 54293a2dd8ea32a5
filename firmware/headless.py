"""`jemput-kit run --sim --headless --port-link PATH`: the simulated kit with no terminal.

Why headless: the technician's tool and the scenario tests need a kit to flash and collect
from, in another process, as they would a kit on a USB cable.  The kit's provisioning pty
is linked at PATH (the tool opens PATH as its serial port).  A data folder that was never
flashed is served as an unflashed kit — no demo provisioning — until ``flash`` makes it
one; from then on the simulated kit runs on it (its event loop on a thread) until SIGTERM.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from firmware.port import KIT_FOLDER, PROFILE_FILE, KitPort, PtyPort
from firmware.sim import SimKit, open_sim_kit
from hal.exc import DeviceError
from storage.kit import KitStore

_JOIN_SECONDS = 5.0


class SimHost:
    """Hosts the simulated kit for the port: opened only once the data folder is a kit.

    With ``run_loop`` the kit's event loop runs on its own thread (headless); without it
    the caller drives the loop (scripted sessions in tests).
    """

    def __init__(
        self, data_dir: Path, *, seed: int, clock_speed: float = 1.0, run_loop: bool = True
    ) -> None:
        self.data_dir = Path(data_dir)
        self._seed = seed
        self._clock_speed = clock_speed
        self._run_loop = run_loop
        self._stack: contextlib.ExitStack | None = None
        self._thread: threading.Thread | None = None
        self._time: datetime | None = None
        self.sim: SimKit | None = None
        self.start_kit()

    @property
    def store(self) -> KitStore | None:
        return self.sim.kit.store if self.sim is not None else None

    def now(self) -> datetime:
        if self.sim is not None:
            return self.sim.world.clock.now()
        return self._time or datetime.now(UTC)

    def set_clock(self, when: datetime) -> None:
        if self.sim is not None:
            self.sim.world.clock.set(when)
        self._time = when

    def start_kit(self) -> None:
        if self.sim is not None or not (self.data_dir / KIT_FOLDER / PROFILE_FILE).exists():
            return
        stack = contextlib.ExitStack()
        self.sim = stack.enter_context(
            open_sim_kit(
                self.data_dir,
                seed=self._seed,
                clock_speed=self._clock_speed,
                booted=not self._run_loop,
            )
        )
        self._stack = stack
        if self._time is not None:
            self.sim.world.clock.set(self._time)
        if self._run_loop:
            kit = self.sim.kit

            def serve() -> None:
                kit.start()
                kit.loop.run()

            self._thread = threading.Thread(target=serve, name="kit-loop", daemon=True)
            self._thread.start()

    def stop_kit(self) -> None:
        """Stop the loop and close the kit; safe when none runs."""
        if self.sim is None or self._stack is None:
            return
        self.sim.kit.loop.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=_JOIN_SECONDS)
            self._thread = None
        self._stack.close()
        self.sim, self._stack = None, None

    def selftest(self) -> list[dict[str, Any]]:
        """Each device probed: what it says it is, or the error naming what to check."""
        if self.sim is None:
            return [{"device": "kit", "ok": False, "detail": "not flashed: no devices opened"}]
        verdicts = []
        for device in self.sim.kit.devices.all():
            name = type(device).__name__
            try:
                info = device.probe()
            except DeviceError as exc:
                verdicts.append({"device": name, "ok": False, "detail": str(exc)})
            else:
                verdicts.append({"device": info.name, "ok": True, "detail": info.model})
        return verdicts

    def close(self) -> None:
        self.stop_kit()


def run_headless(
    data_dir: Path, port_link: Path, seed: int, *, stop: threading.Event | None = None
) -> None:
    """Serve the simulated kit's provisioning port at ``port_link`` until SIGTERM (or ``stop``)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    host = SimHost(Path(data_dir), seed=seed)
    try:
        with PtyPort(KitPort(Path(data_dir), host), link_path=port_link) as port:
            print(f"jemput-kit: provisioning port {port.port} linked at {port_link}", flush=True)
            stop.wait()
    finally:
        host.close()
