"""Two rounds on one kit, planned at the office and counted in the district report.

An SMA, with its students' list: who is already recorded is left out, first-time voters
are counted against the election day.  Then a home visit to a person with a disability,
photographed seated.  One simulated kit on its pty (flash, the rounds loaded, collected),
the office's steps on a real PostgreSQL store, the figures read back.  The expected numbers
come from what the test did, never from the store.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capture.machine import CaptureState
from firmware.port import KitPort
from hal.types import Button
from hw_sim.portraits import Scene
from hw_sim.provisioning_port import PtyPort
from hw_sim.world import Person
from kitlink.framing import FramedPort
from provisioning import collect as collecting
from provisioning.cli import EXIT_OK, EXIT_PROBLEMS, app
from provisioning.collector import CollectorDB
from provisioning.district.figures import report_figures
from provisioning.district.html import render
from provisioning.district.round_figures import RoundFigures, RoundLevel
from provisioning.district.store import DistrictStore
from provisioning.district.sync import sync
from provisioning.flash import flash, load_officers
from provisioning.round_list import RoundListError, parse_round_list
from provisioning.rounds import load_plan, load_round, plan_round
from simulator.demo import OfficerBot, Task
from simulator.kit import SimKit, open_sim_kit, resident_of
from simulator.options import Provisioning, SimOptions
from storage.keys import Authority
from storage.model import Policy
from storage.provision import KitSetup
from storage.record import open_record
from vocabulary.people import Sex
from vocabulary.rounds import Assist, Disability

#: A flashed kit, two rounds and two collections: well over the default timeout when the
#: machine is loaded.
pytestmark = pytest.mark.timeout(600)

DAY = date(2026, 11, 23)  # the simulated world's first day
ELECTION_DAY = date(2029, 2, 14)
#: The students' birth dates: the first three turn 17 between the 2024 election and this
#: one's day; the last turned 17 before the 2024 election (it was not her first).
BORN = (date(2008, 6, 10), date(2009, 1, 15), date(2009, 8, 1), date(2007, 1, 10))

#: What the test expects of its two rounds (the home visit's first-time voter depends on
#: the visited person's birth date); the report's width is checked on them too
#: (`tests.district.test_district_report`).
SMA_ROUND = RoundFigures(
    RoundLevel.ROUND, "SMA1-KNG-1123", "sekolah", "SMA Negeri 1 Kanigoro", "KANIGORO", DAY,
    rounds=1, listed=3, left_out=1, no_nik=1, recorded=2, records=2, first_voter=2,
)  # fmt: skip
HOME_VISIT = RoundFigures(
    RoundLevel.ROUND, "KR-KNG-1123", "kunjungan rumah", "", "SANANKULON", DAY,
    rounds=1, listed=1, recorded=1, records=1, disability=1,
)  # fmt: skip

SMA_LIST = """NISN;Nama;Tanggal Lahir;NIK;JK
{rows}
0091234567;SISWA TANPA NIK;03-03-2009;;L
"""
PLAN = """code = "{code}"
venue = "{venue}"
{place}regency = "3505"
kecamatan = "{kecamatan}"
day = {day}
officers = ["PTG-001", "SPV-001"]
election_day = {election}
list = "{list}"
[request]
by = "{by}"
on = 2026-11-02
"""


def run(*args: object):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def votes_first(born: date) -> bool:
    """Turns 17 after the election before (five years earlier) and by this one's day."""
    seventeen = date(born.year + 17, born.month, min(born.day, 28))
    return date(ELECTION_DAY.year - 5, 2, 14) < seventeen <= ELECTION_DAY


def student(base: Person, index: int, born: date) -> Person:
    """A student of the SMA: a world resident's body made younger, with a NIK of their own."""
    day = born.day + (40 if base.sex is Sex.FEMALE else 0)
    nik = f"{base.nik[:6]}{day:02d}{born:%m}{born.year % 100:02d}{9001 + index:04d}"
    return replace(base, seed=90_000 + index, nik=nik, birth_date=born, name=f"SISWA {index}")


def enrol(sim: SimKit, people: list[Person]) -> None:
    """The officer logs in (the kit booted again after a round loaded), enrols, locks."""
    sim.bystanders.offer_finger = True
    bot = OfficerBot(sim.kit, sim.world, sim.bystanders)
    bot.settle()
    if sim.kit.controller.state == CaptureState.SELF_TEST:
        bot.press(Button.OK)
    bot.login(by_pin=False)
    for person in people:
        bot.enrol(Task(person))
    sim.bystanders.offer_finger = False
    bot.lock()


def records(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "records").glob("*.cose"))


def write_plan(folder: Path, name: str, listed: str, **fields: str) -> Path:
    (folder / f"{name}.csv").write_text(listed, encoding="utf-8")
    path = folder / f"{name}.toml"
    path.write_text(PLAN.format(list=f"{name}.csv", day=DAY, election=ELECTION_DAY, **fields))
    return path


def test_two_rounds_planned_on_one_kit_are_counted_by_venue_and_group(
    tmp_path: Path, store_url: str
) -> None:
    authority = Authority.init(tmp_path / "authority", name="Dukcapil Blitar")
    laptop = tmp_path / "laptop.db"
    options = SimOptions(
        tmp_path / "kit", seed=3, clock_speed=0.0, provisioning=Provisioning.UNFLASHED
    )
    with open_sim_kit(options) as sim:
        world = sim.world
        students = [
            student(p, i, born)
            for i, (p, born) in enumerate(zip(world.residents[:4], BORN, strict=True))
        ]
        visited = replace(world.residents[5], disability=Disability.FISIK, seated=True)
        world.residents[5:6] = [visited]
        world.residents += students
        officers = tmp_path / "officers.csv"
        rows = [f"{o.officer_id},{o.name},{o.role.value},{o.pin}" for o in world.officers]
        officers.write_text("id,name,role,pin\n" + "\n".join(rows) + "\n")
        worklist = (resident_of(students[0]),)
        port = KitPort(options.data_dir, sim.host)
        with PtyPort(port) as pty:

            def collect_and_sync() -> None:
                with FramedPort(port=pty.port) as link, CollectorDB(laptop) as db:
                    collecting.collect(link, authority, db)
                with DistrictStore.open(store_url, create=True) as store, CollectorDB(laptop) as db:
                    assert sync(
                        db,
                        store,
                        authority,
                        references=authority.references,
                        source="laptop",
                        worklists=[worklist],
                    ).ok

            setup = KitSetup("KIT-3505-01", "3505", load_officers(officers), worklist, Policy())
            with FramedPort(port=pty.port) as link:
                flash(link, authority, setup)
            enrol(sim, students[:1])  # a village day before the round: recorded already
            collect_and_sync()

            listed = "\n".join(
                f"00{8000 + i};{s.name};{s.birth_date:%d-%m-%Y};{s.nik};{s.sex.value[0]}"
                for i, s in enumerate(students)
            )
            sma = write_plan(
                tmp_path,
                "sma",
                SMA_LIST.format(rows=listed),
                code="SMA1-KNG-1123",
                venue="sekolah",
                place='place = "SMA Negeri 1 Kanigoro"\naddress = "Jl. Raya 12"\n',
                kecamatan="KANIGORO",
                by="SMA Negeri 1 Kanigoro",
            )
            with DistrictStore.open(store_url) as store:
                planned = plan_round(store, authority, load_plan(sma), where="test")
            check = planned.check
            assert (check.recorded, check.no_nik) == (1, 1)
            assert [line.nik for line in check.people] == [s.nik for s in students[1:]]
            assert [votes_first(born) for born in BORN] == [True, True, True, False]
            # students 1 and 2, and the one without a NIK; student 0 is recorded already
            assert check.first_voters == 3
            with FramedPort(port=pty.port) as link:
                assert load_round(link, authority, planned.loaded).people == 3
            enrol(sim, students[1:3])  # the fourth student is away that day

            home = write_plan(
                tmp_path,
                "home",
                f"nama;tgl_lahir;nik\n{visited.name};{visited.birth_date:%Y-%m-%d};{visited.nik}\n",
                code="KR-KNG-1123",
                venue="kunjungan rumah",
                place="",
                kecamatan="SANANKULON",
                by="keluarga",
            )
            with DistrictStore.open(store_url) as store:
                visit = plan_round(store, authority, load_plan(home), where="test")
            with FramedPort(port=pty.port) as link:
                load_round(link, authority, visit.loaded)
            assert sim.wired is not None
            camera = sim.wired.camera
            camera.scene = Scene.SEATED  # in a wheelchair, below the camera
            enrol(sim, [visited])
            camera.scene = Scene.CLEAN
            collect_and_sync()

    opened = [open_record(path.read_bytes(), authority) for path in records(options.data_dir)]
    sealed = next(record for record in opened if record.resident.nik == visited.nik)
    assert (sealed.resident.nik, sealed.disability, sealed.assists) == (
        visited.nik,
        Disability.FISIK,
        (Assist.SEATED,),
    )
    with DistrictStore.open(store_url) as store:
        figures = report_figures(store, authority.public, authority.references, where=store_url)
    rows = {(row.level, row.code or row.venue): row for row in figures.rounds}
    assert rows[RoundLevel.ROUND, "SMA1-KNG-1123"] == SMA_ROUND
    assert rows[RoundLevel.ROUND, "KR-KNG-1123"] == replace(
        HOME_VISIT, first_voter=int(votes_first(visited.birth_date))
    )
    assert rows[RoundLevel.ROUND, "SMA1-KNG-1123"].missing == 1
    assert rows[RoundLevel.VENUE, "sekolah"].first_voter == 2
    assert rows[RoundLevel.VENUE, "kunjungan rumah"].disability == 1
    everything = rows[RoundLevel.ALL, ""]
    assert (everything.rounds, everything.listed, everything.recorded) == (2, 4, 3)
    page = render(figures)
    (tmp_path / "laporan.html").write_text(page, encoding="utf-8")  # docs/rounds.md shows it
    assert "Jemput bola: daftar dan yang terekam" in page
    assert "Jemput bola: rekaman per kelompok" in page
    assert "SMA1-KNG-1123" in page and "KR-KNG-1123" in page


def test_a_list_with_bad_lines_is_refused_with_their_line_numbers() -> None:
    text = (
        "nisn,nama,tanggal_lahir,nik\n"
        "001,ANI,10-06-2008,\n"
        "002,,10-06-2008,\n"  # line 3: no name
        "003,BUDI,31-02-2008,\n"  # line 4: no such day
        "001,CICI,01-01-2008,3505081234560001\n"  # line 5: NISN again, a NIK of another day
    )
    with pytest.raises(RoundListError) as refused:
        parse_round_list(text, source="siswa.csv")
    assert sorted({problem.line for problem in refused.value.problems}) == [3, 4, 5]
    assert "nothing planned" in str(refused.value)


def test_round_check_names_a_list_s_bad_lines_and_round_plan_writes_the_kit_s_file(
    tmp_path: Path, store_url: str
) -> None:
    authority = tmp_path / "authority"
    Authority.init(authority, name="Dukcapil Blitar")
    assert run("district", "init", store_url).exit_code == EXIT_OK
    fields = {
        "code": "SMK2-KNG-1124",
        "venue": "sekolah",
        "place": 'place = "SMK Negeri 2"\naddress = "Jl. Melati 3"\n',
        "kecamatan": "KANIGORO",
        "by": "SMK Negeri 2",
    }
    bad = write_plan(tmp_path, "bad", "nama,tanggal_lahir\nANI,10-06-2008\n,01-01-2008\n", **fields)
    checked = run("round", "check", bad, "--db", store_url, "--authority", authority)
    assert checked.exit_code == EXIT_PROBLEMS, checked.output
    assert "line 3, column nama: nama is empty" in checked.stderr, checked.stderr
    good = write_plan(tmp_path, "good", "nama,tanggal_lahir\nANI,10-06-2008\n", **fields)
    out = tmp_path / "smk2.round"
    planned = run("round", "plan", good, "--db", store_url, "--authority", authority, "--out", out)
    assert planned.exit_code == EXIT_OK, planned.output
    assert "round SMK2-KNG-1124 planned: 0 on the kit's list" in planned.stdout
    assert re.search(r"pemilih pemula +1 \(first-time voters", planned.stdout), planned.stdout
    assert out.stat().st_mode & 0o777 == 0o600


def test_round_check_counts_a_married_student_under_17_and_says_when_the_list_cannot(
    tmp_path: Path, store_url: str
) -> None:
    """Married under 17 votes (UU 7/2017): counted where the list gives the status
    perkawinan, named as not known where it does not, refused where it is no status."""
    authority = tmp_path / "authority"
    Authority.init(authority, name="Dukcapil Blitar")
    assert run("district", "init", store_url).exit_code == EXIT_OK
    fields = {
        "code": "SMP3-KNG-1125",
        "venue": "sekolah",
        "place": 'place = "SMP Negeri 3"\naddress = "Jl. Mawar 1"\n',
        "kecamatan": "KANIGORO",
        "by": "SMP Negeri 3",
    }
    # 16 on the election day: ANI and BUDI (ANI married); 17 that day: CICI
    told = "nama;tanggal_lahir;status_perkawinan\nANI;01-03-2012;KAWIN\n"
    told += "BUDI;01-03-2012;BELUM KAWIN\nCICI;01-01-2012;\n"
    untold = "nama;tanggal_lahir\nANI;01-03-2012\nCICI;01-01-2012\n"

    def check(listed: str) -> str:
        plan = write_plan(tmp_path, "smp", listed, **fields)
        checked = run("round", "check", plan, "--db", store_url, "--authority", authority)
        assert checked.exit_code == EXIT_OK, checked.output
        return " ".join(checked.stdout.split())

    said = check(told)
    assert "pemilih pemula 2 (first-time voters" in said, said
    assert "status kawin tak diketahui" not in said
    said = check(untold)
    assert "pemilih pemula 1 (first-time voters" in said, said
    assert "status kawin tak diketahui 1 (under 17 on the election day" in said, said
    plan = write_plan(
        tmp_path, "smp", "nama;tanggal_lahir;status_kawin\nANI;01-03-2012;JANDA\n", **fields
    )
    refused = run("round", "check", plan, "--db", store_url, "--authority", authority)
    assert refused.exit_code == EXIT_PROBLEMS
    assert "line 2, column status_perkawinan: JANDA is not a status perkawinan" in refused.stderr
