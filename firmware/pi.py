"""``jemput-kit run`` on the kit itself: the real parts, the provisioning port, until stopped.

systemd starts this as a ``Type=notify`` service with a watchdog
(docs/samples/jemput-kit.service): the kit says READY at its locked screen, the event
loop pings the watchdog, and SIGTERM says STOPPING, lets a seal under way finish and
closes the store.  Every record is safe at any moment it can die.  A part that fails to
open does not stop the kit: the self-test names it on the display, and the officer
carries on where the part is not needed.  A kit that was never flashed shows so and
serves its provisioning port until a technician flashes it, then runs.

The power co-processor (`firmware.power`, docs/devices/coprocessor.md) is opened on
``[ports] coprocessor``: the loop heartbeats it, its requests (the button held, a critical
cell) end the run in SAFE_SHUTDOWN once the seal under way is sealed, and once the store
is closed the kit tells it "halted" so it cuts power.  A kit without one (not configured,
not answering) runs all the same; the error is logged and the self-test names it.

The port is served by the running kit's host (`firmware.host.KitHost`), the same host the
simulator runs; nothing here imports the simulator (tests/test_layering.py).

Updates (`firmware.update`) install into the slots under ``[kit] slots``: an ``update``
ends the run once the release is in the inactive slot, and systemd starts the kit again,
through ExecStartPre (``jemput-kit prestart``), into it.  A version on trial takes its
self-test when it says READY, and commits or ends the run to roll back (docs/updates.md).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from firmware.config import KitConfig
from firmware.hardware import Opened, configured_devices
from firmware.host import UNPROVISIONED_LINES, KitHost
from firmware.kit import KitEnd
from firmware.notify import Notifier
from firmware.port import KitPort, serve_serial
from firmware.power import KitPower, open_coprocessor
from firmware.slots import Slots
from firmware.update import Updates
from hal.contracts import Devices
from hal.coprocessor import PowerCoprocessor
from hal.exc import DeviceError
from storage.lock import FolderLock
from storage.model import Policy

__all__ = ["UNPROVISIONED_LINES", "RtcClock", "run_pi"]

log = logging.getLogger(__name__)

#: How long the port's thread gets to finish the answer it is writing when the kit stops.
PORT_JOIN_SECONDS = 2.0


class RtcClock:
    """The kit's time: the DS3231 when it answers, else the system clock (logged once).

    ``set`` sets the DS3231 through its driver, and the system clock too where the
    service may (``system_clock``: the unit grants CAP_SYS_TIME); a clock that cannot be
    set raises the driver's error, which the port answers as a failure.
    """

    def __init__(self, devices: Devices, *, system_clock: bool = True) -> None:
        self._devices = devices
        self._system_clock = system_clock
        self._warned = False

    def now(self) -> datetime:
        try:
            return self._devices.clock.read().time
        except DeviceError as exc:
            if not self._warned:
                log.error("real-time clock unreadable (%s): using the system clock", exc)
                self._warned = True
            return datetime.now(UTC)

    def set(self, when: datetime) -> None:
        self._devices.clock.set(when)
        if self._system_clock:
            try:
                time.clock_settime(time.CLOCK_REALTIME, when.timestamp())
            except (PermissionError, OSError) as exc:
                log.warning("system clock left as it is (%s); the DS3231 is set", exc)


@contextlib.contextmanager
def _serve_port(settings: KitConfig, kit_port: KitPort, stop: threading.Event) -> Iterator[None]:
    """The provisioning port on the USB gadget serial, on its own thread, while in the block."""
    if not settings.ports.provisioning:
        yield
        return
    import serial

    try:
        link = serial.Serial(settings.ports.provisioning)
    except (serial.SerialException, OSError) as exc:
        log.error("provisioning port %s: %s", settings.ports.provisioning, exc)
        yield
        return
    thread = threading.Thread(
        target=serve_serial,
        args=(kit_port, link),
        kwargs={"stop": stop},
        name="provisioning-port",
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=PORT_JOIN_SECONDS)
        link.close()


@contextlib.contextmanager
def _signals_set(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` while in the block (main thread only); then as before."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    for signum in previous:
        signal.signal(signum, lambda *_: stop.set())
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_pi(
    settings: KitConfig,
    *,
    open_devices: Callable[[], Opened] | None = None,
    stop: threading.Event | None = None,
    notifier: Notifier | None = None,
    system_clock: bool = True,
    started: Callable[[KitHost], None] | None = None,
    open_power: Callable[[str], PowerCoprocessor | DeviceError] = open_coprocessor,
) -> KitEnd:
    """Run the kit until ``stop``, SIGTERM or a safe shutdown; returns the final state.

    Holds the data folder's write lock throughout (`storage.lock.FolderBusy` if another
    process writes there).  ``started`` is told of the host once the port is served (a
    test watches the kit through it).  ``open_power`` opens the co-processor on
    ``[ports] coprocessor`` (or says why there is none); a test gives its driver a
    longer deadline.
    """
    stop = stop or threading.Event()
    notifier = notifier or Notifier.from_environment()
    with contextlib.ExitStack() as stack:
        stack.enter_context(FolderLock(settings.data_dir))
        stack.enter_context(_signals_set(stop))
        opened = open_devices() if open_devices else configured_devices(settings)
        stack.callback(opened.devices.close)
        for name, error in opened.broken:
            log.error("%s did not open: %s", name, error)
        devices = opened.devices
        power = KitPower(open_power(settings.ports.coprocessor))
        stack.callback(power.close)
        clock = RtcClock(devices, system_clock=system_clock)
        # an update ends the run once installed (and a rollback once decided): systemd
        # starts the kit again, into the slot its ExecStartPre chose
        updates = Updates(
            Slots(settings.slots),
            devices=devices,
            coprocessor=power.coprocessor,
            restart=stop.set,
            now=clock.now,
        )
        host = KitHost(
            settings.data_dir,
            devices,
            clock,
            language=settings.language,
            notifier=notifier,
            keys=settings.keys,
            observers=(power, updates),
            coprocessor=power.coprocessor,
        )
        power.guard_battery(devices, lambda: _running_policy(host))
        stack.callback(host.close)
        port_stop = threading.Event()
        kit_port = KitPort(settings.data_dir, host, updates=updates)
        stack.enter_context(_serve_port(settings, kit_port, port_stop))
        if started is not None:
            started(host)
        state = host.run(stop)
        host.close()  # the store is closed (a seal under way finished first): the Pico
        power.halted_if(state)  # may cut power once the Pi has halted
    return state


def _running_policy(host: KitHost) -> Policy:
    """The policy of the kit ``host`` runs (the battery is read only while one runs)."""
    store = host.store
    if store is None:
        raise DeviceError("no kit is running: the battery's policy is unknown", device="battery")
    return store.policy
