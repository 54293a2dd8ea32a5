"""What every step is built on: the :class:`Step` base, the context it works in, and the
pieces two or more steps share (the finger login, the PIN picker, a confirmation overlay).

A step sees the loop only through :class:`StepContext`, a narrow, read-only Protocol that
:class:`capture.controller.Controller` satisfies: a step assigns nothing of it.  The person
being enrolled and the officer's session change through
:class:`capture.session.Session`'s methods, each named for what happened, and the draft
through its own (:mod:`capture.draft`).  The steps import this module, never the controller
or each other, and :mod:`capture.registry` imports every step.  A step moves the machine
with ``ctx.go(event)`` from a button or a job's outcome; from ``enter`` it only
``ctx.follow(event)``s, which the controller sends once the entry has finished.

What a step shows is its ``lines``; for the public screen model (:mod:`capture.screen`) it
also says which menu or digit entry the buttons work (``widget``) and which finger the
screen names (``asked_finger``).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from capture.draft import Draft
from capture.events import JobKind, ShutdownReason
from capture.faults import device_key, fault_key
from capture.machine import CaptureEvent
from capture.ports import RecordKeeper
from capture.print_plan import PrintPlan
from capture.prompts import COMPANION_WORDING, Language
from capture.session import Proof, Refusal, Session
from capture.widgets import DigitEntry, Menu
from hal.contracts import Device, Devices
from hal.exc import NoFinger, NoMatch
from hal.types import BatteryReading, Button, FingerPosition, Indicator, LibraryMatch, Press, Tone
from storage.audit import AuditKind
from storage.model import Officer
from storage.nik import NikError
from storage.officers import PIN_DIGITS

#: Seconds an identify or capture waits for a finger before the job is started again.
FINGER_WAIT_SECONDS = 10.0


class StepContext(Protocol):
    """The loop as a step sees it: devices, store, the officer's session, and moves.

    Every attribute is a read-only property: what a step changes, it changes by a call.
    """

    @property
    def devices(self) -> Devices: ...

    @property
    def store(self) -> RecordKeeper: ...

    @property
    def session(self) -> Session: ...

    @property
    def language(self) -> Language: ...

    @property
    def battery(self) -> BatteryReading | None: ...

    @property
    def shutdown_reason(self) -> ShutdownReason | None:
        """Why the kit is switching off (None while it is not): the shutdown screen says it."""
        ...

    @property
    def busy(self) -> bool: ...

    @property
    def working_behind(self) -> bool:
        """Whether device work runs that no state waits for (a print)."""
        ...

    def now(self) -> datetime: ...

    def go(self, event: CaptureEvent, *, notice: list[str] | None = None) -> None:
        """Send ``event`` now (from a press or a job's outcome); ``notice`` is shown by the
        state it leads to until the officer presses a button."""
        ...

    def follow(self, event: CaptureEvent) -> None:
        """Send ``event`` once the step being entered has finished entering."""
        ...

    def run(self, kind: JobKind, work: Callable[[], object]) -> None: ...

    def run_behind(
        self,
        kind: JobKind,
        work: Callable[[], object],
        done: Callable[[object, BaseException | None], None],
    ) -> None:
        """Run device work no state waits for; ``done`` gets its outcome in any state."""
        ...

    def interrupt(self, overlay: Overlay) -> None:
        """Draw ``overlay`` once the officer is between people (a print that failed)."""
        ...

    def audit(self, kind: AuditKind, **detail: object) -> None: ...

    def text(self, key: str, **values: object) -> list[str]: ...

    def word(self, key: str, **values: object) -> str: ...

    def switch_language(self) -> None:
        """Bahasa Indonesia to English, or back."""
        ...

    def print_plan(self, *, ask_printer: bool = False) -> PrintPlan: ...

    def refusal(self) -> Refusal | None:
        """Why no new enrolment may start now, or None."""
        ...

    def check_battery(self) -> None: ...

    def confirm_cancel(self) -> None: ...

    def overlay(self, overlay: Overlay) -> None: ...


def log_in(ctx: StepContext, officer: Officer, how: Proof) -> None:
    """``officer`` logged in: the kit greets them and moves on."""
    ctx.session.log_in(officer, how)
    ctx.devices.panel.beep(Tone.OK)
    ctx.go(CaptureEvent.LOGGED_IN)


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

    def widget(self) -> Menu[Any] | DigitEntry | None:
        """The menu or digit entry the buttons work, for the screen model (None: neither)."""
        return None

    def asked_finger(self) -> FingerPosition | None:
        """The finger the screen names, for the screen model (None: none)."""
        return None

    @property
    def draft(self) -> Draft:
        """The person being captured: there is one in every state that asks."""
        draft = self.ctx.session.draft
        assert draft is not None  # the transition that led here began or resumed one
        return draft

    def say(self, key: str, **values: object) -> None:
        self.note = self.ctx.text(key, **values)

    def to_person(self, key: str) -> str:
        """Prompt ``key``, which asks the person to act or to confirm, or its wording for
        the companion (``key`` + :data:`~capture.prompts.COMPANION_WORDING`) when one
        answers for the person: the kit speaks to whoever answers, as the officer would."""
        return f"{key}{COMPANION_WORDING}" if self.draft.companion_answers else key

    def fault(self, error: BaseException) -> list[str]:
        """What went wrong and what to check, for ``error``, in the kit's language: the
        catalogue's words, never the driver's English (:mod:`capture.faults`)."""
        return self.ctx.text(fault_key(error))

    def error_note(self, error: BaseException, part: Device) -> None:
        """Say that ``part``'s job failed, how, and what to check; OK retries.  The part is
        the step's own: a watchdog's timeout or a bug in the job names no device."""
        problem, check = self.fault(error)
        device = self.ctx.word(device_key(part.name))
        self.say("device_error", device=device, problem=problem, check=check)
        self.ctx.devices.panel.indicate(Indicator.FAULT)
        self.ctx.devices.panel.beep(Tone.ERROR)

    def refused_number(self, key: str, error: NikError) -> None:
        """Say why a keyed NIK or KK number was refused (``key``: its title), in words."""
        why = self.ctx.word(f"nik_problem.{error.problem.value}", **error.values)
        self.say(key, reason=why)

    def entry_with_note(self, lines: list[str]) -> list[str]:
        """A digit entry's prompt (title, digits, keys) with the note, when there is one,
        in place of the title: why the number was refused in full, then the digits to
        fix, then the keys if there is room."""
        if not self.note:
            return lines
        rows = self.ctx.devices.display.lines
        note = self.note[: rows - 1]
        return [*note, *lines[1:][: rows - len(note)]]


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
                self.accepted(officer, Proof.FINGER)
                return
            self.say("finger_unknown")
        elif isinstance(error, NoMatch):
            self.say("finger_unknown")
            self.ctx.devices.panel.beep(Tone.ERROR)
        elif not isinstance(error, (NoFinger, TimeoutError)):
            self.error_note(error, self.ctx.devices.fingerprint)
            return  # a faulty sensor is not polled in a loop; PIN still works
        self.identify()

    def widget(self) -> Menu[Any] | DigitEntry | None:
        return self.picker.widget() if self.picker is not None else None

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
            self.accepted(officer, Proof.PIN)
        return True

    @abc.abstractmethod
    def accepted(self, officer: Officer, how: Proof) -> None:
        """A known finger (or a right PIN) came: ``how`` says which, for the audit log."""

    def with_note(self, lines: list[str]) -> list[str]:
        """``lines`` (a title, what to do, how to use a PIN instead) with the note (why a
        finger was refused, which part failed and how) before their last line, so the
        way on by PIN stays on screen; middle lines give way to the note."""
        if not self.note:
            return lines
        rows = self.ctx.devices.display.lines
        note = self.note[: rows - 2]
        middle = lines[1:-1][: rows - 2 - len(note)]
        return [lines[0], *middle, *note, lines[-1]]


class OfficialPresent(FingerLogin, abc.ABC):
    """A screen only a village official passes, by finger or (OK) by PIN: another
    officer's finger or PIN is refused by name; BACK leaves by :attr:`BACK`."""

    #: The prompt's catalogue key, and the event BACK sends.
    PROMPT: str
    BACK: CaptureEvent

    def enter(self) -> None:
        super().enter()
        self.picker = None
        self.identify()

    def accepted(self, officer: Officer, how: Proof) -> None:
        if not officer.is_official:
            self.say("not_official")
            self.ctx.devices.panel.beep(Tone.ERROR)
            if how is Proof.FINGER:
                self.identify()
            return
        self.official_came(officer, how)

    @abc.abstractmethod
    def official_came(self, official: Officer, how: Proof) -> None:
        """What the official's presence does on this screen."""

    def press(self, button: Button, press: Press) -> None:
        if self.picker_took(button):
            return
        if button is Button.OK:
            officials = [o for o in self.ctx.store.officers.values() if o.is_official]
            self.picker = PinPicker(self.ctx, officials)
        elif button is Button.BACK:
            self.ctx.go(self.BACK)

    def lines(self) -> list[str]:
        if self.picker is not None:
            return self.picker.lines()
        return self.with_note(self.ctx.text(self.PROMPT))


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

    def widget(self) -> Menu[Officer] | DigitEntry:
        """The officers' menu until one is chosen, then their PIN's digits."""
        return self.entry if self.entry is not None and self.menu.focus is not None else self.menu

    def lines(self) -> list[str]:
        chosen = self.menu.focus
        if self.entry is None or chosen is None:
            return self.ctx.text("choose_officer") + self.menu.lines()
        lines = self.ctx.text("pin", name=chosen.name, entry=self.entry.text())
        wait = self.ctx.store.pin_wait()
        if wait:  # the name, the PIN, and the wait in place of the keys: none works now
            return lines[:2] + self.ctx.text("pin_wait", seconds=wait)
        return lines + self.ctx.text("pin_wrong") if self.wrong else lines
