"""Sync into a real PostgreSQL server: idempotent, fork-refusing, resumable, concurrent.

Every test gets an empty database on the session's server (conftest.py); the laptops'
collector databases come from the field day (three kits, two laptops) or are filled by
`CollectorDB` from kits sealed by `KitStore`.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from provisioning.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USER_ERROR, app
from provisioning.collector import CollectorDB
from provisioning.district.errors import LaptopRefused
from provisioning.district.store import DistrictStore
from provisioning.district.sync import sync
from storage import revocation
from storage.files import record_name
from storage.keys import Authority
from storage.worklist import load_worklist
from tests.district.conftest import FieldDay
from tests.district.kits import NOW, collector_of, fork_kit, make_kit, resident, seal

TOTAL = 15  # records sealed on the field day's three kits (6 + 5 + 4)

#: The field day (three kits flashed, enrolled on, collected) is built inside the first
#: test's setup; on a loaded machine that alone can take minutes.
pytestmark = pytest.mark.timeout(900)


def run(*args: object):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def push(store_url: str, db: Path, authority: Authority, source: str, **options: object):
    with DistrictStore.open(store_url) as store, CollectorDB(db) as laptop:
        options.setdefault("references", authority.references)
        return sync(laptop, store, authority, source=source, **options)


def counts(store_url: str, table: str) -> int:
    with DistrictStore.open(store_url) as store, store.engine.connect() as c:
        return c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.fixture
def district(store_url: str) -> str:
    assert run("district", "init", store_url).exit_code == EXIT_OK
    return store_url


def test_sync_from_two_laptops_stores_the_shared_kit_once(district: str, field_day: FieldDay):
    authority = field_day.folder / "authority"
    a = run("sync", "--db", field_day.laptops["laptop-a"], "--to", district,
            "--authority", authority, "--source", "laptop-a")  # fmt: skip
    assert a.exit_code == EXIT_OK, a.output
    assert "kit KIT-3505-02: 5 new, 0 already held" in a.stdout
    b = run("sync", "--db", field_day.laptops["laptop-b"], "--to", district,
            "--authority", authority, "--source", "laptop-b")  # fmt: skip
    assert b.exit_code == EXIT_OK, b.output
    assert "kit KIT-3505-02: 0 new, 5 already held" in b.stdout
    assert "kit KIT-3505-03: 4 new" in b.stdout
    again = run("sync", "--db", field_day.laptops["laptop-a"], "--to", district,
                "--authority", authority)  # fmt: skip
    assert again.exit_code == EXIT_OK and "synced 0 new record(s)" in again.stdout
    assert counts(district, "records") == TOTAL
    assert counts(district, "records_p35") == TOTAL, "rows live in Jawa Timur's partition"
    assert counts(district, "records_other") == 0
    assert counts(district, "ledgers") == 4, "one per collection (kit 2 twice), none added again"
    checked = run("verify", "--db", district, "--authority", authority)
    assert checked.exit_code == EXIT_OK, checked.output
    assert f"all {TOTAL} record(s) of 3 kit(s) verify" in checked.stdout


def test_eight_laptops_at_once_lose_nothing_and_duplicate_nothing(
    district: str, field_day: FieldDay, tmp_path: Path
) -> None:
    laptops = []
    for i in range(8):  # four copies of each laptop: every record offered four times at once
        name = "laptop-a" if i % 2 == 0 else "laptop-b"
        laptops.append(shutil.copy(field_day.laptops[name], tmp_path / f"{name}-{i}.db"))
    start = threading.Barrier(len(laptops))
    results: list[object] = []
    failures: list[BaseException] = []

    def one(path: Path) -> None:
        try:
            start.wait(timeout=60)
            results.append(push(district, path, field_day.authority, path.stem, batch=1))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=one, args=(path,)) for path in laptops]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert len(results) == 8 and all(r.ok for r in results)
    assert sum(r.new for r in results) == TOTAL, "each record was new to exactly one sync"
    assert counts(district, "records") == TOTAL
    assert counts(district, "forks") == 0
    assert counts(district, "ledgers") == 4
    assert sorted(r.statement for r in results) == list(range(1, 9)), "one statement each"
    checked = run("verify", "--db", district, "--authority", field_day.folder / "authority")
    assert checked.exit_code == EXIT_OK, checked.output
    assert "sync log: 8 statement(s)" in checked.stdout, "appended one at a time, linked"


def test_an_interrupted_sync_resumes_where_it_stopped(district: str, field_day: FieldDay):
    laptop = field_day.laptops["laptop-a"]

    def pulled_cable(kit_id: str, pushed: int) -> None:
        if kit_id == "KIT-3505-01" and pushed == 4:
            raise ConnectionError("the network went away")

    with pytest.raises(ConnectionError):
        push(district, laptop, field_day.authority, "laptop-a", batch=2, pushed=pulled_cable)
    assert counts(district, "records") == 4, "the committed batches stay"
    authority = field_day.folder / "authority"
    cut = run("verify", "--db", district, "--authority", authority)
    assert cut.exit_code == EXIT_OK, "what was committed verifies"
    assert "no sync statement names it yet: a sync was cut before its statement" in cut.stdout
    resumed = push(district, laptop, field_day.authority, "laptop-a", batch=2)
    kit1 = next(chain for chain in resumed.chains if chain.kit_id == "KIT-3505-01")
    assert (kit1.new, kit1.already) == (2, 4)
    assert resumed.new == 11 - 4 and resumed.ok
    assert counts(district, "records") == 11
    checked = run("verify", "--db", district, "--authority", authority)
    assert checked.exit_code == EXIT_OK and "no sync statement names" not in checked.stdout


@pytest.fixture
def forked(tmp_path: Path) -> tuple[Authority, Path, Path]:
    """Two laptops holding one kit whose records 3 differ: the kit's folder was cloned."""
    authority = Authority.init(tmp_path / "authority", name="Dukcapil Blitar")
    people = [resident(n) for n in range(1, 6)]
    kit = make_kit(tmp_path / "kit", authority, "KIT-3505-09", tuple(people))
    seal(kit, people[:2])
    clone = fork_kit(kit, tmp_path / "clone")
    seal(kit, [people[2]])
    seal(clone, [people[3], people[4]])
    return (
        authority,
        collector_of(kit, authority, tmp_path / "laptop-a.db"),
        collector_of(clone, authority, tmp_path / "laptop-b.db"),
    )


def test_a_fork_is_refused_and_both_sources_named(
    district: str, forked: tuple[Authority, Path, Path], tmp_path: Path
) -> None:
    authority, a, b = forked
    assert push(district, a, authority, "laptop-a").ok
    result = run("sync", "--db", b, "--to", district, "--authority", tmp_path / "authority",
                 "--source", "laptop-b")  # fmt: skip
    assert result.exit_code == EXIT_PROBLEMS, result.output
    assert "FORK: kit KIT-3505-09 record 3 forked: laptop-a holds" in result.stdout
    assert "laptop-b offers" in result.stdout
    assert counts(district, "records") == 3, "1-2 shared, 3 from laptop-a, nothing of b's branch"
    assert counts(district, "forks") == 1
    again = push(district, b, authority, "laptop-b")
    assert [f.seq for f in again.forks] == [3] and again.new == 0, "refused every time"
    checked = run("verify", "--db", district, "--authority", tmp_path / "authority")
    assert checked.exit_code == EXIT_PROBLEMS
    assert "FORK: kit KIT-3505-09 record 3 forked: laptop-a holds" in checked.stdout
    assert "0 problem(s) and 1 fork(s)" in checked.stdout, "the kit's evidence, not an edit"
    reported = run("report", "--db", district, "--authority", tmp_path / "authority",
                   "--format", "json")  # fmt: skip
    assert reported.exit_code == EXIT_OK, "a fork is counted, not a reason to refuse"
    assert json.loads(reported.stdout)["forks"] == 1


def test_a_fork_pushed_first_by_the_other_laptop_is_refused_the_other_way(
    district: str, forked: tuple[Authority, Path, Path]
) -> None:
    authority, a, b = forked
    assert push(district, b, authority, "laptop-b").new == 4
    result = push(district, a, authority, "laptop-a")
    (fork,) = result.forks
    assert (fork.seq, fork.held_source, fork.offered_source) == (3, "laptop-b", "laptop-a")
    assert counts(district, "records") == 4


def edited_copy(field_day: FieldDay, tmp_path: Path, name: str) -> tuple[Path, sqlite3.Connection]:
    """A copy of laptop A's database, open for editing as anyone with sqlite3 could."""
    laptop = Path(shutil.copy(field_day.laptops["laptop-a"], tmp_path / name))
    return laptop, sqlite3.connect(laptop)


def assert_nothing_synced(district: str) -> None:
    for table in ("chains", "records", "ledgers", "cards", "residents"):
        assert counts(district, table) == 0, f"a refused laptop left rows in {table}"


def test_a_tampered_laptop_is_refused_whole_naming_its_rows(
    district: str, field_day: FieldDay, tmp_path: Path
) -> None:
    laptop, db = edited_copy(field_day, tmp_path, "edited.db")
    chain = db.execute("SELECT cert_digest FROM chains WHERE kit_id = 'KIT-3505-01'").fetchone()[0]
    data = db.execute("SELECT data FROM records WHERE chain = ? AND seq = 4", (chain,)).fetchone()
    flipped = bytearray(data[0])
    flipped[-40] ^= 0x01
    db.execute("UPDATE records SET data = ? WHERE chain = ? AND seq = 4", (bytes(flipped), chain))
    (row_id, signed) = db.execute("SELECT id, signed FROM collections ORDER BY id DESC").fetchone()
    altered = bytearray(signed)
    altered[len(altered) // 2] ^= 0x01  # one bit inside the signed ledger
    db.execute("UPDATE collections SET signed = ? WHERE id = ?", (bytes(altered), row_id))
    db.commit()
    db.close()
    result = run(
        "sync", "--db", laptop, "--to", district, "--authority", field_day.folder / "authority",
        "--worklist", field_day.worklists[0],
    )  # fmt: skip
    assert result.exit_code == EXIT_PROBLEMS, result.output
    assert f"records row (chain KIT-3505-01-{chain.hex()[:8]}, seq 4)" in result.stderr
    assert f"collections row {row_id}: ColumnMismatch: column signed" in result.stderr
    assert "nothing of it is synced" in result.stderr and "Traceback" not in result.output
    assert_nothing_synced(district)


def test_a_laptop_changed_after_its_audit_stops_its_chain_at_the_change(
    district: str, field_day: FieldDay, tmp_path: Path
) -> None:
    """Sync verifies each record once, in the laptop's audit, and pushes only bytes that
    hash to what it verified: a record edited between the audit and the push (here while
    the worklist registers) is named, and its chain is taken up to the record before."""
    laptop, db = edited_copy(field_day, tmp_path, "changing.db")
    chain = db.execute("SELECT cert_digest FROM chains WHERE kit_id = 'KIT-3505-01'").fetchone()[0]

    def edit_record_4(digest: bytes, lines: int) -> None:
        if db.total_changes:
            return  # once: the registration reports each batch of lines
        (data,) = db.execute(
            "SELECT data FROM records WHERE chain = ? AND seq = 4", (chain,)
        ).fetchone()
        flipped = bytearray(data)
        flipped[-40] ^= 0x01
        db.execute(
            "UPDATE records SET data = ? WHERE chain = ? AND seq = 4", (bytes(flipped), chain)
        )
        db.commit()

    lists = [load_worklist(field_day.worklists[0])]
    result = push(
        district, laptop, field_day.authority, "a", worklists=lists, registering=edit_record_4
    )
    db.close()
    (kit1,) = [done for done in result.chains if done.kit_id == "KIT-3505-01"]
    assert kit1.new == 3 and kit1.head is not None and kit1.head.seq == 3
    changed = (
        f"KIT-3505-01-{chain.hex()[:8]}/{record_name(4)}: the laptop's database changed "
        "since its audit: sync it again"
    )
    assert kit1.problems[0] == changed, kit1.problems
    assert all("KIT-3505-01" in problem for problem in result.problems), "other kits as usual"
    checked = run("verify", "--db", district, "--authority", field_day.folder / "authority")
    assert checked.exit_code == EXIT_OK, checked.output


def test_a_receipt_moved_to_another_collection_refuses_the_laptop(
    district: str, field_day: FieldDay, tmp_path: Path
) -> None:
    laptop, db = edited_copy(field_day, tmp_path, "swapped.db")
    receipts = db.execute(
        "SELECT k.id, k.receipt FROM collections k "
        "JOIN chains c ON c.cert_digest = k.chain ORDER BY c.kit_id"
    ).fetchall()
    (id1, _), (_, receipt2) = receipts
    db.execute("UPDATE collections SET receipt = ? WHERE id = ?", (receipt2, id1))
    db.commit()
    db.close()
    with pytest.raises(LaptopRefused) as refused:
        push(district, laptop, field_day.authority, "swapped")
    assert [row.split(": ", 1)[1] for row in refused.value.rows] == [
        f"collections row {id1}: ColumnMismatch: column receipt: receipt is for kit "
        "'KIT-3505-02', not 'KIT-3505-01'"
    ]
    assert_nothing_synced(district)


def test_records_a_revoked_kit_sealed_after_its_revocation_are_named_not_taken(
    district: str, tmp_path: Path
) -> None:
    authority = Authority.init(tmp_path / "authority", name="Dukcapil Blitar")
    people = [resident(n) for n in range(1, 5)]
    stolen = make_kit(tmp_path / "stolen", authority, "KIT-3505-08", tuple(people))
    seal(stolen, people[:2], day=0)
    seal(stolen, people[2:], day=2)
    other = make_kit(tmp_path / "other", authority, "KIT-3505-09", tuple(people))
    seal(other, people, day=2)
    laptop = collector_of(stolen, authority, tmp_path / "laptop.db")
    collector_of(other, authority, laptop)
    revocation.revoke(
        tmp_path / "authority", authority, kit_id="KIT-3505-08", since=NOW + timedelta(days=1),
        reason="dicuri", now=NOW + timedelta(days=3),
    )  # fmt: skip
    result = run("sync", "--db", laptop, "--to", district, "--authority", tmp_path / "authority")
    assert result.exit_code == EXIT_PROBLEMS, result.output
    refused = [line for line in result.stdout.splitlines() if line.startswith("refused:")]
    assert len(refused) == 2 and all("KIT-3505-08-" in line for line in refused), refused
    for seq, line in zip((3, 4), refused, strict=True):
        assert f"{seq:08d}.cose: SealedAfterRevocation: record {seq} was sealed" in line
        assert "kit KIT-3505-08 was revoked from" in line
    assert "kit KIT-3505-08: 2 new" in result.stdout and "kit KIT-3505-09: 4 new" in result.stdout
    assert counts(district, "records") == 6
    checked = run("verify", "--db", district, "--authority", tmp_path / "authority")
    assert checked.exit_code == EXIT_OK, "the district holds nothing the revocation denies"


def test_a_key_file_chain_of_a_kit_certified_tpm_keyed_is_refused(
    district: str, tmp_path: Path
) -> None:
    authority = Authority.init(tmp_path / "authority", name="Dukcapil Blitar")
    people = [resident(n) for n in range(1, 3)]
    kit = make_kit(tmp_path / "kit", authority, "KIT-3505-10", tuple(people))
    seal(kit, people)
    laptop = collector_of(kit, authority, tmp_path / "laptop.db")
    revocation.register_hardware_kit(
        tmp_path / "authority", authority, kit_id="KIT-3505-10", now=NOW + timedelta(days=1)
    )
    result = push(district, laptop, authority, "laptop")
    (chain,) = result.chains
    assert chain.new == 0 and len(chain.problems) == 1
    assert (
        "UnprotectedKey: kit KIT-3505-10 was certified with its key in a TPM" in (chain.problems[0])
    )
    assert counts(district, "records") == 0


def test_a_training_kits_chain_is_refused_practice_never_counts(
    district: str, tmp_path: Path
) -> None:
    authority = Authority.init(tmp_path / "authority", name="Dukcapil Blitar")
    people = [resident(n) for n in range(1, 3)]
    kit = make_kit(tmp_path / "kit", authority, "LATIH-3505-01", tuple(people), training=True)
    seal(kit, people)
    laptop = collector_of(kit, authority, tmp_path / "laptop.db")
    result = push(district, laptop, authority, "laptop")
    (chain,) = result.chains
    assert chain.new == 0 and len(chain.problems) == 1
    assert "TrainingKit: kit LATIH-3505-01 is a training kit" in chain.problems[0]
    assert counts(district, "records") == 0


def test_sync_before_init_and_to_nowhere_are_user_errors(
    store_url: str, field_day: FieldDay
) -> None:
    authority = field_day.folder / "authority"
    laptop = field_day.laptops["laptop-a"]
    bare = run("sync", "--db", laptop, "--to", store_url, "--authority", authority)
    assert bare.exit_code == EXIT_USER_ERROR
    assert "holds no office store: run `jemput-prov district init URL` first" in bare.stderr
    nowhere = store_url.replace("host=", "host=/nonexistent")
    gone = run("report", "--db", nowhere, "--authority", authority)
    assert gone.exit_code == EXIT_USER_ERROR and "cannot reach the office store" in gone.stderr
    assert "Traceback" not in bare.output + gone.output


def test_worklists_registered_by_two_laptops_count_once(district: str, field_day: FieldDay):
    lists = [load_worklist(path) for path in field_day.worklists]
    first = push(district, field_day.laptops["laptop-a"], field_day.authority, "a", worklists=lists)
    second = push(
        district, field_day.laptops["laptop-b"], field_day.authority, "b", worklists=lists
    )
    assert (first.residents, second.residents) == (180, 0)
    assert counts(district, "residents") == 180


def test_sync_without_the_reference_key_names_the_file_and_writes_nothing(
    district: str, field_day: FieldDay, tmp_path: Path
) -> None:
    authority = tmp_path / "authority"
    shutil.copytree(field_day.folder / "authority", authority)
    (authority / "reference.key").unlink()
    laptop = field_day.laptops["laptop-a"]
    result = run("sync", "--db", laptop, "--to", district, "--authority", authority)
    assert result.exit_code == EXIT_USER_ERROR
    assert f"reference key {authority / 'reference.key'} is missing" in result.stderr
    assert "jemput-prov authority reference-key" in result.stderr
    assert "Traceback" not in result.output
    assert counts(district, "records") == 0 and counts(district, "residents") == 0


#: What schema version 5 added to ``records`` (rounds).
ROUND_COLUMNS = ("round_code", "venue", "first_voter", "kia", "domicile", "disability", "notice")
#: What each version added, by the version a store is put back to.
_ROUNDS_UNDONE = tuple(f"ALTER TABLE records DROP COLUMN {column}" for column in ROUND_COLUMNS)
ADDED_AFTER = {
    "5": ("DROP TABLE statuses",),
    "4": ("DROP TABLE statuses, round_people, rounds", *_ROUNDS_UNDONE),
    "3": (
        "DROP TABLE statuses, round_people, rounds, blank_moves, office_entries",
        *_ROUNDS_UNDONE,
    ),
}


@pytest.mark.parametrize("version", ADDED_AFTER)
def test_district_init_brings_an_older_store_forward(
    district: str, field_day: FieldDay, version: str
) -> None:
    """Versions 4 (blank cards, office ledgers), 5 (rounds, the records' round and group
    columns) and 6 (the fleet's statuses) only add: every other command refuses an older
    store with what to do, and `district init` adds what each version keeps, one version
    after another; the store then syncs and verifies as a new one does.  (The store is
    empty: the field day's kits seal format 4, which no store before version 5 could have
    held.)"""
    authority = field_day.folder / "authority"
    laptop = field_day.laptops["laptop-a"]
    with DistrictStore.open(district) as store, store.engine.begin() as c:
        for statement in ADDED_AFTER[version]:
            c.execute(text(statement))
        c.execute(
            text(f"UPDATE district_meta SET value = '{version}' WHERE key = 'schema_version'")
        )
    refused = run("verify", "--db", district, "--authority", authority)
    assert refused.exit_code == EXIT_USER_ERROR
    assert f"schema version {version}" in refused.stderr
    assert "district init URL" in refused.stderr
    assert run("district", "init", district).exit_code == EXIT_OK
    assert counts(district, "blank_moves") == counts(district, "rounds") == 0
    synced = run("sync", "--db", laptop, "--to", district, "--authority", authority)
    assert synced.exit_code == EXIT_OK, synced.output
    checked = run("verify", "--db", district, "--authority", authority)
    assert checked.exit_code == EXIT_OK, checked.output


def test_a_store_of_schema_version_1_is_refused_with_how_to_rebuild(
    district: str, field_day: FieldDay
) -> None:
    """Version 1 kept unkeyed digests: no step converts them, so it is rebuilt by syncing."""
    with DistrictStore.open(district) as store, store.engine.begin() as c:
        c.execute(text("UPDATE district_meta SET value = '1' WHERE key = 'schema_version'"))
    authority = field_day.folder / "authority"
    result = run("sync", "--db", field_day.laptops["laptop-a"], "--to", district,
                 "--authority", authority)  # fmt: skip
    assert result.exit_code == EXIT_USER_ERROR
    assert "schema version 1" in result.stderr and "cannot be converted" in result.stderr
    assert "jemput-prov district init URL" in result.stderr
