"""The capture loop's brain: one event at a time, from buttons, device jobs and the clock.

The :class:`Controller` owns the state machine (:mod:`capture.machine`) and routes each
event to the step of the current state (:mod:`capture.registry`); it is the read-only
:class:`~capture.base.StepContext` every step works in.  It keeps what moving needs: the
events a step queues while it is entered (``follow``), the overlays drawn over a step (the
held-BACK cancel's confirmation, the "storage full" screen), and the display with its
public model (:mod:`capture.screen`).  The rest has a module of its own, which the
controller asks and acts on:

- :mod:`capture.session`: the officer logged in, the official present, the person being
  captured and journaled, the approval asked, the record just sealed;
- :mod:`capture.conditions`: the machine's conditions, the print plan, why no enrolment
  may start;
- :mod:`capture.guards`: the job ticket (a stale result is ignored, so Cancel always
  works; a print runs behind the machine), the idle lock, the battery watch and the safe
  shutdown;
- :mod:`capture.audit_trail`: the audit log, which waits in memory on a full disk.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime

from capture.audit_trail import AuditTrail
from capture.base import Confirmation, Overlay, Step
from capture.conditions import Conditions
from capture.draft import Approval, Draft
from capture.errors import TransitionDuringEntry
from capture.events import ButtonEvent, Job, JobDone, JobKind, ShutdownAsked, ShutdownReason, Tick
from capture.guards import IdleLock, JobTicket, Outcome, PowerWatch
from capture.layout import fit
from capture.machine import CAPTURE_STATES, CaptureEvent, CaptureMachine, CaptureState
from capture.ports import RecordKeeper, RunJob
from capture.print_plan import PrintPlan
from capture.prompts import Language, prompt
from capture.registry import make_steps
from capture.screen import Screen
from capture.session import Refusal, Session
from capture.widgets import DigitEntry, Menu
from hal.contracts import Devices
from hal.exc import DeviceError, NoFinger
from hal.types import BatteryReading, Button, Indicator, Press, Tone
from storage.audit import AuditKind
from storage.model import SealedRecord

log = logging.getLogger(__name__)

#: Where what went wrong behind the machine (a print) is shown: between two people, never
#: over a capture, a seal or a question.
BETWEEN_PEOPLE = frozenset({CaptureState.READY, CaptureState.DONE})


def _nobody_came(job: object, error: BaseException) -> bool:
    """A wait for a finger that ended with none: the lock screen's every 10 s all day.

    That is the ordinary end of a job that only waits, not a failure worth a log line; a
    sensor that breaks while waiting still raises something else, and is logged.
    """
    return isinstance(job, Job) and job.kind.only_waits and isinstance(error, NoFinger)


class Controller:
    """Drives one kit's capture loop; the event loop calls ``handle`` with one event at a time."""

    #: Set by the machine (``state_field``): the state the loop is in.
    machine_state: CaptureState

    def __init__(
        self,
        devices: Devices,
        store: RecordKeeper,
        *,
        run_job: RunJob,
        now: Callable[[], datetime],
        language: Language = Language.ID,
    ) -> None:
        self._devices = devices
        self._store = store
        self.now = now
        #: The kit's language (the officer's menu switches it).
        self.language = language
        self._audit = AuditTrail(store.audit)
        self._session = Session(store, self._audit, now=now)
        self._jobs = JobTicket(run_job)
        self._idle = IdleLock(now())
        self._power = PowerWatch(devices.battery)
        self._overlay: Overlay | None = None
        #: Overlays waiting for the officer to be between people (``interrupt``).
        self._interrupts: deque[Overlay] = deque()
        self._follow: deque[CaptureEvent] = deque()
        self._entering = False
        self._conditions = Conditions(self._session, store, devices, self._power)
        self.machine = CaptureMachine(
            model=self, state_field="machine_state", listeners=[self._conditions]
        )
        self.steps: dict[CaptureState, Step] = make_steps(self)
        self._view = Screen(self.state, language, ())

    # -- what a step reads (StepContext), and the firmware, the simulator and tests too -------

    @property
    def devices(self) -> Devices:
        return self._devices

    @property
    def store(self) -> RecordKeeper:
        return self._store

    @property
    def session(self) -> Session:
        return self._session

    @property
    def battery(self) -> BatteryReading | None:
        return self._power.reading

    @property
    def shutdown_reason(self) -> ShutdownReason | None:
        return self._power.reason

    @property
    def busy(self) -> bool:
        """True while a device job this state waits for is running."""
        return self._jobs.pending is not None

    @property
    def working_behind(self) -> bool:
        """True while device work runs that no state waits for (a print)."""
        return self._jobs.behind

    @property
    def kinds_behind(self) -> tuple[JobKind, ...]:
        """What that work is (`JobKind.PRINT`, `JobKind.SLIP`): the simulator's page says it."""
        return self._jobs.kinds_behind

    # -- what the firmware, the simulator and tests read -------------------------------------

    @property
    def state(self) -> CaptureState:
        return self.machine_state

    @property
    def step(self) -> Step:
        return self.steps[self.state]

    @property
    def view(self) -> Screen:
        """What the display shows, as the public screen model (drawn after every event)."""
        return self._view

    @property
    def screen(self) -> list[str]:
        """The display's lines, as drawn."""
        return list(self._view.lines)

    @property
    def shown_overlay(self) -> Overlay | None:
        """The question drawn over the step (the cancel confirmation), taking every button."""
        return self._overlay

    # the session's three facts the firmware and the simulator's kits read (the rest of the
    # session they read as ``session``)

    @property
    def draft(self) -> Draft | None:
        return self._session.draft

    @property
    def approval(self) -> Approval | None:
        return self._session.approval

    @property
    def sealed(self) -> SealedRecord | None:
        return self._session.sealed

    # -- moving --------------------------------------------------------------------------------

    def start(self) -> None:
        """Leave BOOT: the loop is running and the devices are wired."""
        self.go(CaptureEvent.BOOTED)
        self.refresh()

    def go(self, event: CaptureEvent, *, notice: list[str] | None = None) -> None:
        """Send ``event`` to the machine and enter the state it leads to.

        Then the events the entered steps queued (:meth:`follow`) are sent in turn.  The
        screen is drawn once, when the event that led here is handled to the end
        (:meth:`handle`, :meth:`start`).
        """
        if self._entering:
            raise TransitionDuringEntry(
                f"{self.state}: a step's enter() sent {event}; it must follow() it instead"
            )
        self._move(event, notice)
        self._send_followers()

    def follow(self, event: CaptureEvent) -> None:
        """Queue ``event``: it is sent once the step being entered has finished entering."""
        self._follow.append(event)

    def _move(self, event: CaptureEvent, notice: list[str] | None = None) -> None:
        self._jobs.forget()  # a job of the state we leave no longer matters
        self._overlay = None
        before = self.state
        self.machine.send(event)
        log.info("%s --%s--> %s", before, event, self.state)
        self._enter()
        if notice is not None:
            self.step.notify(notice)
        if not self._jobs.behind and self._power.arrived(self.state):  # the seal or print
            self._power_off()  # it waited for is over

    def _enter(self) -> None:
        self._entering = True
        try:
            self.step.enter()
        finally:
            self._entering = False

    def _send_followers(self) -> None:
        while self._follow:
            self._move(self._follow.popleft())

    def run(self, kind: JobKind, work: Callable[[], object]) -> None:
        """Run device work off the loop; the current step's ``finished`` gets the outcome."""
        self._jobs.run(kind, work)
        self._devices.panel.indicate(Indicator.BUSY)

    def run_behind(self, kind: JobKind, work: Callable[[], object], done: Outcome) -> None:
        """Run device work that no state waits for, on its device's lane (a print, while
        the officer starts the next person); ``done`` gets its outcome, in whatever state
        the loop is by then.  A switch-off waits for it."""
        self._jobs.run_behind(kind, work, done)

    def overlay(self, overlay: Overlay) -> None:
        """Draw ``overlay`` over the step; it takes every button until it is answered."""
        self._overlay = overlay

    def interrupt(self, overlay: Overlay) -> None:
        """Draw ``overlay`` once the officer is between people (the ready list or the done
        screen) and no other question is open: what went wrong behind the machine."""
        self._interrupts.append(overlay)
        self._devices.panel.indicate(Indicator.FAULT)

    def confirm_cancel(self) -> None:
        """Ask before dropping the person being captured (held BACK, or BACK on a resume)."""
        self._jobs.forget()
        self.overlay(CancelConfirmation(self))
        self._devices.panel.indicate(Indicator.ATTENTION)

    def retry_step(self) -> None:
        """Close the overlay and enter the step under it again: the step is retried."""
        self._overlay = None
        self._enter()

    # -- what a step asks ----------------------------------------------------------------------

    def audit(self, kind: AuditKind, **detail: object) -> None:
        """Append to the audit log; on a full disk the entry waits in memory for space."""
        self._audit.append(kind, **detail)

    def text(self, key: str, **values: object) -> list[str]:
        return prompt(key, self.language, **values)

    def word(self, key: str, **values: object) -> str:
        """A one-line prompt (a finger's name, a menu item) in the kit's language."""
        return prompt(key, self.language, **values)[0]

    def switch_language(self) -> None:
        self.language = Language.EN if self.language is Language.ID else Language.ID

    def print_plan(self, *, ask_printer: bool = False) -> PrintPlan:
        """What this record asks for and what is printed after its seal (one rule)."""
        return self._conditions.print_plan(ask_printer=ask_printer)

    def refusal(self) -> Refusal | None:
        """Why no new enrolment may start now, or None."""
        return self._conditions.refusal()

    # -- the display ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Draw the screen, laid out to fit the display (:mod:`capture.layout`), and keep
        what it shows as the public model (:attr:`view`)."""
        overlay, step = self._overlay, self.step
        lines = overlay.lines() if overlay is not None else step.lines()
        widget = step.widget() if overlay is None else None
        display = self._devices.display
        self._view = Screen(
            self.state,
            self.language,
            tuple(fit(lines, columns=display.columns, rows=display.lines, language=self.language)),
            menu=widget.view() if isinstance(widget, Menu) else None,
            entry=widget.view() if isinstance(widget, DigitEntry) else None,
            finger=step.asked_finger() if overlay is None else None,
            job=self._jobs.pending,
        )
        try:
            self._devices.display.show(self.screen)
        except DeviceError as exc:  # a dead display must not stop enrolment: LED and buzzer
            log.error("display failed: %s", exc)
            self._devices.panel.indicate(Indicator.FAULT)

    # -- events --------------------------------------------------------------------------------

    def handle(self, event: object) -> None:
        """The event loop's entry point: one event, handled to the end."""
        match event:
            case ButtonEvent(button=button, press=press):
                self._idle.touch(self.now())
                self._devices.panel.beep(Tone.CLICK)
                self._button(button, press)
            case JobDone(name=job, result=result, error=error) if done := self._jobs.take_behind(
                job
            ):
                if error is not None:
                    log.warning("%s failed: %s", job, error)
                done(result, error)
                if not self._jobs.behind and self._power.arrived(self.state):
                    self._power_off()  # the switch-off waited for this print
            case JobDone(name=job, result=result, error=error):
                if not self._jobs.take(job):
                    log.info("ignoring the late result of %s", job)
                    return
                if error is not None and not _nobody_came(job, error):
                    log.warning("%s failed: %s", job, error)
                self.step.finished(result, error)
            case Tick(now=now):
                self._tick(now)
            case ShutdownAsked(reason=reason):
                self.request_shutdown(reason)
            case _:
                raise TypeError(f"the capture loop cannot handle {event!r}")
        self._send_followers()
        self._show_storage_full()
        self._show_interrupt()
        self.refresh()

    def _button(self, button: Button, press: Press) -> None:
        overlay = self._overlay
        if overlay is not None:
            if overlay.press(button) and self._overlay is overlay:
                self._overlay = None
            return
        if press is Press.HOLD and button is Button.BACK and self.state in CAPTURE_STATES:
            self.confirm_cancel()
            return
        self.step.press(button, press)

    def _tick(self, now: datetime) -> None:
        if self._session.journal_unsaved:
            self._session.journal()  # space may have been freed: the enrolment goes on by itself
            if not self._session.journal_unsaved and isinstance(self._overlay, StorageFullNotice):
                self._overlay = None
        if self._power.due(now):
            self.check_battery()
            self._send_followers()
        policy = self._store.policy
        if self._idle.due(
            now, seconds=policy.idle_lock_seconds, state=self.state, working=self._jobs.working
        ):
            self.audit(AuditKind.IDLE_LOCK, officer=self._session.officer_id, state=self.state)
            self._session.walk_away()
            self._idle.touch(now)
            self.go(CaptureEvent.LOCK)

    def _show_interrupt(self) -> None:
        """Draw the oldest waiting interrupt, once the officer is between people."""
        if self._interrupts and self._overlay is None and self.state in BETWEEN_PEOPLE:
            self.overlay(self._interrupts.popleft())
            self._devices.panel.indicate(Indicator.ATTENTION)

    def _show_storage_full(self) -> None:
        """Hold the enrolment on the "storage full" screen while its journal is unsaved."""
        if self._session.journal_unsaved and not isinstance(self._overlay, StorageFullNotice):
            self.overlay(StorageFullNotice(self))
            self._devices.panel.indicate(Indicator.FAULT)

    # -- switching off -------------------------------------------------------------------------

    def check_battery(self) -> None:
        """Read the fuel gauge; a critical battery switches the kit off, at once where the
        machine allows it, else once the seal or print under way is done."""
        if self._power.read(critical_percent=self._store.policy.critical_battery_percent):
            self.request_shutdown(ShutdownReason.BATTERY_CRITICAL)

    def request_shutdown(self, reason: ShutdownReason) -> None:
        """Switch off safely for ``reason``: at once where the machine allows it, else once
        the work under way (a seal, a print, behind the machine too) is done.  The first
        reason given is kept."""
        if not self._power.ask(reason, self.state):
            return
        if self._jobs.behind:
            self._power.hold()
        else:
            self._power_off()

    def _power_off(self) -> None:
        """Switch off now: the event is sent once the current step has been entered."""
        battery = self._power.reading
        self.audit(
            AuditKind.SAFE_SHUTDOWN,
            reason=str(self._power.reason),
            percent=battery and battery.percent,
        )
        self.follow(CaptureEvent.POWER_LOST)


class StorageFullNotice(Overlay):
    """The documented "storage full" screen: nothing is lost, OK tries the save again."""

    def __init__(self, ctl: Controller) -> None:
        self._ctl = ctl

    def lines(self) -> list[str]:
        return self._ctl.text("storage_full")

    def press(self, button: Button) -> bool:
        if button is not Button.OK:
            return False
        session = self._ctl.session
        session.journal()
        return not session.journal_unsaved


class CancelConfirmation(Confirmation):
    """Held BACK in a capture state: OK drops the person, BACK retries the step."""

    def __init__(self, ctl: Controller) -> None:
        super().__init__(ctl.text("confirm_cancel"), yes=self._cancel, no=ctl.retry_step)
        self._ctl = ctl

    def _cancel(self) -> None:
        self._ctl.session.drop(AuditKind.CANCEL)
        self._ctl.go(CaptureEvent.CANCEL)
