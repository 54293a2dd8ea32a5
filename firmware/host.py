"""The running kit as its program and its provisioning port both see it: one host, every backend.

Why one host: the port must answer from the kit that is running, never from a second store
opened beside it.  A second store's head is frozen when it opens, so a collection would
miss every record sealed since, and a reflash would retire ``state.db`` from under the
capture loop.  :class:`KitHost` owns the kit's devices, clock and store (through its
:class:`~firmware.kit.Kit`), and the Pi, the headless simulator, the terminal simulator and
the scripted demo all run their kit through it.

Reads (hello, status, list, get, ledger, receipt) go straight to the live store, which is
safe to read while the loop seals.  What needs the devices or changes the data folder is
handed to the thread that drives the loop and done at a *safe point*: between two events,
with no device work under way, so never in the middle of a seal or a capture.  ``flash``,
``purge`` and ``keygen`` then close the kit, apply, and open and boot it again; an
enrolment in progress (or one waiting in the journal to be resumed) refuses them with
:data:`ENROLMENT_BUSY`.

The host also speaks for the kit to systemd (`firmware.notify`): READY once the kit shows
its locked screen (or the unflashed screen), a watchdog ping from the event loop, STOPPING
when asked to stop.  Its observers hear of READY too: a version on trial takes its
self-test then (`firmware.update`).  What a program adds around the kit (the Pi's power guard, the
simulator's people in front) it adds as observers (`firmware.observer.KitObserver`): the
host tells them of each kit opened, each event handled and each self-test, and knows
nothing else of them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from capture.machine import CaptureState
from capture.prompts import Language
from firmware.kit import Kit, KitEnd, NoKit
from firmware.loop import TICK_SECONDS
from firmware.notify import Notifier
from firmware.observer import KitObserver
from firmware.selftest import Verdict, run_selftest
from hal.contracts import Devices
from hal.coprocessor import PowerCoprocessor
from hal.exc import DeviceError
from hal.types import BatteryReading, Indicator
from storage.kit import KitStore
from storage.kitkey import KeySettings
from storage.layout import is_provisioned

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The answer to flash, purge or keygen while an officer is in the middle of an enrolment.
ENROLMENT_BUSY = "kit busy: an enrolment is in progress; finish or cancel it on the kit"
#: How long a port request waits for the loop to come to a safe point before "busy".
SAFE_POINT_SECONDS = 20.0
#: How long a capture waits for a finger or a pen in a self-test asked for over the port.
PORT_SELFTEST_TIMEOUT = 5.0
#: How often the driving thread looks for work while no kit runs (an unflashed kit).
IDLE_SLICE_SECONDS = 0.1
#: What a kit that was never flashed shows until a technician flashes it.
UNPROVISIONED_LINES = ("BELUM DISIAPKAN", "Hubungi teknisi", "untuk flash kit")


class KitBusy(RuntimeError):
    """The kit cannot do this now (an enrolment is in progress, a device is at work)."""


class KitClock(Protocol):
    """The kit's time: read for every record, set by ``settime``."""

    def now(self) -> datetime: ...

    def set(self, when: datetime) -> None: ...


@dataclass
class _Request:
    """Work handed to the loop's thread; the asking thread waits on ``done``."""

    work: Callable[[], Any]
    restart: bool
    check: Callable[[], None] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class KitHost:
    """The kit on ``data_dir`` with ``devices`` and ``clock``, for its program and its port.

    Drive it with :meth:`run` (the Pi, the headless simulator: the loop runs here until
    ``stop``), or step the kit's loop yourself and call :meth:`safe_point` between steps
    inside :meth:`stepping` (the scripted demo).  Without either, requests are applied on
    the asking thread (tests that drive the loop by hand while the port waits).

    ``observers`` are told of every kit opened, every event handled and every self-test
    asked for over the port (`firmware.observer.KitObserver`), in their order.
    ``coprocessor`` is the power Pico (or why there is none) for the self-test's row.
    """

    def __init__(
        self,
        data_dir: Path,
        devices: Devices,
        clock: KitClock,
        *,
        language: Language = Language.ID,
        tick_seconds: float = TICK_SECONDS,
        notifier: Notifier | None = None,
        keys: KeySettings | None = None,
        observers: Sequence[KitObserver] = (),
        coprocessor: PowerCoprocessor | DeviceError | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.keys = keys or KeySettings()
        self.devices = devices
        self.clock = clock
        self.language = language
        self.notifier = notifier or Notifier(None)
        self._tick_seconds = tick_seconds
        self._observers = tuple(observers)
        self._coprocessor = coprocessor
        self.kit: Kit | None = None
        self._booted = False
        self._pending: _Request | None = None
        self._pending_lock = threading.Lock()
        self._direct_lock = threading.Lock()
        self._driven = False
        self._showing_unprovisioned = False
        self._said_ready = False

    def __repr__(self) -> str:
        state = self.kit.controller.state if self.kit is not None else "no kit"
        return f"<KitHost {self.data_dir} {state}>"

    # -- what the port reads ---------------------------------------------------------------

    @property
    def store(self) -> KitStore | None:
        """The running kit's store (live), or None while the folder is not a kit."""
        return self.kit.store if self.kit is not None else None

    def now(self) -> datetime:
        return self.clock.now()

    def set_clock(self, when: datetime) -> None:
        """Set the kit's clock (the DS3231 on a kit): at a safe point, as it is a device."""
        self.at_safe_point(lambda: self.clock.set(when), restart=False)

    def battery(self) -> BatteryReading | None:
        """The fuel gauge's reading, at a safe point as it is a device; None if it fails."""
        try:
            return self.at_safe_point(self.devices.battery.read, restart=False)
        except DeviceError as exc:
            log.warning("status: the battery did not answer: %s", exc)
            return None

    def selftest(self) -> list[dict[str, Any]]:
        """The checks of ``jemput-kit selftest`` on the running kit's devices, per device."""
        verdicts = self.at_safe_point(self._run_selftest, restart=False)
        if self.kit is not None:
            with contextlib.suppress(DeviceError):
                self.kit.controller.refresh()  # the display test pattern gives way again
        return [
            {"device": v.device, "ok": v.ok, "detail": v.said, "check": v.check} for v in verdicts
        ]

    def _run_selftest(self) -> list[Verdict]:
        for observer in self._observers:
            observer.selftest_started()
        try:
            return run_selftest(
                self.devices, timeout=PORT_SELFTEST_TIMEOUT, coprocessor=self._coprocessor
            )
        finally:
            for observer in self._observers:
                observer.selftest_ended()

    def change(self, work: Callable[[], T], *, check: Callable[[], None] | None = None) -> T:
        """Stop the kit at a safe point, do ``work`` on its data folder, open and boot it again.

        ``check`` runs first, at the safe point with the kit still open (nothing can be
        sealed between it and ``work``); whatever it raises refuses the change.
        """
        return self.at_safe_point(work, restart=True, check=check)

    # -- safe points -----------------------------------------------------------------------

    def at_safe_point(
        self, work: Callable[[], T], *, restart: bool, check: Callable[[], None] | None = None
    ) -> T:
        """Do ``work`` on the thread that drives the loop, between events; its result."""
        request = _Request(work, restart, check)
        if not self._driven:
            with self._direct_lock:
                return self._apply(request)
        with self._pending_lock:
            if self._pending is not None:
                raise KitBusy("kit busy: another provisioning request is being applied")
            self._pending = request
        if request.done.wait(SAFE_POINT_SECONDS):
            return request.outcome()
        with self._pending_lock:
            if self._pending is request:  # never taken: withdraw it
                self._pending = None
                raise KitBusy(
                    f"kit busy: the kit did not come to a safe point within "
                    f"{SAFE_POINT_SECONDS:.0f} s (a device is still at work); try again"
                )
        if not request.done.wait(SAFE_POINT_SECONDS):  # taken: it is being applied
            raise KitBusy("kit busy: the request is still being applied on the kit")
        return request.outcome()

    def _idle(self) -> bool:
        kit = self.kit
        return kit is None or not (kit.loop.busy() or kit.controller.busy)

    def _request_ready(self) -> bool:
        return self._pending is not None and self._idle()

    def _pause(self, stop: threading.Event) -> bool:
        """Whether the loop should hand back to :meth:`run`: stopping, a request, shut down."""
        kit = self.kit
        shut_down = kit is not None and kit.controller.state is CaptureState.SAFE_SHUTDOWN
        return stop.is_set() or shut_down or self._request_ready()

    def safe_point(self) -> None:
        """Apply a waiting request if the kit is between events with no device work.

        Call on the thread that drives the loop (``run`` does it itself).
        """
        if not self._idle():
            return
        with self._pending_lock:
            request, self._pending = self._pending, None
        if request is None:
            return
        try:
            request.result = self._apply(request)
        except Exception as exc:  # the asking thread gets it: the port turns it into an answer
            request.error = exc
        finally:
            request.done.set()

    @contextlib.contextmanager
    def stepping(self) -> Any:
        """Mark that the caller drives the loop and calls :meth:`safe_point` between steps."""
        self._driven = True
        try:
            yield self
        finally:
            self._driven = False
            self._fail_pending()

    def _apply(self, request: _Request) -> Any:
        kit = self.kit
        if not request.restart:
            return request.work()
        if kit is not None and (
            kit.controller.draft is not None or kit.store.journal.load() is not None
        ):
            raise KitBusy(ENROLMENT_BUSY)
        if request.check is not None:
            request.check()
        if kit is not None:
            kit.close()
            self.kit = None
        try:
            return request.work()
        finally:
            self.boot()

    def _fail_pending(self) -> None:
        with self._pending_lock:
            request, self._pending = self._pending, None
        if request is not None:
            request.error = KitBusy("kit busy: the kit is stopping")
            request.done.set()

    # -- the kit's life --------------------------------------------------------------------

    def open_kit(self) -> Kit | None:
        """Open the kit on the data folder if it is one (and none is open); the kit."""
        if self.kit is None and is_provisioned(self.data_dir):
            store = KitStore(self.data_dir, now=self.clock.now, tcti=self.keys.tcti)
            self.kit = Kit(
                self.devices,
                store,
                now=self.clock.now,
                language=self.language,
                tick_seconds=self._tick_seconds,
                after_event=self._after_event,
            )
            self._booted = False
            self._showing_unprovisioned = False
            for observer in self._observers:
                observer.kit_opened(self.kit)
        return self.kit

    def boot(self) -> None:
        """Open the kit and boot its controller, on the thread that will drive its loop."""
        kit = self.open_kit()
        if kit is not None and not self._booted:
            self._booted = True
            kit.start()
            self._after_event()
        elif kit is None:
            self._show_unprovisioned()

    def _show_unprovisioned(self) -> None:
        if self._showing_unprovisioned:
            return
        self._showing_unprovisioned = True
        with contextlib.suppress(DeviceError):
            self.devices.display.show(list(UNPROVISIONED_LINES))
            self.devices.panel.indicate(Indicator.ATTENTION)
        self._ready("unflashed: waiting for jemput-prov flash")

    def _ready(self, status: str) -> None:
        """Tell systemd READY, then the observers (a version on trial takes its self-test),
        the first time the kit gets there in this run."""
        if self._said_ready:
            return
        self._said_ready = True
        self.notifier.ready(status)
        for observer in self._observers:
            observer.kit_ready()

    def _after_event(self) -> None:
        """After every event the loop handled (a tick at least every second): tell systemd,
        then the observers."""
        kit = self.kit
        if kit is not None and kit.controller.state is CaptureState.LOCKED:
            self._ready("locked: ready for an officer")
        self.notifier.alive()
        for observer in self._observers:
            observer.event_handled()

    @property
    def state(self) -> KitEnd:
        """The capture state of the kit open here, or :attr:`NoKit.UNPROVISIONED`."""
        return self.kit.controller.state if self.kit is not None else NoKit.UNPROVISIONED

    def run(self, stop: threading.Event) -> KitEnd:
        """Drive the kit until ``stop`` or a safe shutdown; the state it ended in.

        Requests from the port are applied between events (:meth:`safe_point`).  A kit
        that is not flashed shows so and waits here for a flash.
        """
        self._driven = True
        try:
            self.boot()
            while not stop.is_set():
                self.safe_point()
                kit = self.kit
                if kit is None:
                    self._show_unprovisioned()
                    self._after_event()  # systemd's watchdog, the power Pico's heartbeat
                    stop.wait(IDLE_SLICE_SECONDS)
                    continue
                if kit.controller.state is CaptureState.SAFE_SHUTDOWN:
                    break
                kit.loop.run(until=lambda: self._pause(stop))
        finally:
            self._driven = False
            self._fail_pending()
        return self.state

    def close(self) -> None:
        """Tell systemd we stop, let a seal under way finish, close the store; safe twice.

        The devices stay open: whoever opened them closes them.
        """
        self.notifier.stopping()
        if self.kit is not None:
            started = time.monotonic()
            self.kit.close()  # the loop's worker finishes the job under way (a seal) first
            log.info("kit closed in %.1f s", time.monotonic() - started)
            self.kit = None
