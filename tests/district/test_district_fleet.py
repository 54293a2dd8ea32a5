"""The district's fleet table: each kit's last status, carried signed from the kit's port to
the district store, and a flag for each way a kit can need a technician.

Six simulated kits are flashed and collected over their ptys by the project's own code
paths onto one laptop, which syncs into a store on the session's PostgreSQL.  Each kit's
software is what a kit in slots reports (`firmware.update.Updates.software`, given here
as its facts), its clock is set over the port, and the laptop's clock at the collection
is chosen: so each flag has one kit that earns it, and the others show it is earned.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from firmware.port import KitPort
from hw_sim.provisioning_port import PtyPort
from kitlink import messages as m
from kitlink.framing import FramedPort
from kitlink.release import Version
from provisioning import collect as collecting
from provisioning import collection_log, signed_statements
from provisioning.cli import EXIT_OK, EXIT_PROBLEMS, app
from provisioning.collector import CollectorDB
from provisioning.collector_audit import audit_database
from provisioning.district import sync_log
from provisioning.district.figures import DRIFT_SECONDS, STALE_DAYS, FleetFlag
from provisioning.district.server import LocalCluster
from provisioning.district.store import DistrictStore
from provisioning.district.sync import sync
from provisioning.flash import flash
from simulator.kit import open_sim_kit
from simulator.options import Provisioning, SimOptions
from storage.blanks import SerialRange
from storage.codec import dumps
from storage.cose import sign1
from storage.keys import Authority
from storage.model import Policy
from storage.provision import KitSetup
from storage.revocation import revoke
from tests.district.kits import OFFICER, resident

pytestmark = pytest.mark.timeout(900)

#: The laptop's time at the fleet's collections (the kits' clocks are set from it).
NOW = datetime.now(UTC).replace(microsecond=0)


def run(*args: object):
    return CliRunner().invoke(app, [str(arg) for arg in args])


@dataclass(frozen=True)
class Slotted:
    """The software a kit in slots reports: what `firmware.update.Updates.software` gives."""

    facts: m.SoftwareStatus

    def software(self) -> m.SoftwareStatus:
        return self.facts


def runs(version: str, minimum: Version | None = None) -> Slotted:
    return Slotted(m.SoftwareStatus(version, m.Slot.A, False, "1.0.0", minimum, None))


@dataclass(frozen=True)
class FleetKit:
    """One kit of the fleet: its software, its clock's offset, when it was collected."""

    kit_id: str
    software: Slotted
    drift: timedelta = timedelta(0)
    collected: datetime = NOW


FLEET = (
    # runs the newest release, holds the authority's minimum, its clock under a minute off
    FleetKit("KIT-3505-11", runs("1.5.0", Version(1, 4, 0)), drift=timedelta(seconds=30)),
    FleetKit("KIT-3505-12", runs("1.4.0")),  # behind the newest, not below the minimum
    FleetKit("KIT-3505-13", runs("1.3.0")),  # behind, and below the minimum
    FleetKit("KIT-3505-14", runs("1.5.0"), collected=NOW - timedelta(days=STALE_DAYS + 16)),
    FleetKit("KIT-3505-15", runs("1.5.0"), drift=timedelta(minutes=5)),
    FleetKit("KIT-3505-16", runs("1.5.0")),  # revoked after the sync
)
EXPECTED = {
    "KIT-3505-11": [],
    "KIT-3505-12": [FleetFlag.BEHIND],
    "KIT-3505-13": [FleetFlag.BEHIND, FleetFlag.BELOW_MINIMUM],
    "KIT-3505-14": [FleetFlag.STALE],
    "KIT-3505-15": [FleetFlag.DRIFTED],
    "KIT-3505-16": [FleetFlag.REVOKED],
}
REVOKED = "KIT-3505-16"


@dataclass
class Fleet:
    authority: Authority
    folder: Path
    laptop: Path
    #: Each kit's battery as its fuel gauge read at the collection: (percent, mV).
    batteries: dict[str, tuple[int, int]]


def _collect(folder: Path, authority: Authority, laptop: Path, kit: FleetKit) -> tuple[int, int]:
    """Flash ``kit`` over its pty, set its clock, collect it; its fuel gauge's reading."""
    options = SimOptions(
        folder / kit.kit_id, seed=1, clock_speed=0.0, provisioning=Provisioning.UNFLASHED
    )
    with open_sim_kit(options) as sim:
        port = KitPort(folder / kit.kit_id, sim.host, updates=kit.software)  # type: ignore[arg-type]
        with PtyPort(port) as pty, FramedPort(port=pty.port) as link:
            blanks = (SerialRange(kit.kit_id, 1, 9),)  # nine blank cards, none printed
            setup = KitSetup(kit.kit_id, "3505", (OFFICER,), (resident(1),), Policy(), cards=blanks)
            flash(link, authority, setup)
            collecting.set_time(link, authority, kit.collected + kit.drift)
            with CollectorDB(laptop) as db:
                collecting.collect(link, authority, db, now=lambda: kit.collected)
        reading = sim.host.devices.battery.read()
    return round(reading.percent), round(reading.voltage * 1000)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    folder = tmp_path_factory.mktemp("fleet")
    authority = Authority.init(folder / "authority", name="Dukcapil Blitar")
    laptop = folder / "laptop.db"
    batteries = {kit.kit_id: _collect(folder, authority, laptop, kit) for kit in FLEET}
    return Fleet(authority, folder, laptop, batteries)


def _sync(url: str, fleet: Fleet) -> None:
    with DistrictStore.open(url, create=True) as store, CollectorDB(fleet.laptop) as laptop:
        assert sync(
            laptop, store, fleet.authority, references=fleet.authority.references, source="a"
        ).ok


@pytest.fixture(scope="module")
def synced(cluster: LocalCluster, fleet: Fleet) -> str:
    """The fleet synced, then one kit revoked (a revoked kit is not collected any more)."""
    url = cluster.create_database(f"f{uuid.uuid4().hex[:16]}")
    _sync(url, fleet)
    revoke(
        fleet.folder / "authority",
        fleet.authority,
        kit_id=REVOKED,
        since=NOW,
        reason="stolen",
        now=NOW,
    )
    return url


def _report(url: str, fleet: Fleet, *args: object, command: str = "district report") -> dict:
    result = run(
        *command.split(), url, "--authority", fleet.folder / "authority", "--format",
        "json", *args,
    )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    return json.loads(result.stdout)


def _kits(report: dict) -> dict[str, dict]:
    return {kit["kit_id"]: kit for kit in report["fleet"]}


def _flags(kit: dict) -> list[FleetFlag]:
    return [flag for flag in FleetFlag if kit[flag.value]]


def test_each_kit_is_flagged_for_what_it_did_and_for_nothing_else(
    synced: str, fleet: Fleet
) -> None:
    report = _report(synced, fleet)
    measures = report["fleet_measures"]
    assert measures["newest_version"] == "1.5.0" and measures["minimum_version"] == "1.4.0"
    assert measures["stale_days"] == STALE_DAYS and measures["drift_seconds"] == DRIFT_SECONDS
    kits = _kits(report)
    assert {kit_id: _flags(kit) for kit_id, kit in kits.items()} == EXPECTED
    assert [kit_id for kit_id, kit in kits.items() if kit["flagged"]] == [
        kit_id for kit_id, flags in EXPECTED.items() if flags
    ]


def test_the_fleet_shows_what_each_kit_signed_at_its_collection(synced: str, fleet: Fleet) -> None:
    kits = _kits(_report(synced, fleet))
    for kit in FLEET:
        row = kits[kit.kit_id]
        assert row["version"] == kit.software.facts.version
        assert row["pico_version"] == "1.0.0"
        assert row["minimum"] == (kit.software.facts.minimum and str(kit.software.facts.minimum))
        assert row["collected_at"] == kit.collected.isoformat()
        assert row["days"] == (datetime.now(UTC) - kit.collected).days
        assert row["drift"] == kit.drift.total_seconds()
        assert row["stock"] == 9  # flashed with 9 blank cards, none printed
        percent, millivolts = fleet.batteries[kit.kit_id]
        assert (row["battery_percent"], row["battery_millivolts"]) == (percent, millivolts)
        assert row[FleetFlag.REVOKED.value] is (kit.kit_id == REVOKED)


def test_a_kit_is_stale_only_past_the_days_asked(synced: str, fleet: Fleet) -> None:
    stale = "KIT-3505-14"
    days = (datetime.now(UTC) - dict((k.kit_id, k) for k in FLEET)[stale].collected).days
    assert _kits(_report(synced, fleet, "--stale-days", days - 1))[stale]["stale"] is True
    assert _kits(_report(synced, fleet, "--stale-days", days + 1))[stale]["stale"] is False
    # the tool's own `report --db` takes the same days
    as_tool = _report(synced, fleet, "--stale-days", days - 1, command="report --db")
    assert _kits(as_tool)[stale]["stale"] is True


def test_the_fleet_table_speaks_bahasa_indonesia_first_and_english_when_asked(
    synced: str, fleet: Fleet
) -> None:
    authority = fleet.folder / "authority"
    table = run("district", "report", synced, "--authority", authority, "--out",
                fleet.folder / "id.txt")  # fmt: skip
    assert table.exit_code == EXIT_OK, table.output
    shown = (fleet.folder / "id.txt").read_text()
    assert "Armada kit" in shown and "di bawah minimum" in shown and "dicabut" in shown
    assert "KIT-3505-13" in shown
    english = run("district", "report", synced, "--authority", authority, "--format", "html",
                  "--language", "en", "--out", fleet.folder / "en.html")  # fmt: skip
    assert english.exit_code == EXIT_OK, english.output
    page = (fleet.folder / "en.html").read_text()
    assert "Kit fleet" in page and "below minimum" in page and "clock off" in page
    assert 'id="section-fleet"' in page and "Armada kit" not in page


def test_an_edited_fleet_column_is_found_by_the_audit(cluster: LocalCluster, fleet: Fleet) -> None:
    """A version edited up (a kit made to look updated) is named, and nothing is reported."""
    url = cluster.create_database(f"e{uuid.uuid4().hex[:16]}")
    _sync(url, fleet)
    with DistrictStore.open(url) as store, store.engine.begin() as c:
        c.execute(text("UPDATE statuses SET version = '1.5.0' WHERE version = '1.3.0'"))
        c.execute(text("UPDATE statuses SET drift = 0 WHERE drift = 300"))
    authority = fleet.folder / "authority"
    checked = run("verify", "--db", url, "--authority", authority)
    assert checked.exit_code == EXIT_PROBLEMS, checked.output
    assert "statuses row (chain KIT-3505-13-" in checked.output
    assert "column version holds '1.5.0'" in checked.output
    assert "column drift holds 0" in checked.output and "300" in checked.output
    reported = run("district", "report", url, "--authority", authority)
    assert reported.exit_code == EXIT_PROBLEMS and "nothing reported" in reported.stderr


def test_a_fleet_row_removed_is_found_by_the_audit(cluster: LocalCluster, fleet: Fleet) -> None:
    """A stale kit's status deleted (so the kit would drop out of the table) is missed."""
    url = cluster.create_database(f"d{uuid.uuid4().hex[:16]}")
    _sync(url, fleet)
    with DistrictStore.open(url) as store, store.engine.begin() as c:
        c.execute(text("DELETE FROM statuses WHERE collected_at < now() - interval '10 days'"))
    checked = run("verify", "--db", url, "--authority", fleet.folder / "authority")
    assert checked.exit_code == EXIT_PROBLEMS, checked.output
    assert "statuses row (chain KIT-3505-14-" in checked.output
    assert "MissingRow" in checked.output and "kept this kit status" in checked.output


def test_an_edited_status_on_the_laptop_is_found_before_any_sync(
    fleet: Fleet, tmp_path: Path
) -> None:
    """The collector's own audit: the status kept must be the one its statement signed."""
    copy = tmp_path / "laptop.db"
    with sqlite3.connect(fleet.laptop) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE collections SET status = statement WHERE id = 2")
    with CollectorDB(copy) as db:
        problems = audit_database(db, fleet.authority.public).problems
    assert [where for where, _ in problems] == ["collections row 2"]
    assert "column status holds" in str(problems[0][1])
    assert "the signed statement names" in str(problems[0][1])


def test_a_collector_database_of_schema_2_is_upgraded_in_place(
    fleet: Fleet, tmp_path: Path
) -> None:
    """Its collections keep no status; it opens, and verifies, as before."""
    copy = tmp_path / "old.db"
    with sqlite3.connect(copy) as db:
        db.executescript(
            "CREATE TABLE chains (cert_digest BLOB PRIMARY KEY, kit_id TEXT NOT NULL, "
            "region TEXT NOT NULL, cert BLOB NOT NULL, first_seen TEXT);"
            "CREATE TABLE records (chain BLOB NOT NULL, seq INTEGER NOT NULL, digest BLOB NOT "
            "NULL, data BLOB NOT NULL, sealed_at TEXT NOT NULL, officer TEXT NOT NULL, "
            "worklist_ref TEXT, walk_in INTEGER NOT NULL, excepted INTEGER NOT NULL, voids "
            "INTEGER, print_card INTEGER NOT NULL, collected_at TEXT NOT NULL, "
            "PRIMARY KEY (chain, seq));"
            "CREATE TABLE collections (id INTEGER PRIMARY KEY, chain BLOB NOT NULL, at TEXT NOT "
            "NULL, head_seq INTEGER NOT NULL, head BLOB, signed BLOB NOT NULL, receipt BLOB, "
            "statement BLOB NOT NULL);"
            "PRAGMA user_version = 2;"
        )
    with CollectorDB(copy) as db:
        assert db.collection_rows() == []
        assert audit_database(db, fleet.authority.public).ok
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (3,)


def test_statements_signed_before_statuses_were_kept_still_read(fleet: Fleet) -> None:
    """A collector's statement of schema 2 names no status; a sync statement of a store of
    schema 3 names no statuses: both read, as what they are."""
    authority = fleet.authority
    collection = {
        "n": 1, "prev": bytes(32), "chain": bytes(32), "kit": "KIT-3505-11",
        "head": [0, None], "ledger": bytes(32), "at": 1_750_000_000,
    }  # fmt: skip
    signed = sign1(
        dumps(collection), authority.signing_key, kid=authority.kid,
        content_type=collection_log.STATEMENT_TYPE,
    )  # fmt: skip
    assert collection_log.read_statement(signed, authority.public).status is None
    synced = {
        "n": 1, "prev": bytes(32), "at": 1_750_000_000, "source": "a", "heads": [],
        "ledgers": [], "worklists": [], "forks": [],
    }  # fmt: skip
    signed = signed_statements.sign(authority, sync_log.SHAPE, synced)
    assert sync_log.read_statement(signed, authority.public).statuses == ()
    with pytest.raises(collection_log.BadCollectionStatement):
        collection["status"] = b"short"
        collection_log.read_statement(
            sign1(dumps(collection), authority.signing_key, kid=authority.kid,
                  content_type=collection_log.STATEMENT_TYPE),
            authority.public,
        )  # fmt: skip
