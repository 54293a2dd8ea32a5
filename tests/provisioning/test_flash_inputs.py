"""What `flash` reads before it touches a kit: officers CSV and policy TOML, every problem named.

A policy is checked by the rules of `storage.policy` (tests/storage/test_policy.py): here,
that `flash` names each problem in one line and sends nothing, and that a kit refuses a
bad policy that a tool sent anyway.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from kitlink import protocol as p
from kitlink.framing import FramedPort
from provisioning.cli import EXIT_OK, EXIT_PROBLEMS, app
from provisioning.client import KitClient
from provisioning.flash import FlashInputError, flash, load_officers, load_policy
from storage.keys import Authority
from storage.model import Policy
from storage.officers import check_pin
from storage.provision import KitSetup
from tests.provisioning.kit_bench import Bench, flash_cli, inputs
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
    with pytest.raises(
        FlashInputError,
        match=r"voter_date = \"14-02-2029\": allowed a date like 2029-02-14, without quotes",
    ):
        load_policy(write(tmp_path / "bad.toml", 'voter_date = "14-02-2029"\n'))


#: The policy lines of issue 25, and what `flash` says of each (key, value, what is allowed).
BAD_POLICY_LINES = [
    ("finger_retries = -1", "finger_retries = -1: allowed a whole number from 1 to 10 ("),
    ('print_on_site = "no"', 'print_on_site = "no": allowed true or false, without quotes ('),
    (
        "fingers = []",
        "fingers = []: allowed at least one finger position, unless the authority sets "
        "allow_no_fingers = true",
    ),
    (
        "reserve_bytes = -1",
        "reserve_bytes = -1: allowed a whole number from 8388608 to 4294967296 (8 MiB to 4 GiB)",
    ),
    ("min_finger_quality = 1000", "min_finger_quality = 1000: allowed a whole number from 1 to"),
    ("sensor_library_pages = -3", "sensor_library_pages = -3: allowed a whole number from 1 to"),
    ("recording_age = 200", "recording_age = 200: allowed 17 only ("),
]
BAD_POLICY_IDS = [line.split(" =")[0] for line, _ in BAD_POLICY_LINES]


def flash_offline(tmp_path: Path) -> Result:
    """`jemput-prov flash` with the bench's inputs and a port that does not exist: whatever
    it says, it said before opening a port."""
    Authority.init(tmp_path / "authority", name="t")
    return CliRunner().invoke(
        app,
        [
            "flash",
            str(tmp_path / "no-such-port"),
            "--authority",
            str(tmp_path / "authority"),
            "--kit-id",
            "KIT-3505-07",
            "--region",
            "3505",
            "--officers",
            str(tmp_path / "officers.csv"),
            "--worklist",
            str(tmp_path / "worklist.csv"),
            "--policy",
            str(tmp_path / "policy.toml"),
        ],
    )


@pytest.mark.parametrize(("line", "said"), BAD_POLICY_LINES, ids=BAD_POLICY_IDS)
def test_flash_refuses_a_bad_policy_before_the_port_in_one_line(
    tmp_path: Path, line: str, said: str
) -> None:
    inputs(tmp_path)
    write(tmp_path / "policy.toml", f"# Kabupaten Blitar, 2026\nofficial_required = true\n{line}\n")
    result = flash_offline(tmp_path)
    assert result.exit_code == EXIT_PROBLEMS, result.output
    (only,) = result.stderr.splitlines()
    assert only.startswith(
        f"jemput-prov: nothing flashed: {tmp_path / 'policy.toml'}: 1 problem(s)"
    )
    assert f"line 3: {said}" in only
    assert only.endswith("fix the file and flash again")


def test_flash_refuses_officers_outside_the_sensor_library(tmp_path: Path) -> None:
    inputs(tmp_path)
    write(tmp_path / "officers.csv", "id,name,role,pin,finger_page\nPTG-1,Ani,officer,246810,500\n")
    result = flash_offline(tmp_path)
    assert result.exit_code == EXIT_PROBLEMS, result.output
    (only,) = result.stderr.splitlines()
    assert "nothing flashed: the policy breaks 1 rule(s): sensor_library_pages = 200: " in only
    assert "allowed 501 or more with these officers" in only


def test_a_bad_policy_reaches_no_kit_and_a_kit_refuses_one_sent_anyway(bench: Bench) -> None:
    """Nothing crosses the cable for a policy `flash` refuses; a tool that skips the check
    meets the kit's, and the kit, not flashed, takes a good policy next."""
    for line, said in BAD_POLICY_LINES:
        write(bench.tmp / "policy.toml", f"{line}\n")
        result = flash_cli(bench)
        assert result.exit_code == EXIT_PROBLEMS and said in result.stderr, result.output
    assert bench.kit_port.handled == [], "nothing was sent"

    unchecked = KitSetup("KIT-3505-07", "3505", (), (), Policy(finger_retries=-1))
    with FramedPort(port=bench.pty.port) as link:
        with pytest.raises(p.Refused, match=r"finger_retries = -1: allowed a whole number"):
            flash(link, bench.authority, unchecked)
        assert not KitClient(link, bench.authority).hello().provisioned
    write(bench.tmp / "policy.toml", "finger_retries = 2\n")
    assert flash_cli(bench).exit_code == EXIT_OK
    assert bench.host.store is not None and bench.host.store.policy.finger_retries == 2
