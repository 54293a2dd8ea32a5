"""What `flash` reads before it touches a kit: officers CSV and policy TOML, every problem named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from provisioning.flash import FlashInputError, load_officers, load_policy
from storage.model import Policy
from storage.officers import check_pin
from vocabulary.people import Role


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding, newline="")
    return path


def test_officers_as_a_spreadsheet_exports_them(tmp_path: Path) -> None:
    """BOM, semicolons, CRLF and headers in any case and spacing, as the worklist reader takes."""
    csv = "ID;Name;Role;PIN;Finger Page\r\nPTG-001;Budi;Officer;123456;4\r\n;;;;\r\n"
    csv += "SPV-001;Sari;supervisor;654321;\r\n"
    officers = load_officers(write(tmp_path / "officers.csv", csv, "utf-8-sig"))
    assert [(o.officer_id, o.name, o.role) for o in officers] == [
        ("PTG-001", "Budi", Role.OFFICER),
        ("SPV-001", "Sari", Role.SUPERVISOR),
    ]
    assert [o.finger_pages for o in officers] == [(4,), (1,)], "no page: file order"
    assert check_pin(officers[0], "123456") and not check_pin(officers[0], "654321")


@pytest.mark.parametrize(
    "cell", ["kepala desa", "Kasi  Pemerintahan", "KADES", "lurah", "official"]
)
def test_the_village_official_is_a_third_role(tmp_path: Path, cell: str) -> None:
    csv = f"nama,peran,pin,id,halaman_jari\nSuparman,{cell},112233,KDS-001,7\n"
    (official,) = load_officers(write(tmp_path / "officers.csv", csv))
    assert (official.role, official.is_official, official.finger_pages) == (
        Role.OFFICIAL,
        True,
        (7,),
    )
    assert check_pin(official, "112233")


def test_every_bad_officer_row_is_named_by_line_and_column(tmp_path: Path) -> None:
    csv = (
        "id,name,role,pin,finger_page\n"
        "A,Ani,officer,123456,0\n"
        "B,Bayu,boss,123456,1\n"
        "C,Citra,officer,12345,2\n"
        "A,Adi,officer,123456,3\n"
        "D,Dewi,officer,123456,x\n"
    )
    with pytest.raises(FlashInputError) as refused:
        load_officers(write(tmp_path / "officers.csv", csv))
    found = [(p.line, p.column) for p in refused.value.problems]
    assert found == [(3, "role"), (4, "pin"), (5, "id"), (6, "finger_page")]
    assert "officer id A is already on line 2" in str(refused.value)
    assert "use officer, supervisor or official" in str(refused.value)
    assert "PIN must be 6 digits" in str(refused.value)
    assert "fix the file and flash again" in str(refused.value)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "missing column(s) id, name, role, pin"),
        (b"id,name\nA,Ani\n", "missing column(s) role, pin (found: id, name)"),
        (b"id,name,role,pin\n", "no officers in the file"),
        (b"id,name,role,pin\nA,J\xfcrgen,officer,123456\n", "line 2: not UTF-8"),
    ],
)
def test_a_file_that_is_no_officers_list_is_refused(
    tmp_path: Path, content: bytes, said: str
) -> None:
    path = tmp_path / "officers.csv"
    path.write_bytes(content)
    with pytest.raises(FlashInputError, match="problem") as refused:
        load_officers(path)
    assert said in str(refused.value)


def test_policy_from_toml_and_its_mistakes(tmp_path: Path) -> None:
    assert load_policy(None) == Policy()
    policy = load_policy(write(tmp_path / "p.toml", "fingers = [1, 6]\nfinger_retries = 2\n"))
    assert (policy.fingers, policy.finger_retries) == ((1, 6), 2)
    with pytest.raises(FlashInputError, match="unknown key"):
        load_policy(write(tmp_path / "bad.toml", "finger_retry = 2\n"))
    with pytest.raises(FlashInputError, match="line 1"):
        load_policy(write(tmp_path / "broken.toml", "print_on_site = \n"))


def test_policy_voter_date_and_official_required(tmp_path: Path) -> None:
    toml = "voter_date = 2029-02-14\nofficial_required = true\n"
    policy = load_policy(write(tmp_path / "policy.toml", toml))
    assert (policy.voter_date, policy.official_required) == (date(2029, 2, 14), True)
    with pytest.raises(FlashInputError, match="is not a TOML date like 2029-02-14"):
        load_policy(write(tmp_path / "bad.toml", 'voter_date = "14-02-2029"\n'))
