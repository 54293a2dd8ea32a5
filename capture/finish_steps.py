"""The steps after capture: a supervisor's approval, sealing, printing, and done."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from capture.card import render_card_front
from capture.draft import Approval
from capture.slip import render_slip
from capture.steps import FingerLogin, PinPicker, Step
from hal.exc import DeviceError
from hal.types import Button, Indicator, Press, Tone
from storage.model import Enrolment, FingerRecord, Officer, Resident, Sex

if TYPE_CHECKING:
    from capture.controller import Controller

CARD_PRINT_TIMEOUT_SECONDS = 90.0
SLIP_PRINT_TIMEOUT_SECONDS = 20.0


class SupervisorApproval(FingerLogin):
    """A supervisor's finger (or PIN) for what an officer may not do alone."""

    def enter(self) -> None:
        super().enter()
        self.picker: PinPicker | None = None
        self.identify()

    def accepted(self, officer: Officer, how: str) -> None:
        approval = self.ctl.approval
        assert approval is not None
        if not officer.is_supervisor:
            self.say("not_supervisor")
            self.ctl.devices.panel.beep(Tone.ERROR)
            if how == "finger":
                self.identify()
            return
        self.ctl.store.audit.append(
            "approval",
            purpose=approval.purpose,
            seq=approval.seq,
            supervisor=officer.officer_id,
            officer=self.ctl.officer_id,
            how=how,
        )
        draft = self.ctl.draft
        if approval.purpose == "all_fingers" and draft is not None:
            draft.approvals.append(officer.officer_id)
            draft.fingers = {
                p: FingerRecord(p, exception=f.exception, approved_by=officer.officer_id)
                for p, f in draft.fingers.items()
            }
            self.ctl.journal()
        approval.approved_by = officer.officer_id
        self.ctl.go("approved")

    def press(self, button: Button, press: Press) -> None:
        if self.picker is not None:
            outcome = self.picker.press(button)
            if outcome is False:
                self.picker = None
                self.identify()
            elif outcome:
                self.accepted(outcome, "pin")
            return
        if button is Button.OK:
            supervisors = [o for o in self.ctl.store.officers.values() if o.is_supervisor]
            self.picker = PinPicker(self.ctl, supervisors)
        elif button is Button.BACK:
            self.refuse()

    def refuse(self) -> None:
        """No supervisor at hand: the fingers are asked again, a void or reprint is dropped."""
        if self.ctl.approving_fingers() and self.ctl.draft is not None:
            self.ctl.draft.fingers.clear()
            self.ctl.journal()
        else:
            self.ctl.approval = None
        self.ctl.go("approval_refused")

    def lines(self) -> list[str]:
        if self.picker is not None:
            return self.picker.lines()
        approval = self.ctl.approval
        assert approval is not None
        why = self.ctl.word(f"approval.{approval.purpose}", seq=approval.seq)
        return self.with_note(self.ctl.text("approval", why=why))


class Sealing(Step):
    """Sign, encrypt and write the record; only a durable record is called saved."""

    PROMPT = "sealing"

    def enter(self) -> None:
        super().enter()
        enrolment = self.enrolment()
        self.ctl.run("seal", lambda: self.ctl.store.seal(enrolment))

    def enrolment(self) -> Enrolment:
        approval = self.ctl.approval
        if approval is not None and approval.purpose == "void":
            return self.void_enrolment(approval)
        assert self.ctl.draft is not None
        return self.ctl.draft.enrolment(print_card=self.ctl.prints_card())

    def void_enrolment(self, approval: Approval) -> Enrolment:
        """A void record names the record it voids; it carries no biometrics.

        It names the resident too, but not their worklist line: the line counts as
        recorded while any unvoided record carries it, and the void must free it again.
        """
        seq, ref = approval.seq or 0, approval.ref
        resident = next((r for r in self.ctl.store.worklist if r.worklist_ref == ref), None)
        return Enrolment(
            resident=(
                replace(resident, worklist_ref=None)
                if resident
                else Resident("", "", Sex.MALE, "", date(1900, 1, 1))
            ),
            officer_id=self.ctl.officer_id,
            started_at=self.ctl.now(),
            voids=seq,
            void_reason="sealed in error",
            approvals=(approval.approved_by or "",),
        )

    def finished(self, result: Any, error: BaseException | None) -> None:
        if error is not None:
            self.ctl.devices.panel.indicate(Indicator.FAULT)
            self.ctl.devices.panel.beep(Tone.ERROR)
            reason = str(error)[:60]
            self.ctl.store.audit.append("seal-failed", reason=str(error))
            self.ctl.go("seal_failed")
            self.ctl.step.say("seal_failed", reason=reason)
            return
        self.ctl.sealed = result
        if not self.ctl.approving_void():  # a void is sealed from the menu: no journal
            self.ctl.clear_journal()
        self.ctl.devices.panel.indicate(Indicator.SAVED)
        self.ctl.devices.panel.beep(Tone.SAVED)
        self.ctl.go("sealed")


class Printing(Step):
    """A card when policy, age, stock and printer allow; otherwise a slip, never nothing."""

    PROMPT = "printing"

    def enter(self) -> None:
        super().enter()
        self.outcome = "none"
        self.serial: str | None = None
        #: The card print failed: OK now prints a slip instead (else OK goes on).
        self.card_failed = False
        reason = self.card_refusal()
        if reason is None:
            self.print_card()
        else:
            self.print_slip(reason)

    def card_refusal(self) -> str | None:
        ctl = self.ctl
        draft, printer = ctl.draft, ctl.devices.card_printer
        if not ctl.prints_card() or draft is None:
            return "record only" if not draft or not draft.walk_in else "walk-in: data to verify"
        if printer is None:
            return "no card printer"
        if ctl.store.ledger.stock() <= 0:
            return "no blank cards"
        try:
            status = printer.status()
        except DeviceError as exc:
            return f"printer: {exc}"
        return None if status.ready else f"printer: {status.state.value}"

    def print_card(self) -> None:
        ctl, draft, sealed = self.ctl, self.ctl.draft, self.ctl.sealed
        assert draft is not None and sealed is not None and ctl.devices.card_printer is not None
        front = render_card_front(
            draft.resident,
            photo_jpeg=draft.face_jpeg or b"",
            signature_png=draft.signature_png,
            issued_place=draft.resident.regency.removeprefix("KABUPATEN ") or "-",
            issued_on=ctl.now().date(),
        )
        self.serial = ctl.store.ledger.begin_print(sealed.seq)
        ctl.store.audit.append("print-begin", seq=sealed.seq, serial=self.serial)
        printer = ctl.devices.card_printer
        ctl.run("print", lambda: printer.print_card(front, timeout=CARD_PRINT_TIMEOUT_SECONDS))

    def print_slip(self, reason: str) -> None:
        ctl, sealed = self.ctl, self.ctl.sealed
        printer = ctl.devices.receipt_printer
        if printer is None or sealed is None:
            self.ctl.go("print_finished")
            return
        resident = ctl.draft.resident if ctl.draft else None
        slip = render_slip(
            name=resident.name if resident else "",
            nik=resident.nik if resident else "",
            record_seq=sealed.seq,
            kit_id=ctl.store.kit_id,
            when=ctl.now(),
            reference=f"JEMPUT:{ctl.store.kit_id}:{sealed.seq}",
            collect_at=ctl.store.policy.card_collection_place,
            reason=reason,
            language=ctl.language.value,
        )
        self.note = ctl.text("slip_printing")
        self.outcome = "slip"
        ctl.run("slip", lambda: printer.print_image(slip, timeout=SLIP_PRINT_TIMEOUT_SECONDS))

    def finished(self, result: Any, error: BaseException | None) -> None:
        ctl = self.ctl
        if self.serial is not None:  # a card print came back
            serial, self.serial = self.serial, None
            if error is None:
                ctl.store.ledger.printed(serial)
                ctl.store.audit.append("printed", serial=serial, seq=ctl.sealed and ctl.sealed.seq)
                self.outcome = "card"
                ctl.go("print_finished")
                return
            ctl.store.ledger.spoiled(serial, str(error))
            ctl.store.audit.append("spoiled", serial=serial, reason=str(error))
            ctl.devices.panel.beep(Tone.ERROR)
            self.say("print_failed", reason=str(error)[:40])
            self.card_failed = True
            return
        if error is not None:
            self.outcome = "none"
            self.say("slip_failed", reason=str(error)[:20], seq=ctl.sealed and ctl.sealed.seq)
            return
        ctl.go("print_finished")

    def press(self, button: Button, press: Press) -> None:
        if button is Button.OK and not self.ctl.busy and self.note:
            if self.card_failed:
                self.card_failed = False
                self.print_slip("card print failed")
            else:
                self.ctl.go("print_finished")


class Done(Step):
    def enter(self) -> None:
        super().enter()
        self.ctl.devices.panel.indicate(Indicator.SAVED)
        if self.ctl.shutdown_pending:
            self.ctl.power_off()

    def press(self, button: Button, press: Press) -> None:
        if button is Button.OK:
            self.ctl.go("next_person")
        elif button is Button.UP and self.ctl.sealed is not None and self.ctl.draft is not None:
            self.ctl.approval = Approval("reprint", self.ctl.sealed.seq)
            self.ctl.go("reprint")

    def lines(self) -> list[str]:
        ctl, sealed = self.ctl, self.ctl.sealed
        assert sealed is not None
        if ctl.approving_void():
            assert ctl.approval is not None
            outcome = ctl.word("outcome.void", voided=ctl.approval.seq)
            name = ""
        else:
            outcome = ctl.word(f"outcome.{ctl.steps['printing'].outcome}")
            draft = ctl.draft
            name = (draft.resident.name or draft.resident.nik) if draft else ""
        return ctl.text("done", seq=sealed.seq, name=name, outcome=outcome)


def make_steps(ctl: Controller) -> dict[str, Step]:
    return {
        "approval": SupervisorApproval(ctl),
        "sealing": Sealing(ctl),
        "printing": Printing(ctl),
        "done": Done(ctl),
    }
