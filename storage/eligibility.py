"""Which card a person records for on the day, and what is captured for it.

Why a module of its own: the rule (Permendagri on KTP-el and KIA) is used by the capture
flow (which steps run), the print plan (what is printed where), the simulator and the demo,
and a rule written twice drifts.  It is pure: a resident, the day, the policy in; a
`CardRule` out.

- 17 or older on the day, or ever married (a divorce or a death does not undo it): e-KTP,
  with face, ten fingers and a signature.
- Otherwise a KIA (Kartu Identitas Anak, from one day old to one day before 17): no
  fingerprints and no signature, and a photo only from age 5.
- A first-time voter who turns 17 by the policy's voter date records as e-KTP early; the
  card waits for the 17th birthday (``card_from``), so the person gets a slip.

Birthdays follow `storage.model.Resident.age_on`: someone born on 29 February has their
birthday on 1 March in a year that has no 29 February.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from storage.model import CardKind, Policy, Resident

#: Age from which an e-KTP is recorded.
EKTP_AGE = 17
#: Age from which a KIA carries a photo.
KIA_PHOTO_AGE = 5
#: Status perkawinan values of someone who has ever been married: the KK's four, and the
#: wordings of the KK since 2019 that say whether the marriage is registered (tercatat) --
#: registered or not, the person has married.
EVER_MARRIED = frozenset(
    {
        "KAWIN",
        "CERAI HIDUP",
        "CERAI MATI",
        "KAWIN TERCATAT",
        "KAWIN BELUM TERCATAT",
        "CERAI HIDUP TERCATAT",
        "CERAI HIDUP BELUM TERCATAT",
    }
)
#: The status perkawinan of someone never married.
NEVER_MARRIED = "BELUM KAWIN"


class NotYetBorn(ValueError):
    """A birth date on or after the day of recording: the KIA starts at one day old."""


@dataclass(frozen=True)
class CardRule:
    """What one person records for on the day.

    ``card_from`` is the day the card may be issued when it is later than the recording
    day (an early first-time voter's 17th birthday), else None.
    """

    kind: CardKind
    face: bool
    fingers: bool
    signature: bool
    card_from: date | None = None


def birthday(birth: date, age: int) -> date:
    """The day someone born on ``birth`` turns ``age`` (29 February -> 1 March if need be)."""
    year = birth.year + age
    if (birth.month, birth.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 3, 1)
    return birth.replace(year=year)


def _status(text: str) -> str:
    return " ".join(text.split()).upper()


def ever_married(resident: Resident) -> bool:
    """Married now or before, by the resident's status perkawinan; any other (an empty
    one included) is taken as never married, as the registry would without a marriage on
    the KK."""
    return _status(resident.marital_status) in EVER_MARRIED


def married(status: str) -> bool | None:
    """Whether a status perkawinan, as written on a list, says ever married; None when it
    is empty (not known).  ValueError names a word that is no status."""
    word = _status(status)
    if not word:
        return None
    if word in EVER_MARRIED or word == NEVER_MARRIED:
        return word != NEVER_MARRIED
    known = ", ".join([NEVER_MARRIED, *sorted(EVER_MARRIED)])
    raise ValueError(f"{status} is not a status perkawinan (use {known})")


def card_rule(resident: Resident, day: date, policy: Policy) -> CardRule:
    """The card ``resident`` records for on ``day`` under ``policy``."""
    if resident.birth_date >= day:
        raise NotYetBorn(
            f"birth date {resident.birth_date.isoformat()} is not before the recording day "
            f"{day.isoformat()}: check the birth date (a KIA starts at one day old)"
        )
    adult = resident.age_on(day) >= EKTP_AGE or ever_married(resident)
    if adult:
        return CardRule(CardKind.EKTP, face=True, fingers=True, signature=True)
    seventeen = birthday(resident.birth_date, EKTP_AGE)
    if policy.voter_date is not None and seventeen <= policy.voter_date:
        return CardRule(CardKind.EKTP, face=True, fingers=True, signature=True, card_from=seventeen)
    photo = resident.age_on(day) >= KIA_PHOTO_AGE
    return CardRule(CardKind.KIA, face=photo, fingers=False, signature=False)
