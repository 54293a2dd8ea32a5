"""The enrolment in progress, and how it is journaled after every completed step.

A draft changes only through its methods, each named for what happened at the kit
(:meth:`Draft.keep_face`, :meth:`Draft.except_finger`, :meth:`Draft.correct`, ...): the
collections it holds are typed read-only, and a test holds every other module to assigning
none of its fields, so what a record will say is decided here and nowhere else.

The journal holds plain CBOR-able maps, so a crash or a pulled battery loses at most the
step under way: after reboot :meth:`Draft.from_map` brings back everything captured, and
:meth:`Draft.next_step` says where to continue.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from capture.machine import CaptureState
from hal.types import FingerException, FingerPosition
from storage.eligibility import card_rule
from storage.model import (
    CardKind,
    CorrectableField,
    Correction,
    Domicile,
    Enrolment,
    FingerRecord,
    FlaggedError,
    FlagReason,
    FreeTextField,
    Policy,
    Resident,
    SignatureException,
    SignatureExceptionReason,
)
from storage.profile import resident_from_map, resident_to_map
from vocabulary.purpose import Purpose
from vocabulary.rounds import Assist, Disability


class ApprovalPurpose(enum.StrEnum):
    """What a supervisor approves that an officer may not do alone (DESIGN "Domain facts")."""

    ALL_FINGERS = "all_fingers"
    #: The applicant's finger matched someone enrolled on this kit (twins go on).
    DUPLICATE = "duplicate"
    VOID = "void"
    REPRINT = "reprint"
    SIGNATURE = "no_signature"
    CORRECTION = "data_correction"

    @property
    def by_official(self) -> bool:
        """A data correction is the village official's to approve, the rest a supervisor's."""
        return self is ApprovalPurpose.CORRECTION

    @property
    def at_capture(self) -> bool:
        """Approved while a person is being captured: the flow goes on to the review."""
        return self in (ApprovalPurpose.SIGNATURE, ApprovalPurpose.CORRECTION)


@dataclass(frozen=True)
class Approval:
    """What a supervisor is asked to approve: all fingers excepted, a void, a reprint.

    Frozen: the approver is written in by :meth:`approved`, which makes a new one.
    """

    purpose: ApprovalPurpose
    seq: int | None = None
    #: A void's record: the worklist reference it carries (as listed to choose from).
    ref: str | None = None
    #: The supervisor who approved, once one has.
    approved_by: str | None = None
    #: What is approved at capture: the signature exception or the correction asked.
    signature_exception: SignatureExceptionReason | None = None
    correction: tuple[CorrectableField, str] | None = None

    def approved(self, approver_id: str) -> Approval:
        """This approval, given by ``approver_id``."""
        return dataclasses.replace(self, approved_by=approver_id)


@dataclass
class Draft:
    """One person's enrolment from the moment they are chosen until it is sealed."""

    resident: Resident
    officer_id: str
    started_at: datetime
    walk_in: bool = False
    face_jpeg: bytes | None = None
    #: The kept photo's quality measures, "forced" when no photo passed them all.
    face_quality: Mapping[str, Any] = field(default_factory=dict)
    fingers: Mapping[FingerPosition, FingerRecord] = field(default_factory=dict)
    signature_strokes: tuple[tuple[tuple[int, int], ...], ...] = ()
    signature_png: bytes | None = None
    signature_declined: bool = False
    approvals: Sequence[str] = field(default_factory=list)
    #: The card, and what it captures (`storage.eligibility.card_rule` on the first day).
    kind: CardKind = CardKind.EKTP
    face_needed: bool = True
    fingers_needed: bool = True
    signature_needed: bool = True
    card_from: date | None = None
    purpose: Purpose = Purpose.BARU
    official_id: str | None = None
    corrections: Sequence[Correction] = field(default_factory=list)
    flagged: Sequence[FlaggedError] = field(default_factory=list)
    domicile: Domicile | None = None
    signature_exception: SignatureException | None = None
    #: (record seq, supervisor) of each earlier enrolment a finger matched, approved.
    duplicates_approved: Sequence[tuple[int, str]] = field(default_factory=list)
    #: The version of the notice of processing read aloud, once it was.
    notice: int | None = None
    #: Who speaks for the person, by name: a child's parent or guardian, who heard the
    #: notice; an adult's companion, who answers the prompts (`Assist.COMPANION`).
    guardian: str | None = None
    #: A disability the person or their companion declared.
    disability: Disability | None = None
    #: How the flow is adapted for the person (seated, a companion answering).
    assists: Sequence[Assist] = ()

    @classmethod
    def begin(
        cls,
        resident: Resident,
        *,
        officer_id: str,
        started_at: datetime,
        policy: Policy,
        walk_in: bool = False,
        official_id: str | None = None,
    ) -> Draft:
        """A new enrolment of ``resident``: the card rule of the day decides its steps.

        Raises `storage.eligibility.NotYetBorn` for a birth date not before the day.
        """
        rule = card_rule(resident, started_at.date(), policy)
        return cls(
            resident,
            officer_id,
            started_at,
            walk_in=walk_in,
            kind=rule.kind,
            face_needed=rule.face,
            fingers_needed=rule.fingers,
            signature_needed=rule.signature,
            card_from=rule.card_from,
            purpose=resident.purpose,
            official_id=official_id,
        )

    # -- what happened at the kit ---------------------------------------------------------

    def give_notice(self, version: int, *, guardian: str | None = None) -> None:
        """The officer read the notice of processing aloud; for a child, to ``guardian``."""
        if self.child and not (guardian or "").strip():
            raise ValueError("a child's notice is heard by a parent or guardian, by name")
        self.notice, self.guardian = version, guardian.strip() if guardian else None

    def declare_needs(
        self,
        disability: Disability | None,
        assists: Sequence[Assist],
        *,
        companion: str | None = None,
    ) -> None:
        """The person or their companion declared a disability (or none), and the officer
        chose how the flow is adapted: nothing here is inferred.

        An adult's companion is named (``companion``), and kept where a child's guardian's
        name is: the record's body says who spoke for the person.  A child's companion is
        the guardian already named, so ``companion`` must then be None.
        """
        assists = tuple(dict.fromkeys(assists))
        named = (companion or "").strip()
        if self.child:
            if named:
                raise ValueError("a child's companion is the guardian who heard the notice")
        elif (Assist.COMPANION in assists) != bool(named):
            raise ValueError("a companion who answers for an adult is named, and only then")
        else:
            self.guardian = named or None
        self.disability, self.assists = disability, assists

    def choose_purpose(self, purpose: Purpose) -> None:
        """A walk-in said why they record (keperluan): the record and the person carry it."""
        self.purpose = purpose
        self.resident = dataclasses.replace(self.resident, purpose=purpose)

    def record_domicile(self, kk_number: str, home_regency: str) -> None:
        """A walk-in from another regency records here with their KK (domisili sementara)."""
        self.domicile = Domicile(kk_number, home_regency)

    def keep_face(self, jpeg: bytes, scores: Mapping[str, Any], *, forced: bool) -> None:
        """The officer kept a photo: its measures, and whether it passed them all."""
        self.face_jpeg = jpeg
        self.face_quality = {**scores, "forced": forced}

    def keep_finger(self, finger: FingerRecord) -> None:
        """A finger was imaged (after the tries, the best image, marked forced)."""
        self.fingers = {**self.fingers, finger.position: finger}

    def except_finger(self, position: FingerPosition, why: FingerException) -> None:
        """The officer recorded why the finger at ``position`` has no image."""
        self.fingers = {**self.fingers, position: FingerRecord(position, exception=why.value)}

    def approve_exceptions(self, supervisor_id: str) -> None:
        """A supervisor approved fingers that are all excepted: each names them."""
        self.approvals = [*self.approvals, supervisor_id]
        self.fingers = {
            position: FingerRecord(position, exception=finger.exception, approved_by=supervisor_id)
            for position, finger in self.fingers.items()
        }

    def retake_fingers(self) -> None:
        """No supervisor approved the exceptions: every finger is asked again."""
        self.fingers = {}

    def approve_duplicate(self, seq: int, supervisor_id: str) -> None:
        """A supervisor saw that a finger matching record ``seq`` is not this person's
        second enrolment (twins): that record no longer stops the capture."""
        self.duplicates_approved = [*self.duplicates_approved, (seq, supervisor_id)]

    def keep_signature(self, strokes: tuple[tuple[tuple[int, int], ...], ...], png: bytes) -> None:
        """The person signed on the pad and the officer kept it."""
        self.signature_strokes, self.signature_png = strokes, png

    def except_signature(self, reason: SignatureExceptionReason, supervisor_id: str) -> None:
        """The person cannot sign, for ``reason``, and a supervisor approved it."""
        self.signature_exception = SignatureException(reason, supervisor_id)
        self.approvals = [*self.approvals, supervisor_id]

    def correct(self, field: CorrectableField, new: str, official_id: str) -> None:
        """The village official approved ``new`` for ``field``: the person carries it, and
        the record keeps the correction with the value it replaces (none when ``new`` is
        that value).  A field corrected again keeps the value it had before the first
        correction as its original, not the one the first correction put in."""
        original = self.original(field)  # asked before this field's correction is dropped
        self.corrections = [c for c in self.corrections if c.field is not field]
        if new != original:
            self.corrections = [*self.corrections, Correction(field, original, new, official_id)]
        self.resident = field.corrected(self.resident, new)

    def flag(self, error: FlaggedError) -> None:
        """A free-text field is wrong, for the office to correct (one reason per field)."""
        self.flagged = [*(f for f in self.flagged if f.field is not error.field), error]

    # -- where the capture stands ----------------------------------------------------------

    @property
    def child(self) -> bool:
        """Not of e-KTP age on the day (a KIA, or a first-time voter recorded early)."""
        return self.kind is CardKind.KIA or self.card_from is not None

    @property
    def seated(self) -> bool:
        return Assist.SEATED in self.assists

    @property
    def companion_answers(self) -> bool:
        """A companion answers for the person: the screens that ask the person to act or
        to confirm address the companion (`capture.base.Step.to_person`)."""
        return Assist.COMPANION in self.assists

    @property
    def nothing_captured(self) -> bool:
        """No photo, finger or signature yet: the notice may still come first."""
        return self.face_jpeg is None and not self.fingers and self.signature_png is None

    def next_step(self, fingers: tuple[FingerPosition, ...]) -> CaptureState:
        """The first capture state not yet done: face, fingers, signature or review.

        A KIA takes no fingers or signature, and a face only from age 5.  Fingers that
        are all excepted are not done until a supervisor approved them: a draft resumed
        after a crash or an idle lock at the approval goes back to it.
        """
        if self.face_needed and self.face_jpeg is None:
            return CaptureState.FACE
        if self.fingers_needed and (
            self.next_finger(fingers) is not None or self.needs_finger_approval()
        ):
            return CaptureState.FINGERS
        if self.signature_needed and self.signature_png is None and not self.signature_done:
            return CaptureState.SIGNATURE
        return CaptureState.REVIEW

    def original(self, field: CorrectableField) -> str:
        """``field``'s value before any correction at review (what the worklist said)."""
        earlier = next((c for c in self.corrections if c.field is field), None)
        return earlier.original if earlier else field.value_of(self.resident)

    @property
    def signature_done(self) -> bool:
        """A signature taken, declined (recorded as such) or excepted by a supervisor."""
        return (
            self.signature_png is not None
            or self.signature_declined
            or self.signature_exception is not None
        )

    def next_finger(self, fingers: tuple[FingerPosition, ...]) -> FingerPosition | None:
        """The first of ``fingers`` (the policy's, in order) with neither image nor exception."""
        return next((position for position in fingers if position not in self.fingers), None)

    def needs_finger_approval(self) -> bool:
        """An all-fingers exception needs a supervisor (DESIGN "Domain facts")."""
        fingers = self.fingers.values()
        return bool(fingers) and all(f.exception for f in fingers) and not self.approvals

    def enrolment(self, *, print_card: bool) -> Enrolment:
        return Enrolment(
            resident=self.resident,
            officer_id=self.officer_id,
            started_at=self.started_at,
            face_jpeg=self.face_jpeg,
            face_quality=dict(self.face_quality),
            fingers=tuple(self.fingers[p] for p in sorted(self.fingers)),
            signature_strokes=self.signature_strokes,
            signature_png=self.signature_png,
            print_card=print_card,
            walk_in=self.walk_in,
            approvals=tuple(self.approvals),
            kind=self.kind,
            purpose=self.purpose,
            official_id=self.official_id,
            corrections=tuple(self.corrections),
            flagged=tuple(self.flagged),
            domicile=self.domicile,
            signature_exception=self.signature_exception,
            card_from=self.card_from,
            duplicates_approved=tuple(self.duplicates_approved),
            notice=self.notice,
            guardian=self.guardian,
            disability=self.disability,
            assists=tuple(self.assists),
        )

    def to_map(self) -> dict[str, Any]:
        return {
            "resident": resident_to_map(self.resident),
            "officer_id": self.officer_id,
            "started_at": self.started_at.isoformat(),
            "walk_in": self.walk_in,
            "face_jpeg": self.face_jpeg,
            "face_quality": dict(self.face_quality),
            "fingers": [dataclasses.asdict(f) for f in self.fingers.values()],
            "signature_strokes": [list(map(list, s)) for s in self.signature_strokes],
            "signature_png": self.signature_png,
            "signature_declined": self.signature_declined,
            "approvals": list(self.approvals),
            "kind": self.kind.value,
            "needs": [self.face_needed, self.fingers_needed, self.signature_needed],
            "card_from": None if self.card_from is None else self.card_from.isoformat(),
            "purpose": self.purpose.value,
            "official_id": self.official_id,
            "corrections": [
                [c.field.value, c.original, c.new, c.approved_by] for c in self.corrections
            ],
            "flagged": [[f.field.value, f.reason.value] for f in self.flagged],
            "domicile": (
                None
                if self.domicile is None
                else [self.domicile.kk_number, self.domicile.home_regency]
            ),
            "signature_exception": (
                None
                if self.signature_exception is None
                else [self.signature_exception.reason.value, self.signature_exception.approved_by]
            ),
            "duplicates_approved": [list(pair) for pair in self.duplicates_approved],
            "notice_version": self.notice,
            "guardian_name": self.guardian,
            "disability": None if self.disability is None else self.disability.value,
            "assists": [assist.value for assist in self.assists],
        }

    @classmethod
    def from_map(cls, data: dict[str, Any]) -> Draft:
        fingers = [FingerRecord(**dict(f)) for f in data["fingers"]]
        return cls(
            resident=resident_from_map(dict(data["resident"])),
            officer_id=data["officer_id"],
            started_at=datetime.fromisoformat(data["started_at"]),
            walk_in=data["walk_in"],
            face_jpeg=data["face_jpeg"],
            face_quality=dict(data.get("face_quality", {})),  # journals before the measures
            fingers={f.position: f for f in fingers},
            signature_strokes=tuple(
                tuple((int(x), int(y)) for x, y in stroke) for stroke in data["signature_strokes"]
            ),
            signature_png=data["signature_png"],
            signature_declined=data["signature_declined"],
            approvals=list(data["approvals"]),
            **_rules_from_map(data),
            duplicates_approved=[
                (int(seq), str(by)) for seq, by in data.get("duplicates_approved", [])
            ],
            # journals written before the notice have none of these
            notice=data.get("notice_version"),
            guardian=data.get("guardian_name"),
            disability=None if data.get("disability") is None else Disability(data["disability"]),
            assists=tuple(Assist(value) for value in data.get("assists", ())),
        )


def _rules_from_map(data: dict[str, Any]) -> dict[str, Any]:
    """The journal's card rule, purpose, official and corrections (a journal written
    before them has none: an e-KTP first recording)."""
    if "kind" not in data:
        return {}
    face, fingers, signature = data["needs"]
    domicile, exception = data["domicile"], data["signature_exception"]
    return {
        "kind": CardKind(data["kind"]),
        "face_needed": face,
        "fingers_needed": fingers,
        "signature_needed": signature,
        "card_from": None if data["card_from"] is None else date.fromisoformat(data["card_from"]),
        "purpose": Purpose(data["purpose"]),
        "official_id": data["official_id"],
        "corrections": [
            Correction(CorrectableField(f), original, new, by)
            for f, original, new, by in data["corrections"]
        ],
        "flagged": [FlaggedError(FreeTextField(f), FlagReason(r)) for f, r in data["flagged"]],
        "domicile": None if domicile is None else Domicile(*domicile),
        "signature_exception": (
            None
            if exception is None
            else SignatureException(SignatureExceptionReason(exception[0]), exception[1])
        ),
    }
