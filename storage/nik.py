"""The NIK (Nomor Induk Kependudukan): what its 16 digits say and whether a record agrees.

A NIK is ``PP RR KK DD MM YY SSSS``: province, regency/city and district of first
registration; day of birth (plus 40 for women); month; two-digit year; a serial from 0001.
It has no check digit, so a typo is caught only by comparing the digits with the sex and
birth date written beside them: that comparison is what `check_nik` does, and why a
worklist row whose NIK disagrees with its own columns is refused rather than recorded.
"""

from __future__ import annotations

import calendar
import enum
import re
from dataclasses import dataclass
from datetime import date

from storage.errors import StorageError
from vocabulary.people import Sex

NIK_LENGTH = 16
#: Added to the day of birth for women.
FEMALE_DAY_OFFSET = 40
MAX_SERIAL = 9999

#: ASCII 0-9 only: ``\d`` would take full-width and Arabic-Indic digits, so one NIK could
#: be written two ways and pass the duplicate check twice.
_DIGITS = re.compile(r"[0-9]+")

#: Province codes of the Ministry of Home Affairs (Kepmendagri No. 100.1.1-6117 Tahun 2022),
#: which Dukcapil uses in the NIK.  BPS statistical codes differ for Papua (BPS numbers the
#: six Papua provinces 91-97); a NIK always carries the Kemendagri code.
PROVINCES: dict[str, str] = {
    "11": "ACEH",
    "12": "SUMATERA UTARA",
    "13": "SUMATERA BARAT",
    "14": "RIAU",
    "15": "JAMBI",
    "16": "SUMATERA SELATAN",
    "17": "BENGKULU",
    "18": "LAMPUNG",
    "19": "KEPULAUAN BANGKA BELITUNG",
    "21": "KEPULAUAN RIAU",
    "31": "DKI JAKARTA",
    "32": "JAWA BARAT",
    "33": "JAWA TENGAH",
    "34": "DAERAH ISTIMEWA YOGYAKARTA",
    "35": "JAWA TIMUR",
    "36": "BANTEN",
    "51": "BALI",
    "52": "NUSA TENGGARA BARAT",
    "53": "NUSA TENGGARA TIMUR",
    "61": "KALIMANTAN BARAT",
    "62": "KALIMANTAN TENGAH",
    "63": "KALIMANTAN SELATAN",
    "64": "KALIMANTAN TIMUR",
    "65": "KALIMANTAN UTARA",
    "71": "SULAWESI UTARA",
    "72": "SULAWESI TENGAH",
    "73": "SULAWESI SELATAN",
    "74": "SULAWESI TENGGARA",
    "75": "GORONTALO",
    "76": "SULAWESI BARAT",
    "81": "MALUKU",
    "82": "MALUKU UTARA",
    "91": "PAPUA",
    "92": "PAPUA BARAT",
    "93": "PAPUA SELATAN",
    "94": "PAPUA TENGAH",
    "95": "PAPUA PEGUNUNGAN",
    "96": "PAPUA BARAT DAYA",
}

#: Regencies and cities (same Kemendagri source) of the seeds' areas and their neighbours;
#: not exhaustive, so an unlisted regency is not an error, only a name we cannot show.
REGENCIES: dict[str, str] = {
    # Sumatera Selatan, around Palembang
    "1602": "KABUPATEN OGAN KOMERING ILIR",
    "1603": "KABUPATEN MUARA ENIM",
    "1606": "KABUPATEN MUSI BANYUASIN",
    "1607": "KABUPATEN BANYUASIN",
    "1610": "KABUPATEN OGAN ILIR",
    "1671": "KOTA PALEMBANG",
    "1672": "KOTA PRABUMULIH",
    # Jambi, around Batanghari
    "1501": "KABUPATEN KERINCI",
    "1503": "KABUPATEN SAROLANGUN",
    "1504": "KABUPATEN BATANGHARI",
    "1505": "KABUPATEN MUARO JAMBI",
    "1508": "KABUPATEN TEBO",
    "1571": "KOTA JAMBI",
    # Jawa Timur, around Blitar
    "3503": "KABUPATEN TRENGGALEK",
    "3504": "KABUPATEN TULUNGAGUNG",
    "3505": "KABUPATEN BLITAR",
    "3506": "KABUPATEN KEDIRI",
    "3507": "KABUPATEN MALANG",
    "3571": "KOTA KEDIRI",
    "3572": "KOTA BLITAR",
    "3573": "KOTA MALANG",
}


class NikProblem(enum.Enum):
    """What is wrong with a NIK or a KK number, for a reader told in their own language:
    the kit's display says it from its catalogue, the message says it to logs and tools."""

    NOT_DIGITS = "not_digits"
    UNKNOWN_PROVINCE = "unknown_province"
    NO_SUCH_MONTH = "no_such_month"
    NO_SUCH_DAY = "no_such_day"
    SERIAL_ZERO = "serial_zero"
    SERIAL_OUT_OF_RANGE = "serial_out_of_range"
    SEX_DIFFERS = "sex_differs"
    BIRTH_DATE_DIFFERS = "birth_date_differs"


class NikError(StorageError, ValueError):
    """A NIK that is malformed, or that disagrees with the sex or birth date beside it.

    ``problem`` says which check refused it, and ``values`` the numbers the message
    names (``code``, ``day``, ``month``) as two-digit text, for a reader's own wording.
    """

    def __init__(self, message: str, problem: NikProblem, **values: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.values = values


@dataclass(frozen=True)
class NikInfo:
    """What a NIK's digits say.  Region codes are prefixes: ``regency`` "3505" lies in
    ``province`` "35"; ``birth_day`` is the real day (the +40 already removed)."""

    province: str
    regency: str
    district: str
    birth_day: int
    birth_month: int
    birth_year2: int
    sex: Sex
    serial: int

    @property
    def province_name(self) -> str:
        return PROVINCES[self.province]

    @property
    def regency_name(self) -> str | None:
        """The regency's name, or None when it is not in our (partial) table."""
        return REGENCIES.get(self.regency)

    @property
    def day_field(self) -> int:
        """The day as written in the NIK (with +40 for women)."""
        return self.birth_day + (FEMALE_DAY_OFFSET if self.sex is Sex.FEMALE else 0)

    def birth_date(self, today: date) -> date:
        """The full birth date: the NIK gives two year digits, so take the latest century
        that does not put the birth after ``today``."""
        year = today.year - (today.year - self.birth_year2) % 100
        born = date(
            year, self.birth_month, min(self.birth_day, _days_in_month_of(year, self.birth_month))
        )
        return born if born <= today else born.replace(year=year - 100)

    def born(self) -> str:
        """The birth date as the NIK writes it, DD-MM-YY."""
        return f"{self.birth_day:02d}-{self.birth_month:02d}-{self.birth_year2:02d}"


def _days_in_month_of(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _days_in_month(month: int, year2: int) -> int:
    """Days of ``month`` in a year known only modulo 100.

    19yy and 20yy are leap years alike when yy % 4 == 0, except 1900; "00" may be 2000,
    so 29 February is allowed there too.
    """
    if month == 2:
        return 29 if year2 % 4 == 0 else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse_nik(text: str) -> NikInfo:
    """Split a NIK into its fields, refusing anything that cannot be a NIK."""
    nik = text.strip()
    if nik.isdigit() and not nik.isascii():
        raise NikError(
            f"NIK {text!r} has digits that are not ASCII 0-9 (full-width or Arabic-Indic): "
            "retype it with the keyboard's 0-9",
            NikProblem.NOT_DIGITS,
        )
    if len(nik) != NIK_LENGTH or not _DIGITS.fullmatch(nik):
        raise NikError(f"NIK {text!r} is not 16 digits", NikProblem.NOT_DIGITS)
    province = nik[:2]
    if province not in PROVINCES:
        raise NikError(
            f"NIK {nik}: unknown province code {province}",
            NikProblem.UNKNOWN_PROVINCE,
            code=province,
        )
    day_field, month, year2, serial = int(nik[6:8]), int(nik[8:10]), int(nik[10:12]), int(nik[12:])
    if not 1 <= month <= 12:
        raise NikError(
            f"NIK {nik}: month {month:02d} is not a month",
            NikProblem.NO_SUCH_MONTH,
            month=f"{month:02d}",
        )
    sex = Sex.FEMALE if day_field > FEMALE_DAY_OFFSET else Sex.MALE
    day = day_field - FEMALE_DAY_OFFSET if sex is Sex.FEMALE else day_field
    if not 1 <= day <= _days_in_month(month, year2):
        shown = f"{day_field:02d} ({day} + 40)" if sex is Sex.FEMALE else f"{day_field:02d}"
        raise NikError(
            f"NIK {nik}: day {shown} is not a day of month {month:02d}",
            NikProblem.NO_SUCH_DAY,
            day=f"{day:02d}",
            month=f"{month:02d}",
        )
    if serial == 0:
        raise NikError(
            f"NIK {nik}: serial 0000 is not used (serials start at 0001)", NikProblem.SERIAL_ZERO
        )
    return NikInfo(
        province=province,
        regency=nik[:4],
        district=nik[:6],
        birth_day=day,
        birth_month=month,
        birth_year2=year2,
        sex=sex,
        serial=serial,
    )


def kk_regency(text: str) -> str:
    """The regency (4 digits) of a Kartu Keluarga number, checked as a NIK's region is.

    A KK number is 16 digits whose first six name the region of the family's registration,
    like a NIK's; the rest (the issue date and a serial) cannot be checked at the kit.  The
    regency is the office that prints the card of someone recorded away from home.
    """
    kk = text.strip()
    if len(kk) != NIK_LENGTH or not kk.isascii() or not _DIGITS.fullmatch(kk):
        raise NikError(f"KK number {text!r} is not 16 digits 0-9", NikProblem.NOT_DIGITS)
    if kk[:2] not in PROVINCES:
        raise NikError(
            f"KK number {kk}: unknown province code {kk[:2]}",
            NikProblem.UNKNOWN_PROVINCE,
            code=kk[:2],
        )
    return kk[:4]


def check_nik(nik: str, *, sex: Sex, birth_date: date) -> None:
    """Raise NikError unless ``nik`` is well formed and agrees with ``sex`` and ``birth_date``."""
    info = parse_nik(nik)
    if info.sex is not sex:
        if info.sex is Sex.FEMALE:
            said = f"female (day {info.day_field} = {info.birth_day} + 40)"
        else:
            said = f"male (day {info.day_field:02d})"
        raise NikError(f"NIK says {said} but sex is {sex.value}", NikProblem.SEX_DIFFERS)
    if (info.birth_day, info.birth_month, info.birth_year2) != (
        birth_date.day,
        birth_date.month,
        birth_date.year % 100,
    ):
        raise NikError(
            f"NIK says born {info.born()} but birth date is {birth_date.isoformat()}",
            NikProblem.BIRTH_DATE_DIFFERS,
        )


def make_nik(region6: str, birth_date: date, sex: Sex, serial: int) -> str:
    """Build the NIK a person born on ``birth_date`` would get in district ``region6``."""
    if len(region6) != 6 or not _DIGITS.fullmatch(region6):
        raise NikError(f"region code {region6!r} is not 6 digits (PPRRKK)", NikProblem.NOT_DIGITS)
    if region6[:2] not in PROVINCES:
        raise NikError(
            f"region code {region6}: unknown province code {region6[:2]}",
            NikProblem.UNKNOWN_PROVINCE,
            code=region6[:2],
        )
    if not 1 <= serial <= MAX_SERIAL:
        raise NikError(
            f"serial {serial} is outside 1..{MAX_SERIAL}", NikProblem.SERIAL_OUT_OF_RANGE
        )
    day = birth_date.day + (FEMALE_DAY_OFFSET if sex is Sex.FEMALE else 0)
    return f"{region6}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"
