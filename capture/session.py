"""The officer's session at the kit: who works it, who is present, and whom they enrol.

:class:`Session` holds the officer logged in, the village official present, the person
being captured (the :class:`~capture.draft.Draft`, journaled after every completed step),
the supervisor's approval asked for, the record just sealed and what the printers gave it.
Steps read it through the context and change it only through its methods, each named for
what happened (``log_in``, ``begin``, ``resume``, ``ask``, ``approve``, ``sealed_as``...);
nothing assigns its state from outside.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from capture.audit_trail import AuditTrail
from capture.draft import Approval, Draft
from capture.ports import RecordKeeper
from capture.print_plan import PrintOutcome
from storage.audit import AuditKind
from storage.eligibility import NotYetBorn
from storage.errors import StorageFull
from storage.handover import HandoverBatch, HandoverCard
from storage.model import Officer, PrintAttempt, Resident, SealedRecord

log = logging.getLogger(__name__)


class Proof(enum.StrEnum):
    """How someone proved who they are at the kit (the audit log says which)."""

    FINGER = "finger"  # a finger the sensor's library knows
    PIN = "pin"


@dataclass(frozen=True)
class Refusal:
    """Why an enrolment may not start: the prompt that says it, and its values."""

    key: str
    values: Mapping[str, object] = field(default_factory=dict)


class Session:
    """What the kit knows of the people in front of it, between two locks and across them
    (the journal; see the module's doc)."""

    def __init__(
        self, store: RecordKeeper, audit: AuditTrail, *, now: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._audit = audit
        self._now = now
        self._officer: Officer | None = None
        self._official: Officer | None = None
        self._login_finger_of: Officer | None = None
        self._draft: Draft | None = None
        self._approval: Approval | None = None
        self._resumable: Draft | None = None
        self._sealed: SealedRecord | None = None
        self._print_outcome = PrintOutcome.NONE
        self._print_underway: PrintOutcome | None = None
        #: Serials of the cards printing now, behind the machine: taken, not yet unresolved.
        self._cards_printing: set[str] = set()
        self._journal_unsaved = False
        self._handover: tuple[HandoverBatch | None, HandoverCard | None] = (None, None)

    @property
    def officer(self) -> Officer | None:
        return self._officer

    @property
    def officer_id(self) -> str:
        return self._officer.officer_id if self._officer else ""

    @property
    def official(self) -> Officer | None:
        """The village official present (logged in at the officer's menu), if any."""
        return self._official

    @property
    def login_finger_of(self) -> Officer | None:
        """The officer whose login finger a supervisor chose to enrol, if any."""
        return self._login_finger_of

    @property
    def draft(self) -> Draft | None:
        """The person being captured, if any."""
        return self._draft

    @property
    def approval(self) -> Approval | None:
        """What a supervisor (or the official) is asked to approve, or approved."""
        return self._approval

    @property
    def resumable(self) -> Draft | None:
        """The enrolment login found in the journal (offered, then resumed), until the
        journal is cleared: read once per login, not once per question about it."""
        return self._resumable

    @property
    def sealed(self) -> SealedRecord | None:
        """The record just sealed (the done screen, the print)."""
        return self._sealed

    @property
    def print_underway(self) -> PrintOutcome | None:
        """What is printing now for the record just sealed (None: nothing)."""
        return self._print_underway

    @property
    def print_outcome(self) -> PrintOutcome:
        """What the printers gave the record just sealed (the done screen says it)."""
        return self._print_outcome

    @property
    def journal_unsaved(self) -> bool:
        """The draft's last step is not in the journal (full disk): the enrolment waits."""
        return self._journal_unsaved

    @property
    def handover_batch(self) -> HandoverBatch | None:
        """The batch of printed cards chosen at the handover screen, if any."""
        return self._handover[0]

    @property
    def handover_card(self) -> HandoverCard | None:
        """The card of that batch a resident comes to take, if any."""
        return self._handover[1]

    def choose_handover(
        self, batch: HandoverBatch | None, card: HandoverCard | None = None
    ) -> None:
        """The officer chose a batch (None: back to the list of batches) and a card of it."""
        self._handover = (batch, card)

    # -- who works the kit -------------------------------------------------------------------

    def log_in(self, officer: Officer, how: Proof) -> None:
        """``officer`` logged in; the journal is read for an enrolment to offer."""
        self._officer = officer
        self._audit.append(AuditKind.LOGIN, officer=officer.officer_id, how=how)
        self._resumable = self._journaled_draft()

    def log_out(self) -> None:
        """The kit is locked: nobody works it until the next login."""
        self._officer = None
        self._handover = (None, None)
        self._login_finger_of = None

    def walk_away(self) -> None:
        """The idle lock: the officer is logged out and the draft leaves memory (the
        journal keeps it, and the next login offers to resume it)."""
        self._draft = None
        self._officer = None
        self._handover = (None, None)

    def official_present(self, official: Officer, how: Proof) -> None:
        """The village official said they are present: every record names them."""
        self._official = official
        self._audit.append(AuditKind.OFFICIAL_IN, official=official.officer_id, how=how)

    def enrol_login_finger(self, officer: Officer) -> None:
        """A supervisor chose to put ``officer``'s login finger on the sensor."""
        self._login_finger_of = officer

    # -- the person ---------------------------------------------------------------------------

    def begin(self, resident: Resident, *, walk_in: bool = False) -> Refusal | None:
        """Start enrolling ``resident``: the draft follows the day's card rule and names the
        official present.  Or say why not: a worklist resident while the policy asks for an
        official and none is in; a birth date not before today."""
        policy = self._store.policy
        if policy.official_required and not walk_in and self._official is None:
            return Refusal("official_needed")
        try:
            self._draft = Draft.begin(
                resident,
                officer_id=self.officer_id,
                started_at=self._now(),
                policy=policy,
                walk_in=walk_in,
                official_id=self._official.officer_id if self._official else None,
            )
        except NotYetBorn:
            return Refusal("not_born", {"born": resident.birth_date.strftime("%d-%m-%Y")})
        return None

    def resume(self) -> None:
        """The officer resumed the enrolment the journal held."""
        assert self._resumable is not None  # the guard that offered it
        self._draft = self._resumable
        self._audit.append(AuditKind.RESUME, nik=self._draft.resident.nik)

    def let_go(self) -> None:
        """The officer went back before anything of the person was captured or journaled."""
        self._draft = None

    def drop(self, why: AuditKind) -> None:
        """Drop the enrolment in progress (cancelled, a duplicate, or a journal the officer
        discarded): audited as ``why``, and nothing is left to resume."""
        if self._draft is not None or self.journal_open():
            who = self._draft.resident.nik if self._draft else "journal"
            self._audit.append(why, nik=who, officer=self.officer_id)
        self.clear_journal()
        self._draft = None
        self._approval = None

    def next_person(self) -> None:
        """The ready list: the last person, their approval and their record are done with."""
        self._draft, self._approval, self._sealed = None, None, None

    # -- approvals ----------------------------------------------------------------------------

    def ask(self, approval: Approval) -> None:
        """A supervisor (or the official) is asked to approve ``approval``."""
        self._approval = approval

    def approve(self, approver_id: str) -> None:
        """``approver_id`` approved what was asked."""
        assert self._approval is not None  # the approval step asked for it
        self._approval = self._approval.approved(approver_id)

    def withdraw(self) -> None:
        """Nobody approved: what was asked is no longer asked (a void, a reprint)."""
        self._approval = None

    # -- the record ---------------------------------------------------------------------------

    def sealed_as(self, record: SealedRecord) -> None:
        """The record is sealed: nothing has been printed for it yet."""
        self._sealed = record
        self._print_outcome, self._print_underway = PrintOutcome.NONE, None

    def print_begun(self, outcome: PrintOutcome, *, seq: int, serial: str | None = None) -> None:
        """A card (``serial``, taken from the ledger) or a slip for record ``seq`` began to
        print behind the machine."""
        if serial is not None:
            self._cards_printing.add(serial)
        if self._sealed is not None and self._sealed.seq == seq:
            self._print_underway = outcome

    def printed(self, outcome: PrintOutcome, *, seq: int, serial: str | None = None) -> None:
        """What the printers gave record ``seq``; the done screen says it while that is
        the record just sealed."""
        self._cards_printing.discard(serial or "")
        if self._sealed is not None and self._sealed.seq == seq:
            self._print_outcome, self._print_underway = outcome, None

    def unanswered_prints(self) -> list[PrintAttempt]:
        """Prints begun whose outcome a crash hid (the ledger's unresolved, less the cards
        printing now): the officer is asked whether each came out."""
        unresolved = self._store.ledger.unresolved()
        return [attempt for attempt in unresolved if attempt.serial not in self._cards_printing]

    # -- the journal --------------------------------------------------------------------------

    def journal_open(self) -> bool:
        """Whether the journal holds an enrolment login found (see :attr:`resumable`)."""
        return self._resumable is not None

    def journal(self) -> None:
        """Save the enrolment in progress: a crash now loses nothing captured so far.

        On a full disk the draft stays in memory and the "storage full" screen holds the
        enrolment until a save succeeds (OK, or the next tick once space is freed).
        """
        if self._draft is None:
            return
        try:
            self._store.journal.save(self._draft.to_map())
        except StorageFull as exc:
            log.error("journal not saved: %s", exc)
            self._journal_unsaved = True
            return
        self._journal_unsaved = False

    def clear_journal(self) -> None:
        """Empty the journal (sealed, cancelled or discarded): nothing is left to resume.

        On a full disk the journal stays: a sealed person's journal is dropped at the next
        login (`KitStore.clear_journal_if_sealed`), a cancelled one is offered and may be
        discarded again.
        """
        try:
            self._store.journal.clear()
        except StorageFull as exc:
            log.error("journal not cleared: %s", exc)
        self._journal_unsaved = False
        self._resumable = None

    def _journaled_draft(self) -> Draft | None:
        """The enrolment the journal holds, to offer for resuming; None when there is none."""
        journaled = self._store.journal.load()
        if journaled is None:
            return None
        draft = Draft.from_map(dict(journaled))
        # a crash between sealing and clearing leaves a journal of a person already sealed:
        # the store drops it, so they are never offered for a second record
        if self._store.clear_journal_if_sealed(draft.resident.worklist_ref):
            return None
        return draft
