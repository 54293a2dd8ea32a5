"""Flash a simulated kit over a pty, enrol on it, collect: through the tool's real code paths.

The kit's responder runs on the PtyLink's thread at one end; the tool opens the other end
with pyserial, as it opens /dev/ttyACM0.  Nothing on either side is mocked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from firmware.demo import run_session
from firmware.host import KitHost
from firmware.port import KitPort
from firmware.sim import SimKit, demo_world, open_sim_kit, resident_of
from hw_sim.provisioning_port import PtyPort
from provisioning import collect as collecting
from provisioning import protocol as p
from provisioning.cli import EXIT_OK, EXIT_PROBLEMS, app
from provisioning.collector import CollectorDB
from provisioning.framing import FramedPort, LinkClosed
from provisioning.report import build_report
from storage.keys import Authority
from storage.worklist import load_worklist, write_worklist

SEED = 1
PEOPLE = 6


@dataclass
class Bench:
    """An authority, a flashed simulated kit served on a pty, and the tool's input files."""

    tmp: Path
    authority: Authority
    sim: SimKit
    kit_port: KitPort
    pty: PtyPort

    @property
    def host(self) -> KitHost:
        return self.sim.host

    @property
    def args(self) -> list[str]:
        return ["--authority", str(self.tmp / "authority")]

    def replug(self) -> None:
        """A new cable: the same kit, a new pty."""
        self.pty.close()
        self.pty = PtyPort(self.kit_port)


def inputs(tmp: Path) -> None:
    world = demo_world(SEED)
    write_worklist([resident_of(person) for person in world.residents], tmp / "worklist.csv")
    rows = [f"{o.officer_id},{o.name},{o.role},{o.pin}" for o in world.officers]
    (tmp / "officers.csv").write_text("id,name,role,pin\n" + "\n".join(rows) + "\n")
    (tmp / "policy.toml").write_text("print_on_site = true\nfinger_retries = 2\n")


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    inputs(tmp_path)
    authority = Authority.init(tmp_path / "authority", name="Dukcapil Blitar")
    with contextlib.ExitStack() as stack:
        sim = stack.enter_context(
            open_sim_kit(tmp_path / "kit", seed=SEED, clock_speed=0.0, demo=False)
        )
        kit_port = KitPort(tmp_path / "kit", sim.host)
        bench = Bench(tmp_path, authority, sim, kit_port, PtyPort(kit_port))
        stack.callback(lambda: bench.pty.close())
        yield bench


def flash_cli(bench: Bench, *extra: str) -> object:
    return CliRunner().invoke(
        app,
        [
            "flash",
            bench.pty.port,
            *bench.args,
            "--kit-id",
            "KIT-3505-07",
            "--region",
            "3505",
            "--officers",
            str(bench.tmp / "officers.csv"),
            "--worklist",
            str(bench.tmp / "worklist.csv"),
            "--policy",
            str(bench.tmp / "policy.toml"),
            "--cards",
            "20",
            *extra,
        ],
    )


def enrol(bench: Bench, people: int = PEOPLE) -> list[object]:
    sim = bench.sim
    assert sim.host.kit is not None, "the flashed kit runs"
    return run_session(
        sim.kit,
        sim.world,
        sim.bystanders,
        people=people,
        report=lambda _: None,
        note=lambda _: None,
    )


def test_flash_enrol_collect_report_through_the_cli(bench: Bench) -> None:
    flashed = flash_cli(bench)
    assert flashed.exit_code == EXIT_OK, flashed.output
    assert "flashed kit KIT-3505-07" in flashed.output
    store = bench.host.store
    assert store is not None and store.kit_id == "KIT-3505-07" and not store.profile.demo
    assert store.policy.print_on_site and store.policy.finger_retries == 2
    assert len(store.worklist) == 60 and set(store.officers) == {"PTG-001", "SPV-001"}
    assert store.ledger.stock() == 20

    outcomes = enrol(bench)
    db = bench.tmp / "collector.db"
    collected = CliRunner().invoke(app, ["collect", bench.pty.port, *bench.args, "--db", str(db)])
    assert collected.exit_code == EXIT_OK, collected.output
    assert f"{PEOPLE} new record(s)" in collected.output
    assert bench.host.store.status().uncollected == 0, "the receipt reached the kit"

    again = CliRunner().invoke(app, ["collect", bench.pty.port, *bench.args, "--db", str(db)])
    assert again.exit_code == EXIT_OK and "0 new record(s)" in again.output

    verified = CliRunner().invoke(app, ["verify", str(db), *bench.args])
    assert verified.exit_code == EXIT_OK, verified.output
    assert f"all {PEOPLE} record(s) of 1 kit(s) verify" in verified.output

    with CollectorDB(db) as collector:
        rows = {
            row.name: row
            for row in build_report(collector, load_worklist(bench.tmp / "worklist.csv"))
        }
    overall, kit = rows["(overall)"], rows["KIT-3505-07"]
    walk_ins = sum(o.name.startswith("(walk-in)") for o in outcomes)
    cards = sum(o.printed == "card" for o in outcomes)
    hurt = sum(o.exceptions != "-" for o in outcomes)
    assert (kit.recorded, kit.walk_ins, kit.printed, kit.exceptions) == (
        PEOPLE,
        walk_ins,
        cards,
        hurt,
    )
    assert overall.on_worklist == 60 and overall.not_recorded == 60 - (PEOPLE - walk_ins)
    assert overall.share_text == f"{100 * (PEOPLE - walk_ins) / 60:.1f}% sudah merekam"

    report = CliRunner().invoke(app, ["report", "--db", str(db), "--format", "csv"])
    assert report.exit_code == EXIT_OK and f"kit,KIT-3505-07,,{PEOPLE}," in report.output

    exported = CliRunner().invoke(app, ["export", "--db", str(db), "--out", str(bench.tmp / "out")])
    assert exported.exit_code == EXIT_OK, exported.output
    folders = [f for f in (bench.tmp / "out").iterdir() if f.is_dir()]
    assert len(list(folders[0].glob("*.cose"))) == PEOPLE
    check = CliRunner().invoke(app, ["verify", str(folders[0]), *bench.args])
    assert check.exit_code == EXIT_OK, check.output


def test_a_cut_cable_mid_collect_then_a_second_collect_completes_once(bench: Bench) -> None:
    assert flash_cli(bench).exit_code == EXIT_OK
    enrol(bench, 5)
    seen: list[int] = []

    def cut_after_two(state: collecting.Progress) -> None:
        seen.append(state.done)
        if state.done == 2:
            bench.pty.close()  # the cable is pulled

    with CollectorDB(bench.tmp / "c.db") as db:
        with FramedPort(port=bench.pty.port) as link, pytest.raises(LinkClosed):
            collecting.collect(link, bench.authority, db, progress=cut_after_two)
        assert db.have(db.chains()[0]) == 2, "what arrived before the cut is kept"
        assert bench.host.store.status().uncollected == 5, "no receipt: nothing freed"
        bench.replug()
        with FramedPort(port=bench.pty.port) as link:
            done = collecting.collect(link, bench.authority, db)
        assert (done.new, done.held, done.head_seq) == (3, 5, 5)
        assert [r.seq for r in db.collected()] == [1, 2, 3, 4, 5]
        assert db.verify(bench.authority.public)[0].ok
    assert bench.host.store.status().uncollected == 0


def test_reflash_with_uncollected_records_is_refused_and_changes_nothing(bench: Bench) -> None:
    assert flash_cli(bench).exit_code == EXIT_OK
    enrol(bench, 2)
    key_before = (bench.tmp / "kit" / "kit" / "kit.key").read_bytes()

    refused = flash_cli(bench)
    assert refused.exit_code == EXIT_PROBLEMS
    assert "2 record(s) no collector has receipted" in refused.output
    # a tool that skips its own check still meets the kit's refusal
    with FramedPort(port=bench.pty.port) as link:
        client = p.KitClient(link, bench.authority)
        client.hello()
        with pytest.raises(p.Refused) as refusal:
            client.keygen()
    assert refusal.value.code == p.UNCOLLECTED
    assert (bench.tmp / "kit" / "kit" / "kit.key").read_bytes() == key_before
    assert bench.host.store.last_seq == 2

    with FramedPort(port=bench.pty.port) as link, CollectorDB(bench.tmp / "c.db") as db:
        collecting.collect(link, bench.authority, db)
    again = flash_cli(bench)
    assert again.exit_code == EXIT_OK, again.output
    assert bench.host.store.last_seq == 0, "a new chain starts"
    retired = list((bench.tmp / "kit" / "retired").iterdir())
    assert len(list((retired[0] / "records").glob("*.cose"))) == 2, "old records kept aside"


def test_status_settime_and_selftest_over_the_port(bench: Bench) -> None:
    assert flash_cli(bench).exit_code == EXIT_OK
    status = CliRunner().invoke(app, ["status", bench.pty.port, *bench.args])
    assert status.exit_code == EXIT_OK and "KIT-3505-07" in status.output
    settime = CliRunner().invoke(app, ["settime", bench.pty.port, *bench.args])
    assert settime.exit_code == EXIT_OK and "kit clock set to" in settime.output
    selftest = CliRunner().invoke(app, ["selftest", bench.pty.port, *bench.args])
    assert selftest.exit_code == EXIT_OK, selftest.output
    assert "fingerprint" in selftest.output


def test_another_authority_cannot_collect(bench: Bench, tmp_path: Path) -> None:
    assert flash_cli(bench).exit_code == EXIT_OK
    Authority.init(tmp_path / "stranger", name="stranger")
    result = CliRunner().invoke(
        app,
        [
            "collect",
            bench.pty.port,
            "--authority",
            str(tmp_path / "stranger"),
            "--db",
            str(tmp_path / "s.db"),
        ],
    )
    assert result.exit_code == EXIT_PROBLEMS
    assert bench.kit_port.handled[-1][0] == "hello", "the stranger got no further than hello"
