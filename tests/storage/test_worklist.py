"""The worklist CSV: what spreadsheets export loads, and a bad row refuses the whole file."""

from __future__ import annotations

import string
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.model import Resident
from storage.nik import make_nik
from storage.worklist import (
    REQUIRED_COLUMNS,
    WorklistError,
    load_worklist,
    parse_worklist,
    write_worklist,
)
from vocabulary.people import Sex
from vocabulary.purpose import Purpose

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "worklist-blitar.csv"

HEADER = (
    "nik,nama,jenis_kelamin,tempat_lahir,tanggal_lahir,alamat,rt_rw,kel_desa,kecamatan,"
    "kabupaten_kota,provinsi,agama,status_perkawinan,pekerjaan"
)
SITI = make_nik("350508", date(1990, 5, 14), Sex.FEMALE, 1)
BUDI = make_nik("350508", date(1985, 11, 2), Sex.MALE, 2)
ROW_SITI = (
    f"{SITI},SITI AMINAH,P,BLITAR,14-05-1990,DSN. KRAJAN,001/002,SAWENTAR,KANIGORO,"
    "KABUPATEN BLITAR,JAWA TIMUR,ISLAM,KAWIN,PETANI/PEKEBUN"
)
ROW_BUDI = (
    f"{BUDI},BUDI SANTOSO,L,BLITAR,1985-11-02,DSN. KRAJAN,3/2,SAWENTAR,KANIGORO,"
    "KABUPATEN BLITAR,JAWA TIMUR,ISLAM,KAWIN,WIRASWASTA"
)


def csv_text(*rows: str, header: str = HEADER, sep: str = ",") -> str:
    return "\r\n".join([header, *rows]).replace(",", sep) + "\r\n"


def problems(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(WorklistError) as caught:
        parse_worklist(text)
    return [tuple(p) for p in caught.value.problems]


def test_comma_file_loads_every_field():
    siti, budi = parse_worklist(csv_text(ROW_SITI, ROW_BUDI))
    assert siti == Resident(
        nik=SITI,
        name="SITI AMINAH",
        sex=Sex.FEMALE,
        birth_place="BLITAR",
        birth_date=date(1990, 5, 14),
        province="JAWA TIMUR",
        regency="KABUPATEN BLITAR",
        district="KANIGORO",
        village="SAWENTAR",
        address="DSN. KRAJAN",
        rt_rw="001/002",
        religion="ISLAM",
        marital_status="KAWIN",
        occupation="PETANI/PEKEBUN",
        blood_type="-",
        citizenship="WNI",
        worklist_ref=SITI,
    )
    assert (budi.sex, budi.birth_date, budi.rt_rw) == (Sex.MALE, date(1985, 11, 2), "003/002")


def test_semicolon_file_with_bom_and_spreadsheet_headers(tmp_path):
    header = (
        "No; NIK ;Nama;Jenis Kelamin;Tempat Lahir;TANGGAL LAHIR;Alamat;RT/RW;Kel/Desa;"
        "Kecamatan;Kabupaten/Kota;Provinsi;Agama;Status Perkawinan;Pekerjaan;Gol. Darah;"
        "Kewarganegaraan;Ref"
    )
    rows = [f"1;{ROW_SITI.replace(',', ';')};A;WNI;W-1", f"2;{ROW_BUDI.replace(',', ';')};;;"]
    path = tmp_path / "wl.csv"
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("utf-8-sig"))
    siti, budi = load_worklist(path)
    assert (siti.nik, siti.blood_type, siti.worklist_ref) == (SITI, "A", "W-1")
    assert (budi.blood_type, budi.citizenship, budi.worklist_ref) == ("-", "WNI", BUDI)


def test_text_may_carry_a_bom_and_long_sex_names():
    text = "\ufeff" + csv_text(ROW_SITI.replace(",P,", ",perempuan,"))
    (siti,) = parse_worklist(text)
    assert siti.sex is Sex.FEMALE
    (budi,) = parse_worklist(csv_text(ROW_BUDI.replace(",L,", ",Laki-Laki,")))
    assert budi.sex is Sex.MALE


def test_commas_inside_quoted_cells_survive():
    row = ROW_BUDI.replace("DSN. KRAJAN", '"JL. MAWAR 3, DSN. KRAJAN"')
    (budi,) = parse_worklist(csv_text(row))
    assert budi.address == "JL. MAWAR 3, DSN. KRAJAN"


def test_blank_lines_are_skipped_but_counted():
    text = csv_text(ROW_SITI, "", ROW_BUDI.replace("1985-11-02", "1985-11-31"))
    assert problems(text) == [
        (4, "tanggal_lahir", "1985-11-31 is not a date (use DD-MM-YYYY, DD/MM/YYYY or YYYY-MM-DD)")
    ]


@pytest.mark.parametrize(
    ("old", "new", "column", "message"),
    [
        ("14-05-1990", "31-02-1990", "tanggal_lahir", "31-02-1990 is not a date"),
        ("14-05-1990", "05/14/1990", "tanggal_lahir", "05/14/1990 reads month first"),
        ("14-05-1990", "14/05/90", "tanggal_lahir", "14/05/90 has a two-digit year"),
        ("14-05-1990", "14.05.1990", "tanggal_lahir", "14.05.1990 is not a date"),
        (",P,", ",W,", "jenis_kelamin", "W is not a sex"),
        (",P,", ",L,", "nik", "NIK says female (day 54 = 14 + 40) but sex is LAKI-LAKI"),
        ("14-05-1990", "14-05-1991", "nik", "NIK says born 14-05-90 but birth date is 1991-05-14"),
        (SITI, SITI[:15], "nik", "is not 16 digits"),
        (SITI, "99" + SITI[2:], "nik", "unknown province code 99"),
        (SITI, SITI[:12] + "0000", "nik", "serial 0000"),
        (SITI, "3.50508E+15", "nik", "the spreadsheet turned into a number"),
        ("001/002", "1-2", "rt_rw", "1-2 is not an RT/RW like 003/005"),
        ("SITI AMINAH", "", "nama", "nama is empty"),
        ("BLITAR,14", ",14", "tempat_lahir", "tempat_lahir is empty"),
    ],
)
def test_each_bad_cell_is_named_by_line_and_column(old, new, column, message):
    text = csv_text(ROW_BUDI, ROW_SITI.replace(old, new))
    [(line, col, text_of)] = problems(text)
    assert (line, col) == (3, column)
    assert message in text_of


def test_dates_as_indonesian_excel_saves_them_load_day_first():
    """14/03/2007 is the 14th of March; a month-first sheet whose days are all up to 12
    cannot pass as day first, since the NIK holds the day and month of birth."""
    born = date(2007, 3, 4)
    nik = make_nik("350508", born, Sex.FEMALE, 3)
    row = ROW_SITI.replace(SITI, nik)
    (siti,) = parse_worklist(csv_text(row.replace("14-05-1990", "04/03/2007")))
    assert siti.birth_date == born
    [(_, column, message)] = problems(csv_text(row.replace("14-05-1990", "03/04/2007")))
    assert column == "nik" and "the NIK agrees with the date read month first" in message


def test_optional_columns_are_checked_when_given():
    header = HEADER + ",gol_darah,kewarganegaraan"
    text = csv_text(ROW_SITI + ",C,WNX", header=header)
    assert [(line, col) for line, col, _ in problems(text)] == [
        (2, "gol_darah"),
        (2, "kewarganegaraan"),
    ]


@pytest.mark.parametrize(
    ("cell", "purpose"),
    [
        ("BARU", Purpose.BARU),
        ("hilang", Purpose.HILANG),
        (" Rusak ", Purpose.RUSAK),
        ("PERUBAHAN  DATA", Purpose.PERUBAHAN_DATA),
        ("", Purpose.BARU),
    ],
)
def test_keperluan_column_gives_the_purpose(cell, purpose):
    (siti,) = parse_worklist(csv_text(ROW_SITI + f",{cell}", header=HEADER + ",Keperluan"))
    assert siti.purpose is purpose


def test_a_worklist_without_keperluan_is_all_first_recordings():
    assert {r.purpose for r in parse_worklist(csv_text(ROW_SITI, ROW_BUDI))} == {Purpose.BARU}


def test_an_unknown_keperluan_is_named_with_the_allowed_values():
    text = csv_text(ROW_SITI + ",PINDAH", header=HEADER + ",keperluan")
    [(line, column, message)] = problems(text)
    assert (line, column) == (2, "keperluan")
    assert message == "PINDAH is not one of BARU, HILANG, PERUBAHAN DATA, RUSAK"


def test_every_problem_is_reported_and_str_lists_them():
    bad_date = ROW_SITI.replace("14-05-1990", "31-02-1990")
    bad_sex = ROW_BUDI.replace(",L,", ",X,")
    # row 2 disagrees with its NIK and holds a line break: the spreadsheet still counts one row
    row2 = ROW_SITI.replace(SITI, BUDI).replace(",P,", ",L,").replace("DSN.", '"GANG 2\nDSN.')
    text = csv_text(row2.replace("KRAJAN", 'KRAJAN"'), "", bad_sex, bad_date)
    with pytest.raises(WorklistError) as caught:
        parse_worklist(text, source="desa.csv")
    found = caught.value.problems
    assert [(line, col) for line, col, _ in found] == [
        (2, "nik"),
        (4, "jenis_kelamin"),
        (5, "tanggal_lahir"),
    ]
    message = str(caught.value)
    assert "desa.csv" in message
    assert "line 5, column tanggal_lahir: 31-02-1990 is not a date" in message
    assert "line 4, column jenis_kelamin: X is not a sex" in message


def test_one_bad_row_refuses_the_whole_file(tmp_path):
    good = [make_nik("350508", date(1990, 1, day), Sex.MALE, day) for day in range(1, 6)]
    rows = [
        ROW_BUDI.replace(BUDI, nik).replace("1985-11-02", f"1990-01-{i + 1:02d}")
        for i, nik in enumerate(good)
    ]
    assert len(parse_worklist(csv_text(*rows))) == 5
    path = tmp_path / "wl.csv"
    path.write_text(csv_text(*rows, ROW_SITI.replace("14-05-1990", "1990")), encoding="utf-8")
    with pytest.raises(WorklistError) as caught:
        load_worklist(path)
    assert [line for line, _, _ in caught.value.problems] == [7]
    assert str(path) in str(caught.value)


def test_duplicate_niks_and_refs_are_refused():
    header = HEADER + ",ref"
    text = csv_text(ROW_SITI + ",A-1", ROW_BUDI + ",A-1", ROW_SITI + ",A-2", header=header)
    assert problems(text) == [
        (3, "ref", "ref A-1 is already on line 2"),
        (4, "nik", f"nik {SITI} is already on line 2"),
    ]


def test_default_ref_is_the_nik_so_a_ref_equal_to_another_nik_clashes():
    header = HEADER + ",ref"
    text = csv_text(ROW_SITI + ",", ROW_BUDI + f",{SITI}", header=header)
    assert problems(text) == [(3, "ref", f"ref {SITI} is already on line 2")]


def test_missing_column_is_named_with_the_columns_found():
    header = HEADER.replace(",tanggal_lahir", "").replace(",agama", ",Religion")
    text = csv_text(header=header)
    found = problems(text)
    assert [(line, col) for line, col, _ in found] == [(1, "tanggal_lahir"), (1, "agama")]
    assert "required column tanggal_lahir is missing" in found[0][2]
    assert "found: nik, nama, jenis_kelamin, tempat_lahir, alamat" in found[0][2]
    assert "religion" in found[1][2]


def test_repeated_column_is_refused():
    found = problems(csv_text(ROW_SITI + ",X", header=HEADER + ",Nama"))
    assert found == [(1, "nama", "column nama appears twice")]


@pytest.mark.parametrize("text", ["", "\ufeff", "\r\n \r\n"])
def test_empty_file_is_a_clear_error(text):
    [(line, col, message)] = problems(text)
    assert (line, col) == (1, "")
    assert "the file is empty" in message


def test_header_without_residents_is_an_error():
    assert problems(csv_text()) == [(1, "", "the file has a header but no residents")]


def test_file_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(csv_text(ROW_SITI.replace("SITI", "SÍTI")).encode("latin-1"))
    with pytest.raises(WorklistError) as caught:
        load_worklist(path)
    [(line, _, message)] = caught.value.problems
    assert line == 2
    assert "not UTF-8" in message


def test_sample_of_blitar_loads():
    residents = load_worklist(SAMPLE)
    assert len(residents) == 8
    assert {r.nik[:4] for r in residents} == {"3505"}
    assert {r.regency for r in residents} == {"KABUPATEN BLITAR"}
    assert {r.sex for r in residents} == set(Sex)
    assert SAMPLE.read_bytes().startswith(b"\xef\xbb\xbf")
    assert len({r.worklist_ref for r in residents}) == 8
    assert {r.purpose for r in residents} == set(Purpose)


cell_text = (
    st.text(
        alphabet=string.ascii_uppercase + string.digits + " .,;/'\"-ÉÜ\n", min_size=1, max_size=20
    )
    .map(str.strip)
    .filter(bool)
)


@st.composite
def residents(draw):
    count = draw(st.integers(min_value=1, max_value=4))
    serials = draw(st.lists(st.integers(1, 9999), min_size=count, max_size=count, unique=True))
    people = []
    for serial in serials:
        born = draw(st.dates(min_value=date(1920, 1, 1), max_value=date(2010, 12, 31)))
        sex = draw(st.sampled_from(Sex))
        fields = {
            name: draw(cell_text)
            for name in REQUIRED_COLUMNS.values()
            if name not in ("nik", "sex", "birth_date", "rt_rw")
        }
        people.append(
            Resident(
                nik=make_nik("350508", born, sex, serial),
                sex=sex,
                birth_date=born,
                rt_rw=f"{draw(st.integers(0, 999)):03d}/{draw(st.integers(0, 999)):03d}",
                blood_type=draw(st.sampled_from(["-", "A", "B+", "AB", "O-"])),
                citizenship=draw(st.sampled_from(["WNI", "WNA"])),
                worklist_ref=f"REF-{serial}",
                purpose=draw(st.sampled_from(Purpose)),
                **fields,
            )
        )
    return tuple(people)


@settings(max_examples=40, deadline=None)
@given(people=residents(), delimiter=st.sampled_from([";", ","]))
def test_write_then_load_round_trips(tmp_path_factory, people, delimiter):
    path = tmp_path_factory.mktemp("wl") / "worklist.csv"
    write_worklist(people, path, delimiter=delimiter)
    assert load_worklist(path) == people


def test_write_refuses_what_would_not_load_and_writes_nothing(tmp_path):
    walk_in = Resident(
        nik=SITI, name="SITI", sex=Sex.FEMALE, birth_place="BLITAR", birth_date=date(1990, 5, 14)
    )
    path = tmp_path / "wl.csv"
    with pytest.raises(WorklistError, match="alamat is empty"):
        write_worklist([walk_in], path)
    assert not path.exists()


def test_write_gives_a_walk_in_its_nik_as_ref(tmp_path):
    (siti,) = parse_worklist(csv_text(ROW_SITI))
    path = tmp_path / "wl.csv"
    write_worklist([Resident(**{**siti.__dict__, "worklist_ref": None})], path)
    assert load_worklist(path) == (siti,)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfnik;nama;")
