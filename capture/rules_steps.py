"""The steps of an outreach day's rules: a walk-in's purpose and domicile, a person who
cannot sign, corrections at review, and the village official's login."""

from __future__ import annotations

from capture.base import FingerLogin, PinPicker, Step
from capture.draft import Approval, ApprovalPurpose
from capture.machine import CaptureEvent
from capture.session import Proof
from capture.widgets import DigitEntry, Menu
from hal.types import Button, Indicator, Press, Tone
from storage.audit import AuditKind
from storage.model import (
    CorrectableField,
    FlaggedError,
    FlagReason,
    FreeTextField,
    Officer,
    SignatureExceptionReason,
)
from storage.nik import NIK_LENGTH, NikError, kk_regency
from vocabulary.purpose import Purpose


class PurposeStep(Step):
    """A walk-in has no worklist line: the officer asks why they record (keperluan)."""

    def enter(self) -> None:
        super().enter()
        self.menu: Menu[Purpose] = Menu([(self.ctx.word(f"purpose.{p.name}"), p) for p in Purpose])

    def widget(self) -> Menu[Purpose]:
        return self.menu

    def press(self, button: Button, press: Press) -> None:
        if button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.BACK:
            self.ctx.session.let_go()
            self.ctx.go(CaptureEvent.LEAVE_WALK_IN)
        elif button is Button.OK and self.menu.focus is not None:
            self.draft.choose_purpose(self.menu.focus)
            self.ctx.go(CaptureEvent.PURPOSE_CHOSEN)

    def lines(self) -> list[str]:
        return self.ctx.text("purpose") + self.menu.lines()


class KkEntry(Step):
    """A walk-in from another regency ("domisili sementara"): the KK number from its copy."""

    def enter(self) -> None:
        super().enter()
        region = [int(c) for c in self.draft.resident.nik[:4]]
        self.entry = DigitEntry(NIK_LENGTH, digits=region + [0] * (NIK_LENGTH - len(region)))

    def widget(self) -> DigitEntry:
        return self.entry

    def press(self, button: Button, press: Press) -> None:
        self.note = []
        if not self.entry.press(button):
            self.ctx.session.let_go()
            self.ctx.go(CaptureEvent.LEAVE_WALK_IN)
            return
        if self.entry.complete:
            self._accept(self.entry.value)

    def _accept(self, kk: str) -> None:
        self.entry.position = NIK_LENGTH - 1
        try:
            regency = kk_regency(kk)
        except NikError as exc:
            self.refused_number("kk_bad", exc)
            return
        self.draft.record_domicile(kk, regency)
        self.ctx.audit(AuditKind.DOMICILE, nik=self.draft.resident.nik, home=regency)
        self.ctx.go(CaptureEvent.KK_ENTERED)

    def lines(self) -> list[str]:
        return self.entry_with_note(self.ctx.text("kk_entry", entry=self.entry.text()))


class SignatureExceptionStep(Step):
    """Someone who cannot sign: the reason, from the list; then a supervisor approves."""

    def enter(self) -> None:
        super().enter()
        self.menu: Menu[SignatureExceptionReason] = Menu(
            [(self.ctx.word(f"sigexc.{r.name}"), r) for r in SignatureExceptionReason]
        )
        self.ctx.devices.panel.indicate(Indicator.ATTENTION)

    def widget(self) -> Menu[SignatureExceptionReason]:
        return self.menu

    def press(self, button: Button, press: Press) -> None:
        if button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.BACK and press is Press.SHORT:
            self.ctx.go(CaptureEvent.LEAVE_SIGNATURE_EXCEPTION)
        elif button is Button.OK and self.menu.focus is not None:
            self.ctx.session.ask(
                Approval(ApprovalPurpose.SIGNATURE, signature_exception=self.menu.focus)
            )
            self.ctx.go(CaptureEvent.SIGNATURE_EXCEPTION_CHOSEN)

    def lines(self) -> list[str]:
        return self.ctx.text("signature_exception") + self.menu.lines()


#: What the correction menu offers: enumerated fields to correct, free-text ones to flag.
Target = CorrectableField | FreeTextField


class Correction(Step):
    """At review: pick a field; an enumerated one gets a new value from its list (the
    official approves), a free-text one a reason from the list (the office corrects it)."""

    def enter(self) -> None:
        super().enter()
        targets: list[Target] = [*CorrectableField, *FreeTextField]
        self.fields: Menu[Target] = Menu([(self.ctx.word(f"field.{t.name}"), t) for t in targets])
        self.target: Target | None = None
        self.values: Menu[str] | None = None
        self.reasons: Menu[FlagReason] | None = None

    def widget(self) -> Menu[Target] | Menu[str] | Menu[FlagReason]:
        return self.values or self.reasons or self.fields

    def press(self, button: Button, press: Press) -> None:
        menu = self.values or self.reasons or self.fields
        if button in (Button.UP, Button.DOWN):
            menu.move(button)
        elif button is Button.BACK and press is Press.SHORT:
            if menu is self.fields:
                self.ctx.go(CaptureEvent.LEAVE_CORRECTION)
            else:
                self.values = self.reasons = None
        elif button is Button.OK:
            self._ok()

    def _ok(self) -> None:
        if self.values is not None:
            assert isinstance(self.target, CorrectableField)
            new = self.values.focus
            if new is None or new == self.target.value_of(self.draft.resident):
                self.ctx.devices.panel.beep(Tone.ERROR)  # no change: nothing to approve
                return
            correction = (self.target, new)
            self.ctx.session.ask(Approval(ApprovalPurpose.CORRECTION, correction=correction))
            self.ctx.go(CaptureEvent.CORRECTION_CHOSEN)
        elif self.reasons is not None:
            assert isinstance(self.target, FreeTextField) and self.reasons.focus is not None
            flag = FlaggedError(self.target, self.reasons.focus)
            self.draft.flag(flag)
            self.ctx.audit(AuditKind.FLAGGED, field=flag.field.value, reason=flag.reason.value)
            self.ctx.session.journal()
            field = self.ctx.word(f"field.{flag.field.name}")
            notice = self.ctx.text("flagged", field=field)
            self.ctx.go(CaptureEvent.FREE_TEXT_FLAGGED, notice=notice)
        else:
            self.target = self.fields.focus
            if isinstance(self.target, CorrectableField):
                self.values = Menu([(value, value) for value in self.target.choices])
            else:
                self.reasons = Menu([(self.ctx.word(f"reason.{r.name}"), r) for r in FlagReason])

    def lines(self) -> list[str]:
        if self.values is not None and self.target is not None:
            field = self.ctx.word(f"field.{self.target.name}")
            return self.ctx.text("correction_value", field=field) + self.values.lines()
        if self.reasons is not None:
            return self.ctx.text("flag_reason") + self.reasons.lines()
        return self.ctx.text("correction") + self.fields.lines()


class OfficialLogin(FingerLogin):
    """The village official (kepala desa or kasi pemerintahan) says they are present."""

    PROMPT = "official_login"

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
        self.ctx.session.official_present(officer, how)
        self.ctx.devices.panel.beep(Tone.OK)
        self.ctx.go(
            CaptureEvent.CLOSE_ADMIN, notice=self.ctx.text("official_in", name=officer.name)
        )

    def press(self, button: Button, press: Press) -> None:
        if self.picker_took(button):
            return
        if button is Button.OK:
            officials = [o for o in self.ctx.store.officers.values() if o.is_official]
            self.picker = PinPicker(self.ctx, officials)
        elif button is Button.BACK:
            self.ctx.go(CaptureEvent.CLOSE_ADMIN)

    def lines(self) -> list[str]:
        if self.picker is not None:
            return self.picker.lines()
        return self.with_note(self.ctx.text("official_login"))
