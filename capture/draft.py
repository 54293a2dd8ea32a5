"""The enrolment in progress, and how it is journaled after every completed step.

The journal holds plain CBOR-able maps, so a crash or a pulled battery loses at most the
step under way: after reboot :meth:`Draft.from_map` brings back everything captured, and
:meth:`Draft.next_step` says where to continue.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from capture.machine import CaptureState
from hal.types import FingerPosition
from storage.model import Enrolment, FingerRecord, Resident
from storage.profile import resident_from_map, resident_to_map


class ApprovalPurpose(enum.StrEnum):
    """What a supervisor approves that an officer may not do alone (DESIGN "Domain facts")."""

    ALL_FINGERS = "all_fingers"
    #: The applicant's finger matched someone enrolled on this kit (twins go on).
    DUPLICATE = "duplicate"
    VOID = "void"
    REPRINT = "reprint"


@dataclass
class Approval:
    """What a supervisor is asked to approve: all fingers excepted, a void, a reprint."""

    purpose: ApprovalPurpose
    seq: int | None = None
    #: A void's record: the worklist reference it carries (as listed to choose from).
    ref: str | None = None
    #: The supervisor who approved, once one has.
    approved_by: str | None = None


@dataclass
class Draft:
    resident: Resident
    officer_id: str
    started_at: datetime
    walk_in: bool = False
    face_jpeg: bytes | None = None
    #: The kept photo's quality measures, "forced" when no photo passed them all.
    face_quality: dict[str, Any] = field(default_factory=dict)
    fingers: dict[FingerPosition, FingerRecord] = field(default_factory=dict)
    signature_strokes: tuple[tuple[tuple[int, int], ...], ...] = ()
    signature_png: bytes | None = None
    signature_declined: bool = False
    approvals: list[str] = field(default_factory=list)
    #: (record seq, supervisor) of each earlier enrolment a finger matched, approved.
    duplicates_approved: list[tuple[int, str]] = field(default_factory=list)

    def next_step(self, fingers: tuple[FingerPosition, ...]) -> CaptureState:
        """The first capture state not yet done: face, fingers, signature or review.

        Fingers that are all excepted are not done until a supervisor approved them: a
        draft resumed after a crash or an idle lock at the approval goes back to it.
        """
        if self.face_jpeg is None:
            return CaptureState.FACE
        if self.next_finger(fingers) is not None or self.needs_finger_approval():
            return CaptureState.FINGERS
        if self.signature_png is None and not self.signature_declined:
            return CaptureState.SIGNATURE
        return CaptureState.REVIEW

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
            duplicates_approved=tuple(self.duplicates_approved),
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
            "duplicates_approved": [list(pair) for pair in self.duplicates_approved],
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
            duplicates_approved=[
                (int(seq), str(by)) for seq, by in data.get("duplicates_approved", [])
            ],
        )
