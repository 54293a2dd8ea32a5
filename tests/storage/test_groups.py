"""The first-time voters' group: 17 by the election day, or married under 17 (one rule,
for the kit's seal and the office's list check)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from storage.eligibility import married
from storage.groups import first_time_voter, groups_of
from tests.storage.conftest import enrolment
from vocabulary.rounds import Group

ELECTION = date(2029, 2, 14)
#: 16 on the election day (17 on 1 March 2029).
SIXTEEN = date(2012, 3, 1)
#: 17 on the election day, and 12 at the one before.
SEVENTEEN = date(2012, 1, 1)
#: 17 by the election before (14 February 2024): voted then.
VOTED_BEFORE = date(2007, 1, 1)


@pytest.mark.parametrize(
    ("birth", "status", "expected"),
    [
        (SEVENTEEN, None, True),
        (SEVENTEEN, False, True),
        (SIXTEEN, True, True),  # married under 17: a voter, for the first time
        (SIXTEEN, False, False),
        (SIXTEEN, None, None),  # only a marriage would make them one: not known
        (VOTED_BEFORE, True, False),
        (VOTED_BEFORE, None, False),
    ],
)
def test_a_first_time_voter_is_17_by_the_day_or_married_under_17(
    birth: date, status: bool | None, expected: bool | None
) -> None:
    assert first_time_voter(birth, ELECTION, married=status) is expected


@pytest.mark.parametrize("status", ["KAWIN", "cerai hidup", " CERAI  MATI "])
def test_a_married_16_year_old_counts_as_a_first_time_voter_on_the_kit(status: str) -> None:
    sealed = enrolment(1)
    person = replace(sealed.resident, birth_date=SIXTEEN, marital_status=status)
    assert Group.PEMILIH_PEMULA in groups_of(
        replace(sealed, resident=person), election_day=ELECTION
    )


@pytest.mark.parametrize("status", ["BELUM KAWIN", ""])
def test_an_unmarried_16_year_old_does_not(status: str) -> None:
    """On the kit an empty status is never married, as for the card (`ever_married`)."""
    sealed = enrolment(1)
    person = replace(sealed.resident, birth_date=SIXTEEN, marital_status=status)
    assert groups_of(replace(sealed, resident=person), election_day=ELECTION) == ()


def test_a_status_perkawinan_is_read_or_refused_by_name() -> None:
    assert [married(s) for s in ("KAWIN", "Belum Kawin", "CERAI MATI", " ")] == [
        True,
        False,
        True,
        None,
    ]
    # the KK's wordings since 2019, registered or not, are married all the same
    assert married("kawin belum tercatat") is True and married("KAWIN TERCATAT") is True
    with pytest.raises(ValueError, match="JANDA is not a status perkawinan"):
        married("JANDA")


def test_someone_born_after_the_election_day_is_no_voter_even_in_year_9999() -> None:
    """Hypothesis's dates reach 9999: a 17th birthday past it cannot be computed."""
    assert first_time_voter(date(9990, 1, 1), ELECTION, married=True) is False
