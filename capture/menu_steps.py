"""The officer's steps between enrolments: the ready list, the menu, cards, voids."""

from __future__ import annotations

import enum

from capture.base import Step
from capture.draft import Approval, ApprovalPurpose
from capture.machine import CaptureEvent
from capture.session import Refusal
from capture.widgets import DigitEntry, Menu
from hal.types import Button, Indicator, Press, Tone
from storage.audit import AuditKind
from storage.errors import StateError
from storage.model import Officer, Resident


class ReadyChoice(enum.Enum):
    """The ready list's lines that are not a resident."""

    WALK_IN = enum.auto()
    ADMIN = enum.auto()


class Ready(Step):
    """The worklist of residents not yet recorded, a walk-in entry, and the officer's menu."""

    def enter(self) -> None:
        super().enter()
        self.ctx.session.next_person()
        self.ctx.check_battery()  # a critical battery switches the kit off from here
        recorded = self.ctx.store.recorded_refs()
        waiting = [r for r in self.ctx.store.worklist if r.worklist_ref not in recorded]
        items: list[tuple[str, Resident | ReadyChoice]] = [(r.name, r) for r in waiting]
        if not waiting:
            items.append((self.ctx.word("all_recorded"), ReadyChoice.ADMIN))
        items[:0] = [(self.ctx.word("walk_in"), ReadyChoice.WALK_IN)]
        items.append((self.ctx.word("admin"), ReadyChoice.ADMIN))
        cursor = getattr(self, "menu", None)
        self.menu: Menu[Resident | ReadyChoice] = Menu(items)
        if cursor is not None and len(items) > 2:
            self.menu.cursor = min(cursor.cursor, len(items) - 2)
        self.ctx.devices.panel.indicate(Indicator.READY)

    def widget(self) -> Menu[Resident | ReadyChoice]:
        return self.menu

    def press(self, button: Button, press: Press) -> None:
        self.note = []
        if button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.OK:
            choice = self.menu.focus
            if choice is ReadyChoice.ADMIN:
                self.ctx.go(CaptureEvent.OPEN_ADMIN)
            elif (refusal := self.ctx.refusal()) is not None:
                self.refused(refusal)
            elif choice is ReadyChoice.WALK_IN:
                self.ctx.go(CaptureEvent.WALK_IN)
            elif isinstance(choice, Resident):
                refused = self.ctx.session.begin(choice)
                if refused is not None:
                    self.refused(refused)
                else:
                    self.ctx.go(CaptureEvent.CHOOSE_PERSON)

    def refused(self, refusal: Refusal) -> None:
        self.say(refusal.key, **refusal.values)
        self.ctx.devices.panel.beep(Tone.ERROR)

    def lines(self) -> list[str]:
        if self.note:
            return self.note
        battery = self.ctx.battery
        title = self.ctx.text(
            "ready",
            battery=f"{battery.percent:.0f}%" if battery else "?",
            stock=self.ctx.store.ledger.stock(),
        )
        return title + self.menu.lines()


class AdminItem(enum.StrEnum):
    """The officer's menu, in the order shown; the values name their prompts."""

    LOAD_CARDS = "admin.load_cards"
    VOID = "admin.void"
    OFFICIAL = "admin.official"
    HANDOVER = "admin.handover"
    LOGIN_FINGERS = "admin.login_fingers"
    LANGUAGE = "admin.language"
    LOCK = "admin.lock"
    BACK = "admin.back"

    def offered_to(self, officer: Officer | None) -> bool:
        """Whether the menu shows this item to ``officer``: only a supervisor puts
        officers' login fingers on the sensor, or takes them off."""
        return self is not AdminItem.LOGIN_FINGERS or (
            officer is not None and officer.is_supervisor
        )


class Admin(Step):
    """The officer's menu: load cards, void a record, the official, officers' login
    fingers (a supervisor's), language, lock."""

    def enter(self) -> None:
        super().enter()
        officer = self.ctx.session.officer
        self.menu: Menu[AdminItem] = Menu(
            [(self.ctx.word(item), item) for item in AdminItem if item.offered_to(officer)]
        )

    def widget(self) -> Menu[AdminItem]:
        return self.menu

    def press(self, button: Button, press: Press) -> None:
        if button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.BACK:
            self.ctx.go(CaptureEvent.CLOSE_ADMIN)
        elif button is Button.OK:
            self._choose(self.menu.focus)

    def _choose(self, choice: AdminItem | None) -> None:
        if choice is AdminItem.LOAD_CARDS:
            self.ctx.go(CaptureEvent.CHOOSE_LOAD_CARDS)
        elif choice is AdminItem.VOID:
            self.ctx.go(CaptureEvent.CHOOSE_VOID)
        elif choice is AdminItem.OFFICIAL:
            self.ctx.go(CaptureEvent.CHOOSE_OFFICIAL)
        elif choice is AdminItem.HANDOVER:
            self.ctx.go(CaptureEvent.CHOOSE_HANDOVER)
        elif choice is AdminItem.LOGIN_FINGERS:
            self.ctx.go(CaptureEvent.CHOOSE_LOGIN_FINGERS)
        elif choice is AdminItem.LANGUAGE:
            self.ctx.switch_language()
            cursor = self.menu.cursor
            self.enter()
            self.menu.cursor = cursor
        elif choice is AdminItem.LOCK:
            self.ctx.audit(AuditKind.LOCK, officer=self.ctx.session.officer_id)
            self.ctx.go(CaptureEvent.LOCK)
        else:
            self.ctx.go(CaptureEvent.CLOSE_ADMIN)

    def lines(self) -> list[str]:
        officer = self.ctx.session.officer
        return [officer.name if officer else "", *self.menu.lines()]


class LoadCards(Step):
    """A technician loads blank cards: the count goes into the ledger, never onto a counter,
    and only as many as the serial ranges the district handed the kit still hold."""

    DIGITS = 3

    def enter(self) -> None:
        super().enter()
        self.entry = DigitEntry(self.DIGITS)

    def widget(self) -> DigitEntry:
        return self.entry

    def press(self, button: Button, press: Press) -> None:
        if not self.entry.press(button):
            self.ctx.go(CaptureEvent.CLOSE_ADMIN)
            return
        if self.entry.complete:
            count = int(self.entry.value)
            if count == 0:
                self.entry = DigitEntry(self.DIGITS)
                return
            officer_id = self.ctx.session.officer_id
            try:  # only cards of the serial ranges the district handed this kit load
                self.ctx.store.ledger.load(count, officer_id=officer_id)
            except StateError:
                left = self.ctx.store.ledger.unloaded()
                self.ctx.go(
                    CaptureEvent.CLOSE_ADMIN, notice=self.ctx.text("cards_too_many", left=left)
                )
                return
            self.ctx.audit(AuditKind.CARDS_LOADED, count=count, officer=officer_id)
            stock = self.ctx.store.ledger.stock()
            notice = self.ctx.text("cards_loaded", count=count, stock=stock)
            self.ctx.go(CaptureEvent.CLOSE_ADMIN, notice=notice)

    def lines(self) -> list[str]:
        return self.ctx.text("load_cards", entry=self.entry.text())


class VoidSelect(Step):
    """Choose a record sealed in error; a supervisor approves, then a void record is sealed."""

    def enter(self) -> None:
        super().enter()
        recent = self.ctx.store.recent()
        self.menu: Menu[tuple[int, str | None]] = Menu(
            [(f"#{seq} {ref or '-'}", (seq, ref)) for seq, ref in recent]
        )

    def widget(self) -> Menu[tuple[int, str | None]]:
        return self.menu

    def press(self, button: Button, press: Press) -> None:
        if button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.BACK:
            self.ctx.go(CaptureEvent.CLOSE_ADMIN)
        elif button is Button.OK and self.menu.focus is not None:
            seq, ref = self.menu.focus
            self.ctx.session.ask(Approval(ApprovalPurpose.VOID, seq, ref=ref))
            self.ctx.go(CaptureEvent.VOID_CHOSEN)

    def lines(self) -> list[str]:
        if not self.menu.items:
            return self.ctx.text("void_none")
        return self.ctx.text("void_choose") + self.menu.lines()
