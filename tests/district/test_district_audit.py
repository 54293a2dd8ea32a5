"""The district store edited directly in PostgreSQL, as anyone with a login could: every
edit is found by `verify --db`, named by table, row, column and both values, and `report
--db` refuses the store.

The field day (three kits, two laptops) is synced once per module; each case edits a copy
of that database (PostgreSQL copies it file by file) with plain SQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from provisioning.cli import EXIT_OK, EXIT_PROBLEMS, app
from provisioning.district.server import LocalCluster
from provisioning.district.store import DistrictStore
from provisioning.rounds import load_plan, plan_round
from tests.district.conftest import FieldDay, copied_database, sync_day

pytestmark = pytest.mark.timeout(900)

KIT1 = "(SELECT cert_digest FROM chains WHERE kit_id = 'KIT-3505-01')"
KIT3 = "(SELECT cert_digest FROM chains WHERE kit_id = 'KIT-3505-03')"
FIRST_LIST = "(SELECT list FROM residents ORDER BY list LIMIT 1)"


def run(*args: object):
    return CliRunner().invoke(app, [str(arg) for arg in args])


#: A round planned on the field day's first worklist: its first ten residents listed.
ROUND = "SMA1-KNG-0601"
PLAN = f"""code = "{ROUND}"
venue = "sekolah"
place = "SMA Negeri 1 Kanigoro"
address = "Jl. Raya Kanigoro 12"
regency = "3505"
kecamatan = "KANIGORO"
day = 2026-11-30
officers = ["PTG-001"]
list = "list.csv"
[request]
by = "SMA Negeri 1 Kanigoro"
on = 2026-11-02
"""


@pytest.fixture(scope="module")
def synced(
    cluster: LocalCluster, field_day: FieldDay, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The name of a database holding the field day, synced by laptop A, then laptop B, and
    a round planned on it."""
    name = f"s{uuid.uuid4().hex[:16]}"
    url = cluster.create_database(name)
    sync_day(url, field_day)
    folder = tmp_path_factory.mktemp("round")
    people = field_day.kits[0].worklist[:10]
    rows = [f"{p.name};{p.birth_date:%Y-%m-%d};{p.nik}" for p in people]
    (folder / "list.csv").write_text("nama;tanggal_lahir;nik\n" + "\n".join(rows) + "\n")
    (folder / "plan.toml").write_text(PLAN)
    with DistrictStore.open(url) as store:
        planned = plan_round(store, field_day.authority, load_plan(folder / "plan.toml"), where=url)
    assert planned.loaded.plan.listed >= 2, "some of the ten are not recorded yet"
    return name


@pytest.fixture
def copy(cluster: LocalCluster, synced: str) -> Iterator[tuple[str, psycopg.Connection]]:
    """A copy of the synced store: its URL, and a connection to edit it with."""
    with copied_database(cluster, synced) as url, psycopg.connect(url, autocommit=True) as c:
        yield url, c


def shown(value: Any) -> str:
    """A value as the audit names it: bytes as their first 16 hex digits."""
    return value.hex()[:16] if isinstance(value, bytes) else repr(value)


def one(c: psycopg.Connection, query: str) -> Any:
    row = c.execute(query).fetchone()
    assert row is not None, query
    return row[0] if len(row) == 1 else row


def edit(table: str, where: str, column: str, new: str, source: str) -> Callable[..., str]:
    """A case that sets ``column`` of one row to the SQL expression ``new``; it expects the
    row named with the value held now and the value ``source`` says (the old one)."""

    def case(c: psycopg.Connection) -> str:
        old = one(c, f"SELECT {column} FROM {table} WHERE {where}")
        c.execute(f"UPDATE {table} SET {column} = {new} WHERE {where}")
        held = one(c, f"SELECT {column} FROM {table} WHERE {where}")
        assert held != old, "the edit changed nothing"
        return (
            f"{label(c, table, where)}: ColumnMismatch: column {column} holds {shown(held)} "
            f"but {source} says {shown(old)}: the row was edited"
        )

    return case


def chain_label(c: psycopg.Connection, digest: str) -> str:
    """How the audit names the chain whose certificate digest the SQL ``digest`` gives."""
    kit_id, held = one(c, f"SELECT kit_id, cert_digest FROM chains WHERE cert_digest = {digest}")
    return f"chain {kit_id}-{held.hex()[:8]}"


def label(c: psycopg.Connection, table: str, where: str) -> str:
    """How the audit names a row of ``table``."""
    if table == "chains":
        return f"chains row ({chain_label(c, f'(SELECT cert_digest FROM chains WHERE {where})')})"
    named = chain_label(c, f"(SELECT chain FROM {table} WHERE {where})")
    if table == "records":
        return f"records row ({named}, seq {one(c, f'SELECT seq FROM records WHERE {where}')})"
    digest = one(c, f"SELECT signed_digest FROM ledgers WHERE {where}")
    return f"ledgers row ({named}, ledger {digest.hex()[:12]})"


RECORD = f"chain = {KIT1} AND seq = 2"
LEDGER = f"chain = {KIT1}"
SIGNED_RECORD = "the signed record"
SIGNED_LEDGER = "the kit's signed ledger"


def inserted_card(c: psycopg.Connection) -> str:
    c.execute(f"INSERT INTO cards VALUES ('35', {KIT1}, 'FAKE-0001', 2)")
    return (
        f"cards row ({chain_label(c, KIT1)}, serial FAKE-0001): UnsignedRow: no ledger the "
        "kit signed lists card 'FAKE-0001' (for record 2): the row was added"
    )


def deleted_card(c: psycopg.Connection) -> str:
    serial, seq = one(c, f"SELECT serial, seq FROM cards WHERE chain = {KIT1} LIMIT 1")
    c.execute(f"DELETE FROM cards WHERE serial = '{serial}'")
    return (
        f"cards row ({chain_label(c, KIT1)}, serial {serial}): MissingRow: the kit's signed "
        f"ledger lists card '{serial}' printed for record {seq}; the row is missing"
    )


def deleted_resident(c: psycopg.Connection) -> str:
    digest = one(c, f"SELECT {FIRST_LIST}")
    c.execute(f"DELETE FROM residents WHERE list = {FIRST_LIST} AND line = 7")
    return f"residents row (worklist {digest.hex()[:12]}, line 8): MissingRow: line 7 missing"


def inserted_resident(c: psycopg.Connection) -> str:
    digest = one(c, f"SELECT {FIRST_LIST}")
    c.execute(
        "INSERT INTO residents SELECT province, list, 61, ref_digest, regency_code, regency, "
        f"district, village, link FROM residents WHERE list = {FIRST_LIST} AND line = 60"
    )
    return (
        f"residents rows (worklist {digest.hex()[:12]}): MissingRow: sync statement 1 "
        "registered 60 line(s); the last held is line 61"
    )


def edited_resident(c: psycopg.Connection) -> str:
    digest, link = one(
        c, f"SELECT list, link FROM residents WHERE list = {FIRST_LIST} AND line = 3"
    )
    c.execute(f"UPDATE residents SET village = 'DESA LAIN' WHERE list = {FIRST_LIST} AND line = 3")
    return (
        f"residents row (worklist {digest.hex()[:12]}, line 3): ColumnMismatch: column "
        f"link holds {shown(link)} but the hash of the line's columns says"
    )


def deleted_chain(c: psycopg.Connection) -> str:
    named = chain_label(c, KIT3)
    for table in ("cards", "ledgers", "records"):
        c.execute(f"DELETE FROM {table} WHERE chain = {KIT3}")
    c.execute("DELETE FROM chains WHERE kit_id = 'KIT-3505-03'")
    return (
        f"chains row ({named}): MissingChain: sync statement 2 names kit KIT-3505-03's "
        "chain, which the store no longer holds"
    )


def deleted_last_record(c: psycopg.Connection) -> str:
    where = f"chain = {KIT1} AND seq = 6"
    named = label(c, "records", where)
    c.execute(f"DELETE FROM records WHERE {where}")
    return f"{named}: MissingRow: sync statement 1 names record 6"


def deleted_ledger(c: psycopg.Connection) -> str:
    named = label(c, "ledgers", LEDGER)
    c.execute(f"DELETE FROM ledgers WHERE {LEDGER}")
    return f"{named}: MissingRow: sync statement 1 kept this ledger"


def moved_record(c: psycopg.Connection) -> str:
    c.execute(f"UPDATE records SET province = '36' WHERE {RECORD}")
    return ", province 36): MissingChain: 1 row(s) belong to no verified chain of this store"


def deleted_statement(c: psycopg.Connection) -> str:
    c.execute("DELETE FROM sync_log WHERE n = 1")
    return "sync_log row 2: BrokenLog: it holds statement 2 where statement 1 is due"


def forged_fork(c: psycopg.Connection) -> str:
    named = label(c, "records", RECORD)
    c.execute(
        "INSERT INTO forks SELECT r.province, r.chain, r.seq, r.digest, c.kit_id, r.digest, "
        f"'a', 'b', r.data FROM records r JOIN chains c ON c.cert_digest = r.chain WHERE r.{RECORD}"
    )
    return f"{named.replace('records', 'forks')}: UnsignedRow: the record offered is the one held"


def edited_round(c: psycopg.Connection) -> str:
    left_out = one(c, f"SELECT left_out FROM rounds WHERE code = '{ROUND}'")
    c.execute(f"UPDATE rounds SET left_out = left_out + 4 WHERE code = '{ROUND}'")
    return (
        f"rounds row (round {ROUND}): ColumnMismatch: column left_out holds {left_out + 4} "
        f"but the signed plan says {left_out}: the row was edited"
    )


def deleted_round_line(c: psycopg.Connection) -> str:
    c.execute(f"DELETE FROM round_people WHERE round = '{ROUND}' AND line = 1")
    return f"round_people row (round {ROUND}, line 2): MissingRow: line 1 missing"


def edited_round_line(c: psycopg.Connection) -> str:
    where = f"round = '{ROUND}' AND line = 2"
    link = one(c, f"SELECT link FROM round_people WHERE {where}")
    c.execute(f"UPDATE round_people SET ref_digest = sha256('someone else'::bytea) WHERE {where}")
    return (
        f"round_people row (round {ROUND}, line 2): ColumnMismatch: column link holds "
        f"{shown(link)} but the hash of the line's reference says"
    )


def deleted_round(c: psycopg.Connection) -> str:
    c.execute(f"DELETE FROM rounds WHERE code = '{ROUND}'")
    return (
        f"round_people row (round {ROUND}, line 1): UnsignedRow: round {ROUND} has no "
        "verified plan: the row was added"
    )


def deleted_round_and_list(c: psycopg.Connection) -> str:
    """No record names the round (it was only planned): the statement registering it does."""
    assert one(c, f"SELECT count(*) FROM records WHERE round_code = '{ROUND}'") == 0
    plan = one(c, f"SELECT sha256(plan) FROM rounds WHERE code = '{ROUND}'")
    c.execute(f"DELETE FROM round_people WHERE round = '{ROUND}'")
    c.execute(f"DELETE FROM rounds WHERE code = '{ROUND}'")
    return (
        f"rounds row (round {ROUND}): MissingRow: sync statement 3 registered round {ROUND} "
        f"(plan {shown(plan)}); the store does not hold its plan"
    )


CASES: dict[str, Callable[[psycopg.Connection], str]] = {
    "ledgers.printed": edit("ledgers", LEDGER, "printed", "printed + 5", SIGNED_LEDGER),
    "ledgers.loaded": edit("ledgers", LEDGER, "loaded", "loaded + 50", SIGNED_LEDGER),
    "records.walk_in": edit("records", RECORD, "walk_in", "NOT walk_in", SIGNED_RECORD),
    "records.excepted": edit("records", RECORD, "excepted", "excepted + 1", SIGNED_RECORD),
    "records.voids": edit("records", RECORD, "voids", "1", SIGNED_RECORD),
    "records.ref_digest": edit(
        "records", RECORD, "ref_digest", "sha256('someone else'::bytea)", SIGNED_RECORD
    ),
    "records.day": edit("records", RECORD, "day", "day - 1", SIGNED_RECORD),
    "records.notice": edit("records", RECORD, "notice", "2", SIGNED_RECORD),
    "records.round_code": edit("records", RECORD, "round_code", f"'{ROUND}'", SIGNED_RECORD),
    "records.venue": edit("records", RECORD, "venue", "'sekolah'", SIGNED_RECORD),
    "records.first_voter": edit("records", RECORD, "first_voter", "NOT first_voter", SIGNED_RECORD),
    "records.kia": edit("records", RECORD, "kia", "NOT kia", SIGNED_RECORD),
    "records.domicile": edit("records", RECORD, "domicile", "NOT domicile", SIGNED_RECORD),
    "records.disability": edit("records", RECORD, "disability", "NOT disability", SIGNED_RECORD),
    "chains.kit_id": edit(  # the row before and after the edit
        "chains",
        "kit_id IN ('KIT-3505-01', 'KIT-3505-99')",
        "kit_id",
        "'KIT-3505-99'",
        "the kit certificate",
    ),
    "cards inserted": inserted_card,
    "cards deleted": deleted_card,
    "residents deleted": deleted_resident,
    "residents inserted": inserted_resident,
    "residents edited": edited_resident,
    "chain deleted": deleted_chain,
    "last record deleted": deleted_last_record,
    "ledger deleted": deleted_ledger,
    "record moved to another province": moved_record,
    "sync statement deleted": deleted_statement,
    "fork forged": forged_fork,
    "rounds edited": edited_round,
    "round line deleted": deleted_round_line,
    "round line edited": edited_round_line,
    "round deleted": deleted_round,
    "round and its list deleted": deleted_round_and_list,
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_an_edited_store_fails_verify_and_report(
    copy: tuple[str, psycopg.Connection],
    field_day: FieldDay,
    case: Callable[[psycopg.Connection], str],
) -> None:
    url, c = copy
    authority = field_day.folder / "authority"
    expected = case(c)
    checked = run("verify", "--db", url, "--authority", authority)
    assert checked.exit_code == EXIT_PROBLEMS, checked.output
    assert expected in checked.stdout, checked.stdout
    reported = run("report", "--db", url, "--authority", authority, "--format", "json")
    assert reported.exit_code == EXIT_PROBLEMS, reported.output
    assert "nothing reported: the office store at" in reported.stderr
    assert "fails verification" in reported.stderr and reported.stdout == ""
    assert "Traceback" not in checked.output + reported.output


def test_the_untouched_store_verifies_and_reports(
    cluster: LocalCluster, synced: str, field_day: FieldDay
) -> None:
    url = cluster.url_of(synced)
    authority = field_day.folder / "authority"
    checked = run("verify", "--db", url, "--authority", authority)
    assert checked.exit_code == EXIT_OK, checked.output
    assert "all 15 record(s) of 3 kit(s) verify" in checked.stdout
    log = next(line for line in checked.stdout.splitlines() if line.startswith("sync log: "))
    assert log.startswith("sync log: 3 statement(s), head "), "two syncs and the round"
    reported = run("report", "--db", url, "--authority", authority)
    assert reported.exit_code == EXIT_OK, reported.output
    head = log.rsplit(" ", 1)[1]
    assert f"log sinkron: 3 pernyataan, terakhir {head}" in reported.stdout, (
        "the report names the log it was counted under, in the reader's language"
    )


def test_rounds_registered_before_statements_named_them_are_named_by_the_next(
    copy: tuple[str, psycopg.Connection], field_day: FieldDay, tmp_path: Path
) -> None:
    """A store whose statements predate the rounds' listing still verifies; the next round
    registered names the older ones too, so from then on deleting one is found."""
    url, c = copy
    authority = field_day.folder / "authority"
    c.execute("DELETE FROM sync_log WHERE n = 3")  # as the round was registered before
    checked = run("verify", "--db", url, "--authority", authority)
    assert checked.exit_code == EXIT_OK, checked.output
    (tmp_path / "plan.toml").write_text(
        PLAN.replace(ROUND, "SMA2-KNG-0602").replace('list = "list.csv"\n', "")
    )
    with DistrictStore.open(url) as store:
        plan_round(store, field_day.authority, load_plan(tmp_path / "plan.toml"), where=url)
    checked = run("verify", "--db", url, "--authority", authority)
    assert checked.exit_code == EXIT_OK, checked.output
    assert "sync log: 3 statement(s), head " in checked.stdout, "one statement named both"
    c.execute(f"DELETE FROM round_people WHERE round = '{ROUND}'")
    c.execute(f"DELETE FROM rounds WHERE code = '{ROUND}'")
    checked = run("verify", "--db", url, "--authority", authority)
    assert checked.exit_code == EXIT_PROBLEMS, checked.output
    assert f"rounds row (round {ROUND}): MissingRow: sync statement 3 registered" in (
        checked.stdout
    )
