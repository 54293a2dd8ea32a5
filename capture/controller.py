"""The capture loop's brain: one event at a time, from buttons, device jobs and the clock.

The :class:`Controller` owns the state machine (:mod:`capture.machine`), the enrolment in
progress and the screen.  Each state's behaviour lives in a :class:`~capture.steps.Step`
(menus, digit entry, device jobs, retries); the controller routes events to the step of
the current state, and keeps what is common to all of them: device jobs that come back
as events (a stale result is ignored, so Cancel always works), the held-BACK cancel with
its confirmation, the idle lock, the battery watch, and the display.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from capture.draft import Approval, Draft
from capture.events import ButtonEvent, JobDone, Tick
from capture.machine import CAPTURE_STATES, CaptureMachine
from capture.ports import RecordKeeper, RunJob
from capture.prompts import Language, prompt
from hal.contracts import Devices
from hal.exc import DeviceError
from hal.types import BatteryReading, Button, Indicator, Press, Tone
from storage.model import Officer, SealedRecord

log = logging.getLogger(__name__)

#: How often the battery is read, in seconds of kit time.
BATTERY_EVERY_SECONDS = 30
#: States the idle lock may interrupt: never while sealing or printing.
LOCKABLE = CAPTURE_STATES | {
    "ready",
    "admin",
    "nik_entry",
    "done",
    "load_cards",
    "void_select",
    "pin_entry",
    "approval",
}
#: Device jobs that only wait for someone to come (a finger at the approval screen): the
#: idle lock may interrupt them, as it does an officer who walked away.
WAITING_JOBS = frozenset({"identify"})


class Controller:
    """Drives one kit's capture loop; the event loop calls ``handle`` with one event at a time."""

    def __init__(
        self,
        devices: Devices,
        store: RecordKeeper,
        *,
        run_job: RunJob,
        now: Callable[[], datetime],
        language: Language = Language.ID,
    ) -> None:
        from capture.steps import make_steps  # the steps need the controller's names

        self.devices = devices
        self.store = store
        self.now = now
        self.language = language
        self._run_job = run_job
        self.officer: Officer | None = None
        self.draft: Draft | None = None
        self.approval: Approval | None = None
        #: The enrolment login found in the journal (offered, then resumed), until the
        #: journal is cleared: read once per login, not once per question about it.
        self.resumable: Draft | None = None
        self.sealed: SealedRecord | None = None
        self.battery: BatteryReading | None = None
        self.confirming_cancel = False
        self.shutdown_pending = False
        self.screen: list[str] = []
        self._pending: str | None = None
        self._jobs = 0
        self._last_activity = now()
        self._last_battery: datetime | None = None
        self.machine = CaptureMachine(model=self, state_field="machine_state")
        self.steps = make_steps(self)

    # -- what tests, the demo bot and the terminal read --------------------------------------

    @property
    def state(self) -> str:
        return self.machine_state

    @property
    def step(self) -> Any:
        return self.steps[self.state]

    @property
    def busy(self) -> bool:
        """True while a device job this state waits for is running."""
        return self._pending is not None

    @property
    def _pending_job(self) -> str | None:
        """The name of the job this state waits for (``_pending`` without its number)."""
        return self._pending.split("#")[0] if self._pending is not None else None

    @property
    def working(self) -> bool:
        """True while a device job runs that does more than wait for a finger."""
        return self.busy and self._pending_job not in WAITING_JOBS

    @property
    def waiting_for_finger(self) -> bool:
        """True while the kit only waits for someone to put a finger on the sensor."""
        return self._pending_job in WAITING_JOBS

    # -- guards the machine asks ---------------------------------------------------------------

    def print_unresolved(self) -> bool:
        return bool(self.store.ledger.unresolved())

    def journal_open(self) -> bool:
        """Whether the journal holds an enrolment login found (see :attr:`resumable`)."""
        return self.resumable is not None

    def _next_step(self) -> str:
        assert self.draft is not None
        return self.draft.next_step(self.store.policy.fingers)

    def needs_face(self) -> bool:
        return self._next_step() == "face"

    def needs_fingers(self) -> bool:
        return self._next_step() == "fingers"

    def needs_signature(self) -> bool:
        return self._next_step() == "signature"

    def needs_finger_approval(self) -> bool:
        assert self.draft is not None
        return self.draft.needs_finger_approval()

    def approving_fingers(self) -> bool:
        return self.approval is not None and self.approval.purpose == "all_fingers"

    def approving_void(self) -> bool:
        return self.approval is not None and self.approval.purpose == "void"

    def will_print(self) -> bool:
        """Whether anything is printed after this seal: a card, or else a slip."""
        printers = self.devices.card_printer or self.devices.receipt_printer
        return printers is not None and not self.approving_void()

    def prints_card(self) -> bool:
        """Whether this record asks for a card: policy allows it and the data is verified.

        A walk-in's demographics come only from the NIK keyed at the kit, so their card is
        printed at the office after verification, not on site.
        """
        draft = self.draft
        return bool(
            self.store.policy.print_on_site
            and draft is not None
            and not draft.walk_in
            and not self.approving_void()
        )

    def has_draft(self) -> bool:
        return self.draft is not None

    # -- moving --------------------------------------------------------------------------------

    def start(self) -> None:
        """Leave BOOT: the loop is running and the devices are wired."""
        self.go("booted")
        self.refresh()

    def go(self, event: str) -> None:
        """Send ``event`` to the machine and enter the state it leads to.

        The screen is drawn once, when the event that led here is handled to the end
        (:meth:`handle`, :meth:`start`): a step may still add a note after ``go``.
        """
        self._pending = None  # a job of the state we leave no longer matters
        self.confirming_cancel = False
        before = self.state
        self.machine.send(event)
        log.info("%s --%s--> %s", before, event, self.state)
        self.step.enter()

    def run(self, name: str, work: Callable[[], Any]) -> None:
        """Run device work off the loop; the current step's ``finished`` gets the outcome."""
        self._jobs += 1
        self._pending = f"{name}#{self._jobs}"
        self.devices.panel.indicate(Indicator.BUSY)
        self._run_job(self._pending, work)

    def journal(self) -> None:
        """Save the enrolment in progress: a crash now loses nothing captured so far."""
        if self.draft is not None:
            self.store.journal.save(self.draft.to_map())

    def clear_journal(self) -> None:
        """Empty the journal (sealed, cancelled or discarded): nothing is left to resume."""
        self.store.journal.clear()
        self.resumable = None

    def text(self, key: str, **values: object) -> list[str]:
        return prompt(key, self.language, **values)

    def word(self, key: str, **values: object) -> str:
        """A one-line prompt (a finger's name, a menu item) in the kit's language."""
        return prompt(key, self.language, **values)[0]

    def refresh(self) -> None:
        lines = self.text("confirm_cancel") if self.confirming_cancel else self.step.lines()
        columns, rows = self.devices.display.columns, self.devices.display.lines
        self.screen = [line[:columns] for line in lines[:rows]]
        try:
            self.devices.display.show(self.screen)
        except DeviceError as exc:  # a dead display must not stop enrolment: LED and buzzer
            log.error("display failed: %s", exc)
            self.devices.panel.indicate(Indicator.FAULT)

    def login(self, officer: Officer, how: str) -> None:
        self.officer = officer
        self.store.audit.append("login", officer=officer.officer_id, how=how)
        self.devices.panel.beep(Tone.OK)
        self.resumable = self._journaled_draft()
        self.go("logged_in")

    def _journaled_draft(self) -> Draft | None:
        """The enrolment the journal holds, to offer for resuming; None when there is none.

        A crash between writing a record and clearing the journal leaves a journal of a
        person already sealed: offering to resume them would record them twice, so that
        journal is dropped.
        """
        journaled = self.store.journal.load()
        if journaled is None:
            return None
        draft = Draft.from_map(dict(journaled))
        ref = draft.resident.worklist_ref
        if ref is not None and ref in self.store.recorded_refs():
            self.store.audit.append("journal-already-sealed", ref=ref)
            self.store.journal.clear()
            return None
        return draft

    def discard_draft(self, why: str) -> None:
        """Drop the enrolment in progress (cancelled, or a journal the officer discarded)."""
        if self.draft is not None or self.journal_open():
            who = self.draft.resident.nik if self.draft else "journal"
            self.store.audit.append(why, nik=who, officer=self.officer_id)
        self.clear_journal()
        self.draft = None
        self.approval = None

    @property
    def officer_id(self) -> str:
        return self.officer.officer_id if self.officer else ""

    # -- events --------------------------------------------------------------------------------

    def handle(self, event: object) -> None:
        """The event loop's entry point: one event, handled to the end."""
        match event:
            case ButtonEvent(button=button, press=press):
                self._last_activity = self.now()
                self.devices.panel.beep(Tone.CLICK)
                self._button(button, press)
            case JobDone(name=name, result=result, error=error):
                if name != self._pending:
                    log.info("ignoring the late result of %s", name)
                    return
                self._pending = None
                if error is not None:
                    log.warning("%s failed: %s", name, error)
                self.step.finished(result, error)
            case Tick(now=now):
                self._tick(now)
            case _:
                raise TypeError(f"the capture loop cannot handle {event!r}")
        self.refresh()

    def _button(self, button: Button, press: Press) -> None:
        if self.confirming_cancel:
            if button is Button.OK:
                self.discard_draft("cancel")
                self.go("cancel")
            elif button is Button.BACK:
                self.confirming_cancel = False
                self.step.enter()  # BACK: go back to the step, and retry it
            return
        if press is Press.HOLD and button is Button.BACK and self.state in CAPTURE_STATES:
            self._pending = None
            self.confirming_cancel = True
            self.devices.panel.indicate(Indicator.ATTENTION)
            return
        self.step.press(button, press)

    def _tick(self, now: datetime) -> None:
        if self._last_battery is None or (now - self._last_battery).total_seconds() >= (
            BATTERY_EVERY_SECONDS
        ):
            self._last_battery = now
            self.read_battery()
        idle = (now - self._last_activity).total_seconds()
        idle_out = idle >= self.store.policy.idle_lock_seconds
        if idle_out and self.state in LOCKABLE and not self.working:
            self.store.audit.append("idle-lock", officer=self.officer_id, state=self.state)
            self.draft = None  # it is in the journal; login offers to resume it
            self.officer = None
            self._last_activity = now
            self.go("lock")

    def read_battery(self) -> None:
        try:
            self.battery = self.devices.battery.read()
        except Exception as exc:  # a fuel gauge fault must not stop enrolment; it is logged
            log.warning("battery read failed: %s", exc)
            return
        if self.battery.percent <= self.store.policy.critical_battery_percent:
            if self.state in ("sealing", "printing", "boot", "self_test"):
                self.shutdown_pending = True
            elif self.state != "safe_shutdown":
                self.power_off()

    def power_off(self) -> None:
        self.store.audit.append("safe-shutdown", percent=self.battery and self.battery.percent)
        self.go("power_lost")

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
