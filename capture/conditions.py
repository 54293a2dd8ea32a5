"""The questions the machine asks before it moves (the ``cond=`` of its transitions).

Where one event leads to several states, the first transition whose condition holds wins
(docs/capture-states.md).  :class:`Conditions` answers them from the officer's session, the
store and the printers; the controller hands it to the machine as a listener, so the
machine finds each condition by its name here.  It also answers the two questions steps
ask before a person is enrolled or printed for: why no enrolment may start now
(:meth:`Conditions.refusal`) and what a record is printed with (:meth:`Conditions.print_plan`).
"""

from __future__ import annotations

from capture.draft import ApprovalPurpose, Draft
from capture.guards import PowerWatch
from capture.machine import CaptureState
from capture.ports import RecordKeeper
from capture.print_plan import PrintOutcome, PrintPlan, plan_print
from capture.session import Refusal, Session
from hal.contracts import Devices


class Conditions:
    """Answers the machine's conditions by name (see the module's doc)."""

    def __init__(
        self, session: Session, store: RecordKeeper, devices: Devices, power: PowerWatch
    ) -> None:
        self._session = session
        self._store = store
        self._devices = devices
        self._power = power

    # -- after a login ----------------------------------------------------------------------

    def print_unresolved(self) -> bool:
        return bool(self._session.unanswered_prints())

    def journal_open(self) -> bool:
        return self._session.journal_open()

    # -- where a capture goes next ----------------------------------------------------------

    def needs_notice(self) -> bool:
        """Nothing captured and no notice read yet: the notice comes first.  (A journal
        of a capture begun before the kit read notices goes on where it stopped.)"""
        draft = self._draft()
        return draft.notice is None and draft.nothing_captured

    def needs_guardian(self) -> bool:
        """A child: a parent or guardian hears the notice for them, and is named."""
        return self._draft().child

    def needs_face(self) -> bool:
        return self._next_step() is CaptureState.FACE

    def needs_fingers(self) -> bool:
        return self._next_step() is CaptureState.FINGERS

    def needs_signature(self) -> bool:
        return self._next_step() is CaptureState.SIGNATURE

    def needs_finger_approval(self) -> bool:
        return self._draft().needs_finger_approval()

    def from_elsewhere(self) -> bool:
        """A walk-in whose NIK is of another regency than the kit's: a temporary domicile."""
        return self._draft().resident.nik[:4] != self._store.region[:4]

    def has_draft(self) -> bool:
        return self._session.draft is not None

    # -- what was approved ------------------------------------------------------------------

    def approving_fingers(self) -> bool:
        return self._approving(ApprovalPurpose.ALL_FINGERS)

    def approving_duplicate(self) -> bool:
        return self._approving(ApprovalPurpose.DUPLICATE)

    def approving_void(self) -> bool:
        return self._approving(ApprovalPurpose.VOID)

    def approving_signature(self) -> bool:
        return self._approving(ApprovalPurpose.SIGNATURE)

    def approving_correction(self) -> bool:
        return self._approving(ApprovalPurpose.CORRECTION)

    def approving_at_capture(self) -> bool:
        """A signature exception or a correction: approved, the person goes to review."""
        approval = self._session.approval
        return approval is not None and approval.purpose.at_capture

    # -- after the seal ---------------------------------------------------------------------

    def will_print(self) -> bool:
        """Whether anything is printed after this seal: a card, or else a slip."""
        return self.print_plan().after_seal is not PrintOutcome.NONE

    def print_plan(self, *, ask_printer: bool = False) -> PrintPlan:
        """What this record asks for and what is printed after its seal (one rule)."""
        return plan_print(
            print_on_site=self._store.policy.print_on_site,
            draft=self._session.draft,
            voiding=self.approving_void(),
            card_printer=self._devices.card_printer,
            receipt_printer=self._devices.receipt_printer,
            stock=self._store.ledger.stock(),
            ask_printer=ask_printer,
        )

    def refusal(self) -> Refusal | None:
        """Why no new enrolment may start now (battery low, storage nearly full), or None."""
        reading = self._power.reading
        if reading is not None and reading.percent <= self._store.policy.low_battery_percent:
            return Refusal("refused_battery", {"percent": int(reading.percent)})
        if self._store.refusal() is not None:
            return Refusal("refused_storage")
        return None

    def _draft(self) -> Draft:
        draft = self._session.draft
        assert draft is not None  # asked only while a person is being captured
        return draft

    def _next_step(self) -> CaptureState:
        return self._draft().next_step(self._store.policy.fingers)

    def _approving(self, purpose: ApprovalPurpose) -> bool:
        approval = self._session.approval
        return approval is not None and approval.purpose is purpose
