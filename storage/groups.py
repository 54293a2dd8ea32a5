"""The groups an enrolment counts in: one rule, applied where the kit seals.

Why at the seal and not in the capture flow: a record's groups are facts the district
counts from the signed header, and the facts behind them are in the enrolment already (the
card, the domicile, the declared disability, the birth date) but for one, the election
day, which is the round's (or, without a round, the policy's voter date).  Applying the
rule where the record is made means no step can forget a group or add one.

- **pemilih pemula**: turns 17 on or before the election day, and had not turned 17 by
  the election before it (general elections are five-yearly: UU 7/2017, art. 167): the
  person votes for the first time.  Age alone decides, as the office plans by it; someone
  married under 17 (who may vote) is not told apart.
- **KIA**: the card recorded is a KIA.
- **domisili**: recorded away from home, with the KK.
- **disabilitas**: a disability was declared, by the person or their companion; nothing
  is inferred from a finger exception, a signature exception or a seated photo.

A void names nobody's enrolment, so it carries no group.
"""

from __future__ import annotations

from datetime import date

from storage.eligibility import EKTP_AGE, birthday
from storage.model import CardKind, Enrolment
from vocabulary.rounds import Group

#: Years between general elections: a 17th birthday before the previous one's day is not
#: a first vote.
ELECTION_CYCLE_YEARS = 5


def first_time_voter(birth: date, election_day: date) -> bool:
    """Whether someone born on ``birth`` votes for the first time on ``election_day``."""
    seventeen = birthday(birth, EKTP_AGE)
    previous = birthday(election_day, -ELECTION_CYCLE_YEARS)
    return previous < seventeen <= election_day


def groups_of(enrolment: Enrolment, *, election_day: date | None) -> tuple[Group, ...]:
    """The groups ``enrolment`` counts in, in `Group`'s order (see the module's doc)."""
    if enrolment.voids is not None:
        return ()
    found = {
        Group.PEMILIH_PEMULA: election_day is not None
        and first_time_voter(enrolment.resident.birth_date, election_day),
        Group.KIA: enrolment.kind is CardKind.KIA,
        Group.DOMISILI: enrolment.domicile is not None,
        Group.DISABILITAS: enrolment.disability is not None,
    }
    return tuple(group for group in Group if found[group])
