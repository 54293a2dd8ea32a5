"""The district report equals what the kits did: three kits, two laptops, one district.

The expected numbers come from the kits themselves (each officer's outcomes and each
kit's own card ledger), never from the store; the HTML page is opened in Debian's
headless Chromium and its figures read back from the DOM Chromium built.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import tempfile
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text as sql_text
from typer.testing import CliRunner

from provisioning.cli import EXIT_OK, app
from provisioning.district.figures import Coverage, Figures, Level, report_figures
from provisioning.district.formats import rollup, to_csv
from provisioning.district.server import LocalCluster
from provisioning.district.store import DistrictStore
from storage.reference import ReferenceKey
from tests.district.conftest import FieldDay, sync_day

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

#: The field day (three kits flashed, enrolled on, collected) is built inside the first
#: test's setup; on a loaded machine that alone can take minutes.
pytestmark = pytest.mark.timeout(900)


def run(*args: object):
    return CliRunner().invoke(app, [str(arg) for arg in args])


@pytest.fixture(scope="module")
def synced(cluster: LocalCluster, field_day: FieldDay) -> str:
    url = cluster.create_database(f"r{uuid.uuid4().hex[:16]}")
    sync_day(url, field_day)
    return url


def threshold_of(day: FieldDay) -> int:
    """The most cards any kit printed: that kit is not flagged, any kit below it is."""
    return max(kit.ledger["printed"] for kit in day.kits)


def figures_of(url: str, day: FieldDay) -> Figures:
    """The figures `report` shows: of what the store's audit derived."""
    with DistrictStore.open(url) as store:
        return report_figures(
            store,
            day.authority.public,
            day.authority.references,
            where=url,
            threshold=threshold_of(day),
        )


def expected_villages(day: FieldDay) -> dict[tuple[str, str], Counter[str]]:
    """Per (kecamatan, village): registered, recorded, printed, excepted, from the kits."""
    place = {r.nik: (r.district, r.village) for kit in day.kits for r in kit.worklist}
    villages: dict[tuple[str, str], Counter[str]] = {}
    for where in place.values():
        villages.setdefault(where, Counter())["registered"] += 1
    for kit in day.kits:
        for outcome in kit.outcomes:
            if outcome.name.startswith("(walk-in)"):
                continue
            counts = villages[place[outcome.nik]]
            counts["recorded"] += 1
            counts["printed"] += outcome.printed == "card"
            counts["excepted"] += outcome.exceptions != "-"
    return villages


def test_the_district_report_equals_what_the_kits_did(synced: str, field_day: FieldDay) -> None:
    figures = figures_of(synced, field_day)
    outcomes = [o for kit in field_day.kits for o in kit.outcomes]
    walk_ins = [o for o in outcomes if o.name.startswith("(walk-in)")]
    assert figures.records == len(outcomes) == 15, "kit 2, on both laptops, counts once"
    assert figures.forks == 0

    villages = {
        (row.kecamatan, row.village): row
        for row in figures.of(Level.VILLAGE)
        if row.village != "(walk-in)"
    }
    expected = expected_villages(field_day)
    assert set(villages) == set(expected)
    for where, counts in expected.items():
        row = villages[where]
        got = (row.registered, row.recorded, row.printed, row.excepted)
        want = (counts["registered"], counts["recorded"], counts["printed"], counts["excepted"])
        assert got == want, where
        assert row.missing == counts["registered"] - counts["recorded"]

    (walk_in_row,) = [r for r in figures.of(Level.VILLAGE) if r.village == "(walk-in)"]
    assert walk_in_row.walk_ins == len(walk_ins) and walk_in_row.regency_code == "3505"
    (kabkota,) = figures.of(Level.KABKOTA)
    district = figures.district
    recorded = len(outcomes) - len(walk_ins)
    assert (kabkota.regency, kabkota.registered) == ("KABUPATEN BLITAR", 180)
    assert (district.recorded, district.walk_ins, district.missing) == (
        recorded,
        len(walk_ins),
        180 - recorded,
    )
    assert district.share_recorded == round(100 * recorded / 180, 1)
    kecamatan = {row.kecamatan: row.recorded for row in figures.of(Level.KECAMATAN)}
    assert sum(kecamatan.values()) == recorded and len(kecamatan) == 3

    threshold = threshold_of(field_day)
    cards = {c.kit_id: c for c in figures.cards}
    for kit in field_day.kits:
        row = cards[kit.kit_id]
        assert (row.loaded, row.printed, row.spoiled, row.unknown) == (
            kit.ledger["loaded"],
            kit.ledger["printed"],
            kit.ledger["spoiled"],
            kit.ledger["unresolved"],
        ), kit.kit_id
        assert row.flagged == (kit.ledger["printed"] < threshold)
    assert {c.flagged for c in figures.cards if c.kit_id} == {True, False}
    total = figures.district_cards
    assert total.loaded == sum(k.cards for k in field_day.kits) == 33
    assert total.printed == sum(o.printed == "card" for o in outcomes)
    assert total.share_used == round(100 * total.printed / total.loaded, 1)

    per_kit = Counter({kit.kit_id: len(kit.outcomes) for kit in field_day.kits})
    days = Counter()
    for day in figures.days:
        days[day.kit_id] += day.records
    assert days.pop(None) == 15 and days == per_kit


def test_report_formats_through_the_cli_agree(synced: str, field_day: FieldDay) -> None:
    threshold = threshold_of(field_day)
    authority = field_day.folder / "authority"
    as_json = run(
        "report", "--db", synced, "--authority", authority, "--format", "json",
        "--threshold", threshold,
    )  # fmt: skip
    assert as_json.exit_code == EXIT_OK, as_json.output
    data = json.loads(as_json.stdout)
    expected = figures_of(synced, field_day).as_map()
    data.pop("generated_at"), expected.pop("generated_at")
    assert data == expected
    as_csv = run("report", "--db", synced, "--authority", authority, "--format", "csv")
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    district = next(r for r in rows if r[:2] == ["coverage", "district"])
    assert district[7] == str(data["coverage"][-1]["recorded"])
    table = run("district", "report", synced, "--authority", authority)
    district_line = next(line for line in table.stdout.splitlines() if "(district)" in line)
    assert table.exit_code == EXIT_OK
    assert f" {data['coverage'][-1]['share_recorded']} " in district_line


class Tables(HTMLParser):
    """The cells of each table (by id) and the text of each span with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.spans: dict[str, str] = {}
        self._table: str | None = None
        self._field: str | None = None
        self._span: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._table = found["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table and found.get("class") is not None:
            self.tables[self._table].append({})
        elif tag == "td":
            self._field = found["data-field"]
            self.tables[self._table][-1][self._field] = ""
        elif tag == "span" and "id" in found:
            self._span = found["id"]
            self.spans[self._span] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "td":
            self._field = None
        elif tag == "span":
            self._span = None

    def handle_data(self, data: str) -> None:
        if self._field is not None and self._table is not None:
            self.tables[self._table][-1][self._field] += data
        elif self._span is not None:
            self.spans[self._span] += data


def read_back(text: str, value: Any) -> Any:
    """A cell's text as the JSON value it shows."""
    if text == "-":
        return None
    if isinstance(value, bool):
        return text == "True"
    if isinstance(value, int):
        return int(text)
    if isinstance(value, float):
        return float(text)
    return text


def chromium_dom(page: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="jemput-chromium-") as profile:
        done = subprocess.run(
            ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom",
             page.as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_html_page_in_chromium_shows_the_json_figures(
    synced: str, field_day: FieldDay, tmp_path: Path
) -> None:
    page, data_file = tmp_path / "report.html", tmp_path / "report.json"
    authority = field_day.folder / "authority"
    made = run(
        "district", "report", synced, "--authority", authority, "--format", "html", "--out", page
    )
    assert made.exit_code == EXIT_OK, made.output
    as_json = run(
        "district", "report", synced, "--authority", authority, "--format", "json",
        "--out", data_file,
    )  # fmt: skip
    assert as_json.exit_code == EXIT_OK, as_json.output
    data = json.loads(data_file.read_text(encoding="utf-8"))
    source = page.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)=|https?://(?!www\.w3\.org/2000/svg)", source), "offline"

    parsed = Tables()
    parsed.feed(chromium_dom(page))
    for section in ("coverage", "cards", "days"):
        shown = parsed.tables[section]
        assert len(shown) == len(data[section]) > 0, section
        for cells, row in zip(shown, data[section], strict=True):
            assert {k: read_back(text, row[k]) for k, text in cells.items()} == {
                k: row[k] for k in cells
            }, section
    kits = data["fleet"]["kits"]  # the fleet's flags are words on the page, names in JSON
    assert len(parsed.tables["fleet"]) == len(kits) == len(field_day.kits)
    for cells, row in zip(parsed.tables["fleet"], kits, strict=True):
        shown = {k: read_back(text, row[k]) for k, text in cells.items() if k != "flags"}
        assert shown == {k: row[k] for k in cells if k != "flags"}, "fleet"
    district = data["coverage"][-1]
    assert float(parsed.spans["share"]) == district["share_recorded"]
    assert int(parsed.spans["records"]) == data["records"] == 15


def test_the_national_rollup_has_counts_and_no_one_in_it(
    synced: str, field_day: FieldDay, tmp_path: Path
) -> None:
    made = run(
        "district", "rollup", synced, "--authority", field_day.folder / "authority",
        "--out", tmp_path / "rollup",
    )  # fmt: skip
    assert made.exit_code == EXIT_OK, made.output
    (path,) = (tmp_path / "rollup").iterdir()
    assert path.name == "rollup-3505.json" and path.stat().st_mode & 0o077 == 0
    entry = json.loads(path.read_text(encoding="utf-8"))
    figures = figures_of(synced, field_day)
    assert entry["coverage"]["recorded"] == figures.district.recorded
    assert entry["coverage"]["registered"] == 180
    assert entry["cards"]["printed"] == sum(k.ledger["printed"] for k in field_day.kits)
    assert entry["cards"]["kits"] == 3
    text = path.read_text(encoding="utf-8")
    for kit in field_day.kits:
        for person in kit.worklist:
            assert person.nik not in text and person.name not in text


def test_a_sqlite_store_gives_the_same_figures(synced: str, field_day: FieldDay, tmp_path):
    """One code path: the same sync and report on SQLite agree with PostgreSQL."""
    lite = f"sqlite:///{tmp_path / 'district.db'}"
    sync_day(lite, field_day)
    got, want = figures_of(lite, field_day).as_map(), figures_of(synced, field_day).as_map()
    for made_when in ("generated_at", "sync_log"):  # the logs' statements carry their times
        got.pop(made_when), want.pop(made_when)
    assert got == want


def test_csv_cells_cannot_run_as_formulas() -> None:
    row = Coverage(Level.VILLAGE, "3505", '=HYPERLINK("x")', "+SUM(A1)", "@cmd", 3, 1)
    figures = Figures(datetime(2025, 6, 1, tzinfo=UTC), 15, coverage=[row])
    rows = list(csv.reader(io.StringIO(to_csv(figures))))
    assert rows[1][3:6] == ['\'=HYPERLINK("x")', "'+SUM(A1)", "'@cmd"]
    assert rows[1][6:8] == ["3", "1"], "numbers stay numbers"
    assert rollup(figures) == {}, "no kabupaten/kota row, no roll-up file"
    assert date(2025, 6, 1).isoformat() in figures.as_map()["generated_at"]


def test_export_of_the_store_verifies_as_kit_folders(
    synced: str, field_day: FieldDay, tmp_path: Path
) -> None:
    exported = run("export", "--db", synced, "--out", tmp_path / "out")
    assert exported.exit_code == EXIT_OK, exported.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(k["kit_id"] for k in manifest["kits"]) == [k.kit_id for k in field_day.kits]
    checked = run("verify", tmp_path / "out", "--authority", field_day.folder / "authority")
    assert checked.exit_code == EXIT_OK, checked.output
    assert "all 15 record(s) of 3 kit(s) verify" in checked.stdout


def test_the_store_keeps_keyed_references_only(synced: str, field_day: FieldDay) -> None:
    """Worklist lines and records meet on HMAC-SHA256 under the authority's key: no NIK,
    no unkeyed SHA-256 of one (the NIK space is small enough to hash through)."""
    key = field_day.authority.references
    residents = [r for kit in field_day.kits for r in kit.worklist]
    keyed = {key.keyed(r.worklist_ref or "") for r in residents}
    unkeyed = {
        hashlib.sha256(b"jemput-worklist-ref\0" + r.nik.encode()).digest() for r in residents
    }
    with DistrictStore.open(synced) as store, store.engine.connect() as c:
        held = {row[0] for row in c.execute(sql_text("SELECT ref_digest FROM residents"))}
        on_records = c.execute(sql_text("SELECT ref_digest, walk_in, data FROM records")).all()
    assert held == keyed and not held & unkeyed
    assert {digest for digest, walk_in, _ in on_records if not walk_in} <= keyed
    assert all(digest is None for digest, walk_in, _ in on_records if walk_in)
    for _, _, data in on_records:
        assert not any(r.nik.encode() in bytes(data) for r in residents)


def test_records_keyed_by_another_authority_match_nobody(
    field_day: FieldDay, tmp_path: Path
) -> None:
    """Worklists keyed under a key other than the records': every resident counts as not
    recorded, and no record is taken for someone else."""
    lite = f"sqlite:///{tmp_path / 'district.db'}"
    sync_day(lite, field_day, references=ReferenceKey.generate())
    figures = figures_of(lite, field_day)
    assert figures.records == 15
    assert (figures.district.registered, figures.district.recorded) == (180, 0)
