"""The worklist: residents the village pre-registered, as a spreadsheet exports them.

Village offices keep the list in a spreadsheet and export CSV, so the reader accepts what
spreadsheets write: UTF-8 with or without a byte-order mark, comma or semicolon separated,
header names in any case and spacing ("Tanggal Lahir", "RT/RW").  It trusts nothing else:
every NIK is checked against the row's own sex and birth date, duplicates are refused, and
one bad row refuses the whole file, because a half-loaded worklist would make the report
call real people "missing".  Every problem is reported at once, by the line number the
spreadsheet shows (header = line 1), so the village can fix them in one pass.

Columns (see docs/worklist.md): nik, nama, jenis_kelamin, tempat_lahir, tanggal_lahir,
alamat, rt_rw, kel_desa, kecamatan, kabupaten_kota, provinsi, agama, status_perkawinan,
pekerjaan; optional gol_darah ("-"), kewarganegaraan ("WNI"), ref (the NIK) and keperluan
(BARU, HILANG, RUSAK or PERUBAHAN DATA; "BARU").  Other columns (a spreadsheet's "No",
remarks) are ignored.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import NamedTuple

from storage.errors import StorageError
from storage.model import Resident
from storage.nik import NikError, check_nik
from vocabulary.people import Sex
from vocabulary.purpose import Purpose

#: Column -> Resident field, in the order `write_worklist` writes them.
REQUIRED_COLUMNS: dict[str, str] = {
    "nik": "nik",
    "nama": "name",
    "jenis_kelamin": "sex",
    "tempat_lahir": "birth_place",
    "tanggal_lahir": "birth_date",
    "alamat": "address",
    "rt_rw": "rt_rw",
    "kel_desa": "village",
    "kecamatan": "district",
    "kabupaten_kota": "regency",
    "provinsi": "province",
    "agama": "religion",
    "status_perkawinan": "marital_status",
    "pekerjaan": "occupation",
}
#: Optional column -> its default when the column is absent or the cell empty.
OPTIONAL_COLUMNS: dict[str, str] = {
    "gol_darah": "-",
    "kewarganegaraan": "WNI",
    "ref": "",
    "keperluan": Purpose.BARU.value,
}

_SEXES: dict[str, Sex] = {
    "L": Sex.MALE,
    "LAKI-LAKI": Sex.MALE,
    "P": Sex.FEMALE,
    "PEREMPUAN": Sex.FEMALE,
}
_BLOOD_TYPES = frozenset(
    {"-", "A", "B", "AB", "O"} | {f"{t}{s}" for t in ("A", "B", "AB", "O") for s in "+-"}
)
_CITIZENSHIPS = frozenset({"WNI", "WNA"})
_PURPOSES = frozenset(p.value for p in Purpose)
# re.ASCII: \d would take full-width and Arabic-Indic digits, which int() then reads.
# day first, with dashes or, as Indonesian Excel saves them, slashes: 14-03-2007, 14/03/2007
_DMY = re.compile(r"(\d{1,2})([-/])(\d{1,2})\2(\d{4})", re.ASCII)
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_SHORT_YEAR = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2}", re.ASCII)
DATE_FORMATS = "DD-MM-YYYY, DD/MM/YYYY or YYYY-MM-DD"
_RT_RW = re.compile(r"(\d{1,3})\s*/\s*(\d{1,3})", re.ASCII)
#: What a spreadsheet makes of a 16-digit number in a column not formatted as text.
_SCIENTIFIC = re.compile(r"\d+([.,]\d+)?[eE]\+?\d+", re.ASCII)
_SEPARATORS = (";", ",")
_HEADER_LINE = 1


class Problem(NamedTuple):
    """One thing wrong with a worklist: where (spreadsheet line, column) and what.

    ``column`` is empty for a problem of the whole file (empty, not UTF-8).
    """

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}" if self.column else f"line {self.line}"
        return f"{where}: {self.message}"


class WorklistError(StorageError, ValueError):
    """A worklist refused as a whole; ``problems`` lists every bad cell found.

    Each problem is a `Problem`, a ``(line, column, message)`` tuple; line numbers are
    those the spreadsheet shows, header = line 1.
    """

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        listed = "\n".join(f"  {p}" for p in problems)
        count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
        super().__init__(
            f"worklist {source} refused, nothing loaded ({count}; fix them in the "
            f"spreadsheet and export again):\n{listed}"
        )


def normalise_header(name: str) -> str:
    """'Tanggal Lahir' / 'RT/RW' / ' NIK ' -> 'tanggal_lahir' / 'rt_rw' / 'nik'."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def separator(text: str) -> str:
    """The separator of a spreadsheet export, by its header line: whichever of ; and , it
    uses more (every CSV the kit reads comes from one: worklists, officer lists)."""
    header = text.split("\n", 1)[0]
    return max(_SEPARATORS, key=header.count)


class _NotADate(ValueError):
    """A birth date cell that is no date of an accepted format; the message says why."""


def _parse_date(cell: str) -> date:
    """DD-MM-YYYY, DD/MM/YYYY or YYYY-MM-DD; _NotADate otherwise (impossible dates too).

    Why never month first: a sheet saved in an English locale writes 03/14/2007, and read
    day first its every date with a day up to 12 would be another date.  A month-first date
    whose day is above 12 is named as such; one whose day is up to 12 still fails the NIK,
    which holds the day and month of birth (`_Row.nik` then says the two look swapped).
    """
    if match := _DMY.fullmatch(cell):
        day, month, year = (int(match[1]), int(match[3]), int(match[4]))
        if month > 12 and day <= 12:
            raise _NotADate(
                f"{cell} reads month first (an English-locale sheet): dates are day first, "
                f"{DATE_FORMATS}; set the column's format to DD/MM/YYYY and export again"
            )
    elif match := _YMD.fullmatch(cell):
        year, month, day = (int(g) for g in match.groups())
    elif _SHORT_YEAR.fullmatch(cell):
        raise _NotADate(f"{cell} has a two-digit year: write the year in full ({DATE_FORMATS})")
    else:
        raise _NotADate(f"{cell} is not a date (use {DATE_FORMATS})")
    try:
        return date(year, month, day)
    except ValueError:
        raise _NotADate(f"{cell} is not a date (use {DATE_FORMATS})") from None


def _swapped_hint(nik: str, sex: Sex, birth_date: date) -> str:
    """What to say when the NIK agrees with the birth date read month first: the sheet wrote
    its dates month first (an English locale), where day and month are both up to 12."""
    try:
        check_nik(
            nik, sex=sex, birth_date=birth_date.replace(day=birth_date.month, month=birth_date.day)
        )
    except (NikError, ValueError):
        return ""
    return (
        "; the NIK agrees with the date read month first: the sheet writes dates month first "
        "(an English locale); set the column's format to DD/MM/YYYY and export again"
    )


class _Row:
    """One data row being checked; collects its problems instead of stopping at the first."""

    def __init__(self, line: int, cells: dict[str, str], problems: list[Problem]) -> None:
        self.line = line
        self.cells = cells
        self.problems = problems

    def fail(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.line, column, message))

    def text(self, column: str) -> str:
        value = self.cells.get(column, "")
        if not value and column in REQUIRED_COLUMNS:
            self.fail(column, f"{column} is empty")
        return value or OPTIONAL_COLUMNS.get(column, "")

    def sex(self) -> Sex | None:
        cell = self.text("jenis_kelamin")
        sex = _SEXES.get(cell.upper())
        if cell and sex is None:
            self.fail("jenis_kelamin", f"{cell} is not a sex (use L, P, LAKI-LAKI or PEREMPUAN)")
        return sex

    def birth_date(self) -> date | None:
        cell = self.text("tanggal_lahir")
        if not cell:
            return None
        try:
            return _parse_date(cell)
        except _NotADate as exc:
            self.fail("tanggal_lahir", str(exc))
            return None

    def nik(self, sex: Sex | None, birth_date: date | None) -> str:
        cell = self.text("nik")
        if not cell:
            return cell
        if _SCIENTIFIC.fullmatch(cell):
            self.fail(
                "nik",
                f"{cell} is a NIK the spreadsheet turned into a number; format the nik "
                "column as text, retype it and export again",
            )
            return cell
        if sex is None or birth_date is None:
            return cell  # the sex or date is already reported; the NIK cannot be compared
        try:
            check_nik(cell, sex=sex, birth_date=birth_date)
        except NikError as exc:
            self.fail("nik", str(exc) + _swapped_hint(cell, sex, birth_date))
        return cell

    def rt_rw(self) -> str:
        """RT/RW as the card prints it, zero-padded: "3/5" -> "003/005"."""
        cell = self.text("rt_rw")
        match = _RT_RW.fullmatch(cell)
        if match is None:
            if cell:
                self.fail("rt_rw", f"{cell} is not an RT/RW like 003/005")
            return cell
        return f"{int(match.group(1)):03d}/{int(match.group(2)):03d}"

    def choice(self, column: str, allowed: frozenset[str]) -> str:
        cell = " ".join(self.text(column).upper().split())
        if cell not in allowed:
            self.fail(column, f"{cell} is not one of {', '.join(sorted(allowed))}")
        return cell

    def resident(self) -> Resident | None:
        """The row as a Resident, or None when it had problems (already recorded)."""
        before = len(self.problems)
        sex, birth_date = self.sex(), self.birth_date()
        fields = {
            field: self.text(column)
            for column, field in REQUIRED_COLUMNS.items()
            if column not in ("nik", "jenis_kelamin", "tanggal_lahir", "rt_rw")
        }
        nik = self.nik(sex, birth_date)
        rt_rw = self.rt_rw()
        blood_type = self.choice("gol_darah", _BLOOD_TYPES)
        citizenship = self.choice("kewarganegaraan", _CITIZENSHIPS)
        purpose = self.choice("keperluan", _PURPOSES)
        ref = self.text("ref") or nik
        if len(self.problems) > before or sex is None or birth_date is None:
            return None
        return Resident(
            nik=nik,
            sex=sex,
            birth_date=birth_date,
            rt_rw=rt_rw,
            blood_type=blood_type,
            citizenship=citizenship,
            worklist_ref=ref,
            purpose=Purpose(purpose),
            **fields,
        )


def _columns(header: list[str], problems: list[Problem]) -> dict[str, int]:
    """Map each known column to its index; report missing and repeated ones."""
    known = REQUIRED_COLUMNS.keys() | OPTIONAL_COLUMNS.keys()
    index: dict[str, int] = {}
    for position, raw in enumerate(header):
        name = normalise_header(raw)
        if name not in known:
            continue
        if name in index:
            problems.append(Problem(_HEADER_LINE, name, f"column {name} appears twice"))
        index[name] = position
    found = ", ".join(normalise_header(h) or "(blank)" for h in header)
    problems.extend(
        Problem(_HEADER_LINE, name, f"required column {name} is missing (found: {found})")
        for name in REQUIRED_COLUMNS
        if name not in index
    )
    return index


def _refuse_duplicates(residents: list[tuple[int, Resident]], problems: list[Problem]) -> None:
    """A NIK or a ref twice would make two worklist lines one person, or one line two."""
    for column, key in (("nik", lambda r: r.nik), ("ref", lambda r: r.worklist_ref)):
        seen: dict[str, int] = {}
        for line, resident in residents:
            value = key(resident)
            if value in seen:
                problems.append(
                    Problem(line, column, f"{column} {value} is already on line {seen[value]}")
                )
            else:
                seen[value] = line


def parse_worklist(text: str, *, source: str = "worklist") -> tuple[Resident, ...]:
    """Every resident of a worklist's CSV text, or WorklistError listing every problem.

    ``source`` names the file in the error message.
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise WorklistError(
            source,
            [Problem(_HEADER_LINE, "", "the file is empty; export the worklist sheet again")],
        )
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=separator(text))
    problems: list[Problem] = []
    header = next(rows)
    index = _columns(header, problems)
    if problems:
        raise WorklistError(source, problems)
    residents: list[tuple[int, Resident]] = []
    # Spreadsheet line = record number, so a cell with a line break still counts once.
    for line, record in enumerate(rows, start=_HEADER_LINE + 1):
        if not any(cell.strip() for cell in record):
            continue
        cells = {name: record[i].strip() if i < len(record) else "" for name, i in index.items()}
        resident = _Row(line, cells, problems).resident()
        if resident is not None:
            residents.append((line, resident))
    _refuse_duplicates(residents, problems)
    if not residents and not problems:
        problems.append(Problem(_HEADER_LINE, "", "the file has a header but no residents"))
    if problems:
        problems.sort(key=lambda p: p.line)
        raise WorklistError(source, problems)
    return tuple(resident for _, resident in residents)


def read_sheet(path: str | Path) -> str:
    """A spreadsheet's CSV export as text (UTF-8, BOM optional); WorklistError naming the
    line of the first byte that is not UTF-8.  Every list the tools read comes this way."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WorklistError(
            str(path),
            [
                Problem(
                    raw.count(b"\n", 0, exc.start) + 1,
                    "",
                    f"byte {exc.start} is not UTF-8; save the sheet as 'CSV UTF-8' and "
                    "export again",
                )
            ],
        ) from exc


def read_date(cell: str) -> date:
    """A date cell as a worklist's tanggal_lahir is read; ValueError saying what is wrong."""
    try:
        return _parse_date(cell)
    except ValueError:
        raise ValueError(f"{cell} is not a date (use DD-MM-YYYY or YYYY-MM-DD)") from None


def load_worklist(path: str | Path) -> tuple[Resident, ...]:
    """Read a worklist CSV file (UTF-8, BOM optional); see `parse_worklist`."""
    return parse_worklist(read_sheet(path), source=str(path))


def _cell(resident: Resident, field: str) -> str:
    if field == "sex":
        return resident.sex.value
    if field == "birth_date":
        return resident.birth_date.strftime("%d-%m-%Y")
    return getattr(resident, field)


def _cells(resident: Resident) -> list[str]:
    row = [_cell(resident, field) for field in REQUIRED_COLUMNS.values()]
    ref = resident.worklist_ref or resident.nik
    return [*row, resident.blood_type, resident.citizenship, ref, resident.purpose.value]


def write_worklist(
    residents: Iterable[Resident], path: str | Path, *, delimiter: str = ";"
) -> None:
    """Write residents as a spreadsheet would export them (UTF-8 with BOM, ';' separated).

    The text is parsed back before it is written, so a file this writes always loads; a
    resident that would not (a walk-in without an address, a NIK that disagrees) raises
    WorklistError and nothing is written.  A resident without ``worklist_ref`` gets the NIK.
    """
    if delimiter not in _SEPARATORS:
        raise ValueError(f"delimiter {delimiter!r} is not one of {' '.join(_SEPARATORS)}")
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS])
    writer.writerows(_cells(r) for r in residents)
    text = out.getvalue()
    parse_worklist(text, source=str(path))
    Path(path).write_text(text, encoding="utf-8-sig", newline="")
