"""NIK rules: what the 16 digits say, and every way a NIK is refused."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.errors import StorageError
from storage.nik import (
    PROVINCES,
    REGENCIES,
    NikError,
    check_nik,
    kk_regency,
    make_nik,
    parse_nik,
)
from vocabulary.people import Sex

regions = st.builds(
    lambda province, rest: province + rest,
    st.sampled_from(sorted(PROVINCES)),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
sexes = st.sampled_from(Sex)
serials = st.integers(min_value=1, max_value=9999)


@given(regions, dates, sexes, serials)
def test_make_then_parse_round_trips(region6, born, sex, serial):
    nik = make_nik(region6, born, sex, serial)
    info = parse_nik(nik)
    assert len(nik) == 16 and nik.isdigit()
    assert (info.province, info.regency, info.district) == (region6[:2], region6[:4], region6)
    assert (info.birth_day, info.birth_month, info.birth_year2) == (
        born.day,
        born.month,
        born.year % 100,
    )
    assert info.sex is sex
    assert info.serial == serial
    check_nik(nik, sex=sex, birth_date=born)


@given(dates, serials)
def test_women_have_forty_added_to_the_day(born, serial):
    male = make_nik("350508", born, Sex.MALE, serial)
    female = make_nik("350508", born, Sex.FEMALE, serial)
    assert int(female[6:8]) == int(male[6:8]) + 40 == born.day + 40
    assert parse_nik(female).day_field == born.day + 40


def test_known_regions_of_the_seeds():
    assert PROVINCES["16"] == "SUMATERA SELATAN"
    assert PROVINCES["35"] == "JAWA TIMUR"
    assert PROVINCES["15"] == "JAMBI"
    assert REGENCIES["1671"] == "KOTA PALEMBANG"
    assert REGENCIES["3505"] == "KABUPATEN BLITAR"
    assert REGENCIES["1504"] == "KABUPATEN BATANGHARI"
    assert all(code[:2] in PROVINCES for code in REGENCIES)
    info = parse_nik("1671010101900001")
    assert (info.province_name, info.regency_name) == ("SUMATERA SELATAN", "KOTA PALEMBANG")
    assert parse_nik("1699010101900001").regency_name is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("350508410285001", "is not 16 digits"),
        ("35050841028500123", "is not 16 digits"),
        ("3505084102850O12", "is not 16 digits"),
        ("", "is not 16 digits"),
        ("9905084102850012", "unknown province code 99"),
        ("2005084102850012", "unknown province code 20"),
        ("3505083202850012", "day 32 is not a day of month 02"),
        ("3505080002850012", "day 00 is not a day of month 02"),
        ("3505087002850012", "day 70 (30 + 40) is not a day of month 02"),
        ("3505082902850012", "day 29 is not a day of month 02"),
        ("3505083104850012", "day 31 is not a day of month 04"),
        ("3505080113850012", "month 13 is not a month"),
        ("3505080100850012", "month 00 is not a month"),
        ("3505084102850000", "serial 0000"),
    ],
)
def test_parse_refuses_with_a_specific_message(text, message):
    with pytest.raises(NikError) as caught:
        parse_nik(text)
    assert message in str(caught.value)


def test_leap_day_is_allowed_in_years_divisible_by_four():
    assert parse_nik("3505086902000001").birth_day == 29  # woman born 29-02-2000
    assert parse_nik("3505082902840001").birth_month == 2


def test_nik_error_is_a_value_error_and_a_storage_error():
    with pytest.raises(ValueError):
        parse_nik("x")
    with pytest.raises(StorageError):
        parse_nik("x")


def test_check_names_a_sex_disagreement():
    with pytest.raises(NikError) as caught:
        check_nik("3505084102850012", sex=Sex.MALE, birth_date=date(1985, 2, 1))
    assert str(caught.value) == "NIK says female (day 41 = 1 + 40) but sex is LAKI-LAKI"
    with pytest.raises(NikError) as caught:
        check_nik("3505080102850012", sex=Sex.FEMALE, birth_date=date(1985, 2, 1))
    assert str(caught.value) == "NIK says male (day 01) but sex is PEREMPUAN"


@pytest.mark.parametrize(
    "born", [date(1986, 2, 1), date(1985, 2, 2), date(1985, 3, 1), date(2085, 2, 2)]
)
def test_check_names_a_birth_date_disagreement(born):
    with pytest.raises(NikError) as caught:
        check_nik("3505080102850012", sex=Sex.MALE, birth_date=born)
    assert str(caught.value) == f"NIK says born 01-02-85 but birth date is {born.isoformat()}"


def test_check_accepts_either_century():
    check_nik("3505080102850012", sex=Sex.MALE, birth_date=date(1885, 2, 1))
    check_nik("3505080102850012", sex=Sex.MALE, birth_date=date(1985, 2, 1))


def test_check_passes_parse_errors_through():
    with pytest.raises(NikError, match="unknown province code 10"):
        check_nik("1005080102850012", sex=Sex.MALE, birth_date=date(1985, 2, 1))


@pytest.mark.parametrize(
    ("region6", "serial", "message"),
    [
        ("35050", 1, "is not 6 digits"),
        ("35050a", 1, "is not 6 digits"),
        ("990508", 1, "unknown province code 99"),
        ("350508", 0, "outside 1..9999"),
        ("350508", 10000, "outside 1..9999"),
    ],
)
def test_make_refuses_bad_input(region6, serial, message):
    with pytest.raises(NikError) as caught:
        make_nik(region6, date(1990, 5, 6), Sex.MALE, serial)
    assert message in str(caught.value)


def test_a_kk_number_gives_its_regency() -> None:
    assert kk_regency(" 3505010101200007 ") == "3505"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("350501010120000", "is not 16 digits"),
        ("35050101012000０7", "is not 16 digits"),
        ("9905010101200007", "unknown province code 99"),
    ],
)
def test_a_bad_kk_number_is_refused_with_why(text: str, message: str) -> None:
    with pytest.raises(NikError, match=message):
        kk_regency(text)
