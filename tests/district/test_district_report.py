"""The district report equals what the kits did: three kits, two laptops, one district.

The expected numbers come from the kits themselves (each officer's outcomes and each
kit's own card ledger), never from the store; the HTML page is opened in Debian's
headless Chromium and its figures read back from the DOM Chromium built.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import text as sql_text
from typer.testing import CliRunner

from provisioning.cli import EXIT_OK, EXIT_USER_ERROR, app
from provisioning.district.cli import print_tables
from provisioning.district.figures import (
    CARD_THRESHOLD,
    Cards,
    Coverage,
    Figures,
    Level,
    report_figures,
)
from provisioning.district.formats import (
    READ_ROUND_GROUPS,
    READ_ROUND_NAMES,
    READ_ROUNDS,
    ROUND_NAME_WIDTH,
    reading_order,
    rollup,
    to_csv,
)
from provisioning.district.html import render
from provisioning.district.round_figures import RoundFigures, rolled_up
from provisioning.district.server import LocalCluster
from provisioning.district.store import DistrictStore
from storage.keys import Authority
from storage.model import ROUND_CODE
from storage.reference import ReferenceKey
from tests.district.conftest import FieldDay, sync_day
from tests.district.test_district_rounds import HOME_VISIT, SMA_ROUND
from vocabulary.language import Language

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
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
    cards = {c.kit_id: c for c in figures.cards if c.level is Level.KIT}
    for kit in field_day.kits:
        row = cards[kit.kit_id]
        assert (row.loaded, row.printed, row.spoiled, row.unknown) == (
            kit.ledger["loaded"],
            kit.ledger["printed"],
            kit.ledger["spoiled"],
            kit.ledger["unresolved"],
        ), kit.kit_id
        assert row.flagged == (kit.ledger["printed"] < threshold)
    assert {c.flagged for c in cards.values()} == {True, False}
    (regency,) = [c for c in figures.cards if c.level is Level.KABKOTA]
    assert (regency.region, regency.regency, regency.kits) == ("3505", "KABUPATEN BLITAR", 3)
    assert regency.printed == sum(c.printed for c in cards.values())
    assert regency.flagged == (regency.printed < threshold) is False
    total = figures.district_cards
    assert total.loaded == sum(k.cards.size for k in field_day.kits) == 33
    assert total.printed == sum(o.printed == "card" for o in outcomes)
    assert total.share_used == round(100 * total.printed / total.loaded, 1)

    per_kit = Counter({kit.kit_id: len(kit.outcomes) for kit in field_day.kits})
    days, walk_ins_per_day = Counter(), Counter()
    for day in figures.days:
        days[day.kit_id] += day.recorded + day.walk_ins
        walk_ins_per_day[day.kit_id] += day.walk_ins
    assert days.pop(None) == 15 and days == per_kit
    assert walk_ins_per_day[None] == district.walk_ins, "one figure for walk-ins"


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
    district_line = next(line for line in table.stdout.splitlines() if "(seluruh" in line)
    assert table.exit_code == EXIT_OK
    share = f"{data['coverage'][-1]['share_recorded']:.1f}%"
    assert f" {share.replace('.', ',')} " in district_line, "Bahasa Indonesia by default"
    villages = {(r["kecamatan"], r["village"]) for r in data["coverage"] if r["level"] == "village"}
    under, shown = "", set()
    for line in table.stdout.split("└")[0].splitlines():  # the coverage table
        name = line.split("│")[1].strip() if "│" in line else ""
        if name.startswith("KEC. "):
            under = name[5:]
        elif line.startswith("│   ") and name != "(di luar daftar)":
            shown.add((under, name))
    assert shown == {v for v in villages if v[0]}, "each kecamatan above its villages"
    assert "…" not in table.stdout, "80 columns hold every name"
    log = data["sync_log"]
    assert f"log sinkron: {log['statements']} pernyataan, terakhir {log['head']}" in table.stdout
    english = run("district", "report", synced, "--authority", authority, "--language", "en")
    assert "% recorded" not in english.stdout, "the terminal has the short headings"
    assert f" {share} " in next(line for line in english.stdout.splitlines() if "(all" in line)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Debian's headless Chromium through its chromedriver; nothing is downloaded."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


#: How the page writes each kind of cell (its td's class) in Bahasa Indonesia, and the JSON
#: value that text stands for: 1.575, 27,0%, 14-03-2026, ya / tidak; text as it is.
INDONESIAN: dict[str, tuple[str, Callable[[str], Any]]] = {
    "count": (r"\d{1,3}(\.\d{3})*", lambda t: int(t.replace(".", ""))),
    "share": (r"\d{1,3},\d%", lambda t: float(t[:-1].replace(",", "."))),
    "day": (r"\d\d-\d\d-\d{4}", lambda t: date(int(t[6:]), int(t[3:5]), int(t[:2])).isoformat()),
    "flag": (r"ya|tidak", lambda t: t == "ya"),
    "text": (r".*", str),
}


def read_back(kind: str, text: str) -> Any:
    """A cell's or a chart's number as the JSON value it shows; its format checked."""
    if text == "-":
        return None
    pattern, value = INDONESIAN[kind]
    assert re.fullmatch(pattern, text), f"{text!r} is not a {kind} written the Indonesian way"
    return value(text)


#: The page's tables and charts as the browser built them: cells by data-field with their
#: kind, and each bar's key, value text and flag.
READ_PAGE = """
const tables = {};
for (const table of document.querySelectorAll('table')) {
  tables[table.id] = [...table.tBodies[0].rows].map(tr => Object.fromEntries(
    [...tr.cells].map(td => [td.dataset.field, [td.className, td.textContent]])));
}
const charts = {};
for (const svg of document.querySelectorAll('svg.chart')) {
  const name = svg.id.replace(/^chart-/, '').replace(/-\\d+$/, '');
  charts[name] = (charts[name] || []).concat([...svg.querySelectorAll('g.bar')].map(g => ({
    key: g.dataset.key, label: g.querySelector('text.label').textContent,
    value: g.querySelector('text.value').textContent,
    flagged: g.classList.contains('flag')})));
}
const tiles = Object.fromEntries([...document.querySelectorAll('.tile .big')]
  .map(span => [span.id, span.textContent]));
return {tables, charts, tiles};
"""


def name_of(row: dict[str, Any]) -> str:
    """The name a row of the page's coverage or cards table must show."""
    return row.get("kit_id") or row.get("village") or row.get("kecamatan") or row["regency"]


def check_charts(charts: dict[str, list[dict[str, Any]]], data: dict[str, Any]) -> None:
    """Every bar is its JSON row's numbers, in the JSON's order, written the Indonesian way."""
    covered = [row for row in data["coverage"] if row["registered"]]
    for name, level, key in (
        ("kecamatan", "kecamatan", "kecamatan"),
        ("village", "village", "village"),
    ):
        rows = [row for row in covered if row["level"] == level]
        assert [bar["key"] for bar in charts[name]] == [row[key] for row in rows], name
        for bar, row in zip(charts[name], rows, strict=True):
            shown, recorded, registered = re.fullmatch(
                r"(\S+) \((\S+) dari (\S+)\)", bar["value"]
            ).groups()
            assert read_back("share", shown) == row["share_recorded"]
            assert (read_back("count", recorded), read_back("count", registered)) == (
                row["recorded"], row["registered"],
            )  # fmt: skip
    for name, level, key in (
        ("cards-kabkota", "kabkota", "regency"),
        ("cards-kit", "kit", "kit_id"),
    ):
        rows = [row for row in data["cards"] if row["level"] == level]
        assert [bar["key"] for bar in charts[name]] == [row[key] for row in rows], name
        for bar, row in zip(charts[name], rows, strict=True):
            printed, loaded, below = re.fullmatch(
                r"(\S+) / (\S+)( · di bawah ambang)?", bar["value"]
            ).groups()
            assert (read_back("count", printed), read_back("count", loaded)) == (
                row["printed"], row["loaded"],
            )  # fmt: skip
            assert bar["flagged"] == bool(below) == row["flagged"], bar
    days = [row for row in data["days"] if row["kit_id"] is None]
    assert [read_back("day", bar["label"]) for bar in charts["days"]] == [d["day"] for d in days]
    for bar, row in zip(charts["days"], days, strict=True):
        recorded, walk_ins = bar["value"].split(" + ")
        assert (read_back("count", recorded), read_back("count", walk_ins)) == (
            row["recorded"], row["walk_ins"],
        )  # fmt: skip


def check_print(browser: WebDriver) -> None:
    """On A4 paper: nothing wider than the page, A4 pages, a handful of them."""
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        # A4's 210 mm less the page's 2 x 12 mm margins, at CSS's 96 px per inch
        {
            "width": round((210 - 24) / 25.4 * 96),
            "height": 1000,
            "deviceScaleFactor": 1,
            "mobile": False,
        },
    )
    widths = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the printed page is wider than A4: {widths}"
    pdf = base64.b64decode(
        browser.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})["data"]
    )
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert boxes and all(
        abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in boxes
    ), "A4 portrait, 210 x 297 mm in points"
    assert 1 <= len(boxes) <= 6, f"{len(boxes)} pages for three kits"


def test_the_html_page_in_chromium_shows_the_json_figures(
    synced: str, field_day: FieldDay, tmp_path: Path, browser: WebDriver
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

    browser.get(page.as_uri())
    shown = browser.execute_script(READ_PAGE)
    for section in ("coverage", "cards", "days"):
        rows = shown["tables"][section]
        expected = reading_order(data[section]) if section == "coverage" else data[section]
        assert len(rows) == len(expected) > 0, section
        for cells, row in zip(rows, expected, strict=True):
            numbers = {k: read_back(kind, text) for k, (kind, text) in cells.items() if k in row}
            assert numbers == {k: row[k] for k in numbers}, section
            if (
                "place" in cells
                and row["level"] != "district"
                and row.get("village") != "(walk-in)"
            ):
                assert name_of(row) in cells["place"][1], section
    check_charts(shown["charts"], data)
    district = data["coverage"][-1]
    assert read_back("share", shown["tiles"]["share"]) == district["share_recorded"]
    assert read_back("count", shown["tiles"]["walk-ins"]) == district["walk_ins"]
    check_print(browser)


#: The SMA round under a code as long as a code may be, at a place with a long name.
LONG_ROUND = replace(
    SMA_ROUND,
    code="SMAN1-KANIGORO-BLITAR-2026-11-23",
    place="Pondok Pesantren Terpadu Darul Ulum Al-Hikmah Kanigoro Kabupaten Blitar",
)


def rounds_figures(sma: RoundFigures = SMA_ROUND) -> Figures:
    """The two rounds of `tests.district.test_district_rounds`, added up as the report does
    (with the whole store's coverage row, which the page's tiles show)."""
    rounds = rolled_up([sma, HOME_VISIT])
    district = Coverage(Level.DISTRICT, "", "", "", "", 0, 0)
    return Figures(
        datetime(2026, 11, 24, tzinfo=UTC), CARD_THRESHOLD, coverage=[district], rounds=rounds
    )


def terminal_table(text: str, title: str) -> tuple[list[str], list[list[str]]]:
    """A table of the terminal report, by its title: its headings' line, and each line of
    its body, as cells without their padding (a round's place keeps its indent)."""

    def cells(line: str, bar: str) -> list[str]:
        return [cell[1:].rstrip() for cell in line.split(bar)[1:-1]]

    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.rstrip() == title)
    body = lines[at + 4 :]
    end = next(i for i, line in enumerate(body) if line.startswith("└"))
    return cells(lines[at + 2], "┃"), [cells(line, "│") for line in body[:end]]


#: Each line's name in both rounds tables: a round's code over its place (a home visit's
#: venue kind), then per venue kind, kecamatan, day and all rounds.
ROUND_NAMES = {
    Language.ID: ["23-11-2026", "(semua putaran)"],
    Language.EN: ["2026-11-23", "(all rounds)"],
}


def in_80_columns(figures: Figures, language: Language) -> str:
    """The report's tables in an 80-column terminal, each line within it and nothing cut
    (a cut value would end in "…")."""
    shown = io.StringIO()
    print_tables(Console(file=shown, width=80), figures, language)
    text = shown.getvalue()
    assert max(cell_len(line) for line in text.splitlines()) <= 80, text
    assert "…" not in text, text
    return text


def test_the_rounds_fit_80_terminal_columns_in_either_language() -> None:
    """Every heading and value whole on its line, within 80 columns: a cut one would end
    in "…", a wrapped one would take a line of its own."""
    figures = rounds_figures()
    rows = [row.as_map() for row in figures.rounds]
    for language, last in ROUND_NAMES.items():
        text = in_80_columns(figures, language)
        for table in (READ_ROUNDS, READ_ROUND_GROUPS):
            headings, lines = terminal_table(text, table.title(language))
            assert headings == table.headings(language, short=True), text
            assert [line[0] for line in lines] == [
                "KR-KNG-1123", "  kunjungan rumah", "SMA1-KNG-1123", "  SMA Negeri 1 Kanigoro",
                "kunjungan rumah", "sekolah", "KEC. KANIGORO", "KEC. SANANKULON", *last,
            ]  # fmt: skip
            counted = [line[1:] for line in lines if line[1]]  # a round's place: no counts
            assert counted == [[str(row[key]) for key in table.keys[1:]] for row in rows]


def test_a_long_round_code_or_place_is_marked_and_listed_in_full_under_the_tables() -> None:
    """A 32-character code and a long place would wrap or be cut in the rounds tables: the
    round is named there by its mark over its venue kind, and listed under them in full."""
    assert len(LONG_ROUND.code) == 32 and ROUND_CODE.fullmatch(LONG_ROUND.code)
    figures = rounds_figures(LONG_ROUND)
    rows = [row.as_map() for row in figures.rounds]
    for language in Language:
        text = in_80_columns(figures, language)
        for table in (READ_ROUNDS, READ_ROUND_GROUPS):
            _, lines = terminal_table(text, table.title(language))
            names = [line[0] for line in lines]
            assert names[:4] == ["KR-KNG-1123", "  kunjungan rumah", "[1]", "  sekolah"], text
            assert len(names) == len(rows) + 2, "every name on its line(s), none wrapped"
            counted = [line[1:] for line in lines if line[1]]
            assert counted == [[str(row[key]) for key in table.keys[1:]] for row in rows]
        headings, legend = terminal_table(text, READ_ROUND_NAMES.title(language))
        assert headings == READ_ROUND_NAMES.headings(language, short=True)
        assert legend[0][:2] == ["[1]", LONG_ROUND.code], text
        assert all(line[:2] == ["", ""] for line in legend[1:]), "one round marked"
        assert " ".join(line[2] for line in legend) == LONG_ROUND.place, text


def test_a_round_name_as_wide_as_the_tables_allow_stays_unmarked_and_fits() -> None:
    """`ROUND_NAME_WIDTH` is what fits: a code and a place that wide keep their lines."""
    code = "SMA1-KANIGORO-" + "9" * (ROUND_NAME_WIDTH - 14)
    sma = replace(SMA_ROUND, code=code, place="P" * (ROUND_NAME_WIDTH - 2))
    for language in Language:
        shown = io.StringIO()
        print_tables(Console(file=shown, width=80), rounds_figures(sma), language)
        text = shown.getvalue()
        assert max(cell_len(line) for line in text.splitlines()) <= 80, text
        assert "…" not in text and READ_ROUND_NAMES.title(language) not in text, text
        for table in (READ_ROUNDS, READ_ROUND_GROUPS):
            _, lines = terminal_table(text, table.title(language))
            assert [line[0] for line in lines][2:4] == [code, "  " + sma.place], text


@pytest.mark.parametrize("sma", [SMA_ROUND, LONG_ROUND], ids=["short", "long"])
def test_the_rounds_fit_the_a4_page(browser: WebDriver, tmp_path: Path, sma: RoundFigures) -> None:
    """Both rounds tables on the page, each row with every column, within A4's width; a
    round too long to name there listed under them, its code and place in full."""
    for language in Language:
        figures, page = rounds_figures(sma), tmp_path / f"rounds-{language.value}.html"
        page.write_text(render(figures, language), encoding="utf-8")
        browser.get(page.as_uri())
        tables = browser.execute_script(READ_PAGE)["tables"]
        for table in (READ_ROUNDS, READ_ROUND_GROUPS):
            rows = tables[table.name]
            assert [set(row) for row in rows] == [set(table.keys)] * len(figures.rounds)
        marked = tables.get(READ_ROUND_NAMES.name, [])
        assert [{k: text for k, (_, text) in row.items()} for row in marked] == (
            [{"mark": "[1]", "code": sma.code, "place": sma.place}] if sma is LONG_ROUND else []
        )
        check_print(browser)


def test_the_page_writes_numbers_the_way_its_reader_reads_them() -> None:
    """Thousands and decimals as an Indonesian office writes them, English as the option;
    a kabupaten/kota below the threshold is flagged like a kit."""
    rows = [
        Coverage(Level.VILLAGE, "3505", "KABUPATEN BLITAR", "KANIGORO", "SAWENTAR", 5_833, 1_575),
        Coverage(Level.DISTRICT, "", "", "", "", 5_833, 1_575),
    ]
    cards = [Cards(Level.KABKOTA, None, "3505", "KABUPATEN BLITAR", 2, 40, 9, flagged=True)]
    figures = Figures(datetime(2026, 3, 14, 2, tzinfo=UTC), 15, coverage=rows, cards=cards)
    bahasa, english = render(figures), render(figures, Language.EN)
    assert "1.575" in bahasa and "27,0%" in bahasa and "1,575" not in bahasa
    assert "1,575" in english and "27.0%" in english and "27,0%" not in english
    assert "1 dari 1 kabupaten/kota dan 0 dari 0 kit mencetak kurang dari 15 kartu" in bahasa
    assert "9 / 40 · di bawah ambang" in bahasa


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


def test_another_authority_is_named_in_one_line(synced: str, field_day: FieldDay, tmp_path):
    """Every row of the store fails under another key; the one mistake is the folder."""
    other = tmp_path / "other"
    Authority.init(other, name="Dukcapil Kediri")
    kid = field_day.authority.public.kid.hex()
    for command in (("verify", "--db", synced), ("report", "--db", synced)):
        result = run(*command, "--authority", other)
        assert result.exit_code == EXIT_USER_ERROR, result.output
        (line,) = result.stderr.splitlines()
        assert "nothing here is of authority 'Dukcapil Kediri'" in line
        assert f"signed by authority key {kid}" in line


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
