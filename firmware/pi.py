"""``jemput-kit run`` on the kit itself: the real parts, the provisioning port, until stopped.

systemd starts this and restarts it if it dies (docs/samples/jemput-kit.service); every
record is safe at any moment it can die.  A part that fails to open does not stop the kit:
the self-test names it on the display, and the officer carries on where the part is not
needed.  A kit that was never flashed shows so, and serves only its provisioning port.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from capture.machine import CaptureState
from firmware.config import KitConfig
from firmware.hardware import Opened, configured_devices
from firmware.kit import Kit
from hal.contracts import Devices
from hal.exc import DeviceError
from hal.types import Indicator
from storage.kit import KitStore, NotProvisioned

log = logging.getLogger(__name__)

#: What a kit that was never flashed shows until a technician flashes it.
UNPROVISIONED_LINES = ("BELUM DISIAPKAN", "Hubungi teknisi", "untuk flash kit")


def kit_clock(devices: Devices) -> Callable[[], datetime]:
    """The kit's time: the RTC when it answers, else the system clock (logged once)."""
    warned = False

    def now() -> datetime:
        nonlocal warned
        try:
            return devices.clock.read().time
        except DeviceError as exc:
            if not warned:
                log.error("real-time clock unreadable (%s): using the system clock", exc)
                warned = True
            return datetime.now(UTC)

    return now


def serve_port(settings: KitConfig, now: Callable[[], datetime], stop: threading.Event) -> None:
    """The provisioning port on the USB gadget serial, on its own thread."""
    if not settings.ports.provisioning:
        return
    import serial

    from firmware.port import KitPort, StoreHost, serve_serial

    try:
        link = serial.Serial(settings.ports.provisioning)
    except (serial.SerialException, OSError) as exc:
        log.error("provisioning port %s: %s", settings.ports.provisioning, exc)
        return
    host = StoreHost(settings.data_dir, now=now)
    thread = threading.Thread(
        target=serve_serial,
        args=(KitPort(settings.data_dir, host), link),
        kwargs={"stop": stop},
        name="provisioning-port",
        daemon=True,
    )
    thread.start()


def run_pi(
    settings: KitConfig,
    *,
    open_devices: Callable[[], Opened] | None = None,
    stop: threading.Event | None = None,
) -> str:
    """Run the kit until ``stop``, SIGTERM or a safe shutdown; returns the final state."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    opened = open_devices() if open_devices else configured_devices(settings.ports)
    for name, error in opened.broken:
        log.error("%s did not open: %s", name, error)
    devices = opened.devices
    now = kit_clock(devices)
    serve_port(settings, now, stop)
    try:
        store = KitStore(settings.data_dir, now=now)
    except NotProvisioned:
        with contextlib.suppress(DeviceError):
            devices.display.show(list(UNPROVISIONED_LINES))
            devices.panel.indicate(Indicator.ATTENTION)
        stop.wait()  # the port flashes the kit; systemd restarts us to run it
        devices.close()
        return "unprovisioned"
    kit = Kit(devices, store, now=now, language=settings.language)
    try:
        kit.start()
        off = CaptureState.SAFE_SHUTDOWN
        kit.loop.run(until=lambda: stop.is_set() or kit.controller.state is off)
        return kit.controller.state
    finally:
        kit.close()
