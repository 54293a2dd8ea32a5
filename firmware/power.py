"""The kit's side of the power co-processor: heartbeats, shutdown requests, "halted".

The Pico (``pico_micropython``, driver :mod:`hal.coprocessor`) power-cycles a Pi that stops
heartbeating, and asks for a safe shutdown when its button is held or the cell is
critical.  :class:`PowerGuard` keeps the kit's half of that contract:

* it heartbeats from the event loop (``after_event``), so a hung loop stops the beats and
  the Pico restarts the kit; the beat says whether a seal is under way, so the Pico never
  cuts then;
* a shutdown request is handed to the capture controller the way a critical battery is:
  a seal or print under way finishes first, then SAFE_SHUTDOWN;
* :class:`GuardedBattery` bounds the fuel gauge's charge by the Pico's verdict, so the
  controller's own rules (low: no new enrolment; critical: finish and shut down) follow
  the co-processor too;
* :meth:`PowerGuard.halted`, called once the store is closed, lets the Pico cut power.

A co-processor that stops answering is logged and retried at the next beat; it never
stops an enrolment (the Pico, for its part, then power-cycles the kit, which resumes).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from capture.controller import Controller
from capture.events import ShutdownAsked, ShutdownReason
from capture.machine import FINAL_STATE, SEAL_UNDER_WAY
from firmware.kit import Kit, KitEnd
from firmware.observer import KitObserver
from hal.contracts import Battery, Closing, Devices
from hal.coprocessor import (
    BatteryLevel,
    CoprocessorStatus,
    PowerCoprocessor,
    ShutdownRequest,
)
from hal.exc import DeviceAbsent, DeviceError
from hal.types import BatteryReading, DeviceInfo
from storage.audit import AuditKind
from storage.model import Policy

log = logging.getLogger(__name__)

#: How often the loop heartbeats, in seconds: well inside the Pico's 60 s timeout.
HEARTBEAT_SECONDS = 5.0
#: After a heartbeat went unanswered, the next try waits this long: each try blocks the
#: loop for the driver's whole deadline, and an officer must not feel a missing Pico.
RETRY_SECONDS = 30.0
#: Why the capture loop switches off, for each request of the Pico.
SHUTDOWN_REASONS = {
    ShutdownRequest.BUTTON: ShutdownReason.POWER_BUTTON,
    ShutdownRequest.BATTERY: ShutdownReason.BATTERY_CRITICAL,
}


class PowerGuard:
    """Heartbeats the co-processor from the kit's loop and acts on what it answers.

    Build it before the :class:`~firmware.kit.Kit`, give the kit ``after_event=guard.after_event``
    and then :meth:`watch` the kit's controller.  ``every`` is the heartbeat period in
    seconds of the wall clock (0: on every event, for tests).
    """

    def __init__(
        self,
        coprocessor: PowerCoprocessor,
        *,
        every: float = HEARTBEAT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.coprocessor = coprocessor
        self.every = every
        self._clock = clock
        self._controller: Controller | None = None
        self._next_beat = float("-inf")
        #: The Pico's last answer (None before the first).
        self.status: CoprocessorStatus | None = None
        #: Heartbeats that got no answer (each logged).
        self.missed = 0
        self._answering = True
        #: Why the kit was asked to shut down, once it was.
        self.request: ShutdownRequest = ShutdownRequest.NONE

    def __repr__(self) -> str:
        return f"<PowerGuard {self.coprocessor!r} request={self.request.name} missed={self.missed}>"

    @property
    def level(self) -> BatteryLevel:
        """The Pico's last word on the cell (OK until it said anything)."""
        return self.status.level if self.status else BatteryLevel.OK

    def current_level(self) -> BatteryLevel:
        """Ask the Pico now (a STATUS, no heartbeat); its last word if it does not answer,
        or if it missed its last heartbeat (asking would only stall the loop again)."""
        if not self._answering:
            return self.level
        try:
            self.status = self.coprocessor.status()
        except DeviceError as exc:
            self._answering = False
            log.warning("power co-processor unread, using its last level: %s", exc)
        return self.level

    def watch(self, controller: Controller) -> None:
        """Start guarding ``controller`` (heartbeats begin with the next event)."""
        self._controller = controller

    def after_event(self) -> None:
        """Called by the kit after every event it handled (ticks included), and by the host
        while the kit waits to be flashed: a kit with no controller still beats (else the
        Pico would power-cycle it while the technician flashes), but has nothing to shut
        down, so a request then is left to the Pico's long delay."""
        ctl = self._controller
        if ctl is not None and ctl.state is FINAL_STATE:
            return  # the loop is ending: halted() comes next
        now = self._clock()
        if now < self._next_beat:
            return
        sealing = ctl is not None and ctl.state in SEAL_UNDER_WAY
        try:
            self.status = self.coprocessor.heartbeat(sealing=sealing)
        except DeviceError as exc:
            self.missed += 1
            self._answering = False
            self._next_beat = now + RETRY_SECONDS
            log.warning("power co-processor missed a heartbeat (%d so far): %s", self.missed, exc)
            return
        self._answering = True
        self._next_beat = now + self.every
        if (
            ctl is not None
            and self.status.shutdown_requested
            and self.request is ShutdownRequest.NONE
        ):
            self.request = self.status.request
            self._shut_down(ctl)

    def _shut_down(self, ctl: Controller) -> None:
        """Hand the request to the loop as an event: the machine decides what finishes first."""
        log.warning("power co-processor asks for a safe shutdown (%s)", self.request.name)
        ctl.store.audit.append(AuditKind.POWER_REQUEST, reason=self.request.name.lower())
        ctl.handle(ShutdownAsked(SHUTDOWN_REASONS[self.request]))

    def halted(self) -> None:
        """The store is closed and the Pi halts now: the Pico cuts after its short delay.

        Call after ``Kit.close()``.  If the Pico does not answer, it still cuts after its
        long delay; the failure is logged, not raised, since the halt must go on.
        """
        try:
            self.status = self.coprocessor.halted()
        except DeviceError as exc:
            log.error("power co-processor did not hear 'halted' (%s): it cuts later", exc)


class GuardedBattery(Closing):
    """The kit's :class:`~hal.contracts.Battery`: the fuel gauge, bounded by the Pico.

    The gauge knows the charge; the Pico measures the cell where the kit's load is and
    decides when power goes.  The more pessimistic of the two wins: at the Pico's LOW the
    charge reads no more than the policy's low threshold (no new enrolments), at its
    CRITICAL no more than the critical one (finish the seal, shut down).
    """

    def __init__(self, gauge: Battery, guard: PowerGuard, *, policy: Callable[[], Policy]) -> None:
        self.gauge = gauge
        self.name = gauge.name
        self._guard = guard
        self._policy = policy

    def read(self) -> BatteryReading:
        reading = self.gauge.read()
        policy = self._policy()
        ceiling = {
            BatteryLevel.OK: 100.0,
            BatteryLevel.LOW: float(policy.low_battery_percent),
            BatteryLevel.CRITICAL: float(policy.critical_battery_percent),
        }[self._guard.current_level()]
        return replace(reading, percent=min(reading.percent, ceiling))

    def probe(self) -> DeviceInfo:
        return self.gauge.probe()

    def close(self) -> None:
        self.gauge.close()


def open_coprocessor(port: str, *, timeout: float = 0.5) -> PowerCoprocessor | DeviceError:
    """The co-processor on ``port``, or the error that says why there is none (logged).

    Never raises: a kit without its Pico (not configured, unplugged, not flashed) still
    enrols; the self-test names the fault and the technician fits or flashes it.
    """
    if not port:
        error: DeviceError = DeviceAbsent(
            "power co-processor not configured: [ports] coprocessor is empty in kit.toml; "
            'fit the Pico and set coprocessor = "/dev/ttyAMA1"',
            device="coprocessor",
        )
    else:
        try:
            return PowerCoprocessor(port=port, timeout=timeout)
        except DeviceError as exc:
            error = exc
    log.error("the kit runs without its power co-processor: %s", error)
    return error


def coprocessor_report(coprocessor: PowerCoprocessor) -> str:
    """The self-test's line for the co-processor: firmware, why it last reset, the cell.

    Raises the driver's DeviceError when the Pico does not answer.
    """
    info = coprocessor.read_info()
    status = coprocessor.status()
    cause = getattr(info.reset_cause, "name", f"code {info.reset_cause}")
    return (
        f"firmware {info.version_text}, last reset {cause}, last power cut "
        f"{info.last_cut.name}, cell {status.volts:.2f} V ({status.level.name}), "
        f"{status.garbage} bytes of line noise dropped"
    )


class KitPower(KitObserver):
    """The co-processor as a running kit uses it: the guard, the battery, "halted".

    One wiring for the Pi (`firmware.pi`) and the simulator: give it to the host as an
    observer (it guards each kit opened and heartbeats after each event), wrap the
    battery with :meth:`guard_battery`, and call :meth:`halted_if` once the host has
    closed.  Without a co-processor (``coprocessor`` is the error that said why) it does
    nothing.
    """

    def __init__(self, coprocessor: PowerCoprocessor | DeviceError) -> None:
        self.coprocessor = coprocessor
        self.guard = PowerGuard(coprocessor) if isinstance(coprocessor, PowerCoprocessor) else None

    def __repr__(self) -> str:
        return f"<KitPower {self.guard or self.coprocessor!r}>"

    def kit_opened(self, kit: Kit) -> None:
        """Guard the new kit's controller."""
        if self.guard is not None:
            self.guard.watch(kit.controller)

    def event_handled(self) -> None:
        """Heartbeat (the guard paces the beats itself)."""
        if self.guard is not None:
            self.guard.after_event()

    def guard_battery(self, devices: Devices, policy: Callable[[], Policy]) -> None:
        """Bound ``devices.battery`` by the Pico's verdict on the cell."""
        if self.guard is not None:
            devices.battery = GuardedBattery(devices.battery, self.guard, policy=policy)

    def halted_if(self, state: KitEnd) -> None:
        """The host closed in ``state``; after a safe shutdown, tell the Pico "halted"."""
        if self.guard is not None and state is FINAL_STATE:
            self.guard.halted()

    def close(self) -> None:
        if isinstance(self.coprocessor, PowerCoprocessor):
            self.coprocessor.close()
