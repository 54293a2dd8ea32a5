"""The card a person records for: e-KTP from 17 or once married, KIA before, voters early."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from storage.eligibility import CardRule, NotYetBorn, birthday, card_rule
from storage.model import CardKind, Policy, Resident
from vocabulary.people import Sex

POLICY = Policy()
births = st.dates(min_value=date(1940, 1, 1), max_value=date(2030, 12, 31))
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@st.composite
def children(draw: st.DrawFn) -> tuple[date, date]:
    """A birth date and a recording day from one day old to one day before 17."""
    birth = draw(births)
    day = birth + timedelta(days=draw(st.integers(1, 17 * 366)))
    assume(day < birthday(birth, 17))
    return birth, day


def person(birth: date, marital: str = "BELUM KAWIN") -> Resident:
    return Resident("1671010101000001", "A", Sex.MALE, "PALEMBANG", birth, marital_status=marital)


def test_the_17th_birthday_is_the_first_e_ktp_day() -> None:
    birth = date(2008, 6, 15)
    assert card_rule(person(birth), date(2025, 6, 14), POLICY).kind is CardKind.KIA
    assert card_rule(person(birth), date(2025, 6, 15), POLICY) == CardRule(
        CardKind.EKTP, face=True, fingers=True, signature=True
    )


@pytest.mark.parametrize(("age", "expected"), [(17, date(2025, 3, 1)), (20, date(2028, 2, 29))])
def test_a_29_february_birthday_is_1_march_in_a_common_year(age: int, expected: date) -> None:
    assert birthday(date(2008, 2, 29), age) == expected


def test_a_29_february_child_is_kia_on_28_february_and_e_ktp_on_1_march() -> None:
    child = person(date(2008, 2, 29))
    assert card_rule(child, date(2025, 2, 28), POLICY).kind is CardKind.KIA
    assert card_rule(child, date(2025, 3, 1), POLICY).kind is CardKind.EKTP


@given(births, days)
def test_e_ktp_exactly_from_the_17th_birthday(birth: date, day: date) -> None:
    assume(birth < day)
    rule = card_rule(person(birth), day, POLICY)
    assert (rule.kind is CardKind.EKTP) == (day >= birthday(birth, 17))
    assert rule.card_from is None


@given(children())
def test_a_kia_has_no_fingers_or_signature_and_a_photo_from_5(child: tuple[date, date]) -> None:
    birth, day = child
    rule = card_rule(person(birth), day, POLICY)
    assert rule.kind is CardKind.KIA
    assert (rule.fingers, rule.signature) == (False, False)
    assert rule.face == (day >= birthday(birth, 5))


@given(births, days, st.sampled_from(["KAWIN", "CERAI HIDUP", "cerai mati "]))
def test_ever_married_is_e_ktp_at_any_age(birth: date, day: date, marital: str) -> None:
    assume(birth < day)
    assert card_rule(person(birth, marital), day, POLICY).kind is CardKind.EKTP


@given(children(), st.integers(0, 800))
def test_a_voter_who_turns_17_by_the_voter_date_records_early(
    child: tuple[date, date], ahead: int
) -> None:
    birth, day = child
    voter_date = day + timedelta(days=ahead)
    rule = card_rule(person(birth), day, Policy(voter_date=voter_date))
    seventeen = birthday(birth, 17)
    if seventeen <= voter_date:
        assert rule == CardRule(CardKind.EKTP, True, True, True, card_from=seventeen)
        assert rule.card_from is not None and rule.card_from > day
    else:
        assert rule.kind is CardKind.KIA and rule.card_from is None


def test_a_birth_on_the_day_or_after_is_refused_with_the_dates() -> None:
    with pytest.raises(NotYetBorn, match="2025-06-02 is not before the recording day 2025-06-02"):
        card_rule(person(date(2025, 6, 2)), date(2025, 6, 2), POLICY)
    assert card_rule(person(date(2025, 6, 1)), date(2025, 6, 2), POLICY).face is False
