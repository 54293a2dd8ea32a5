"""What every step is built on: the :class:`Step` base, the context it works in, and the
pieces two or more steps share (the finger login, the PIN picker, a confirmation overlay).

A step sees the loop only through :class:`StepContext`, a narrow Protocol that
:class:`capture.controller.Controller` satisfies: the steps import this module, never the
controller or each other, and :mod:`capture.registry` imports every step.  A step moves the
machine with ``ctx.go(event)`` from a button or a job's outcome; from ``enter`` it only
``ctx.follow(event)``s, which the controller sends once the entry has finished.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from capture.draft import Approval, Draft
from capture.events import JobKind, ShutdownReason
from capture.machine import CaptureEvent
from capture.ports import RecordKeeper
from capture.print_plan import PrintOutcome, PrintPlan
from capture.prompts import Language
from capture.widgets import DigitEntry, Menu
from hal.contracts import Devices
from hal.exc import NoFinger, NoMatch
from hal.types import BatteryReading, Button, Indicator, LibraryMatch, Press, Tone
from storage.audit import AuditKind
from storage.model import Officer, Resident, SealedRecord
from storage.officers import PIN_DIGITS

#: Seconds an identify or capture waits for a finger before the job is started again.
FINGER_WAIT_SECONDS = 10.0


class StepContext(Protocol):
    """The loop as a step sees it: devices, store, the enrolment in progress, and moves."""

    devices: Devices
    store: RecordKeeper
    language: Language
    officer: Officer | None
    #: The village official present (logged in at the officer's menu), if any.
    official: Officer | None
    draft: Draft | None
    approval: Approval | None
    resumable: Draft | None
    sealed: SealedRecord | None
    battery: BatteryReading | None
    #: Why the kit is switching off (None while it is not): the shutdown screen says it.
    shutdown_reason: ShutdownReason | None
    #: What the printers gave the record just sealed (the done screen says it).
    print_outcome: PrintOutcome

    @property
    def officer_id(self) -> str: ...

    @property
    def busy(self) -> bool: ...

    def now(self) -> datetime: ...

    def go(self, event: CaptureEvent, *, notice: list[str] | None = None) -> None:
        """Send ``event`` now (from a press or a job's outcome); ``notice`` is shown by the
        state it leads to until the officer presses a button."""
        ...

    def follow(self, event: CaptureEvent) -> None:
        """Send ``event`` once the step being entered has finished entering."""
        ...

    def run(self, kind: JobKind, work: Callable[[], object]) -> None: ...

    def audit(self, kind: AuditKind, **detail: object) -> None: ...

    def journal(self) -> None: ...

    def clear_journal(self) -> None: ...

    def journal_open(self) -> bool: ...

    def discard_draft(self, why: AuditKind) -> None: ...

    def login(self, officer: Officer, how: str) -> None: ...

    def begin(self, resident: Resident, *, walk_in: bool = False) -> list[str] | None:
        """Start enrolling ``resident`` (the draft, by the day's card rule), or say why not."""
        ...

    def text(self, key: str, **values: object) -> list[str]: ...

    def word(self, key: str, **values: object) -> str: ...

    def print_plan(self, *, ask_printer: bool = False) -> PrintPlan: ...

    def refusal(self) -> list[str] | None: ...

    def check_battery(self) -> None: ...

    def confirm_cancel(self) -> None: ...

    def overlay(self, overlay: Overlay) -> None: ...


class Overlay(abc.ABC):
    """A question drawn over the current step, which takes every button until it closes.

    The step underneath keeps its state; the overlay tells the context what to do when it
    is answered.  The cancel confirmation is one, the journal's discard question another.
    """

    @abc.abstractmethod
    def lines(self) -> list[str]: ...

    @abc.abstractmethod
    def press(self, button: Button) -> bool:
        """Take a button; True once the overlay is answered and closes."""


class Confirmation(Overlay):
    """OK answers yes, BACK answers no; any other button is ignored."""

    def __init__(
        self, lines: list[str], *, yes: Callable[[], None], no: Callable[[], None]
    ) -> None:
        self._lines, self._yes, self._no = lines, yes, no

    def lines(self) -> list[str]:
        return self._lines

    def press(self, button: Button) -> bool:
        if button is Button.OK:
            self._yes()
        elif button is Button.BACK:
            self._no()
        else:
            return False
        return True


class Step:
    """The behaviour of one state. Subclasses override what their state needs.

    ``enter`` runs on every entry (and again on a retry), ``press`` takes the buttons,
    ``finished`` the outcome of the device job the step started, ``lines`` says what the
    display shows.
    """

    #: The prompt shown while the step has no note to show (None: nothing).
    PROMPT: str | None = None

    def __init__(self, ctx: StepContext) -> None:
        self.ctx = ctx
        self.note: list[str] = []

    def enter(self) -> None:
        self.note = []

    def notify(self, lines: list[str]) -> None:
        """Show ``lines`` (what happened in the state that led here) instead of the prompt."""
        self.note = lines

    def press(self, button: Button, press: Press) -> None:
        """Buttons a state does not use do nothing (the click tells the officer it was heard)."""

    def finished(self, result: object, error: BaseException | None) -> None:
        """The outcome of the device job this step started."""

    def lines(self) -> list[str]:
        return self.note or (self.ctx.text(self.PROMPT) if self.PROMPT else [])

    def say(self, key: str, **values: object) -> None:
        self.note = self.ctx.text(key, **values)

    def error_note(self, error: BaseException, *, device: str | None = None) -> None:
        named = device or getattr(error, "device", None) or self.ctx.word("device.unnamed")
        self.say("device_error", device=named, reason=str(error)[:40])
        self.ctx.devices.panel.indicate(Indicator.FAULT)
        self.ctx.devices.panel.beep(Tone.ERROR)


class FingerLogin(Step, abc.ABC):
    """Waits for a finger the sensor's library knows, over and over, until one comes;
    a step that also offers a PIN opens a :class:`PinPicker` as :attr:`picker`."""

    #: The PIN picker, while one is open (OK opens it where a PIN is allowed).
    picker: PinPicker | None = None

    def identify(self) -> None:
        sensor = self.ctx.devices.fingerprint
        self.ctx.run(JobKind.IDENTIFY, lambda: sensor.identify(timeout=FINGER_WAIT_SECONDS))
        self.ctx.devices.panel.indicate(Indicator.ATTENTION)

    def finished(self, result: object, error: BaseException | None) -> None:
        if error is None:
            assert isinstance(result, LibraryMatch), result
            officer = self.ctx.store.officer_for_page(result.page)
            if officer is not None:
                self.accepted(officer, "finger")
                return
            self.say("finger_unknown")
        elif isinstance(error, NoMatch):
            self.say("finger_unknown")
            self.ctx.devices.panel.beep(Tone.ERROR)
        elif not isinstance(error, (NoFinger, TimeoutError)):
            self.error_note(error)
            return  # a faulty sensor is not polled in a loop; PIN still works
        self.identify()

    def picker_took(self, button: Button) -> bool:
        """Give ``button`` to the open PIN picker: True when one was open and took it.

        BACK on the picker's menu closes it and the finger is awaited again."""
        if self.picker is None:
            return False
        officer = self.picker.press(button)
        if self.picker.left:
            self.picker = None
            self.identify()
        elif officer is not None:
            self.accepted(officer, "pin")
        return True

    @abc.abstractmethod
    def accepted(self, officer: Officer, how: str) -> None:
        """A known finger (or a right PIN) came: ``how`` says which, for the audit log."""

    def with_note(self, lines: list[str]) -> list[str]:
        """``lines`` with the note's first line (why a finger was refused) as the last one."""
        shown = self.note[:1]
        return lines[: self.ctx.devices.display.lines - len(shown)] + shown


class PinPicker:
    """Choose an officer from a menu, then enter their PIN digit by digit."""

    def __init__(self, ctx: StepContext, officers: list[Officer]) -> None:
        self.ctx = ctx
        self.menu: Menu[Officer] = Menu([(o.name, o) for o in officers])
        self.entry: DigitEntry | None = None
        self.wrong = False
        #: BACK was pressed on the officers' menu: the caller leaves the picker.
        self.left = False

    def press(self, button: Button) -> Officer | None:
        """The officer once their PIN is right (see :attr:`left` for BACK on the menu)."""
        chosen = self.menu.focus
        if self.entry is None or chosen is None:
            if button in (Button.UP, Button.DOWN):
                self.menu.move(button)
            elif button is Button.OK and chosen is not None:
                self.entry, self.wrong = DigitEntry(PIN_DIGITS, masked=True), False
            elif button is Button.BACK:
                self.left = True
            return None
        if not self.entry.press(button):
            self.entry = None
            return None
        if self.entry.complete:
            officer = self.ctx.store.check_pin(chosen.officer_id, self.entry.value)
            self.entry = DigitEntry(PIN_DIGITS, masked=True)
            if officer is None:
                self.wrong = True
                self.ctx.audit(AuditKind.PIN_WRONG, officer=chosen.officer_id)
                self.ctx.devices.panel.beep(Tone.ERROR)
            return officer
        return None

    def lines(self) -> list[str]:
        chosen = self.menu.focus
        if self.entry is None or chosen is None:
            return self.ctx.text("choose_officer") + self.menu.lines()
        lines = self.ctx.text("pin", name=chosen.name, entry=self.entry.text())
        wait = self.ctx.store.pin_wait()
        if wait:
            return lines + self.ctx.text("pin_wait", seconds=wait)
        return lines + self.ctx.text("pin_wrong") if self.wrong else lines
