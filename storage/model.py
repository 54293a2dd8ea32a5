"""What the kit knows about people, officers and policy, as plain data.

These types are the vocabulary shared by `capture/` (which fills them in), the record
codec (which seals them) and `provisioning/` (which loads officers, worklist and policy).
They hold no device types: `storage` imports nothing else of Jemput but the shared
vocabulary (finger positions, a person's sex, an officer's role, a recording's purpose:
:mod:`vocabulary`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from vocabulary.fingers import TEN_FINGERS, FingerPosition
from vocabulary.people import Role, Sex
from vocabulary.purpose import Purpose
from vocabulary.rounds import Assist, Disability, Group, VenueKind

#: ISO/IEC 19794-4 finger positions 1..10, in e-KTP recording order.
ALL_FINGERS: tuple[FingerPosition, ...] = TEN_FINGERS


#: The birth date of the placeholder resident a void of an unlisted person names.
VOID_PLACEHOLDER_BIRTH = date(1900, 1, 1)
#: What a walk-in's record carries in place of a worklist reference, before the NIK.
WALK_IN_PREFIX = "walk-in:"
#: The scheme of the reference a receipt slip's QR code carries.
SLIP_SCHEME = "JEMPUT"
#: A round's code: it goes into every record the kit seals on the round, in cleartext, so
#: it names a place and a plan in capitals and digits, never a person.
ROUND_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{2,31}", re.ASCII)


def walk_in_ref(nik: str) -> str:
    """The reference a walk-in's record carries in place of a worklist line.

    It lets the kit refuse a second recording of the same walk-in, and the collector count
    walk-ins, without opening any body.
    """
    return f"{WALK_IN_PREFIX}{nik}"


def slip_reference(kit_id: str, seq: int) -> str:
    """What a receipt slip's QR code says: the kit and the record, for the office to find it."""
    return f"{SLIP_SCHEME}:{kit_id}:{seq}"


class CardKind(enum.Enum):
    """The card an enrolment is for: e-KTP from 17 or once married, otherwise KIA."""

    EKTP = "E-KTP"
    KIA = "KIA"


class CorrectableField(enum.Enum):
    """An enumerated field the officer may correct at review, with the official's approval;
    the value is the worklist's column name, ``attribute`` the `Resident` field."""

    RELIGION = "agama"
    MARITAL_STATUS = "status perkawinan"
    OCCUPATION = "pekerjaan"
    BLOOD_TYPE = "golongan darah"

    @property
    def attribute(self) -> str:
        return _CORRECTABLE_ATTRIBUTES[self]

    def value_of(self, resident: Resident) -> str:
        """This field's value in ``resident``."""
        value: str = getattr(resident, self.attribute)
        return value

    def corrected(self, resident: Resident, new: str) -> Resident:
        """``resident`` with this field set to ``new``."""
        changes: dict[str, Any] = {self.attribute: new}
        return replace(resident, **changes)

    @property
    def choices(self) -> tuple[str, ...]:
        """The values the officer picks from (as the e-KTP prints them)."""
        return _CORRECTABLE_CHOICES[self]


_CORRECTABLE_ATTRIBUTES = {
    CorrectableField.RELIGION: "religion",
    CorrectableField.MARITAL_STATUS: "marital_status",
    CorrectableField.OCCUPATION: "occupation",
    CorrectableField.BLOOD_TYPE: "blood_type",
}
_CORRECTABLE_CHOICES: dict[CorrectableField, tuple[str, ...]] = {
    CorrectableField.RELIGION: (
        "ISLAM",
        "KRISTEN",
        "KATOLIK",
        "HINDU",
        "BUDDHA",
        "KHONGHUCU",
        "KEPERCAYAAN",
    ),
    CorrectableField.MARITAL_STATUS: ("BELUM KAWIN", "KAWIN", "CERAI HIDUP", "CERAI MATI"),
    CorrectableField.OCCUPATION: (
        "BELUM/TIDAK BEKERJA",
        "MENGURUS RUMAH TANGGA",
        "PELAJAR/MAHASISWA",
        "PETANI/PEKEBUN",
        "NELAYAN/PERIKANAN",
        "PEDAGANG",
        "WIRASWASTA",
        "KARYAWAN SWASTA",
        "BURUH HARIAN LEPAS",
        "PEGAWAI NEGERI SIPIL",
        "GURU",
    ),
    CorrectableField.BLOOD_TYPE: (
        "-",
        "A",
        "B",
        "AB",
        "O",
        "A+",
        "A-",
        "B+",
        "B-",
        "AB+",
        "AB-",
        "O+",
        "O-",
    ),
}


class FreeTextField(enum.Enum):
    """A free-text field the kit never corrects: an error in it is flagged for the office."""

    NAME = "nama"
    BIRTH_PLACE = "tempat lahir"
    ADDRESS = "alamat"


class FlagReason(enum.Enum):
    """Why a free-text field is flagged, from the list the office works through."""

    MISSPELLED = "salah ejaan"
    DIFFERS_FROM_KK = "berbeda dengan KK"
    INCOMPLETE = "tidak lengkap"


class SignatureExceptionReason(enum.Enum):
    """Why a person gives no signature on the pad (a supervisor approves it)."""

    CANNOT_WRITE = "tidak dapat menulis"
    DISABILITY = "disabilitas"
    INJURED_HAND = "tangan cedera"


@dataclass(frozen=True)
class Correction:
    """An enumerated field changed at review: the original, the new value, who approved."""

    field: CorrectableField
    original: str
    new: str
    approved_by: str

    def __post_init__(self) -> None:
        if self.original == self.new:
            raise ValueError(f"correction of {self.field.value}: the new value is the old one")
        if not self.approved_by:
            raise ValueError(f"correction of {self.field.value} names no approving official")


@dataclass(frozen=True)
class FlaggedError:
    """A free-text error found at review, left for the office to correct."""

    field: FreeTextField
    reason: FlagReason


@dataclass(frozen=True)
class Domicile:
    """A resident recorded away from home ("domisili sementara"): their Kartu Keluarga
    number, and the regency (4 digits) of the office that prints their card."""

    kk_number: str
    home_regency: str

    def __post_init__(self) -> None:
        if len(self.kk_number) != 16 or not self.kk_number.isdigit():
            raise ValueError("KK number must be 16 digits")
        if len(self.home_regency) != 4 or not self.home_regency.isdigit():
            raise ValueError("home regency must be a 4-digit region code")


@dataclass(frozen=True)
class SignatureException:
    """No signature on the pad, for a reason from the list, approved by a supervisor."""

    reason: SignatureExceptionReason
    approved_by: str

    def __post_init__(self) -> None:
        if not self.approved_by:
            raise ValueError("a signature exception needs a supervisor's approval")


class Modality(enum.Enum):
    """What a record can capture or except."""

    FACE = "face"
    FINGERS = "fingers"
    SIGNATURE = "signature"


@dataclass(frozen=True)
class RoundStamp:
    """What a record says of the round it was made on: its code and its venue kind, which
    name a place and a plan, never a person."""

    code: str
    venue: VenueKind

    def __post_init__(self) -> None:
        if not ROUND_CODE.fullmatch(self.code):
            raise ValueError(
                f"round code {self.code!r:.40} is not 3-32 capital letters, digits and '-', "
                "starting with a letter or digit (e.g. SMA1-KANIGORO-0310)"
            )
        if not isinstance(self.venue, VenueKind):
            raise ValueError(f"venue {self.venue!r:.40} is not a venue kind")


@dataclass(frozen=True)
class Resident:
    """A person as the village pre-registration (or a walk-in entry) names them.

    Fields a walk-in cannot give at the kit are empty strings; ``worklist_ref`` is the
    worklist line's reference, or ``None`` for a walk-in; ``purpose`` the worklist's
    ``keperluan``.
    """

    nik: str
    name: str
    sex: Sex
    birth_place: str
    birth_date: date
    province: str = ""
    regency: str = ""
    district: str = ""
    village: str = ""
    address: str = ""
    rt_rw: str = ""
    religion: str = ""
    marital_status: str = ""
    occupation: str = ""
    blood_type: str = "-"
    citizenship: str = "WNI"
    worklist_ref: str | None = None
    #: Keperluan as the worklist gives it (a walk-in's is asked at the kit).
    purpose: Purpose = Purpose.BARU

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


@dataclass(frozen=True)
class Officer:
    """Someone who may operate the kit; the PIN is kept only as a salted hash."""

    officer_id: str
    name: str
    role: Role
    pin_salt: bytes
    pin_hash: bytes
    finger_pages: tuple[int, ...] = ()

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

    @property
    def is_official(self) -> bool:
        return self.role is Role.OFFICIAL


@dataclass(frozen=True)
class Policy:
    """How this kit records, as the authority provisioned it.

    Plain data: what each field may hold, and the rules between fields, are
    `storage.policy.RULES`, which every reader of a policy goes through.
    """

    print_on_site: bool = False
    fingers: tuple[FingerPosition, ...] = ALL_FINGERS
    #: The authority means an empty ``fingers``: no fingerprints, so no duplicate check.
    allow_no_fingers: bool = False
    finger_retries: int = 3
    #: Least NFIQ 2-style score (0..100) of a finger (MOSIP's default for slaps is 40).
    min_finger_quality: int = 40
    #: Photos taken before the best one is kept, marked forced, when none passed.
    face_retries: int = 3
    #: Pages of the fingerprint sensor's library (R503: 200, R307: 1,000); the officers'
    #: pages are kept, the rest hold the fingers of people enrolled here, oldest rotated out.
    sensor_library_pages: int = 200
    recording_age: int = 17
    idle_lock_seconds: int = 300
    low_battery_percent: float = 15.0
    critical_battery_percent: float = 5.0
    reserve_bytes: int = 50 * 1024 * 1024
    card_collection_place: str = "Kantor Dinas Dukcapil"
    #: First-time voters who turn 17 by this date record as e-KTP early (None: no such day).
    voter_date: date | None = None
    #: Worklist residents may be enrolled only while a village official is logged in.
    official_required: bool = False


@dataclass(frozen=True)
class FingerRecord:
    """One finger of an enrolment: an image with its template, or an exception.

    Exactly one of ``image_png`` and ``exception`` is set.  ``approved_by`` names the
    supervisor when the exception needed one.
    """

    position: FingerPosition
    image_png: bytes | None = None
    template: bytes | None = None
    quality: int | None = None
    exception: str | None = None
    approved_by: str | None = None
    #: No attempt reached the policy's threshold: this is the best of them (MOSIP's "forced").
    forced: bool = False
    #: The kit's quality measures of the kept image (capture.finger_quality), by name.
    scores: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:  # a journal or a record gives a plain int: it must be a position
            object.__setattr__(self, "position", FingerPosition(self.position))
        except ValueError:
            raise ValueError(
                f"finger position {self.position!r} is not an ISO/IEC 19794-4 code (0-10)"
            ) from None
        if (self.image_png is None) == (self.exception is None):
            raise ValueError(
                f"finger {self.position}: give either an image or an exception, not both or neither"
            )


@dataclass(frozen=True)
class Enrolment:
    """Everything captured for one person, ready to seal into a record."""

    resident: Resident
    officer_id: str
    started_at: datetime
    face_jpeg: bytes | None = None
    #: The face photo's quality measures (capture.face_quality), "forced" when none passed.
    face_quality: dict[str, float | int | bool | None] = field(default_factory=dict)
    fingers: tuple[FingerRecord, ...] = ()
    signature_strokes: tuple[tuple[tuple[int, int], ...], ...] = ()
    signature_png: bytes | None = None
    print_card: bool = False
    walk_in: bool = False
    voids: int | None = None
    void_reason: str = ""
    approvals: tuple[str, ...] = field(default=())
    kind: CardKind = CardKind.EKTP
    purpose: Purpose = Purpose.BARU
    official_id: str | None = None
    corrections: tuple[Correction, ...] = ()
    flagged: tuple[FlaggedError, ...] = ()
    domicile: Domicile | None = None
    signature_exception: SignatureException | None = None
    #: A first-time voter recorded early: the card waits for this day, the 17th birthday.
    card_from: date | None = None
    #: (record seq, supervisor): earlier enrolments a finger matched, let through (twins).
    duplicates_approved: tuple[tuple[int, str], ...] = ()
    #: The round the kit was loaded with when it sealed this (`storage.rounds`), if any.
    round: RoundStamp | None = None
    #: The groups the person counts in (`storage.groups.groups_of`, applied at the seal).
    groups: tuple[Group, ...] = ()
    #: The version of the notice of processing read aloud before capture (None: a void).
    notice: int | None = None
    #: Who spoke for the person, by name (body only): a child's parent or guardian, who
    #: heard the notice; an adult's companion who answered the prompts (`companion`).
    guardian: str | None = None
    #: A disability the person or their companion declared (never inferred).
    disability: Disability | None = None
    #: How the flow was adapted: seated, a companion answering.
    assists: tuple[Assist, ...] = ()

    @property
    def companion(self) -> str | None:
        """Who answered the prompts for the person, when a companion did: for a child the
        guardian who heard the notice, for an adult the companion named at the kit (None
        in records sealed before the kit named companions)."""
        return self.guardian if Assist.COMPANION in self.assists else None

    @property
    def captured(self) -> tuple[Modality, ...]:
        found: list[Modality] = []
        if self.face_jpeg is not None:
            found.append(Modality.FACE)
        if any(f.image_png is not None for f in self.fingers):
            found.append(Modality.FINGERS)
        if self.signature_png is not None:
            found.append(Modality.SIGNATURE)
        return tuple(found)

    @property
    def excepted_fingers(self) -> tuple[FingerPosition, ...]:
        return tuple(f.position for f in self.fingers if f.exception is not None)

    @classmethod
    def void(
        cls,
        *,
        voids: int,
        resident: Resident | None,
        officer_id: str,
        approved_by: str,
        at: datetime,
        reason: str = "sealed in error",
    ) -> Enrolment:
        """A void record: it names the record it voids and carries no biometrics.

        It names the resident too (``None`` when the voided record's person is not on the
        worklist: a placeholder stands in), but not their worklist line: the line counts
        as recorded while any unvoided record carries it, and the void must free it again.
        """
        named = (
            replace(resident, worklist_ref=None)
            if resident is not None
            else Resident("", "", Sex.MALE, "", VOID_PLACEHOLDER_BIRTH)
        )
        return cls(
            resident=named,
            officer_id=officer_id,
            started_at=at,
            voids=voids,
            void_reason=reason,
            approvals=(approved_by,),
        )


@dataclass(frozen=True)
class SealedRecord:
    """A record that is on disk and fsynced: only now may the officer hear "saved"."""

    seq: int
    digest: bytes
    path: Path
    size: int


@dataclass(frozen=True)
class PrintAttempt:
    """A card print started for record ``seq`` whose outcome the ledger does not know."""

    serial: str
    seq: int
