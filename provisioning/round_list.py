"""An institution's list of its people (a school's students, a prison's inmates), as a CSV.

Why its own reader and not the worklist's: an institution keeps its own columns (NISN, a
prisoner's register number, name, birth date, the NIK where it is known), not the village's
pre-registration columns, and the office must still check every line before a round.  What
it shares with the worklist (`storage.worklist`): the file is read as spreadsheets export it
(UTF-8 with or without a BOM, comma or semicolon, header names in any case), one bad line
refuses the whole file, and every problem is named by the line the spreadsheet shows
(header = line 1), so the institution fixes them in one pass.

Columns, matched after `storage.worklist.normalise_header`:

| column | required | what |
| --- | --- | --- |
| `nama` (`name`) | yes | the person's name |
| `tanggal_lahir` (`tgl_lahir`) | yes | DD-MM-YYYY or YYYY-MM-DD |
| `nik` | no | 16 digits, checked against the birth date (and the sex, if given) |
| `jenis_kelamin` (`jk`) | no | L, P, LAKI-LAKI, PEREMPUAN; else the NIK's |
| `tempat_lahir` | no | the birth place |
| `status_perkawinan` (`status_kawin`) | no | BELUM KAWIN, KAWIN, CERAI HIDUP, CERAI MATI |
| the institution's number | no | `nisn`, `nis`, `nim`, `no_induk`, `no_reg`...: never twice |

Other columns are ignored.  The status perkawinan matters under 17: someone married is a
voter and records an e-KTP (`storage.eligibility`); where the list leaves it out, the
office's check says it is not known rather than guess (`storage.groups`).  A line without
a NIK is kept (it is counted, and the person records as a walk-in at the round, with their
KK), but it cannot be checked against the district store, nor go onto the kit's list.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from storage.eligibility import married
from storage.errors import StorageError
from storage.model import Resident
from storage.nik import NikError, check_nik, parse_nik
from storage.worklist import (
    Problem,
    WorklistError,
    normalise_header,
    read_date,
    read_sheet,
    separator,
)
from vocabulary.people import Sex

#: Header names (normalised) -> the column they stand for.
HEADERS: dict[str, str] = {
    "nama": "nama",
    "name": "nama",
    "nama_lengkap": "nama",
    "tanggal_lahir": "tanggal_lahir",
    "tgl_lahir": "tanggal_lahir",
    "nik": "nik",
    "jenis_kelamin": "jenis_kelamin",
    "jk": "jenis_kelamin",
    "tempat_lahir": "tempat_lahir",
    "status_perkawinan": "status_perkawinan",
    "status_kawin": "status_perkawinan",
    **{
        name: "nomor"
        for name in (
            "nisn",
            "nis",
            "nim",
            "no_induk",
            "nomor_induk",
            "no_registrasi",
            "no_reg",
            "nip",
        )
    },
}
REQUIRED = ("nama", "tanggal_lahir")
_SEXES = {"L": Sex.MALE, "LAKI-LAKI": Sex.MALE, "P": Sex.FEMALE, "PEREMPUAN": Sex.FEMALE}
_HEADER_LINE = 1


class RoundListError(StorageError, ValueError):
    """A round's list refused as a whole; ``problems`` names every bad cell by its line."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        listed = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(
            f"list {source} refused, nothing planned ({len(problems)} problem(s); fix them in "
            f"the spreadsheet and export again):\n{listed}"
        )


@dataclass(frozen=True)
class ListLine:
    """One person of an institution's list, checked."""

    line: int
    name: str
    birth_date: date
    #: The institution's own number for them (NISN...), if the list has one.
    number: str | None
    nik: str | None
    sex: Sex | None
    birth_place: str
    #: The status perkawinan as the list writes it ("": the list does not say).
    marital_status: str = ""

    @property
    def married(self) -> bool | None:
        """Ever married, by the list (None: it does not say); checked when read."""
        return married(self.marital_status)

    def resident(self) -> Resident:
        """The person as the kit lists them: named by their NIK (its reference), placed by
        it; what a list does not give stays empty, as for a walk-in."""
        assert self.nik is not None  # only lines with a NIK go onto a kit
        info = parse_nik(self.nik)
        return Resident(
            nik=self.nik,
            name=self.name,
            sex=self.sex or info.sex,
            birth_place=self.birth_place,
            birth_date=self.birth_date,
            province=info.province_name,
            regency=info.regency_name or "",
            marital_status=self.marital_status,
            worklist_ref=self.nik,
        )


def _columns(header: list[str], problems: list[Problem]) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, raw in enumerate(header):
        column = HEADERS.get(normalise_header(raw))
        if column is None:
            continue
        if column in index:
            problems.append(Problem(_HEADER_LINE, column, f"column {column} appears twice"))
        index[column] = position
    found = ", ".join(normalise_header(name) or "(blank)" for name in header)
    problems.extend(
        Problem(_HEADER_LINE, column, f"required column {column} is missing (found: {found})")
        for column in REQUIRED
        if column not in index
    )
    return index


def _line(line: int, cells: dict[str, str], problems: list[Problem]) -> ListLine | None:
    """One row as a `ListLine`, or None with its problems added."""
    before = len(problems)

    def fail(column: str, message: str) -> None:
        problems.append(Problem(line, column, message))

    name = cells.get("nama", "")
    if not name:
        fail("nama", "nama is empty")
    birth: date | None = None
    if not cells.get("tanggal_lahir"):
        fail("tanggal_lahir", "tanggal_lahir is empty")
    else:
        try:
            birth = read_date(cells["tanggal_lahir"])
        except ValueError as exc:
            fail("tanggal_lahir", str(exc))
    sex_cell = cells.get("jenis_kelamin", "")
    sex = _SEXES.get(sex_cell.upper()) if sex_cell else None
    if sex_cell and sex is None:
        fail("jenis_kelamin", f"{sex_cell} is not a sex (use L, P, LAKI-LAKI or PEREMPUAN)")
    nik = cells.get("nik") or None
    if nik is not None and birth is not None:
        try:
            check_nik(nik, sex=sex or parse_nik(nik).sex, birth_date=birth)
        except NikError as exc:
            fail("nik", str(exc))
    status = " ".join(cells.get("status_perkawinan", "").split()).upper()
    try:
        married(status)
    except ValueError as exc:
        fail("status_perkawinan", str(exc))
    if len(problems) > before or birth is None:
        return None
    return ListLine(
        line,
        name,
        birth,
        cells.get("nomor") or None,
        nik,
        sex,
        cells.get("tempat_lahir", ""),
        status,
    )


def _refuse_duplicates(lines: list[ListLine], problems: list[Problem]) -> None:
    """One person twice would be counted twice, or two people as one."""
    for column, key in (("nik", lambda e: e.nik), ("nomor", lambda e: e.number)):
        seen: dict[str, int] = {}
        for entry in lines:
            value = key(entry)
            if value is None:
                continue
            if value in seen:
                problems.append(
                    Problem(
                        entry.line, column, f"{column} {value} is already on line {seen[value]}"
                    )
                )
            else:
                seen[value] = entry.line


def parse_round_list(text: str, *, source: str = "list") -> tuple[ListLine, ...]:
    """Every line of an institution's list, or RoundListError naming every problem."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise RoundListError(source, [Problem(_HEADER_LINE, "", "the file is empty")])
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=separator(text))
    problems: list[Problem] = []
    index = _columns(next(rows), problems)
    if problems:
        raise RoundListError(source, problems)
    lines: list[ListLine] = []
    for line, record in enumerate(rows, start=_HEADER_LINE + 1):
        if not any(cell.strip() for cell in record):
            continue
        cells = {name: record[i].strip() if i < len(record) else "" for name, i in index.items()}
        found = _line(line, cells, problems)
        if found is not None:
            lines.append(found)
    _refuse_duplicates(lines, problems)
    if not lines and not problems:
        problems.append(Problem(_HEADER_LINE, "", "the file has a header but no people"))
    if problems:
        problems.sort(key=lambda problem: problem.line)
        raise RoundListError(source, problems)
    return tuple(lines)


def load_round_list(path: str | Path) -> tuple[ListLine, ...]:
    """Read an institution's list (see `parse_round_list`)."""
    try:
        text = read_sheet(path)
    except WorklistError as exc:
        raise RoundListError(str(path), exc.problems) from exc
    return parse_round_list(text, source=str(path))
