"""jemput-prov on real files: keys made by `authority init`, records sealed by a KitStore.

Nothing is mocked: the kit is provisioned and seals records as on the device, and each
test damages a copy of it the way a bad SD card or a tampering hand would.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provisioning.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USER_ERROR, app
from provisioning.collector import CollectorDB
from storage.certificate import verify_certificate
from storage.keys import Authority, AuthorityPublic
from storage.kit import KitStore, provision
from storage.model import Enrolment, FingerRecord, Policy, Resident
from storage.officers import make_officer
from storage.record import read_header
from vocabulary.people import Role, Sex

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "worklist-blitar.csv"
RESIDENTS = (
    Resident(
        "3505085403070017",
        "SITI NUR AINI",
        Sex.FEMALE,
        "BLITAR",
        date(2007, 3, 14),
        village="SAWENTAR",
        worklist_ref="SWT-2024-001",
    ),
    Resident(
        "3505080211850024",
        "AHMAD FAUZI",
        Sex.MALE,
        "BLITAR",
        date(1985, 11, 2),
        village="SAWENTAR",
        worklist_ref="SWT-2024-002",
    ),
)
FACE = b"\xff\xd8face-jpeg"
SIGNATURE = b"\x89PNGsignature"


def finger_png(position: int) -> bytes:
    return b"\x89PNGfinger-%d" % position


@dataclass
class Site:
    """An authority folder and a kit data folder with three sealed records."""

    authority: Path
    data: Path

    @property
    def records(self) -> Path:
        return self.data / "records"


def enrolment(resident: Resident) -> Enrolment:
    return Enrolment(
        resident=resident,
        officer_id="OFC-1",
        started_at=NOW,
        face_jpeg=FACE,
        fingers=(
            FingerRecord(1, image_png=finger_png(1), template=b"t1", quality=71),
            FingerRecord(2, exception="amputated", approved_by="SUP-1"),
        ),
        signature_strokes=(((1, 2), (3, 4)),),
        signature_png=SIGNATURE,
        approvals=("SUP-1",),
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("site")
    site = Site(root / "authority", root / "kit")
    authority = Authority.init(site.authority, name="Dukcapil Blitar", demo=True)
    officer = make_officer("OFC-1", "Budi", Role.OFFICER, "123456")
    provision(
        site.data,
        authority=authority,
        kit_id="KIT-7",
        region="3505",
        officers=(officer,),
        worklist=RESIDENTS,
        policy=Policy(),
        now=NOW,
        demo=True,
    )
    store = KitStore(site.data, now=lambda: NOW)
    try:
        for resident in (*RESIDENTS, RESIDENTS[0]):
            store.seal(enrolment(resident))
    finally:
        store.close()
    return site


@pytest.fixture
def site(built: Site, tmp_path: Path) -> Site:
    """A private copy of the built site that a test may damage."""
    copy = Site(tmp_path / "authority", tmp_path / "kit")
    shutil.copytree(built.authority, copy.authority)
    shutil.copytree(built.data, copy.data)
    return copy


def kit_row(stdout: str, kit_id: str) -> list[str]:
    """The records, first, last, gaps and problems cells of a kit's row in the table."""
    row = next(line for line in stdout.splitlines() if f" {kit_id} " in line)
    return [cell.strip() for cell in row.split("│")[2:7]]


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: object):
        return runner.invoke(app, [str(arg) for arg in args])

    return invoke


def test_authority_init_writes_private_keys_0600(run, tmp_path: Path) -> None:
    folder = tmp_path / "auth"
    result = run("authority", "init", folder, "--name", "Dukcapil Kediri")
    assert result.exit_code == EXIT_OK, result.output
    for name in ("signing.key", "encryption.key"):
        assert (folder / name).stat().st_mode & 0o777 == 0o600
        assert str(folder / name) in result.stdout
    public = Authority.load(folder).public
    assert public.name == "Dukcapil Kediri" and not public.demo
    assert public.kid.hex() in result.stdout
    assert "offline" in result.stdout


def test_authority_init_refuses_existing_keys(run, site: Site) -> None:
    before = (site.authority / "signing.key").read_bytes()
    result = run("authority", "init", site.authority)
    assert result.exit_code == EXIT_USER_ERROR
    assert "already holds authority keys" in result.stderr
    assert "Traceback" not in result.output
    assert (site.authority / "signing.key").read_bytes() == before


@pytest.mark.parametrize("where", ["data", "records", "parent"])
def test_verify_good_kit(run, site: Site, where: str) -> None:
    path = {"data": site.data, "records": site.records, "parent": site.data.parent}[where]
    result = run("verify", path, "--authority", site.authority)
    assert result.exit_code == EXIT_OK, result.output
    assert "KIT-7" in result.stdout
    assert "DEMO" in result.stdout
    assert kit_row(result.stdout, "KIT-7") == ["3", "1", "3", "none", "0"]


def test_verify_single_record(run, site: Site) -> None:
    result = run("verify", site.records / "00000002.cose", "--authority", site.authority)
    assert result.exit_code == EXIT_OK, result.output
    assert kit_row(result.stdout, "KIT-7")[:3] == ["1", "2", "2"]


def test_verify_flipped_byte_names_the_file(run, site: Site) -> None:
    target = site.records / "00000002.cose"
    data = bytearray(target.read_bytes())
    data[-5] ^= 0x01
    target.write_bytes(bytes(data))
    result = run("verify", site.data, "--authority", site.authority)
    assert result.exit_code == EXIT_PROBLEMS
    assert f"{target}: BadSignature:" in result.stdout


def test_verify_deleted_record_names_the_gap(run, site: Site) -> None:
    (site.records / "00000002.cose").unlink()
    result = run("verify", site.records, "--authority", site.authority)
    assert result.exit_code == EXIT_PROBLEMS
    assert "BrokenChain: record 2 missing before 00000003.cose" in result.stdout
    assert kit_row(result.stdout, "KIT-7") == ["2", "1", "3", "2", "1"]


@pytest.mark.parametrize("what", ["kit folder", "record", "collector database"])
def test_verify_with_another_authority_says_so_in_one_line(
    run, site: Site, tmp_path: Path, what: str
) -> None:
    """Not a problem per row: the folder given is the mistake, and the kits name the key
    of the authority that flashed them."""
    other = tmp_path / "other"
    Authority.init(other, name="Other")
    target = {
        "kit folder": site.data,
        "record": site.records / "00000001.cose",
        "collector database": collector_of(site, tmp_path / "kits.db"),
    }[what]
    result = run("verify", target, "--authority", other)
    assert result.exit_code == EXIT_USER_ERROR and result.stdout == ""
    kid = AuthorityPublic.load(site.authority).kid.hex()
    (line,) = result.stderr.splitlines()
    assert "nothing here is of authority 'Other'" in line
    assert f"signed by authority key {kid}" in line and "give --authority the folder" in line


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("verify", "kits.db"), "no such collector database"),
        (("verify", "nowhere"), "does not exist"),
        (("open", "nowhere.cose"), "does not exist"),
        (("open", "nowhere.db", "--kit", "KIT-7", "--seq", "1"), "does not exist"),
    ],
)
def test_user_errors_exit_2_with_one_line(run, site: Site, args, said) -> None:
    result = run(*args, "--authority", site.authority)
    assert result.exit_code == EXIT_USER_ERROR
    assert said in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_not_an_authority_folder(run, site: Site) -> None:
    result = run("verify", site.data, "--authority", site.data)
    assert result.exit_code == EXIT_USER_ERROR
    assert "is not an authority folder" in result.stderr


def test_readable_key_refused(run, site: Site) -> None:
    (site.authority / "encryption.key").chmod(0o644)
    result = run("open", site.records / "00000001.cose", "--authority", site.authority)
    assert result.exit_code == EXIT_USER_ERROR
    assert "chmod 600" in result.stderr
    assert "Traceback" not in result.output


def test_open_prints_fields_and_writes_images(run, site: Site, tmp_path: Path) -> None:
    out = tmp_path / "opened"
    record = site.records / "00000002.cose"
    result = run("open", record, "--authority", site.authority, "--out", out)
    assert result.exit_code == EXIT_OK, result.output
    for text in ("AHMAD FAUZI", "3505080211850024", "right thumb", "quality 71"):
        assert text in result.stdout
    assert "amputated" in result.stdout and "SUP-1" in result.stdout
    assert "signature verified: kit KIT-7" in result.stdout
    assert (out / "face.jpg").read_bytes() == FACE
    assert (out / "finger-1.png").read_bytes() == finger_png(1)
    assert (out / "signature.png").read_bytes() == SIGNATURE
    assert not (out / "finger-2.png").exists()
    assert (out / "face.jpg").stat().st_mode & 0o777 == 0o600


def test_open_tampered_record_exits_1(run, site: Site) -> None:
    record = site.records / "00000001.cose"
    data = bytearray(record.read_bytes())
    data[len(data) // 2] ^= 0x01
    record.write_bytes(bytes(data))
    result = run("open", record, "--authority", site.authority)
    assert result.exit_code == EXIT_PROBLEMS
    assert str(record) in result.stderr


def test_worklist_check_sample(run) -> None:
    result = run("worklist", "check", SAMPLE)
    assert result.exit_code == EXIT_OK, result.output
    assert "8 resident(s)" in result.stdout
    assert "SAWENTAR" in result.stdout


def test_worklist_check_broken_lists_every_problem(run, tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8-sig").splitlines()
    lines[2] = lines[2].replace("02-11-1985", "31-02-1985")
    lines[4] = lines[4].replace("3505081701620038", "35050817016200")
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("worklist", "check", broken)
    assert result.exit_code == EXIT_PROBLEMS
    assert "line 3, column tanggal_lahir: 31-02-1985 is not a date" in result.stdout
    assert "line 5, column nik:" in result.stdout
    assert "2 problem(s)" in result.stdout


def collector_of(site: Site, path: Path) -> Path:
    """A collector database holding the site's records, as `collect` would have kept them."""
    certificate = verify_certificate(
        (site.records / "kit.cert").read_bytes(), AuthorityPublic.load(site.authority)
    )
    with CollectorDB(path) as db:
        chain = db.add_chain(certificate)
        for record in sorted(site.records.glob("*.cose")):
            data = record.read_bytes()
            db.add_record(chain, read_header(data), data)
    return path


#: A tool that stores a site's records and is killed at once: no close, no checkpoint, no
#: collection statement whose fsync would cover the rows.
KILLED_AFTER_STORING = """
import os, sys
from pathlib import Path
from provisioning.collector import CollectorDB
from storage.certificate import verify_certificate
from storage.keys import AuthorityPublic
from storage.record import read_header
records, authority, path = map(Path, sys.argv[1:])
certificate = verify_certificate(
    (records / "kit.cert").read_bytes(), AuthorityPublic.load(authority)
)
db = CollectorDB(path)
chain = db.add_chain(certificate)
for record in sorted(records.glob("*.cose")):
    data = record.read_bytes()
    db.add_record(chain, read_header(data), data)
os._exit(9)
"""


def test_a_record_row_outlives_a_tool_killed_right_after_storing_it(
    run, site: Site, tmp_path: Path
) -> None:
    """Each record is committed as it is stored (its fsync waits for the collection's):
    the next run finds every row, and they verify."""
    db = tmp_path / "kits.db"
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_STORING, site.records, site.authority, db],
        cwd=Path(__file__).parents[2],
        check=False,
    )
    assert killed.returncode == 9
    with CollectorDB(db) as collector:
        assert collector.have(collector.chains()[0]) == len(list(site.records.glob("*.cose")))
    result = run("verify", db, "--authority", site.authority)
    assert result.exit_code == EXIT_OK, result.output


def test_verify_a_collector_database(run, site: Site, tmp_path: Path) -> None:
    db = collector_of(site, tmp_path / "kits.db")
    result = run("verify", db, "--authority", site.authority)
    assert result.exit_code == EXIT_OK, result.output
    assert kit_row(result.stdout, "KIT-7") == ["3", "1", "3", "none", "0"]


def test_open_a_record_the_database_does_not_hold(run, site: Site, tmp_path: Path) -> None:
    db = collector_of(site, tmp_path / "kits.db")
    result = run("open", db, "--authority", site.authority, "--kit", "KIT-7", "--seq", 9)
    assert result.exit_code == EXIT_PROBLEMS
    assert "holds no record 9 of kit KIT-7" in result.stderr
    assert "Traceback" not in result.output
    opened = run("open", db, "--authority", site.authority, "--kit", "KIT-7", "--seq", 2)
    assert opened.exit_code == EXIT_OK, opened.output
    assert "AHMAD FAUZI" in opened.stdout and "signature verified: kit KIT-7" in opened.stdout


def test_a_file_that_is_no_database_is_a_user_error(run, site: Site, tmp_path: Path) -> None:
    fake = tmp_path / "kits.db"
    fake.write_bytes(b"not sqlite at all" * 10)
    result = run("report", "--db", fake, "--authority", site.authority)
    assert result.exit_code == EXIT_USER_ERROR
    assert "is not a collector database" in result.stderr


def test_report_with_a_broken_worklist_names_its_problems(run, site: Site, tmp_path: Path) -> None:
    db = collector_of(site, tmp_path / "kits.db")
    broken = tmp_path / "broken.csv"
    broken.write_text("nik,nama\n", encoding="utf-8")
    result = run("report", "--db", db, "--authority", site.authority, "--worklist", broken)
    assert result.exit_code == EXIT_PROBLEMS
    assert "nothing reported" in result.stderr and "jenis_kelamin is missing" in result.stderr
    assert "Traceback" not in result.output


def test_a_database_of_the_old_schema_is_named_not_trusted(run, site: Site, tmp_path: Path) -> None:
    """Made before collections carried signed statements: it cannot be verified row by row."""
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE chains (cert_digest BLOB PRIMARY KEY, kit_id TEXT)")
    result = run("verify", old, "--authority", site.authority)
    assert result.exit_code == EXIT_USER_ERROR
    assert "collector database of schema 0, this tool reads 3" in result.stderr


def _worklist_csv(path: Path) -> Path:
    """The site's residents as a worklist CSV (with the columns a worklist must fill)."""
    from dataclasses import replace

    from storage.worklist import write_worklist

    filled = dict(
        address="JL. MAWAR 1", rt_rw="001/002", district="SANANWETAN", regency="KOTA BLITAR",
        province="JAWA TIMUR", religion="ISLAM", marital_status="BELUM KAWIN",
        occupation="PELAJAR",
    )  # fmt: skip
    write_worklist([replace(r, **filled) for r in RESIDENTS], path)
    return path


def test_report_matches_keyed_references_to_the_worklist(run, site: Site, tmp_path: Path) -> None:
    """The headers hold keyed references only; the authority's key matches them."""
    db = collector_of(site, tmp_path / "kits.db")
    for record in site.records.glob("*.cose"):
        assert all(r.nik.encode() not in record.read_bytes() for r in RESIDENTS)
    worklist = _worklist_csv(tmp_path / "worklist.csv")
    result = run(
        "report", "--db", db, "--authority", site.authority, "--worklist", worklist,
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    overall = json.loads(result.stdout)[-1]
    assert (overall["registered"], overall["recorded"], overall["missing"]) == (2, 2, 0)


def test_report_without_the_reference_key_names_the_file(run, site: Site, tmp_path: Path) -> None:
    db = collector_of(site, tmp_path / "kits.db")
    worklist = _worklist_csv(tmp_path / "worklist.csv")
    (site.authority / "reference.key").unlink()
    result = run("report", "--db", db, "--authority", site.authority, "--worklist", worklist)
    assert result.exit_code == EXIT_USER_ERROR
    assert f"{site.authority / 'reference.key'} is missing" in result.stderr
    assert "jemput-prov authority reference-key" in result.stderr
    assert "Traceback" not in result.output
    without = run("report", "--db", db, "--authority", site.authority)
    assert without.exit_code == EXIT_OK, "coverage per kit needs no reference key"
    assert "log pengumpul: 0 pengambilan, terakhir tidak ada" in without.stdout, "in Bahasa"


def test_authority_reference_key_makes_one_and_never_replaces_it(run, site: Site) -> None:
    path = site.authority / "reference.key"
    kept = path.read_bytes()
    again = run("authority", "reference-key", site.authority)
    assert again.exit_code == EXIT_USER_ERROR and "already exists" in again.stderr
    assert path.read_bytes() == kept
    path.unlink()
    made = run("authority", "reference-key", site.authority)
    assert made.exit_code == EXIT_OK, made.output
    assert "mode 0600" in made.stdout and len(path.read_bytes()) == 32
    assert path.read_bytes() != kept and "Flash every kit" in made.stdout
