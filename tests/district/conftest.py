"""A real PostgreSQL server for the session, a fresh database per test, and a field day.

The server is Debian's, started by `provisioning.district.server` as the unprivileged
``postgres`` user (CI runs as root) on a unix socket in a temporary folder.  The field
day is three simulated kits flashed, enrolled on and collected over their ptys by the
project's own code paths, onto two laptops: laptop A collects kits 1 and 2, laptop B
kits 2 and 3, so kit 2's records arrive twice.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from firmware.port import KitPort
from hw_sim.provisioning_port import PtyPort
from kitlink.framing import FramedPort
from provisioning import collect as collecting
from provisioning.collector import CollectorDB
from provisioning.district.server import LocalCluster
from provisioning.district.store import DistrictStore
from provisioning.district.sync import sync
from provisioning.flash import flash, load_officers
from simulator.demo import Outcome, run_session
from simulator.kit import demo_world, open_sim_kit, resident_of
from simulator.options import Provisioning, SimOptions
from storage.blanks import SerialRange
from storage.keys import Authority
from storage.model import Policy, Resident
from storage.provision import KitSetup
from storage.reference import ReferenceKey
from storage.worklist import load_worklist, write_worklist


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    folder = Path(tempfile.mkdtemp(prefix="jemput-pg-"))
    server = LocalCluster(folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def store_url(cluster: LocalCluster) -> str:
    """A new, empty database on the session's server."""
    return cluster.create_database(f"t{uuid.uuid4().hex[:16]}")


@contextmanager
def copied_database(cluster: LocalCluster, template: str) -> Iterator[str]:
    """A copy of database ``template`` (which no session may hold open): its URL.

    PostgreSQL copies a database page by page, far quicker than syncing it again.  The
    copy is dropped afterwards: its pages then never reach the disk, which would cost the
    server's shutdown a minute after a few dozen copies.
    """
    name = f"c{uuid.uuid4().hex[:16]}"
    with psycopg.connect(cluster.url_of("postgres"), autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        try:
            yield cluster.url_of(name)
        finally:
            c.execute(f"DROP DATABASE {name} WITH (FORCE)")


@dataclass
class FieldKit:
    """One kit of the day: what it was given and what its officer did."""

    kit_id: str
    cards: SerialRange
    worklist: tuple[Resident, ...]
    outcomes: list[Outcome] = field(default_factory=list)
    ledger: dict[str, int] = field(default_factory=dict)


@dataclass
class FieldDay:
    """The authority, the kits, and the two laptops' collector databases."""

    folder: Path
    authority: Authority
    kits: list[FieldKit]
    laptops: dict[str, Path]
    worklists: list[Path]


#: The district's batch of blank cards the day's kits take their serial ranges from.
BATCH = "B3505-25A"
#: (kit id, the serial range of its blank cards, residents enrolled)
KITS = (
    ("KIT-3505-01", SerialRange(BATCH, 1, 20), 6),
    ("KIT-3505-02", SerialRange(BATCH, 21, 30), 5),
    ("KIT-3505-03", SerialRange(BATCH, 31, 33), 4),
)
#: laptop -> the kits (by index) it collects
LAPTOPS = {"laptop-a": (0, 1), "laptop-b": (1, 2)}


def _run_kit(
    folder: Path, authority: Authority, index: int, laptops: dict[str, Path]
) -> tuple[FieldKit, Path]:
    kit_id, cards, people = KITS[index]
    world = demo_world(index + 1)
    residents = tuple(resident_of(person) for person in world.residents)
    worklist = folder / f"worklist-{index + 1}.csv"
    write_worklist(residents, worklist)
    officers = folder / f"officers-{index + 1}.csv"
    rows = [f"{o.officer_id},{o.name},{o.role.value},{o.pin}" for o in world.officers]
    officers.write_text("id,name,role,pin\n" + "\n".join(rows) + "\n")
    with open_sim_kit(
        SimOptions(
            folder / kit_id, seed=index + 1, clock_speed=0.0, provisioning=Provisioning.UNFLASHED
        )
    ) as sim:
        port = KitPort(folder / kit_id, sim.host)
        with PtyPort(port) as pty:
            with FramedPort(port=pty.port) as link:
                setup = KitSetup(
                    kit_id,
                    "3505",
                    load_officers(officers),
                    residents,
                    Policy(print_on_site=True),
                    cards=(cards,),
                )
                flash(link, authority, setup)
            done = FieldKit(kit_id, cards, residents)
            done.outcomes = run_session(
                sim.kit, sim.world, sim.bystanders, people=people, report=lambda _: None,
                note=lambda _: None,
            )  # fmt: skip
            for laptop, kits in LAPTOPS.items():
                if index in kits:
                    with FramedPort(port=pty.port) as link, CollectorDB(laptops[laptop]) as db:
                        collecting.collect(link, authority, db)
            store = sim.host.store
            assert store is not None
            done.ledger = dict(store.ledger.counts())
    return done, worklist


@pytest.fixture(scope="session")
def field_day(tmp_path_factory: pytest.TempPathFactory) -> FieldDay:
    folder = tmp_path_factory.mktemp("field-day")
    authority = Authority.init(folder / "authority", name="Dukcapil Blitar")
    laptops = {name: folder / f"{name}.db" for name in LAPTOPS}
    kits, worklists = [], []
    for index in range(len(KITS)):
        kit, worklist = _run_kit(folder, authority, index, laptops)
        kits.append(kit)
        worklists.append(worklist)
    return FieldDay(folder, authority, kits, laptops, worklists)


def sync_day(url: str, day: FieldDay, references: ReferenceKey | None = None) -> None:
    """Both laptops of ``day`` synced into a new store at ``url`` with every worklist."""
    lists = [load_worklist(path) for path in day.worklists]
    with DistrictStore.open(url, create=True) as store:
        for name, path in day.laptops.items():
            with CollectorDB(path) as laptop:
                assert sync(
                    laptop,
                    store,
                    day.authority,
                    references=references or day.authority.references,
                    source=name,
                    worklists=lists,
                ).ok
