"""The groups an enrolment counts in: one rule, applied where the kit seals.

Why at the seal and not in the capture flow: a record's groups are facts the district
counts from the signed header, and the facts behind them are in the enrolment already (the
card, the domicile, the declared disability, the birth date) but for one, the election
day, which is the round's (or, without a round, the policy's voter date).  Applying the
rule where the record is made means no step can forget a group or add one.

- **pemilih pemula**: a voter on the election day who was not one at the election before
  it (general elections are five-yearly: UU 7/2017, art. 167).  A voter is 17, or married
  now or before (UU 7/2017, art. 1 and 198): so someone who turns 17 by the election day,
  or is married and under 17 then, and had not turned 17 by the election before.  (A
  marriage before that election, under 12, is not looked for.)  The kit knows the status
  perkawinan (`storage.eligibility.ever_married`, as for the card); an office's list may
  not, and then says so (`first_time_voter` answers None) rather than guess.
- **KIA**: the card recorded is a KIA.
- **domisili**: recorded away from home, with the KK.
- **disabilitas**: a disability was declared, by the person or their companion; nothing
  is inferred from a finger exception, a signature exception or a seated photo.

A void names nobody's enrolment, so it carries no group.
"""

from __future__ import annotations

from datetime import date
from typing import overload

from storage.eligibility import EKTP_AGE, birthday, ever_married
from storage.model import CardKind, Enrolment
from vocabulary.rounds import Group

#: Years between general elections: a 17th birthday before the previous one's day is not
#: a first vote.
ELECTION_CYCLE_YEARS = 5


@overload
def first_time_voter(birth: date, election_day: date, *, married: bool) -> bool: ...
@overload
def first_time_voter(birth: date, election_day: date, *, married: None) -> bool | None: ...
def first_time_voter(birth: date, election_day: date, *, married: bool | None) -> bool | None:
    """Whether someone born on ``birth``, ever married or not (``married``; None: not
    known), votes for the first time on ``election_day``: None when only their marriage
    would make them a voter and it is not known."""
    if birth >= election_day:
        return False  # not born by the day (and no 17th birthday past year 9999 to count)
    seventeen = birthday(birth, EKTP_AGE)
    if seventeen <= birthday(election_day, -ELECTION_CYCLE_YEARS):
        return False  # a voter at the election before
    if seventeen <= election_day:
        return True
    return married  # under 17 on the day: a voter only if married


def groups_of(enrolment: Enrolment, *, election_day: date | None) -> tuple[Group, ...]:
    """The groups ``enrolment`` counts in, in `Group`'s order (see the module's doc)."""
    if enrolment.voids is not None:
        return ()
    found = {
        Group.PEMILIH_PEMULA: election_day is not None
        and first_time_voter(
            enrolment.resident.birth_date,
            election_day,
            married=ever_married(enrolment.resident),
        ),
        Group.KIA: enrolment.kind is CardKind.KIA,
        Group.DOMISILI: enrolment.domicile is not None,
        Group.DISABILITAS: enrolment.disability is not None,
    }
    return tuple(group for group in Group if found[group])
