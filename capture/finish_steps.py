"""The steps after capture: a supervisor's approval, sealing, printing, and done."""

from __future__ import annotations

from capture.base import FingerLogin, PinPicker, Step
from capture.card import render_card_front
from capture.draft import Approval, ApprovalPurpose
from capture.duplicates import admit, forget
from capture.events import JobKind
from capture.machine import CaptureEvent
from capture.ports import RecordKeeper
from capture.print_plan import PrintOutcome, SlipReason
from capture.slip import render_slip
from hal.contracts import FingerprintSensor
from hal.exc import DeviceError
from hal.types import Button, Indicator, Press, Tone
from storage.audit import AuditKind
from storage.errors import StorageError
from storage.model import (
    Correction,
    Enrolment,
    FingerRecord,
    Officer,
    SealedRecord,
    SignatureException,
    slip_reference,
)

CARD_PRINT_TIMEOUT_SECONDS = 90.0
SLIP_PRINT_TIMEOUT_SECONDS = 20.0


class SupervisorApproval(FingerLogin):
    """A supervisor's finger (or PIN) for what an officer may not do alone."""

    def enter(self) -> None:
        super().enter()
        self.picker = None
        self.identify()

    def _may_approve(self, officer: Officer) -> bool:
        """A data correction is the village official's; everything else a supervisor's."""
        approval = self.ctx.approval
        assert approval is not None
        return officer.is_official if approval.purpose.by_official else officer.is_supervisor

    def accepted(self, officer: Officer, how: str) -> None:
        approval = self.ctx.approval
        assert approval is not None
        if not self._may_approve(officer):
            self.say("not_official" if approval.purpose.by_official else "not_supervisor")
            self.ctx.devices.panel.beep(Tone.ERROR)
            if how == "finger":
                self.identify()
            return
        self.ctx.audit(
            AuditKind.APPROVAL,
            purpose=approval.purpose,
            seq=approval.seq,
            supervisor=officer.officer_id,
            officer=self.ctx.officer_id,
            how=how,
        )
        draft = self.ctx.draft
        if approval.purpose is ApprovalPurpose.ALL_FINGERS and draft is not None:
            draft.approvals.append(officer.officer_id)
            draft.fingers = {
                p: FingerRecord(p, exception=f.exception, approved_by=officer.officer_id)
                for p, f in draft.fingers.items()
            }
            self.ctx.journal()
        if approval.purpose is ApprovalPurpose.DUPLICATE and draft is not None:
            draft.duplicates_approved.append((approval.seq or 0, officer.officer_id))
            self.ctx.journal()
        notice = self._apply_at_capture(approval, officer) if draft is not None else None
        approval.approved_by = officer.officer_id
        self.ctx.go(CaptureEvent.APPROVED, notice=notice)

    def _apply_at_capture(self, approval: Approval, officer: Officer) -> list[str] | None:
        """A signature exception or a correction, approved: kept in the draft (journaled)."""
        draft = self.ctx.draft
        assert draft is not None
        if approval.signature_exception is not None:
            draft.signature_exception = SignatureException(
                approval.signature_exception, officer.officer_id
            )
            draft.approvals.append(officer.officer_id)
            self.ctx.audit(AuditKind.SIGNATURE_EXCEPTION, nik=draft.resident.nik)
        elif approval.correction is not None:
            field, new = approval.correction
            original = field.value_of(draft.resident)
            draft.corrections = [c for c in draft.corrections if c.field is not field]
            if new != draft.original(field):
                draft.corrections.append(
                    Correction(field, draft.original(field), new, officer.officer_id)
                )
            draft.resident = field.corrected(draft.resident, new)
            self.ctx.audit(AuditKind.CORRECTED, field=field.value, was=original)
            self.ctx.journal()
            return self.ctx.text("corrected", field=self.ctx.word(f"field.{field.name}"), new=new)
        else:
            return None
        self.ctx.journal()
        return None

    def press(self, button: Button, press: Press) -> None:
        if self.picker_took(button):
            return
        if button is Button.OK:
            approvers = [o for o in self.ctx.store.officers.values() if self._may_approve(o)]
            self.picker = PinPicker(self.ctx, approvers)
        elif button is Button.BACK:
            self.refuse()

    def refuse(self) -> None:
        """No supervisor at hand: the fingers are asked again, a void or reprint is dropped."""
        approval = self.ctx.approval
        approving_fingers = approval is not None and approval.purpose is ApprovalPurpose.ALL_FINGERS
        if approving_fingers and self.ctx.draft is not None:
            self.ctx.draft.fingers.clear()
            self.ctx.journal()
        elif approval is not None and approval.purpose is ApprovalPurpose.DUPLICATE:
            self.ctx.discard_draft(AuditKind.DUPLICATE_REFUSED)  # one person, one record
        elif approval is None or not approval.purpose.at_capture:
            self.ctx.approval = None
        self.ctx.go(CaptureEvent.APPROVAL_REFUSED)

    def lines(self) -> list[str]:
        if self.picker is not None:
            return self.picker.lines()
        approval = self.ctx.approval
        assert approval is not None
        if approval.purpose.by_official:
            return self.with_note(self.ctx.text("official_approval"))
        why = self.ctx.word(f"approval.{approval.purpose}", seq=approval.seq)
        return self.with_note(self.ctx.text("approval", why=why))


def seal_and_remember(
    store: RecordKeeper, sensor: FingerprintSensor, enrolment: Enrolment
) -> SealedRecord:
    """Seal the record, then put the person's fingers into the sensor's library so a
    second enrolment is caught (a void takes the voided person's out).  The record is
    safe once sealed: a sensor that fails now is written to the audit log, never
    reported as a failed seal."""
    sealed = store.seal(enrolment)
    try:
        if enrolment.voids is not None:
            forget(sensor, store, enrolment.voids)
        else:
            admit(sensor, store, sealed.seq, enrolment)
    except (DeviceError, StorageError, ValueError) as exc:
        store.audit.append(AuditKind.LIBRARY_FAILED, seq=sealed.seq, reason=str(exc))
    return sealed


class Sealing(Step):
    """Sign, encrypt and write the record; only a durable record is called saved."""

    PROMPT = "sealing"

    def enter(self) -> None:
        super().enter()
        self.ctx.print_outcome = PrintOutcome.NONE
        enrolment = self.enrolment()
        store, sensor = self.ctx.store, self.ctx.devices.fingerprint
        self.ctx.run(JobKind.SEAL, lambda: seal_and_remember(store, sensor, enrolment))

    def enrolment(self) -> Enrolment:
        approval = self.ctx.approval
        if approval is not None and approval.purpose is ApprovalPurpose.VOID:
            return self.void_enrolment(approval)
        assert self.ctx.draft is not None
        return self.ctx.draft.enrolment(print_card=self.ctx.print_plan().card_on_record)

    def void_enrolment(self, approval: Approval) -> Enrolment:
        """The void of the record the officer chose, naming its resident if listed."""
        ref = approval.ref
        resident = next((r for r in self.ctx.store.worklist if r.worklist_ref == ref), None)
        return Enrolment.void(
            voids=approval.seq or 0,
            resident=resident,
            officer_id=self.ctx.officer_id,
            approved_by=approval.approved_by or "",
            at=self.ctx.now(),
        )

    def finished(self, result: object, error: BaseException | None) -> None:
        if error is not None:
            self.ctx.devices.panel.indicate(Indicator.FAULT)
            self.ctx.devices.panel.beep(Tone.ERROR)
            self.ctx.audit(AuditKind.SEAL_FAILED, reason=str(error))
            notice = self.ctx.text("seal_failed", reason=str(error)[:60])
            self.ctx.go(CaptureEvent.SEAL_FAILED, notice=notice)
            return
        assert isinstance(result, SealedRecord), result
        self.ctx.sealed = result
        approval = self.ctx.approval
        if approval is None or approval.purpose is not ApprovalPurpose.VOID:
            self.ctx.clear_journal()  # a void is sealed from the menu: no journal
        self.ctx.devices.panel.indicate(Indicator.SAVED)
        self.ctx.devices.panel.beep(Tone.SAVED)
        self.ctx.go(CaptureEvent.SEALED)


class Printing(Step):
    """A card when policy, age, stock and printer allow; otherwise a slip, never nothing."""

    PROMPT = "printing"

    def enter(self) -> None:
        super().enter()
        self.ctx.print_outcome = PrintOutcome.NONE
        self.serial: str | None = None
        #: The card print failed: OK now prints a slip instead (else OK goes on).
        self.card_failed = False
        plan = self.ctx.print_plan(ask_printer=True)
        if plan.after_seal is PrintOutcome.CARD:
            self.print_card()
        elif not self.print_slip(plan.slip_reason or SlipReason.RECORD_ONLY):
            self.ctx.follow(CaptureEvent.PRINT_FINISHED)  # no slip printer: nothing to wait for

    def print_card(self) -> None:
        ctx, draft, sealed = self.ctx, self.ctx.draft, self.ctx.sealed
        printer = ctx.devices.card_printer
        assert draft is not None and sealed is not None and printer is not None
        front = render_card_front(
            draft.resident,
            photo_jpeg=draft.face_jpeg,
            signature_png=draft.signature_png,
            issued_place=draft.resident.regency.removeprefix("KABUPATEN ") or "-",
            issued_on=ctx.now().date(),
            kind=draft.kind,
        )
        self.serial = ctx.store.ledger.begin_print(sealed.seq)
        ctx.audit(AuditKind.PRINT_BEGIN, seq=sealed.seq, serial=self.serial)
        ctx.run(
            JobKind.PRINT, lambda: printer.print_card(front, timeout=CARD_PRINT_TIMEOUT_SECONDS)
        )

    def print_slip(self, reason: str) -> bool:
        """Start printing the slip; False when there is no slip printer (or no record)."""
        ctx, sealed = self.ctx, self.ctx.sealed
        printer = ctx.devices.receipt_printer
        if printer is None or sealed is None:
            return False
        resident = ctx.draft.resident if ctx.draft else None
        slip = render_slip(
            name=resident.name if resident else "",
            nik=resident.nik if resident else "",
            record_seq=sealed.seq,
            kit_id=ctx.store.kit_id,
            when=ctx.now(),
            reference=slip_reference(ctx.store.kit_id, sealed.seq),
            collect_at=ctx.store.policy.card_collection_place,
            reason=reason,
            language=ctx.language.value,
        )
        self.note = ctx.text("slip_printing")
        self.ctx.print_outcome = PrintOutcome.SLIP
        ctx.run(JobKind.SLIP, lambda: printer.print_image(slip, timeout=SLIP_PRINT_TIMEOUT_SECONDS))
        return True

    def finished(self, result: object, error: BaseException | None) -> None:
        ctx = self.ctx
        seq = ctx.sealed.seq if ctx.sealed else None
        if self.serial is not None:  # a card print came back
            serial, self.serial = self.serial, None
            if error is None:
                ctx.store.ledger.printed(serial)
                ctx.audit(AuditKind.PRINTED, serial=serial, seq=seq)
                self.ctx.print_outcome = PrintOutcome.CARD
                ctx.go(CaptureEvent.PRINT_FINISHED)
                return
            ctx.store.ledger.spoiled(serial, str(error))
            ctx.audit(AuditKind.SPOILED, serial=serial, reason=str(error))
            ctx.devices.panel.beep(Tone.ERROR)
            self.say("print_failed", reason=str(error)[:40])
            self.card_failed = True
            return
        if error is not None:
            self.ctx.print_outcome = PrintOutcome.NONE
            self.say("slip_failed", reason=str(error)[:20], seq=seq)
            return
        ctx.go(CaptureEvent.PRINT_FINISHED)

    def press(self, button: Button, press: Press) -> None:
        if button is Button.OK and not self.ctx.busy and self.note:
            if self.card_failed:
                self.card_failed = False
                if not self.print_slip(SlipReason.CARD_FAILED):
                    self.ctx.go(CaptureEvent.PRINT_FINISHED)
            else:
                self.ctx.go(CaptureEvent.PRINT_FINISHED)


class Done(Step):
    def enter(self) -> None:
        super().enter()
        self.ctx.devices.panel.indicate(Indicator.SAVED)

    def press(self, button: Button, press: Press) -> None:
        if button is Button.OK:
            self.ctx.go(CaptureEvent.NEXT_PERSON)
        elif button is Button.UP and self.ctx.sealed is not None and self.ctx.draft is not None:
            self.ctx.approval = Approval(ApprovalPurpose.REPRINT, self.ctx.sealed.seq)
            self.ctx.go(CaptureEvent.REPRINT)

    def lines(self) -> list[str]:
        ctx, sealed, approval = self.ctx, self.ctx.sealed, self.ctx.approval
        assert sealed is not None
        if approval is not None and approval.purpose is ApprovalPurpose.VOID:
            outcome = ctx.word("outcome.void", voided=approval.seq)
            name = ""
        else:
            outcome = ctx.word(f"outcome.{ctx.print_outcome}")
            draft = ctx.draft
            name = (draft.resident.name or draft.resident.nik) if draft else ""
        return ctx.text("done", seq=sealed.seq, name=name, outcome=outcome)
