"""A simulated kit served on a pty, an authority and the tool's input files, for the
provisioning tests that go through the tool's real code paths (flash, collect, attacks).

The kit's responder runs on the PtyLink's thread at one end; the tool opens the other end
with pyserial, as it opens /dev/ttyACM0.  Nothing on either side is mocked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from firmware.host import KitHost
from firmware.port import KitPort
from hw_sim.provisioning_port import PtyPort
from kitlink.protocol import Op
from provisioning.cli import app
from simulator.demo import Outcome, run_session
from simulator.kit import SimKit, demo_world, open_sim_kit, resident_of
from simulator.options import Provisioning, SimOptions
from storage.keys import Authority
from storage.kitkey import KeySettings
from storage.model import Resident
from storage.nik import make_nik
from storage.worklist import write_worklist
from vocabulary.people import Sex

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


@dataclass(frozen=True)
class RawCall:
    """A signed request whose arguments are any map, as an attacker (or a tool of another
    release) writes them; the tool's client sends it like any `kitlink.messages` call, and
    reads the result as the map it is."""

    op: Op
    args: Mapping[str, Any]

    def to_map(self) -> dict[str, Any]:
        return dict(self.args)

    def read_result(self, data: Mapping[str, Any]) -> Mapping[str, Any]:
        return data


#: Birth days used per NIK serial: 7,000 days from 1950 keep every resident an adult.
DAYS = 7_000


def generated_residents(count: int) -> list[Resident]:
    """``count`` residents of the demo village, each with a NIK of its own that checks out."""
    base = resident_of(demo_world(1).residents[0])
    region6 = base.nik[:6]
    people = []
    for number in range(count):
        born = date(1950, 1, 1) + timedelta(days=number % DAYS)
        sex = Sex.FEMALE if number % 2 else Sex.MALE
        nik = make_nik(region6, born, sex, number // DAYS + 1)
        people.append(
            dataclasses.replace(
                base,
                nik=nik,
                name=f"WARGA {number:05d}",
                sex=sex,
                birth_date=born,
                worklist_ref=nik,
            )
        )
    return people


def inputs(tmp: Path) -> None:
    world = demo_world(SEED)
    write_worklist([resident_of(person) for person in world.residents], tmp / "worklist.csv")
    rows = [f"{o.officer_id},{o.name},{o.role.value},{o.pin}" for o in world.officers]
    (tmp / "officers.csv").write_text("id,name,role,pin\n" + "\n".join(rows) + "\n")
    (tmp / "policy.toml").write_text("print_on_site = true\nfinger_retries = 2\n")


@contextmanager
def open_bench(tmp_path: Path, *, keys: KeySettings | None = None) -> Iterator[Bench]:
    """A flashable simulated kit on a pty in ``tmp_path``, closed on leaving; ``keys``: where
    its flash makes its keys (the file backend unless said)."""
    inputs(tmp_path)
    authority = Authority.init(tmp_path / "authority", name="Dukcapil Blitar")
    with open_sim_kit(
        SimOptions(
            tmp_path / "kit",
            seed=SEED,
            clock_speed=0.0,
            provisioning=Provisioning.UNFLASHED,
            keys=keys or KeySettings(),
        )
    ) as sim:
        kit_port = KitPort(tmp_path / "kit", sim.host)
        bench = Bench(tmp_path, authority, sim, kit_port, PtyPort(kit_port))
        try:
            yield bench
        finally:
            bench.pty.close()


def flash_cli(bench: Bench, *extra: str) -> Result:
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
            "B3505-25A:1-20",
            *extra,
        ],
    )


def enrol(bench: Bench, people: int = PEOPLE) -> list[Outcome]:
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
