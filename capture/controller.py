"""The capture loop's brain: one event at a time, from buttons, device jobs and the clock.

The :class:`Controller` owns the state machine (:mod:`capture.machine`), the enrolment in
progress and the screen; it is the :class:`~capture.base.StepContext` every step works in.
Each state's behaviour lives in its step (:mod:`capture.registry`); the controller routes
events to the step of the current state and keeps what is common to all of them: device
jobs that come back as events (a stale result is ignored, so Cancel always works), the
overlays (the held-BACK cancel's confirmation), follow-on events a step queues while it is
entered, the idle lock, the battery watch, and the display.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime

from capture.base import Confirmation, Overlay, Step
from capture.draft import Approval, ApprovalPurpose, Draft
from capture.errors import TransitionDuringEntry
from capture.events import ButtonEvent, Job, JobDone, JobKind, ShutdownAsked, ShutdownReason, Tick
from capture.machine import (
    CAPTURE_STATES,
    FINAL_STATE,
    LOCKABLE,
    POWER_OFF_AT_ONCE,
    CaptureEvent,
    CaptureMachine,
    CaptureState,
)
from capture.ports import RecordKeeper, RunJob
from capture.print_plan import PrintOutcome, PrintPlan, plan_print
from capture.prompts import Language, prompt
from capture.registry import make_steps
from hal.contracts import Devices
from hal.exc import DeviceError
from hal.types import BatteryReading, Button, Indicator, Press, Tone
from storage.audit import AuditKind
from storage.eligibility import NotYetBorn
from storage.errors import StorageFull
from storage.model import Officer, Resident, SealedRecord

log = logging.getLogger(__name__)

#: How often the battery is read, in seconds of kit time.
BATTERY_EVERY_SECONDS = 30


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
        self.devices = devices
        self.store = store
        self.now = now
        self.language = language
        self._run_job = run_job
        self.officer: Officer | None = None
        self.official: Officer | None = None
        self.draft: Draft | None = None
        self.approval: Approval | None = None
        #: The enrolment login found in the journal (offered, then resumed), until the
        #: journal is cleared: read once per login, not once per question about it.
        self.resumable: Draft | None = None
        self.sealed: SealedRecord | None = None
        self.print_outcome = PrintOutcome.NONE
        self.battery: BatteryReading | None = None
        self.shutdown_pending = False
        #: Why the kit switches off, once it was asked to (the shutdown screen says it).
        self.shutdown_reason: ShutdownReason | None = None
        self.screen: list[str] = []
        #: The question drawn over the step (the cancel confirmation), taking every button.
        self.shown_overlay: Overlay | None = None
        #: The draft's last step is not in the journal (full disk): the enrolment waits.
        self.journal_unsaved = False
        self._unwritten_audit: deque[tuple[AuditKind, dict[str, object]]] = deque()
        self._pending: Job | None = None
        self._jobs = 0
        self._follow: deque[CaptureEvent] = deque()
        self._entering = False
        self._last_activity = now()
        self._last_battery: datetime | None = None
        self.machine = CaptureMachine(model=self, state_field="machine_state")
        self.steps: dict[CaptureState, Step] = make_steps(self)

    # -- what tests, the demo bot and the terminal read --------------------------------------

    @property
    def state(self) -> CaptureState:
        return self.machine_state

    @property
    def step(self) -> Step:
        return self.steps[self.state]

    @property
    def busy(self) -> bool:
        """True while a device job this state waits for is running."""
        return self._pending is not None

    @property
    def working(self) -> bool:
        """True while a device job runs that does more than wait for a finger."""
        return self._pending is not None and not self._pending.kind.only_waits

    @property
    def waiting_for_finger(self) -> bool:
        """True while the kit only waits for someone to put a finger on the sensor."""
        return self._pending is not None and self._pending.kind.only_waits

    @property
    def confirming_cancel(self) -> bool:
        """True while the held-BACK cancel asks for its confirmation."""
        return isinstance(self.shown_overlay, CancelConfirmation)

    @property
    def officer_id(self) -> str:
        return self.officer.officer_id if self.officer else ""

    # -- guards the machine asks ---------------------------------------------------------------

    def print_unresolved(self) -> bool:
        return bool(self.store.ledger.unresolved())

    def journal_open(self) -> bool:
        """Whether the journal holds an enrolment login found (see :attr:`resumable`)."""
        return self.resumable is not None

    def _next_step(self) -> CaptureState:
        assert self.draft is not None
        return self.draft.next_step(self.store.policy.fingers)

    def needs_face(self) -> bool:
        return self._next_step() is CaptureState.FACE

    def needs_fingers(self) -> bool:
        return self._next_step() is CaptureState.FINGERS

    def needs_signature(self) -> bool:
        return self._next_step() is CaptureState.SIGNATURE

    def needs_finger_approval(self) -> bool:
        assert self.draft is not None
        return self.draft.needs_finger_approval()

    def _approving(self, purpose: ApprovalPurpose) -> bool:
        return self.approval is not None and self.approval.purpose is purpose

    def approving_fingers(self) -> bool:
        return self._approving(ApprovalPurpose.ALL_FINGERS)

    def approving_duplicate(self) -> bool:
        return self._approving(ApprovalPurpose.DUPLICATE)

    def approving_void(self) -> bool:
        return self._approving(ApprovalPurpose.VOID)

    def approving_signature(self) -> bool:
        return self._approving(ApprovalPurpose.SIGNATURE)

    def approving_correction(self) -> bool:
        return self._approving(ApprovalPurpose.CORRECTION)

    def approving_at_capture(self) -> bool:
        """A signature exception or a correction: approved, the person goes to review."""
        return self.approval is not None and self.approval.purpose.at_capture

    def from_elsewhere(self) -> bool:
        """A walk-in whose NIK is of another regency than the kit's: a temporary domicile."""
        assert self.draft is not None
        return self.draft.resident.nik[:4] != self.store.region[:4]

    def will_print(self) -> bool:
        """Whether anything is printed after this seal: a card, or else a slip."""
        return self.print_plan().after_seal is not PrintOutcome.NONE

    def has_draft(self) -> bool:
        return self.draft is not None

    def print_plan(self, *, ask_printer: bool = False) -> PrintPlan:
        """What this record asks for and what is printed after its seal (one rule)."""
        return plan_print(
            print_on_site=self.store.policy.print_on_site,
            draft=self.draft,
            voiding=self.approving_void(),
            card_printer=self.devices.card_printer,
            receipt_printer=self.devices.receipt_printer,
            stock=self.store.ledger.stock(),
            ask_printer=ask_printer,
        )

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
        self._pending = None  # a job of the state we leave no longer matters
        self.shown_overlay = None
        before = self.state
        self.machine.send(event)
        log.info("%s --%s--> %s", before, event, self.state)
        self._enter()
        if notice is not None:
            self.step.notify(notice)
        if self.shutdown_pending and self.state in POWER_OFF_AT_ONCE:
            self.shutdown_pending = False  # the seal or print it waited for is over
            self.power_off()

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
        self._jobs += 1
        self._pending = Job(kind, self._jobs)
        self.devices.panel.indicate(Indicator.BUSY)
        self._run_job(self._pending, work)

    def overlay(self, overlay: Overlay) -> None:
        """Draw ``overlay`` over the step; it takes every button until it is answered."""
        self.shown_overlay = overlay

    def confirm_cancel(self) -> None:
        """Ask before dropping the person being captured (held BACK, or BACK on a resume)."""
        self._pending = None
        self.overlay(CancelConfirmation(self))
        self.devices.panel.indicate(Indicator.ATTENTION)

    def audit(self, kind: AuditKind, **detail: object) -> None:
        """Append to the audit log; on a full disk the entry waits in memory for space.

        Why not raise: the audit log is written on failure paths too (a seal that failed
        because the disk is full), and a second failure there must not crash the kit.
        """
        self._unwritten_audit.append((kind, detail))
        try:
            while self._unwritten_audit:
                waiting, waiting_detail = self._unwritten_audit[0]
                self.store.audit.append(waiting, **waiting_detail)
                self._unwritten_audit.popleft()
        except StorageFull as exc:
            log.error("audit entry %s waits for space: %s", kind, exc)

    def journal(self) -> None:
        """Save the enrolment in progress: a crash now loses nothing captured so far.

        On a full disk the draft stays in memory and the "storage full" screen holds the
        enrolment until a save succeeds (OK, or the next tick once space is freed).
        """
        if self.draft is None:
            return
        try:
            self.store.journal.save(self.draft.to_map())
        except StorageFull as exc:
            log.error("journal not saved: %s", exc)
            self.journal_unsaved = True
            return
        self.journal_unsaved = False

    def clear_journal(self) -> None:
        """Empty the journal (sealed, cancelled or discarded): nothing is left to resume.

        On a full disk the journal stays: a sealed person's journal is dropped at the next
        login (`KitStore.clear_journal_if_sealed`), a cancelled one is offered and may be
        discarded again.
        """
        try:
            self.store.journal.clear()
        except StorageFull as exc:
            log.error("journal not cleared: %s", exc)
        self.journal_unsaved = False
        self.resumable = None

    def _show_storage_full(self) -> None:
        """Hold the enrolment on the "storage full" screen while its journal is unsaved."""
        if self.journal_unsaved and not isinstance(self.shown_overlay, StorageFullNotice):
            self.overlay(StorageFullNotice(self))
            self.devices.panel.indicate(Indicator.FAULT)

    def text(self, key: str, **values: object) -> list[str]:
        return prompt(key, self.language, **values)

    def word(self, key: str, **values: object) -> str:
        """A one-line prompt (a finger's name, a menu item) in the kit's language."""
        return prompt(key, self.language, **values)[0]

    def refresh(self) -> None:
        overlay = self.shown_overlay
        lines = overlay.lines() if overlay is not None else self.step.lines()
        columns, rows = self.devices.display.columns, self.devices.display.lines
        self.screen = [line[:columns] for line in lines[:rows]]
        try:
            self.devices.display.show(self.screen)
        except DeviceError as exc:  # a dead display must not stop enrolment: LED and buzzer
            log.error("display failed: %s", exc)
            self.devices.panel.indicate(Indicator.FAULT)

    def begin(self, resident: Resident, *, walk_in: bool = False) -> list[str] | None:
        """Start enrolling ``resident``: the draft follows the day's card rule and names the
        official present.  The lines say why not (a worklist resident while the policy asks
        for an official and none is in; a birth date not before today)."""
        policy = self.store.policy
        if policy.official_required and not walk_in and self.official is None:
            return self.text("official_needed")
        try:
            self.draft = Draft.begin(
                resident,
                officer_id=self.officer_id,
                started_at=self.now(),
                policy=policy,
                walk_in=walk_in,
                official_id=self.official.officer_id if self.official else None,
            )
        except NotYetBorn:
            return self.text("not_born", born=resident.birth_date.strftime("%d-%m-%Y"))
        return None

    def login(self, officer: Officer, how: str) -> None:
        self.officer = officer
        self.audit(AuditKind.LOGIN, officer=officer.officer_id, how=how)
        self.devices.panel.beep(Tone.OK)
        self.resumable = self._journaled_draft()
        self.go(CaptureEvent.LOGGED_IN)

    def _journaled_draft(self) -> Draft | None:
        """The enrolment the journal holds, to offer for resuming; None when there is none."""
        journaled = self.store.journal.load()
        if journaled is None:
            return None
        draft = Draft.from_map(dict(journaled))
        # a crash between sealing and clearing leaves a journal of a person already sealed:
        # the store drops it, so they are never offered for a second record
        if self.store.clear_journal_if_sealed(draft.resident.worklist_ref):
            return None
        return draft

    def discard_draft(self, why: AuditKind) -> None:
        """Drop the enrolment in progress (cancelled, or a journal the officer discarded)."""
        if self.draft is not None or self.journal_open():
            who = self.draft.resident.nik if self.draft else "journal"
            self.audit(why, nik=who, officer=self.officer_id)
        self.clear_journal()
        self.draft = None
        self.approval = None

    # -- events --------------------------------------------------------------------------------

    def handle(self, event: object) -> None:
        """The event loop's entry point: one event, handled to the end."""
        match event:
            case ButtonEvent(button=button, press=press):
                self._last_activity = self.now()
                self.devices.panel.beep(Tone.CLICK)
                self._button(button, press)
            case JobDone(name=job, result=result, error=error):
                if job != self._pending:
                    log.info("ignoring the late result of %s", job)
                    return
                self._pending = None
                if error is not None:
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
        self.refresh()

    def _button(self, button: Button, press: Press) -> None:
        overlay = self.shown_overlay
        if overlay is not None:
            if overlay.press(button) and self.shown_overlay is overlay:
                self.shown_overlay = None
            return
        if press is Press.HOLD and button is Button.BACK and self.state in CAPTURE_STATES:
            self.confirm_cancel()
            return
        self.step.press(button, press)

    def _tick(self, now: datetime) -> None:
        if self.journal_unsaved:
            self.journal()  # space may have been freed: the enrolment goes on by itself
            if not self.journal_unsaved and isinstance(self.shown_overlay, StorageFullNotice):
                self.shown_overlay = None
        if self._last_battery is None or (now - self._last_battery).total_seconds() >= (
            BATTERY_EVERY_SECONDS
        ):
            self._last_battery = now
            self.check_battery()
            self._send_followers()
        idle = (now - self._last_activity).total_seconds()
        idle_out = idle >= self.store.policy.idle_lock_seconds
        if idle_out and self.state in LOCKABLE and not self.working:
            self.audit(AuditKind.IDLE_LOCK, officer=self.officer_id, state=self.state)
            self.draft = None  # it is in the journal; login offers to resume it
            self.officer = None
            self._last_activity = now
            self.go(CaptureEvent.LOCK)

    def check_battery(self) -> None:
        """Read the fuel gauge; a critical battery switches the kit off, at once where the
        machine allows it, else once the seal or print under way is done."""
        try:
            self.battery = self.devices.battery.read()
        except DeviceError as exc:  # a fuel gauge fault must not stop enrolment; it is logged
            log.warning("battery read failed: %s", exc)
            return
        if self.battery.percent <= self.store.policy.critical_battery_percent:
            self.request_shutdown(ShutdownReason.BATTERY_CRITICAL)

    def request_shutdown(self, reason: ShutdownReason) -> None:
        """Switch off safely for ``reason``: at once where the machine allows it, else once
        the work under way (a seal, a print) is done.  The first reason given is kept."""
        if self.state is FINAL_STATE or self.shutdown_reason is not None:
            return  # already switching off (or waiting to)
        self.shutdown_reason = reason
        if self.state in POWER_OFF_AT_ONCE:
            self.power_off()
        else:
            self.shutdown_pending = True

    def power_off(self) -> None:
        """Switch off now: the event is sent once the current step has been entered."""
        self.audit(
            AuditKind.SAFE_SHUTDOWN,
            reason=str(self.shutdown_reason),
            percent=self.battery and self.battery.percent,
        )
        self.follow(CaptureEvent.POWER_LOST)

    def refusal(self) -> list[str] | None:
        """Why no new enrolment may start now, as screen lines, or None."""
        if (
            self.battery is not None
            and self.battery.percent <= self.store.policy.low_battery_percent
        ):
            return self.text("refused_battery", percent=int(self.battery.percent))
        if self.store.refusal() is not None:
            return self.text("refused_storage")
        return None


class StorageFullNotice(Overlay):
    """The documented "storage full" screen: nothing is lost, OK tries the save again."""

    def __init__(self, ctl: Controller) -> None:
        self._ctl = ctl

    def lines(self) -> list[str]:
        return self._ctl.text("storage_full")

    def press(self, button: Button) -> bool:
        if button is not Button.OK:
            return False
        self._ctl.journal()
        return not self._ctl.journal_unsaved


class CancelConfirmation(Confirmation):
    """Held BACK in a capture state: OK drops the person, BACK retries the step."""

    def __init__(self, ctl: Controller) -> None:
        super().__init__(ctl.text("confirm_cancel"), yes=self._cancel, no=self._retry)
        self._ctl = ctl

    def _cancel(self) -> None:
        self._ctl.discard_draft(AuditKind.CANCEL)
        self._ctl.go(CaptureEvent.CANCEL)

    def _retry(self) -> None:
        self._ctl.shown_overlay = None
        self._ctl._enter()  # BACK: go back to the step, and retry it
