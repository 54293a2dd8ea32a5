"""What each state of the capture machine does with buttons and device results.

One :class:`Step` per state.  A step's ``enter`` runs on every entry (and again on a
retry), ``press`` takes the buttons, ``finished`` the outcome of the device job it
started, and ``lines`` says what the display shows.  This module holds the base and the
steps around an enrolment (boot, login, the ready list, the officer's menu); the capture
steps are in :mod:`capture.enrol_steps`, sealing and printing in :mod:`capture.finish_steps`.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

from capture.draft import Approval, Draft
from capture.prompts import Language
from capture.widgets import DigitEntry, Menu
from hal.exc import DeviceError, NoFinger, NoMatch
from hal.types import Button, Indicator, Press, Tone
from storage.model import Officer, Resident
from storage.officers import PIN_DIGITS

if TYPE_CHECKING:
    from capture.controller import Controller

#: Seconds an identify or capture waits for a finger before the job is started again.
FINGER_WAIT_SECONDS = 10.0


class Step:
    """The behaviour of one state. Subclasses override what their state needs."""

    #: The prompt shown while the step has no note to show (None: nothing).
    PROMPT: str | None = None

    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl
        self.note: list[str] = []

    def enter(self) -> None:
        self.note = []

    def press(self, button: Button, press: Press) -> None:
        """Buttons a state does not use do nothing (the click tells the officer it was heard)."""

    def finished(self, result: Any, error: BaseException | None) -> None:
        """The outcome of the device job this step started."""

    def lines(self) -> list[str]:
        return self.note or (self.ctl.text(self.PROMPT) if self.PROMPT else [])

    def say(self, key: str, **values: object) -> None:
        self.note = self.ctl.text(key, **values)

    def error_note(self, error: BaseException) -> None:
        device = getattr(error, "device", None) or "device"
        self.say("device_error", device=device, reason=str(error)[:40])
        self.ctl.devices.panel.indicate(Indicator.FAULT)
        self.ctl.devices.panel.beep(Tone.ERROR)


class Boot(Step):
    PROMPT = "boot"


class SelfTest(Step):
    """Ask every device what it is; a silent part is named on screen for the technician."""

    PROMPT = "self_test"

    def enter(self) -> None:
        super().enter()
        self.faults: list[str] = []
        self.ctl.run("self-test", self._probe_all)

    def _probe_all(self) -> list[str]:
        faults = []
        for device in self.ctl.devices.all():
            try:
                device.probe()
            except DeviceError as exc:
                faults.append(f"{device.name}: {exc}")
        return faults

    def finished(self, result: Any, error: BaseException | None) -> None:
        self.faults = list(result or []) + ([str(error)] if error else [])
        self.ctl.store.audit.append("self-test", faults=self.faults)
        if not self.faults:
            self.ctl.go("tested")
            return
        self.ctl.devices.panel.indicate(Indicator.FAULT)
        self.say("self_test_fault", device=self.faults[0].split(":")[0])

    def press(self, button: Button, press: Press) -> None:
        if self.faults and button is Button.OK:
            self.ctl.go("tested")


class FingerLogin(Step, abc.ABC):
    """Waits for a finger the sensor's library knows, over and over, until one comes."""

    def identify(self) -> None:
        sensor = self.ctl.devices.fingerprint
        self.ctl.run("identify", lambda: sensor.identify(timeout=FINGER_WAIT_SECONDS))
        self.ctl.devices.panel.indicate(Indicator.ATTENTION)

    def finished(self, result: Any, error: BaseException | None) -> None:
        if error is None:
            officer = self.ctl.store.officer_for_page(result.page)
            if officer is not None:
                self.accepted(officer, "finger")
                return
            self.say("finger_unknown")
        elif isinstance(error, NoMatch):
            self.say("finger_unknown")
            self.ctl.devices.panel.beep(Tone.ERROR)
        elif not isinstance(error, (NoFinger, TimeoutError)):
            self.error_note(error)
            return  # a faulty sensor is not polled in a loop; PIN still works
        self.identify()

    @abc.abstractmethod
    def accepted(self, officer: Officer, how: str) -> None:
        """A known finger (or a right PIN) came: ``how`` says which, for the audit log."""

    def with_note(self, lines: list[str]) -> list[str]:
        """``lines`` with the note's first line (why a finger was refused) as the last one."""
        shown = self.note[:1]
        return lines[: self.ctl.devices.display.lines - len(shown)] + shown


class Locked(FingerLogin):
    def enter(self) -> None:
        super().enter()
        self.ctl.officer = None
        self.identify()

    def accepted(self, officer: Officer, how: str) -> None:
        self.ctl.login(officer, how)

    def press(self, button: Button, press: Press) -> None:
        if button is Button.OK:
            self.ctl.go("use_pin")

    def lines(self) -> list[str]:
        return self.with_note(self.ctl.text("locked"))


class PinPicker:
    """Choose an officer from a menu, then enter their PIN digit by digit."""

    def __init__(self, ctl: Controller, officers: list[Officer]) -> None:
        self.ctl = ctl
        self.menu: Menu[Officer] = Menu([(o.name, o) for o in officers])
        self.entry: DigitEntry | None = None
        self.wrong = False

    def press(self, button: Button) -> Officer | bool | None:
        """The officer once their PIN is right; False when BACK leaves the picker."""
        if self.entry is None:
            if button in (Button.UP, Button.DOWN):
                self.menu.move(button)
            elif button is Button.OK and self.menu.focus is not None:
                self.entry, self.wrong = DigitEntry(PIN_DIGITS, masked=True), False
            elif button is Button.BACK:
                return False
            return None
        if not self.entry.press(button):
            self.entry = None
            return None
        if self.entry.complete:
            officer = self.ctl.store.check_pin(self.menu.focus.officer_id, self.entry.value)
            self.entry = DigitEntry(PIN_DIGITS, masked=True)
            if officer is None:
                self.wrong = True
                self.ctl.store.audit.append("pin-wrong", officer=self.menu.focus.officer_id)
                self.ctl.devices.panel.beep(Tone.ERROR)
            return officer
        return None

    def lines(self) -> list[str]:
        if self.entry is None:
            return self.ctl.text("choose_officer") + self.menu.lines()
        lines = self.ctl.text("pin", name=self.menu.focus.name, entry=self.entry.text())
        return lines + self.ctl.text("pin_wrong") if self.wrong else lines


class PinEntry(Step):
    def enter(self) -> None:
        super().enter()
        self.picker = PinPicker(self.ctl, list(self.ctl.store.officers.values()))

    def press(self, button: Button, press: Press) -> None:
        outcome = self.picker.press(button)
        if outcome is False:
            self.ctl.go("leave_pin")
        elif outcome:
            self.ctl.login(outcome, "pin")

    def lines(self) -> list[str]:
        return self.picker.lines()


class PrintQuestion(Step):
    """A crash hid a print's outcome: ask, never print silently a second time."""

    def lines(self) -> list[str]:
        attempt = self.ctl.store.ledger.unresolved()[0]
        return self.ctl.text("print_question", seq=attempt.seq, serial=attempt.serial)

    def press(self, button: Button, press: Press) -> None:
        attempt = self.ctl.store.ledger.unresolved()[0]
        if button is Button.OK:
            self.ctl.store.ledger.printed(attempt.serial)
        elif button is Button.BACK:
            self.ctl.store.ledger.spoiled(attempt.serial, "did not come out (crash during print)")
        else:
            return
        self.ctl.store.audit.append(
            "print-answered", serial=attempt.serial, seq=attempt.seq, came_out=button is Button.OK
        )
        self.ctl.go("answered")


class ResumeOffer(Step):
    """Login found an enrolment in the journal: resume it, or (held BACK, then OK) drop it."""

    def enter(self) -> None:
        super().enter()
        assert self.ctl.resumable is not None  # the guard that led here
        self.draft: Draft = self.ctl.resumable
        self.confirm = False

    def press(self, button: Button, press: Press) -> None:
        if self.confirm:
            if button is Button.OK:
                self.ctl.discard_draft("discard-journal")
                self.ctl.go("discard")
            elif button is Button.BACK:
                self.confirm = False
        elif button is Button.OK:
            self.ctl.draft = self.draft
            self.ctl.store.audit.append("resume", nik=self.draft.resident.nik)
            self.ctl.go("resume")
        elif button is Button.BACK and press is Press.HOLD:
            self.confirm = True

    def lines(self) -> list[str]:
        if self.confirm:
            return self.ctl.text("confirm_discard")
        return self.ctl.text("resume", name=self.draft.resident.name or self.draft.resident.nik)


WALK_IN, ADMIN = "walk-in", "admin"


class Ready(Step):
    """The worklist of residents not yet recorded, a walk-in entry, and the officer's menu."""

    def enter(self) -> None:
        super().enter()
        self.ctl.draft, self.ctl.approval, self.ctl.sealed = None, None, None
        self.ctl.read_battery()
        if self.ctl.state != "ready":  # a critical battery switched the kit off
            return
        recorded = self.ctl.store.recorded_refs()
        waiting = [r for r in self.ctl.store.worklist if r.worklist_ref not in recorded]
        items: list[tuple[str, Resident | str]] = [(r.name, r) for r in waiting]
        if not waiting:
            items.append((self.ctl.word("all_recorded"), ADMIN))
        items[:0] = [(self.ctl.word("walk_in"), WALK_IN)]
        items.append((self.ctl.word("admin"), ADMIN))
        cursor = getattr(self, "menu", None)
        self.menu: Menu[Resident | str] = Menu(items)
        if cursor is not None and len(items) > 2:
            self.menu.cursor = min(cursor.cursor, len(items) - 2)
        self.ctl.devices.panel.indicate(Indicator.READY)

    @property
    def focus(self) -> Resident | str | None:
        return self.menu.focus

    def press(self, button: Button, press: Press) -> None:
        self.note = []
        if button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.OK:
            choice = self.menu.focus
            if choice == ADMIN:
                self.ctl.go("open_admin")
            elif (refusal := self.ctl.refusal()) is not None:
                self.note = refusal
                self.ctl.devices.panel.beep(Tone.ERROR)
            elif choice == WALK_IN:
                self.ctl.go("walk_in")
            elif isinstance(choice, Resident):
                self.ctl.draft = Draft(choice, self.ctl.officer_id, self.ctl.now())
                self.ctl.go("choose_person")

    def lines(self) -> list[str]:
        if self.note:
            return self.note
        battery = self.ctl.battery
        title = self.ctl.text(
            "ready",
            battery=f"{battery.percent:.0f}%" if battery else "?",
            stock=self.ctl.store.ledger.stock(),
        )
        return title + self.menu.lines()


class Admin(Step):
    """The officer's menu: load cards, void a record, language, lock."""

    ITEMS = ("load_cards", "void", "language", "lock", "back")

    def enter(self) -> None:
        super().enter()
        self.menu: Menu[str] = Menu([(self.ctl.word(f"admin.{key}"), key) for key in self.ITEMS])

    def press(self, button: Button, press: Press) -> None:
        if button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.BACK:
            self.ctl.go("close_admin")
        elif button is Button.OK:
            choice = self.menu.focus
            if choice == "load_cards":
                self.ctl.go("choose_load_cards")
            elif choice == "void":
                self.ctl.go("choose_void")
            elif choice == "language":
                self.ctl.language = Language.EN if self.ctl.language is Language.ID else Language.ID
                cursor = self.menu.cursor
                self.enter()
                self.menu.cursor = cursor
            elif choice == "lock":
                self.ctl.store.audit.append("lock", officer=self.ctl.officer_id)
                self.ctl.go("lock")
            else:
                self.ctl.go("close_admin")

    def lines(self) -> list[str]:
        return [self.ctl.officer.name if self.ctl.officer else "", *self.menu.lines()]


class LoadCards(Step):
    """A technician loads blank cards: the count goes into the ledger, never onto a counter."""

    def enter(self) -> None:
        super().enter()
        self.entry = DigitEntry(3)

    def press(self, button: Button, press: Press) -> None:
        if not self.entry.press(button):
            self.ctl.go("close_admin")
            return
        if self.entry.complete:
            count = int(self.entry.value)
            if count == 0:
                self.entry = DigitEntry(3)
                return
            self.ctl.store.ledger.load(count, officer_id=self.ctl.officer_id)
            self.ctl.store.audit.append("cards-loaded", count=count, officer=self.ctl.officer_id)
            self.ctl.go("close_admin")
            self.ctl.step.say("cards_loaded", count=count, stock=self.ctl.store.ledger.stock())

    def lines(self) -> list[str]:
        return self.ctl.text("load_cards", entry=self.entry.text())


class VoidSelect(Step):
    """Choose a record sealed in error; a supervisor approves, then a void record is sealed."""

    def enter(self) -> None:
        super().enter()
        recent = self.ctl.store.recent()
        self.menu: Menu[tuple[int, str | None]] = Menu(
            [(f"#{seq} {ref or '-'}", (seq, ref)) for seq, ref in recent]
        )

    def press(self, button: Button, press: Press) -> None:
        if button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.BACK:
            self.ctl.go("close_admin")
        elif button is Button.OK and self.menu.focus is not None:
            seq, ref = self.menu.focus
            self.ctl.approval = Approval("void", seq, ref=ref)
            self.ctl.go("void_chosen")

    def lines(self) -> list[str]:
        if not self.menu.items:
            return self.ctl.text("void_none")
        return self.ctl.text("void_choose") + self.menu.lines()


class SafeShutdown(Step):
    PROMPT = "shutdown"

    def enter(self) -> None:
        super().enter()
        self.ctl.devices.panel.indicate(Indicator.OFF)


def make_steps(ctl: Controller) -> dict[str, Step]:
    from capture import enrol_steps, finish_steps

    steps: dict[str, Step] = {
        "boot": Boot(ctl),
        "self_test": SelfTest(ctl),
        "locked": Locked(ctl),
        "pin_entry": PinEntry(ctl),
        "print_question": PrintQuestion(ctl),
        "resume_offer": ResumeOffer(ctl),
        "ready": Ready(ctl),
        "admin": Admin(ctl),
        "load_cards": LoadCards(ctl),
        "void_select": VoidSelect(ctl),
        "safe_shutdown": SafeShutdown(ctl),
    }
    steps.update(enrol_steps.make_steps(ctl))
    steps.update(finish_steps.make_steps(ctl))
    return steps
