"""The district at a kecamatan's scale: a 100,000-line worklist registers in batches and
resumes after a kill; `verify --db` reads a chain a few records at a time.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from provisioning.cli import EXIT_OK, app
from provisioning.collector import CollectorDB
from provisioning.district.audit import audit_store
from provisioning.district.figures import Level, report_figures
from provisioning.district.store import DistrictStore
from provisioning.district.sync import sync
from provisioning.district.worklists import BATCH
from storage.keys import Authority
from storage.nik import make_nik
from storage.worklist import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, load_worklist
from tests.district.kits import collector_of, make_kit, resident, seal
from vocabulary.people import Sex

pytestmark = pytest.mark.timeout(600)

LINES = 100_000
#: Where the first run is killed: after this many lines are committed.
KILLED_AT = 8 * BATCH


class Killed(Exception):
    """The sync process dies here (a kill, a cut cable)."""


def kecamatan_worklist(path: Path, count: int) -> None:
    """``count`` residents as a kecamatan office exports them, written directly (the
    storage writer would parse every line back)."""
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        out = csv.writer(file, delimiter=";", lineterminator="\r\n")
        out.writerow([*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS])
        for n in range(count):
            born = date(1970 + n % 30, n % 12 + 1, n % 28 + 1)
            nik = make_nik(f"3505{n // 9999 + 1:02d}", born, Sex.FEMALE, n % 9999 + 1)
            out.writerow(
                [nik, f"WARGA {n}", "P", "BLITAR", born.strftime("%d-%m-%Y"), "JL MERDEKA",
                 "001/002", f"DESA {n % 400}", f"KEC {n % 20}", "KABUPATEN BLITAR",
                 "JAWA TIMUR", "ISLAM", "KAWIN", "PETANI", "-", "WNI", "", "BARU"]
            )  # fmt: skip


def count(url: str, query: str) -> int:
    with DistrictStore.open(url) as store, store.engine.connect() as c:
        return c.execute(text(query)).scalar_one()


def test_a_100000_line_worklist_registers_in_batches_and_resumes_after_a_kill(
    store_url: str, tmp_path: Path
) -> None:
    authority = Authority.init(tmp_path / "authority", name="Dukcapil Blitar")
    path = tmp_path / "kecamatan.csv"
    kecamatan_worklist(path, LINES)
    residents = load_worklist(path)
    laptop = CollectorDB(tmp_path / "laptop.db")  # no kit yet: a worklist alone

    def killed(digest: bytes, lines: int) -> None:
        if lines >= KILLED_AT:
            raise Killed

    with laptop, DistrictStore.open(store_url, create=True) as store:
        with pytest.raises(Killed):
            sync(laptop, store, authority, references=authority.references, source="a",
                 worklists=[residents], registering=killed)  # fmt: skip
        assert count(store_url, "SELECT count(*) FROM residents") == KILLED_AT
        with store.snapshot() as c:
            cut = audit_store(c, authority.public, authority.references, where="district")
        ((_, problem),) = cut.problems
        assert "no sync statement names this worklist: its registration was cut" in str(problem)
        done = sync(laptop, store, authority, references=authority.references, source="a",
                    worklists=[residents])  # fmt: skip
        figures = report_figures(store, authority.public, authority.references, where="district")
    (registered,) = done.worklists
    assert (registered.lines, registered.new) == (LINES, LINES - KILLED_AT)
    assert count(store_url, "SELECT count(DISTINCT line) FROM residents") == LINES
    assert count(store_url, "SELECT count(*) FROM residents") == LINES, "each line once"
    assert figures.district.registered == LINES, "the audit passes, and counts every line"
    assert {row.kecamatan for row in figures.of(Level.KECAMATAN)} == {f"KEC {n}" for n in range(20)}


def test_verify_reads_a_chain_a_few_records_at_a_time(store_url: str, tmp_path: Path) -> None:
    """Verifying a 30 MB chain grows the process by far less than the chain: it streams."""
    authority = Authority.init(tmp_path / "authority", name="Dukcapil Blitar")
    people = [resident(n) for n in range(1, 61)]
    kit = make_kit(tmp_path / "kit", authority, "KIT-3505-11", tuple(people))
    seal(kit, people, face=os.urandom(500_000))
    with (
        CollectorDB(collector_of(kit, authority, tmp_path / "laptop.db")) as laptop,
        DistrictStore.open(store_url, create=True) as store,
    ):
        assert sync(laptop, store, authority, references=authority.references,
                    source="laptop").new == 60  # fmt: skip
    chain = count(store_url, "SELECT sum(length(data)) FROM records")
    assert chain > 30_000_000

    def verify() -> None:
        checked = CliRunner().invoke(
            app, ["verify", "--db", store_url, "--authority", str(tmp_path / "authority")]
        )
        assert checked.exit_code == EXIT_OK, checked.output

    verify()  # the first run fills the caches a process keeps (compiled queries, imports)
    grew = peak_growth(verify)
    assert grew < chain / 2, f"verify grew by {grew} bytes for a chain of {chain}"


def peak_growth(work: Callable[[], None]) -> int:
    """How far, in bytes, this process's resident memory peaks above its size before
    ``work`` (Linux: the peak is reset through /proc/self/clear_refs)."""
    status = Path("/proc/self/status")

    def kib(field: str) -> int:
        line = next(line for line in status.read_text().splitlines() if line.startswith(field))
        return int(line.split()[1]) * 1024

    Path("/proc/self/clear_refs").write_text("5")
    before = kib("VmRSS:")
    work()
    return kib("VmHWM:") - before
