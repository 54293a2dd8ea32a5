"""The steps after capture: a supervisor's approval, sealing, printing, and done."""

from __future__ import annotations

from collections.abc import Callable

from capture.base import FingerLogin, Overlay, PinPicker, Step, StepContext
from capture.card import render_card_front
from capture.draft import Approval, ApprovalPurpose, Draft
from capture.duplicates import admit, forget
from capture.events import JobKind
from capture.faults import fault_key
from capture.machine import CaptureEvent
from capture.ports import RecordKeeper
from capture.print_plan import PrintOutcome, SlipReason
from capture.session import Proof
from capture.slip import render_slip
from hal.contracts import FingerprintSensor
from hal.exc import DeviceError
from hal.types import Button, Indicator, Press, Tone
from storage.audit import AuditKind
from storage.errors import StorageError
from storage.model import Enrolment, Officer, SealedRecord, slip_reference

CARD_PRINT_TIMEOUT_SECONDS = 90.0
SLIP_PRINT_TIMEOUT_SECONDS = 20.0


class SupervisorApproval(FingerLogin):
    """A supervisor's finger (or PIN) for what an officer may not do alone."""

    def enter(self) -> None:
        super().enter()
        self.picker = None
        self.identify()

    @property
    def approval(self) -> Approval:
        """What is asked: the step that led here asked for it."""
        approval = self.ctx.session.approval
        assert approval is not None
        return approval

    def _may_approve(self, officer: Officer) -> bool:
        """A data correction is the village official's; everything else a supervisor's."""
        if self.approval.purpose.by_official:
            return officer.is_official
        return officer.is_supervisor

    def accepted(self, officer: Officer, how: Proof) -> None:
        approval, session = self.approval, self.ctx.session
        if not self._may_approve(officer):
            self.say("not_official" if approval.purpose.by_official else "not_supervisor")
            self.ctx.devices.panel.beep(Tone.ERROR)
            if how is Proof.FINGER:
                self.identify()
            return
        self.ctx.audit(
            AuditKind.APPROVAL,
            purpose=approval.purpose,
            seq=approval.seq,
            supervisor=officer.officer_id,
            officer=session.officer_id,
            how=how,
        )
        draft = session.draft
        if approval.purpose is ApprovalPurpose.ALL_FINGERS and draft is not None:
            draft.approve_exceptions(officer.officer_id)
            session.journal()
        if approval.purpose is ApprovalPurpose.DUPLICATE and draft is not None:
            draft.approve_duplicate(approval.seq or 0, officer.officer_id)
            session.journal()
        notice = self._apply_at_capture(approval, officer) if draft is not None else None
        session.approve(officer.officer_id)
        self.ctx.go(CaptureEvent.APPROVED, notice=notice)

    def _apply_at_capture(self, approval: Approval, officer: Officer) -> list[str] | None:
        """A signature exception or a correction, approved: kept in the draft (journaled)."""
        draft = self.draft
        if approval.signature_exception is not None:
            draft.except_signature(approval.signature_exception, officer.officer_id)
            self.ctx.audit(AuditKind.SIGNATURE_EXCEPTION, nik=draft.resident.nik)
        elif approval.correction is not None:
            field, new = approval.correction
            was = field.value_of(draft.resident)
            draft.correct(field, new, officer.officer_id)
            self.ctx.audit(AuditKind.CORRECTED, field=field.value, was=was)
            self.ctx.session.journal()
            return self.ctx.text("corrected", field=self.ctx.word(f"field.{field.name}"), new=new)
        else:
            return None
        self.ctx.session.journal()
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
        purpose, session = self.approval.purpose, self.ctx.session
        if purpose is ApprovalPurpose.ALL_FINGERS and session.draft is not None:
            session.draft.retake_fingers()
            session.journal()
        elif purpose is ApprovalPurpose.DUPLICATE:
            session.drop(AuditKind.DUPLICATE_REFUSED)  # one person, one record
        elif not purpose.at_capture:
            session.withdraw()
        self.ctx.go(CaptureEvent.APPROVAL_REFUSED)

    def lines(self) -> list[str]:
        if self.picker is not None:
            return self.picker.lines()
        approval = self.approval
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
        enrolment = self.enrolment()
        store, sensor = self.ctx.store, self.ctx.devices.fingerprint
        self.ctx.run(JobKind.SEAL, lambda: seal_and_remember(store, sensor, enrolment))

    def enrolment(self) -> Enrolment:
        approval = self.ctx.session.approval
        if approval is not None and approval.purpose is ApprovalPurpose.VOID:
            return self.void_enrolment(approval)
        return self.draft.enrolment(print_card=self.ctx.print_plan().card_on_record)

    def void_enrolment(self, approval: Approval) -> Enrolment:
        """The void of the record the officer chose, naming its resident if listed."""
        ref = approval.ref
        resident = next((r for r in self.ctx.store.worklist if r.worklist_ref == ref), None)
        return Enrolment.void(
            voids=approval.seq or 0,
            resident=resident,
            officer_id=self.ctx.session.officer_id,
            approved_by=approval.approved_by or "",
            at=self.ctx.now(),
        )

    def finished(self, result: object, error: BaseException | None) -> None:
        if error is not None:
            self.ctx.devices.panel.indicate(Indicator.FAULT)
            self.ctx.devices.panel.beep(Tone.ERROR)
            self.ctx.audit(AuditKind.SEAL_FAILED, reason=str(error))
            notice = self.ctx.text("seal_failed", reason=self.fault(error)[0])
            self.ctx.go(CaptureEvent.SEAL_FAILED, notice=notice)
            return
        assert isinstance(result, SealedRecord), result
        session = self.ctx.session
        session.sealed_as(result)
        approval = session.approval
        if approval is None or approval.purpose is not ApprovalPurpose.VOID:
            session.clear_journal()  # a void is sealed from the menu: no journal
        self.ctx.devices.panel.indicate(Indicator.SAVED)
        self.ctx.devices.panel.beep(Tone.SAVED)
        self.ctx.go(CaptureEvent.SEALED)


class PrintFault(Overlay):
    """A print that failed behind the machine, shown between people: OK answers it, and
    ``then`` runs (after a failed card: the slip instead)."""

    def __init__(self, lines: list[str], *, then: Callable[[], None] | None = None) -> None:
        self._lines, self._then = lines, then

    def lines(self) -> list[str]:
        return self._lines

    def press(self, button: Button) -> bool:
        if button is not Button.OK:
            return False
        if self._then is not None:
            self._then()
        return True


class RecordPrint:
    """What is printed for one sealed record, behind the machine, and what came of it.

    Everything a print needs is taken when it starts (the next person may have been begun
    by the time it ends): the record's number and resident, the card's photo and signature.
    A card is taken from the ledger before the printer moves, so a crash mid-print is asked
    about at the next login (`capture.login_steps.PrintQuestion`).
    """

    def __init__(self, ctx: StepContext, seq: int, draft: Draft) -> None:
        self.ctx, self.seq, self.draft = ctx, seq, draft

    def card(self) -> None:
        ctx, draft, printer = self.ctx, self.draft, self.ctx.devices.card_printer
        assert printer is not None  # the plan prints a card only with a card printer
        resident, issued_on = draft.resident, ctx.now().date()
        photo, signature, kind = draft.face_jpeg, draft.signature_png, draft.kind
        training = ctx.store.training

        def work() -> None:
            front = render_card_front(
                resident,
                photo_jpeg=photo,
                signature_png=signature,
                issued_place=resident.regency.removeprefix("KABUPATEN ") or "-",
                issued_on=issued_on,
                kind=kind,
                training=training,
            )
            printer.print_card(front, timeout=CARD_PRINT_TIMEOUT_SECONDS)

        serial = ctx.store.ledger.begin_print(self.seq)
        ctx.audit(AuditKind.PRINT_BEGIN, seq=self.seq, serial=serial)
        ctx.session.print_begun(PrintOutcome.CARD, seq=self.seq, serial=serial)
        ctx.run_behind(JobKind.PRINT, work, lambda _, error: self._card_done(serial, error))

    def _card_done(self, serial: str, error: BaseException | None) -> None:
        ctx, session = self.ctx, self.ctx.session
        if error is None:
            ctx.store.ledger.printed(serial)
            ctx.audit(AuditKind.PRINTED, serial=serial, seq=self.seq)
            session.printed(PrintOutcome.CARD, seq=self.seq, serial=serial)
            return
        ctx.store.ledger.spoiled(serial, str(error))
        ctx.audit(AuditKind.SPOILED, serial=serial, reason=str(error))
        session.printed(PrintOutcome.NONE, seq=self.seq, serial=serial)
        ctx.devices.panel.beep(Tone.ERROR)
        failed = ctx.text("print_failed", reason=self._fault(error))
        ctx.interrupt(PrintFault(failed, then=lambda: self.slip(SlipReason.CARD_FAILED)))

    def _fault(self, error: BaseException) -> str:
        """What went wrong, in the catalogue's words (`capture.faults`), never the driver's."""
        return self.ctx.text(fault_key(error))[0]

    def slip(self, reason: SlipReason) -> None:
        """Print the slip, or say nothing came out when the kit has no slip printer."""
        ctx, resident, printer = self.ctx, self.draft.resident, self.ctx.devices.receipt_printer
        if printer is None:
            ctx.session.printed(PrintOutcome.NONE, seq=self.seq)
            return
        store, when, companion = ctx.store, ctx.now(), self.draft.companion_answers

        def work() -> None:
            slip = render_slip(
                name=resident.name,
                nik=resident.nik,
                record_seq=self.seq,
                kit_id=store.kit_id,
                when=when,
                reference=slip_reference(store.kit_id, self.seq),
                collect_at=store.policy.card_collection_place,
                reason=reason,
                training=store.training,
                companion=companion,
            )
            printer.print_image(slip, timeout=SLIP_PRINT_TIMEOUT_SECONDS)

        ctx.session.print_begun(PrintOutcome.SLIP, seq=self.seq)
        ctx.run_behind(JobKind.SLIP, work, lambda _, error: self._slip_done(error))

    def _slip_done(self, error: BaseException | None) -> None:
        ctx = self.ctx
        if error is None:
            ctx.session.printed(PrintOutcome.SLIP, seq=self.seq)
            return
        ctx.session.printed(PrintOutcome.NONE, seq=self.seq)
        ctx.devices.panel.beep(Tone.ERROR)
        ctx.interrupt(PrintFault(ctx.text("slip_failed", reason=self._fault(error), seq=self.seq)))


class Printing(Step):
    """A card when policy, age, stock and printer allow; otherwise a slip, never nothing.

    The print runs behind the machine on the printers' own lane (`RecordPrint`), and the
    kit goes on to done at once: the officer starts the next person while a card prints
    (13 s over its line).  A fault reaches the officer between people
    (`StepContext.interrupt`), handled as when the kit waited: the card is spoiled and OK
    prints a slip instead; a slip that failed asks for the number to be written down.
    """

    PROMPT = "printing"

    def enter(self) -> None:
        super().enter()
        sealed = self.ctx.session.sealed
        assert sealed is not None  # printing follows a seal, or a reprint of one
        # the printer is asked before a card is taken, unless it is still printing
        plan = self.ctx.print_plan(ask_printer=not self.ctx.working_behind)
        record = RecordPrint(self.ctx, sealed.seq, self.draft)
        if plan.after_seal is PrintOutcome.CARD:
            record.card()
        else:
            record.slip(plan.slip_reason or SlipReason.RECORD_ONLY)
        self.ctx.follow(CaptureEvent.PRINT_FINISHED)


class Done(Step):
    def enter(self) -> None:
        super().enter()
        self.ctx.devices.panel.indicate(Indicator.SAVED)

    def press(self, button: Button, press: Press) -> None:
        session = self.ctx.session
        if button is Button.OK:
            self.ctx.go(CaptureEvent.NEXT_PERSON)
        elif button is Button.UP and session.sealed is not None and session.draft is not None:
            session.ask(Approval(ApprovalPurpose.REPRINT, session.sealed.seq))
            self.ctx.go(CaptureEvent.REPRINT)

    def lines(self) -> list[str]:
        ctx, session = self.ctx, self.ctx.session
        sealed, approval = session.sealed, session.approval
        assert sealed is not None
        if approval is not None and approval.purpose is ApprovalPurpose.VOID:
            outcome = ctx.word("outcome.void", voided=approval.seq)
            name = ""
        else:
            printing = session.print_underway
            if printing is PrintOutcome.CARD:
                outcome = ctx.word("printing")
            elif printing is PrintOutcome.SLIP:
                outcome = ctx.word("slip_printing")
            else:
                outcome = ctx.word(f"outcome.{session.print_outcome}")
            draft = session.draft
            name = (draft.resident.name or draft.resident.nik) if draft else ""
        return ctx.text("done", seq=sealed.seq, name=name, outcome=outcome)
