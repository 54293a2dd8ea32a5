"""A collector database edited with sqlite3, as an attacker or a clumsy technician would.

One real history is built once: a simulated kit flashed, enrolled and collected twice over
its pty, then reflashed (a new chain) and collected again, so the database holds two
chains and three signed collections.  Each attack edits a copy of that database with
plain SQL and must make `verify` exit 1 naming the table and row, and `report` refuse.
Before this file existed every one of them verified (exit 0) and changed the report.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cbor2
import pytest
from typer.testing import CliRunner, Result

from kitlink.framing import FramedPort
from provisioning import collect as collecting
from provisioning.cli import EXIT_OK, EXIT_PROBLEMS, app
from provisioning.collector import CollectorDB
from provisioning.collector_audit import audit_database
from storage.codec import dumps, loads
from storage.cose import TAG_SIGN1, parse_sign1
from tests.provisioning.kit_bench import Bench, enrol, flash_cli, open_bench

FIRST_PEOPLE, SECOND_PEOPLE, REFLASHED_PEOPLE = 4, 2, 2


@dataclass(frozen=True)
class History:
    """The pristine database and what the attacks need to name: both chains' digests."""

    bench: Bench
    db: Path
    a: bytes  # the first chain: collected twice, records 1-6
    b: bytes  # the reflashed kit's chain: collected once, records 1-2

    def copy(self, to: Path) -> Path:
        with sqlite3.connect(self.db) as source, sqlite3.connect(to) as target:
            source.backup(target)
        return to


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    tmp = tmp_path_factory.mktemp("history")
    with open_bench(tmp) as bench:
        db = tmp / "pristine.db"
        assert flash_cli(bench).exit_code == EXIT_OK
        for people in (FIRST_PEOPLE, SECOND_PEOPLE):
            enrol(bench, people)
            with FramedPort(port=bench.pty.port) as link, CollectorDB(db) as store:
                collecting.collect(link, bench.authority, store)
        assert flash_cli(bench).exit_code == EXIT_OK, "collected: it may be reflashed"
        enrol(bench, REFLASHED_PEOPLE)
        with FramedPort(port=bench.pty.port) as link, CollectorDB(db) as store:
            collecting.collect(link, bench.authority, store)
            first, second = (chain.digest for chain in store.chains())
            audit = audit_database(store, bench.authority.public)
        assert audit.ok, audit.problems
        assert audit.log_length == 3 and len(audit.records) == 8
        assert audit.printed, "the kit's signed ledger names printed cards"
        sizes = {digest: sum(r.chain == digest for r in audit.records) for digest in audit.printed}
        a, b = (first, second) if sizes[first] == 6 else (second, first)
        yield History(bench, db, a, b)


def cli(*args: object) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def ledger_without_signature(signed: bytes) -> bytes:
    """The kit's ledger answer with four printed cards written in, its signature kept."""
    msg = parse_sign1(signed)
    body = dict(loads(msg.payload))
    body["result"] = {**body["result"], "printed": FORGED_PRINTED}
    fields = [msg.protected_bytes, dict(msg.unprotected), dumps(body), msg.signature]
    return cbor2.dumps(cbor2.CBORTag(TAG_SIGN1, fields))


FORGED_PRINTED = [[seq, f"FORGED-{seq}"] for seq in range(1, 5)]
#: A ledger as a plain CBOR map, no signature at all: "printed 4".
UNSIGNED_LEDGER = dumps({"result": {"printed": FORGED_PRINTED}}).hex()


@dataclass(frozen=True)
class Attack:
    """An edit in SQL (``:a`` and ``:b`` are the two chains' certificate digests), and what
    `verify` must name: the row's label and the error class."""

    name: str
    sql: str
    where: str
    error: str


ATTACKS = [
    # the list
    Attack(
        "last record deleted, head columns edited to match",
        "DELETE FROM records WHERE chain = :a AND seq = 6;"
        "UPDATE collections SET head_seq = 5, head = (SELECT digest FROM records"
        " WHERE chain = :a AND seq = 5) WHERE id = 2",
        "collections row 2",
        "ColumnMismatch",
    ),
    Attack(
        "the tail chain's last record deleted, head columns edited to match",
        "DELETE FROM records WHERE chain = :b AND seq = 2;"
        "UPDATE collections SET head_seq = 1, head = (SELECT digest FROM records"
        " WHERE chain = :b AND seq = 1) WHERE id = 3",
        "collections row 3",
        "BrokenChain",
    ),
    Attack(
        "worklist_ref changed",
        "UPDATE records SET worklist_ref = 'SOMEONE-ELSE' WHERE chain = :a AND seq = 1",
        "seq 1)",
        "ColumnMismatch",
    ),
    Attack(
        "worklist_ref swapped for another record's keyed reference",
        "UPDATE records SET worklist_ref = (SELECT worklist_ref FROM records WHERE chain = :a"
        " AND seq = 2) WHERE chain = :a AND seq = 1",
        "seq 1)",
        "ColumnMismatch",
    ),
    Attack(
        "worklist_ref cleared",
        "UPDATE records SET worklist_ref = NULL WHERE chain = :a AND seq = 2",
        "seq 2)",
        "ColumnMismatch",
    ),
    Attack(
        "walk_in flipped",
        "UPDATE records SET walk_in = 1 - walk_in WHERE chain = :a AND seq = 3",
        "seq 3)",
        "ColumnMismatch",
    ),
    Attack(
        "excepted changed",
        "UPDATE records SET excepted = excepted + 3 WHERE chain = :a AND seq = 1",
        "seq 1)",
        "ColumnMismatch",
    ),
    Attack(
        "print_card flipped",
        "UPDATE records SET print_card = 1 - print_card WHERE chain = :b AND seq = 1",
        "seq 1)",
        "ColumnMismatch",
    ),
    Attack(
        "voids set: a live record vanishes from coverage",
        "UPDATE records SET voids = 1 WHERE chain = :a AND seq = 2",
        "seq 2)",
        "ColumnMismatch",
    ),
    Attack(
        "ledger replaced by an unsigned map",
        f"UPDATE collections SET signed = X'{UNSIGNED_LEDGER}' WHERE id = 2",
        "collections row 2",
        "ColumnMismatch",
    ),
    Attack(
        "a whole kit's chain deleted",
        "DELETE FROM records WHERE chain = :a; DELETE FROM collections WHERE chain = :a;"
        "DELETE FROM chains WHERE cert_digest = :a",
        "collections row 3",
        "BrokenLog",
    ),
    Attack(
        "kit id renamed",
        "UPDATE chains SET kit_id = 'KIT-9999-01' WHERE cert_digest = :a",
        "chains row",
        "ColumnMismatch",
    ),
    Attack(
        "kit id renamed to a path",
        "UPDATE chains SET kit_id = '../../escaped' WHERE cert_digest = :b",
        "chains row",
        "ColumnMismatch",
    ),
    # variants
    Attack(
        "last record deleted, nothing else",
        "DELETE FROM records WHERE chain = :a AND seq = 6",
        "collections row 2",
        "BrokenChain",
    ),
    Attack(
        "last record and its collection deleted",
        "DELETE FROM records WHERE chain = :a AND seq = 6; DELETE FROM collections WHERE id = 2",
        "collections row 3",
        "BrokenLog",
    ),
    Attack(
        "a middle record deleted",
        "DELETE FROM records WHERE chain = :a AND seq = 3",
        "seq 4)",
        "BrokenChain",
    ),
    Attack(
        "only a kit's records deleted",
        "DELETE FROM records WHERE chain = :a",
        "collections row 1",
        "BrokenChain",
    ),
    Attack(
        "only a kit's chains row deleted",
        "DELETE FROM chains WHERE cert_digest = :a",
        "collections row 1",
        "MissingChain",
    ),
    Attack(
        "two records' bytes swapped",
        "UPDATE records SET data = (SELECT data FROM records r WHERE r.chain = :a AND r.seq = 2)"
        " WHERE chain = :a AND seq = 1",
        "seq 1)",
        "BrokenChain",
    ),
    Attack(
        "a record's digest column edited",
        "UPDATE records SET digest = zeroblob(32) WHERE chain = :a AND seq = 4",
        "seq 4)",
        "ColumnMismatch",
    ),
    Attack(
        "the last record renumbered",
        "UPDATE records SET seq = 9 WHERE chain = :a AND seq = 6",
        "seq 9)",
        "BrokenChain",
    ),
    Attack(
        "another chain's record inserted",
        "INSERT INTO records SELECT :a, 7, digest, data, sealed_at, officer, worklist_ref,"
        " walk_in, excepted, voids, print_card, collected_at FROM records"
        " WHERE chain = :b AND seq = 1",
        "seq 7)",
        "UnknownKit",
    ),
    Attack(
        "officer column edited",
        "UPDATE records SET officer = 'SPV-001' WHERE chain = :a AND seq = 5",
        "seq 5)",
        "ColumnMismatch",
    ),
    Attack(
        "sealed_at column edited",
        "UPDATE records SET sealed_at = '2020-01-01T00:00:00+00:00' WHERE chain = :a AND seq = 5",
        "seq 5)",
        "ColumnMismatch",
    ),
    Attack(
        "region edited",
        "UPDATE chains SET region = '1671' WHERE cert_digest = :a",
        "chains row",
        "ColumnMismatch",
    ),
    Attack(
        "certificate swapped for the other chain's",
        "UPDATE chains SET cert = (SELECT cert FROM chains c WHERE c.cert_digest = :b)"
        " WHERE cert_digest = :a",
        "chains row",
        "ColumnMismatch",
    ),
    Attack(
        "certificate bytes altered",
        # the last byte changed whatever it was (a signature may end in 00 one time in 256)
        "UPDATE chains SET cert = CAST(substr(cert, 1, length(cert) - 1)"
        " || CASE WHEN substr(cert, -1) = X'00' THEN X'01' ELSE X'00' END AS BLOB)"
        " WHERE cert_digest = :a",
        "chains row",
        "ForeignCertificate",
    ),
    Attack(
        "certificate turned into text",
        "UPDATE chains SET cert = 'KIT-3505-07' WHERE cert_digest = :a",
        "chains row",
        "ColumnMismatch",
    ),
    Attack(
        "a record's bytes turned into text",
        "UPDATE records SET data = 'deleted' WHERE chain = :a AND seq = 2",
        "seq 2)",
        "ColumnMismatch",
    ),
    Attack(
        "a record's seq turned into text",
        "UPDATE records SET seq = 'two' WHERE chain = :a AND seq = 2",
        "seq two)",
        "ColumnMismatch",
    ),
    Attack(
        "ledger turned into text",
        "UPDATE collections SET signed = 'printed 4' WHERE id = 1",
        "collections row 1",
        "ColumnMismatch",
    ),
    Attack(
        "receipt turned into text",
        "UPDATE collections SET receipt = 'ok' WHERE id = 2",
        "collections row 2",
        "ColumnMismatch",
    ),
    Attack(
        "head columns edited alone",
        "UPDATE collections SET head_seq = 99 WHERE id = 1",
        "collections row 1",
        "ColumnMismatch",
    ),
    Attack(
        "ledger of the first collection replayed into the second",
        "UPDATE collections SET signed = (SELECT signed FROM collections c WHERE c.id = 1)"
        " WHERE id = 2",
        "collections row 2",
        "ColumnMismatch",
    ),
    Attack(
        "statement removed",
        "UPDATE collections SET statement = X'' WHERE id = 1",
        "collections row 1",
        "BadCollectionStatement",
    ),
    Attack(
        "statements of two collections swapped",
        "UPDATE collections SET statement = (SELECT statement FROM collections c"
        " WHERE c.id = 1) WHERE id = 2",
        "collections row 2",
        "BrokenLog",
    ),
    Attack(
        "a middle collection deleted",
        "DELETE FROM collections WHERE id = 2",
        "collections row 3",
        "BrokenLog",
    ),
    Attack(
        "receipt replaced",
        "UPDATE collections SET receipt = X'D28443A10126A0404040' WHERE id = 1",
        "collections row 1",
        "ColumnMismatch",
    ),
    Attack(
        "collection time edited",
        "UPDATE collections SET at = '2020-01-01T00:00:00+00:00' WHERE id = 3",
        "collections row 3",
        "ColumnMismatch",
    ),
    Attack(
        "a record whose chain does not exist",
        "INSERT INTO records SELECT zeroblob(32), seq, digest, data, sealed_at, officer,"
        " worklist_ref, walk_in, excepted, voids, print_card, collected_at FROM records"
        " WHERE chain = :a AND seq = 1",
        "records row (chain 00000000, seq 1)",
        "MissingChain",
    ),
    Attack(
        "certificate digest column edited",
        "UPDATE chains SET cert_digest = zeroblob(32) WHERE cert_digest = :b",
        "chains row",
        "ColumnMismatch",
    ),
]


def attacked(history: History, attack_sql: str, to: Path) -> Path:
    db = history.copy(to)
    with sqlite3.connect(db) as conn:
        for statement in attack_sql.split(";"):
            conn.execute(statement, {"a": history.a, "b": history.b})
    return db


def test_the_untouched_database_verifies_and_reports(history: History) -> None:
    auth = history.bench.args
    verified = cli("verify", history.db, *auth)
    assert verified.exit_code == EXIT_OK, verified.output
    assert "all 8 record(s) of 2 kit(s) verify" in verified.output
    assert "collector log: 3 collection(s)" in verified.output
    report = cli("report", "--db", history.db, *auth, "--format", "csv")
    assert report.exit_code == EXIT_OK, report.output
    # 8 records: 3 walk-ins, and 5 of 4 residents (the reflashed kit recorded one again);
    # per kit each record counts, overall each resident once, as the office store counts
    assert "kit,KIT-3505-07,,5,3," in report.output
    assert "overall,(overall),,4,3," in report.output


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_an_edited_database_is_named_row_by_row_and_not_reported(
    history: History, attack: Attack, tmp_path: Path
) -> None:
    db = attacked(history, attack.sql, tmp_path / "edited.db")
    verified = cli("verify", db, *history.bench.args)
    assert verified.exception is None or isinstance(verified.exception, SystemExit)
    assert verified.exit_code == EXIT_PROBLEMS, verified.output
    lines = [line for line in verified.output.splitlines() if line.startswith(f"{db}: ")]
    assert any(attack.where in line and f": {attack.error}: " in line for line in lines), (
        verified.output
    )
    assert "Traceback" not in verified.output
    report = cli("report", "--db", db, *history.bench.args, "--format", "csv")
    assert report.exit_code == EXIT_PROBLEMS
    assert "nothing reported" in report.stderr and "fails verification" in report.stderr
    assert report.stdout == "", "not one number from a database that fails"


def test_a_ledger_rewritten_under_the_kits_old_signature_is_refused(
    history: History, tmp_path: Path
) -> None:
    db = history.copy(tmp_path / "edited.db")
    with sqlite3.connect(db) as conn:
        (signed,) = conn.execute("SELECT signed FROM collections WHERE id = 3").fetchone()
        conn.execute(
            "UPDATE collections SET signed = ? WHERE id = 3", (ledger_without_signature(signed),)
        )
    verified = cli("verify", db, *history.bench.args)
    assert verified.exit_code == EXIT_PROBLEMS
    assert "collections row 3: ColumnMismatch: column signed is not the ledger" in verified.output
    assert cli("report", "--db", db, *history.bench.args).exit_code == EXIT_PROBLEMS


def test_a_database_rolled_back_whole_shows_in_the_log_line(
    history: History, tmp_path: Path
) -> None:
    """The one edit no file can show: the newest collection dropped with all it brought.
    The printed log length and head differ from the report sent before, which tells."""
    before = cli("verify", history.db, *history.bench.args).output
    db = attacked(
        history,
        "DELETE FROM records WHERE chain = :b; DELETE FROM collections WHERE id = 3;"
        "DELETE FROM chains WHERE cert_digest = :b",
        tmp_path / "rolled.db",
    )
    after = cli("verify", db, *history.bench.args)
    assert after.exit_code == EXIT_OK, after.output
    log_line = next(line for line in before.splitlines() if line.startswith("collector log"))
    assert log_line not in after.output and "collector log: 2 collection(s)" in after.output


def test_export_of_a_kit_id_that_is_a_path_writes_nothing_outside(
    history: History, tmp_path: Path
) -> None:
    db = attacked(
        history,
        "UPDATE chains SET kit_id = '../../escaped' WHERE cert_digest = :b",
        tmp_path / "edited.db",
    )
    out = tmp_path / "deep" / "er" / "out"
    result = cli("export", "--db", db, "--out", out)
    assert result.exit_code == EXIT_PROBLEMS, result.output
    assert "kit id '../../escaped' is not" in result.stderr and "nothing exported" in result.stderr
    assert not (tmp_path / "deep" / "escaped").exists()
    assert not out.exists(), "refused before anything was written"
    clean = cli("export", "--db", history.db, "--out", out)
    assert clean.exit_code == EXIT_OK, clean.output
    written = [path.resolve() for path in out.rglob("*")]
    assert written and all(path.is_relative_to(out.resolve()) for path in written)


def test_collect_into_an_edited_database_is_refused_and_sends_no_receipt(
    history: History, tmp_path: Path
) -> None:
    db = attacked(
        history,
        "UPDATE records SET digest = zeroblob(32) WHERE chain = :b AND seq = 2",
        tmp_path / "edited.db",
    )
    bench = history.bench
    enrol(bench, 1)
    before = bench.host.store.status().uncollected
    result = cli("collect", bench.pty.port, *bench.args, "--db", db)
    assert result.exit_code == EXIT_PROBLEMS
    assert "fails verification" in result.stderr
    assert bench.host.store.status().uncollected == before == 1, "no receipt: nothing freed"
