"""The supervisor's screens for officers' login fingers: the list, and the two captures.

Reached from the officer's menu, which offers them only to a supervisor.  What may become
a login finger, and where it is stored, is :mod:`capture.login_fingers`'s.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import partial

from capture.base import FINGER_WAIT_SECONDS, Confirmation, Step
from capture.events import JobKind
from capture.login_fingers import (
    LOGIN_FINGER,
    FirstCapture,
    LoginFingerRefusal,
    LoginSlot,
    Refused,
    login_page,
    login_slots,
    remove,
    take_first,
    take_second,
)
from capture.machine import CaptureEvent
from capture.widgets import Menu
from hal.exc import NoFinger, PoorImage
from hal.types import Button, FingerImage, FingerPosition, Indicator, Press, Tone
from storage.audit import AuditKind
from storage.model import Officer


class SlotAction(enum.StrEnum):
    """What a supervisor may do with a login finger the sensor holds; the values name
    their prompts."""

    ENROL_AGAIN = "login_finger.again"
    REMOVE = "login_finger.remove"
    BACK = "admin.back"


class LoginFingers(Step):
    """The officers flashed to the kit, each with whether the sensor holds their login
    finger (its index table, read on entry: a swapped sensor holds none).  OK on an
    officer without one enrols it; on one with, enrols it again or removes it."""

    def enter(self) -> None:
        super().enter()
        self.slots: Menu[LoginSlot] | None = None
        self.actions: Menu[SlotAction] | None = None
        self._read_sensor()

    def _read_sensor(self) -> None:
        self.ctx.run(JobKind.LIBRARY, self.ctx.devices.fingerprint.held_pages)

    def finished(self, result: object, error: BaseException | None) -> None:
        if error is not None:
            self.error_note(error, self.ctx.devices.fingerprint)  # OK reads the sensor again
        elif isinstance(result, LoginSlot):
            self._removed(result)
        else:
            assert isinstance(result, frozenset), result
            slots = login_slots(self.ctx.store.officers.values(), result)
            cursor = self.slots.cursor if self.slots is not None else 0
            self.slots = Menu([(self._label(slot), slot) for slot in slots])
            self.slots.cursor = min(cursor, max(len(slots) - 1, 0))

    def _label(self, slot: LoginSlot) -> str:
        held = self.ctx.word("login_finger.held" if slot.held else "login_finger.none")
        return f"{held} {slot.officer.name}"

    def widget(self) -> Menu[LoginSlot] | Menu[SlotAction] | None:
        return self.actions or self.slots

    def press(self, button: Button, press: Press) -> None:
        self.note = []
        if self.actions is not None:
            self._act(button)
        elif button is Button.BACK:
            self.ctx.go(CaptureEvent.CLOSE_ADMIN)
        elif self.slots is None:
            if button is Button.OK and not self.ctx.busy:
                self._read_sensor()  # the last read failed
        elif button in (Button.UP, Button.DOWN):
            self.slots.move(button)
        elif button is Button.OK and (slot := self.slots.focus) is not None:
            if slot.held:
                self.actions = Menu([(self.ctx.word(a), a) for a in SlotAction])
            else:
                self._enrol(slot)

    def _act(self, button: Button) -> None:
        assert self.actions is not None and self.slots is not None
        slot = self.slots.focus
        if button in (Button.UP, Button.DOWN):
            self.actions.move(button)
        elif button is Button.OK and slot is not None:
            action = self.actions.focus
            self.actions = None
            if action is SlotAction.ENROL_AGAIN:
                self._enrol(slot)
            elif action is SlotAction.REMOVE:
                question = self.ctx.text("confirm_remove_login_finger", name=slot.officer.name)
                self.ctx.overlay(
                    Confirmation(question, yes=lambda: self._remove(slot), no=lambda: None)
                )
        elif button is Button.BACK:
            self.actions = None

    def _enrol(self, slot: LoginSlot) -> None:
        self.ctx.session.enrol_login_finger(slot.officer)
        self.ctx.go(CaptureEvent.ENROL_LOGIN_FINGER)

    def _remove(self, slot: LoginSlot) -> None:
        sensor = self.ctx.devices.fingerprint
        self.ctx.run(JobKind.LIBRARY, lambda: remove(sensor, slot))

    def _removed(self, slot: LoginSlot) -> None:
        self.ctx.audit(
            AuditKind.LOGIN_FINGER_REMOVED,
            officer=slot.officer.officer_id,
            page=slot.page,
            by=self.ctx.session.officer_id,
        )
        self.ctx.devices.panel.beep(Tone.OK)
        self._read_sensor()
        self.say("login_finger_removed", name=slot.officer.name)

    def lines(self) -> list[str]:
        if self.actions is not None and self.slots is not None:
            slot = self.slots.focus
            name = slot.officer.name if slot is not None else ""
            return self.ctx.text("login_finger_actions", name=name) + self.actions.lines()
        if self.note:
            return self.note
        if self.slots is None:
            return self.ctx.text("login_fingers_reading")
        return self.ctx.text("login_fingers") + self.slots.lines()


class EnrolLoginFinger(Step):
    """The chosen officer's finger, twice: the first searched on the sensor (a resident's
    or another officer's finger is refused), the second matched with the first; the
    better of the two is stored on the officer's page.  OK retries, BACK goes back."""

    def enter(self) -> None:
        super().enter()
        self.first: FingerImage | None = None
        self._capture()

    @property
    def officer(self) -> Officer:
        """Whose finger is taken: the list chose them before leading here."""
        officer = self.ctx.session.login_finger_of
        assert officer is not None
        return officer

    def asked_finger(self) -> FingerPosition | None:
        return LOGIN_FINGER

    def _capture(self) -> None:
        """The first capture, or the second once the first was taken."""
        self.note = []
        sensor, officer, first = self.ctx.devices.fingerprint, self.officer, self.first
        work: Callable[[], object] = (
            partial(take_first, sensor, self.ctx.store, officer, timeout=FINGER_WAIT_SECONDS)
            if first is None
            else partial(take_second, sensor, officer, first, timeout=FINGER_WAIT_SECONDS)
        )
        self.ctx.run(JobKind.FINGER, work)
        self.ctx.devices.panel.indicate(Indicator.ATTENTION)

    def finished(self, result: object, error: BaseException | None) -> None:
        if error is not None:
            self._failed(error)
        elif self.first is None:
            assert isinstance(result, FirstCapture), result
            self._first_taken(result)
        elif isinstance(result, FingerImage):
            self._stored(result)
        else:  # the second capture was another finger: both are taken again
            self._refuse(Refused(LoginFingerRefusal.CAPTURES_DIFFER))

    def _failed(self, error: BaseException) -> None:
        """No finger, or an unusable image: OK takes the same capture again."""
        if isinstance(error, (NoFinger, PoorImage)):
            self.say("login_finger_none" if isinstance(error, NoFinger) else "login_finger_poor")
            self.ctx.devices.panel.beep(Tone.ERROR)
        else:
            self.error_note(error, self.ctx.devices.fingerprint)

    def _first_taken(self, first: FirstCapture) -> None:
        if first.refused is not None:
            self._refuse(first.refused)
            return
        self.first = first.image
        self.ctx.devices.panel.beep(Tone.OK)
        self._capture()

    def _refuse(self, refused: Refused) -> None:
        self.first = None
        other = refused.other
        self.ctx.audit(
            AuditKind.LOGIN_FINGER_REFUSED,
            officer=self.officer.officer_id,
            by=self.ctx.session.officer_id,
            why=refused.why,
            seq=refused.seq,
            other=other.officer_id if other else None,
        )
        self.ctx.devices.panel.beep(Tone.ERROR)
        name = other.name if other else "?"
        self.say(f"login_finger_refused.{refused.why}", seq=refused.seq, other=name)

    def _stored(self, kept: FingerImage) -> None:
        officer = self.officer
        self.ctx.audit(
            AuditKind.LOGIN_FINGER_ENROLLED,
            officer=officer.officer_id,
            page=login_page(officer),
            by=self.ctx.session.officer_id,
            quality=kept.quality,
        )
        self.ctx.devices.panel.beep(Tone.OK)
        notice = self.ctx.text("login_finger_kept", name=officer.name)
        self.ctx.go(CaptureEvent.LOGIN_FINGER_ENROLLED, notice=notice)

    def press(self, button: Button, press: Press) -> None:
        if button is Button.BACK:
            self.ctx.go(CaptureEvent.LEAVE_LOGIN_FINGER)
        elif button is Button.OK and not self.ctx.busy:
            self._capture()

    def lines(self) -> list[str]:
        if self.note:
            return self.note
        if self.first is None:
            finger = self.ctx.word(f"finger.{int(LOGIN_FINGER)}")
            return self.ctx.text("login_finger_first", name=self.officer.name, finger=finger)
        return self.ctx.text("login_finger_second")
