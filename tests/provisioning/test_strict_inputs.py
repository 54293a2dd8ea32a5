"""What a technician feeds the tool is taken only when it can work on the kit.

NIKs and PINs in ASCII digits only (full-width and Arabic-Indic digits look the same on a
screen, so one NIK could pass the duplicate check twice, and a PIN could be loaded that
the kit's buttons cannot type); officers CSV rows that would log the wrong person in are
refused; Indonesian headers are read, as the worklist's are.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provisioning.cli import EXIT_PROBLEMS, app
from provisioning.flash import FlashInputError, load_officers
from storage.certificate import BadKitId, certify_kit
from storage.keys import Authority
from storage.nik import NikError, make_nik, parse_nik
from storage.officers import make_officer
from storage.worklist import WorklistError, parse_worklist
from vocabulary.people import Role, Sex

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EXTENDED_ARABIC_INDIC = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
FOREIGN_DIGITS = [FULL_WIDTH, ARABIC_INDIC, EXTENDED_ARABIC_INDIC, DEVANAGARI]
FOREIGN_IDS = ["full-width", "arabic-indic", "extended-arabic-indic", "devanagari"]

SITI = make_nik("350508", date(1990, 5, 14), Sex.FEMALE, 1)
HEADER = (
    "nik,nama,jenis_kelamin,tempat_lahir,tanggal_lahir,alamat,rt_rw,kel_desa,kecamatan,"
    "kabupaten_kota,provinsi,agama,status_perkawinan,pekerjaan"
)


def row(nik: str, date_cell: str = "14-05-1990", rt_rw: str = "001/002") -> str:
    return (
        f"{nik},SITI AMINAH,P,BLITAR,{date_cell},DSN. KRAJAN,{rt_rw},SAWENTAR,KANIGORO,"
        "KABUPATEN BLITAR,JAWA TIMUR,ISLAM,KAWIN,PETANI/PEKEBUN"
    )


@pytest.mark.parametrize("digits", FOREIGN_DIGITS, ids=FOREIGN_IDS)
def test_a_nik_in_other_digits_is_refused_with_what_to_do(digits: dict[int, int]) -> None:
    with pytest.raises(NikError, match=r"not ASCII 0-9 .* retype it"):
        parse_nik(SITI.translate(digits))


@pytest.mark.parametrize("digits", FOREIGN_DIGITS, ids=FOREIGN_IDS)
def test_one_resident_written_in_two_digit_sets_is_not_two_residents(
    digits: dict[int, int],
) -> None:
    text = "\n".join([HEADER, row(SITI), row(SITI.translate(digits))])
    with pytest.raises(WorklistError) as refused:
        parse_worklist(text)
    assert [(p.line, p.column) for p in refused.value.problems] == [(3, "nik")]
    assert "not ASCII 0-9" in refused.value.problems[0].message


def test_a_nik_with_one_foreign_digit_is_refused() -> None:
    mixed = SITI[:15] + SITI[15].translate(ARABIC_INDIC)
    with pytest.raises(NikError, match="not ASCII 0-9"):
        parse_nik(mixed)


@pytest.mark.parametrize(
    ("date_cell", "rt_rw", "column"),
    [
        ("14-05-1990".translate(FULL_WIDTH), "001/002", "tanggal_lahir"),
        ("1990-05-14".translate(ARABIC_INDIC), "001/002", "tanggal_lahir"),
        ("14-05-1990", "001/002".translate(FULL_WIDTH), "rt_rw"),
    ],
    ids=["full-width date", "arabic-indic date", "full-width rt/rw"],
)
def test_dates_and_rt_rw_in_other_digits_are_refused(
    date_cell: str, rt_rw: str, column: str
) -> None:
    with pytest.raises(WorklistError) as refused:
        parse_worklist("\n".join([HEADER, row(SITI, date_cell, rt_rw)]))
    assert (2, column) in [(p.line, p.column) for p in refused.value.problems]


@pytest.mark.parametrize("digits", FOREIGN_DIGITS, ids=FOREIGN_IDS)
def test_a_pin_the_buttons_cannot_type_is_refused(digits: dict[int, int]) -> None:
    with pytest.raises(ValueError, match=r"not ASCII 0-9.*buttons type only 0-9"):
        make_officer("PTG-001", "Budi", Role.OFFICER, "246810".translate(digits))


def officers(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "officers.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rows", "problem", "said"),
    [
        (",Ani,officer,123456,0", (2, "id"), "officer id is empty"),
        ("A B,Ani,officer,123456,0", (2, "id"), "officer id is 'A B'"),
        ("A,,officer,123456,0", (2, "name"), "name is empty"),
        ("A,Ani,officer,123456,-5", (2, "finger_page"), "'-5' is not a sensor library page"),
        ("A,Ani,officer,123456,1000", (2, "finger_page"), "(0-999, ASCII digits)"),
        ("A,Ani,officer,123456,٣", (2, "finger_page"), "not a sensor library page"),
        ("A,Ani,officer,１２３４５６,0", (2, "pin"), "not ASCII 0-9"),
        (
            "A,Ani,officer,123456,3\nB,Bayu,officer,654321,3",
            (3, "finger_page"),
            "finger page 3 is already officer A's (line 2)",
        ),
        (
            "A,Ani,officer,123456,1\nB,Bayu,officer,654321",
            (3, "finger_page"),
            "finger page 1 is already officer A's",
        ),
    ],
    ids=[
        "empty id",
        "id with a space",
        "empty name",
        "page -5",
        "page 1000",
        "arabic-indic page",
        "full-width pin",
        "two officers on one page",
        "a given page meets a file-order page",
    ],
)
def test_an_officer_row_that_cannot_work_is_refused(
    tmp_path: Path, rows: str, problem: tuple[int, str], said: str
) -> None:
    with pytest.raises(FlashInputError) as refused:
        load_officers(officers(tmp_path, "id,name,role,pin,finger_page\n" + rows + "\n"))
    assert [(p.line, p.column) for p in refused.value.problems] == [problem]
    assert said in str(refused.value)


def test_officers_with_indonesian_headers_and_roles(tmp_path: Path) -> None:
    text = "ID Petugas;Nama;Peran;PIN;Halaman Jari\nPTG-001;Budi;Petugas;123456;4\n"
    text += "SPV-001;Sari;Pengawas;654321;5\n"
    loaded = load_officers(officers(tmp_path, text))
    assert [(o.officer_id, o.name, o.role, o.finger_pages) for o in loaded] == [
        ("PTG-001", "Budi", Role.OFFICER, (4,)),
        ("SPV-001", "Sari", Role.SUPERVISOR, (5,)),
    ]


BAD_KIT_IDS = [
    "../../escaped",
    "",
    "KIT 7",
    "KIT/7",
    ".hidden",
    "-KIT",
    "K" * 33,
    "KIT-７",
    "KIT\n7",
]


@pytest.mark.parametrize("kit_id", BAD_KIT_IDS)
def test_a_kit_id_that_is_no_safe_folder_name_is_never_certified(
    kit_id: str, tmp_path: Path
) -> None:
    authority = Authority.init(tmp_path / "authority", name="t")
    with pytest.raises(BadKitId, match="is not 1-32 ASCII letters"):
        certify_kit(
            authority, kit_id=kit_id, region="3505", kit_public=bytes(32), now=datetime.now(UTC)
        )
    result = CliRunner().invoke(
        app,
        [
            "flash",
            str(tmp_path / "no-such-port"),
            "--authority",
            str(tmp_path / "authority"),
            "--kit-id",
            kit_id,
            "--region",
            "3505",
            "--officers",
            str(tmp_path / "officers.csv"),
            "--worklist",
            str(tmp_path / "worklist.csv"),
        ],
    )
    assert result.exit_code == EXIT_PROBLEMS, result.output
    assert "nothing flashed" in result.stderr and "is not 1-32 ASCII letters" in result.stderr


def test_good_kit_ids_are_certified(tmp_path: Path) -> None:
    authority = Authority.init(tmp_path / "authority", name="t")
    for kit_id in ("KIT-3505-07", "KIT-7", "DEMO-3505-01", "k_1"):
        certify_kit(
            authority, kit_id=kit_id, region="3505", kit_public=bytes(32), now=datetime.now(UTC)
        )
