"""The district figures as table rows, CSV, JSON and the national roll-up files.

Why CSV cells are guarded: an office opens the CSV in a spreadsheet, and a place name
that begins with ``=``, ``+``, ``-`` or ``@`` would run as a formula there; such cells get
a leading apostrophe, which the spreadsheet shows as text.  The roll-up carries counts
per place and per kit only, never a record or a reference, so it may travel by e-mail.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from provisioning.district.figures import Figures, FleetFlag, Level
from storage.files import write_atomic
from vocabulary.language import Language

COVERAGE_COLUMNS = (
    "level",
    "regency_code",
    "regency",
    "kecamatan",
    "village",
    "registered",
    "recorded",
    "printed",
    "excepted",
    "missing",
    "walk_ins",
    "share_recorded",
)
CARD_COLUMNS = (
    "kit_id",
    "region",
    "loaded",
    "printed",
    "spoiled",
    "unknown",
    "share_used",
    "flagged",
)
DAY_COLUMNS = ("day", "kit_id", "records", "printed", "excepted", "walk_ins")
FLEET_COLUMNS = (
    "kit_id",
    "region",
    "version",
    "pico_version",
    "minimum",
    "collected_at",
    "days",
    "stock",
    "battery_percent",
    "battery_millivolts",
    "drift",
    "flags",
)
#: The fleet table's title, headings and flags in (Bahasa Indonesia, English): a terminal
#: and the HTML page show them in the report's language; CSV and JSON keep the names.
FLEET_TITLE = ("Armada kit", "Kit fleet")
FLEET_HEADINGS: dict[str, tuple[str, str]] = {
    "kit_id": ("kit", "kit"),
    "region": ("wilayah", "region"),
    "version": ("versi", "version"),
    "pico_version": ("versi Pico", "Pico version"),
    "minimum": ("minimum", "minimum"),
    "collected_at": ("terakhir dikumpulkan", "last collected"),
    "days": ("hari", "days"),
    "stock": ("stok blangko", "cards left"),
    "battery_percent": ("baterai %", "battery %"),
    "battery_millivolts": ("baterai mV", "battery mV"),
    "drift": ("selisih jam (dtk)", "clock drift (s)"),
    "flags": ("tanda", "flags"),
}
FLAG_WORDS: dict[FleetFlag, tuple[str, str]] = {
    FleetFlag.BEHIND: ("versi tertinggal", "behind on version"),
    FleetFlag.BELOW_MINIMUM: ("di bawah versi minimum", "below the minimum version"),
    FleetFlag.STALE: ("lama tak dikumpulkan", "not collected lately"),
    FleetFlag.DRIFT: ("jam bergeser", "clock drifted"),
    FleetFlag.REVOKED: ("dicabut", "revoked"),
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


#: The terminal table's coverage columns: one place name instead of level and four names.
TABLE_COVERAGE_COLUMNS = ("place", *COVERAGE_COLUMNS[5:])
#: Short headings so the coverage table fits 80 columns (the CSV and JSON keep full names).
HEADINGS = {
    "registered": "reg",
    "recorded": "rec",
    "printed": "card",
    "excepted": "exc",
    "missing": "miss",
    "walk_ins": "walk",
    "share_recorded": "%",
}
DISTRICT_PLACE = "(district)"


def place(row: dict[str, Any]) -> str:
    """The most specific name of a coverage row's place; villages indented under kecamatan."""
    if row["level"] == Level.VILLAGE:
        return "  " + row["village"]
    if row["level"] == Level.KECAMATAN:
        return "KEC. " + row["kecamatan"]
    return row["regency"] or DISTRICT_PLACE


def in_language(pair: tuple[str, str], language: Language) -> str:
    """The Bahasa Indonesia or the English of a (Bahasa Indonesia, English) pair."""
    return pair[0] if language is Language.ID else pair[1]


def fleet_rows(figures: Figures, language: Language) -> list[dict[str, Any]]:
    """The fleet section's rows with each kit's flags as words of ``language``."""
    return [
        {
            **kit.as_map(),
            "flags": ", ".join(in_language(FLAG_WORDS[flag], language) for flag in kit.flags),
        }
        for kit in figures.fleet
    ]


def table_sections(
    figures: Figures, language: Language = Language.ID
) -> list[tuple[str, Sequence[str], list[dict[str, Any]]]]:
    """`sections` for a terminal: coverage rows named by their place only, the fleet's
    flags in ``language``."""
    parts = sections(figures)
    title, _, rows = parts[0]
    parts[0] = (title, TABLE_COVERAGE_COLUMNS, [{**row, "place": place(row)} for row in rows])
    parts[-1] = ("fleet", FLEET_COLUMNS, fleet_rows(figures, language))
    return parts


def cells(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> Iterator[list[object]]:
    for row in rows:
        yield [row[column] for column in columns]


def sections(figures: Figures) -> list[tuple[str, Sequence[str], list[dict[str, Any]]]]:
    """(title, columns, rows) of each part of the report, from the figures' one map."""
    data = figures.as_map()
    return [
        ("coverage", COVERAGE_COLUMNS, data["coverage"]),
        ("cards", CARD_COLUMNS, data["cards"]),
        ("days", DAY_COLUMNS, data["days"]),
        (
            "fleet",
            FLEET_COLUMNS,
            [{**kit, "flags": " ".join(kit["flags"])} for kit in data["fleet"]["kits"]],
        ),
    ]


def _safe(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(figures: Figures) -> str:
    """Each section under a ``section`` column, so one file holds the whole report."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    for title, columns, rows in sections(figures):
        writer.writerow(["section", *columns])
        for row in cells(rows, columns):
            writer.writerow([title, *(_safe(cell) for cell in row)])
    return out.getvalue()


def to_json(figures: Figures) -> str:
    return json.dumps(figures.as_map(), indent=2, ensure_ascii=False)


def rollup(figures: Figures) -> dict[str, dict[str, Any]]:
    """Per kabupaten/kota code: its counts, its kecamatan's and its kits' cards."""
    data = figures.as_map()
    files: dict[str, dict[str, Any]] = {}
    for row in data["coverage"]:
        if row["level"] == Level.KABKOTA:
            files[row["regency_code"]] = {
                "regency_code": row["regency_code"],
                "regency": row["regency"],
                "generated_at": data["generated_at"],
                "coverage": {k: row[k] for k in COVERAGE_COLUMNS[5:]},
                "kecamatan": [
                    {"kecamatan": k["kecamatan"], **{c: k[c] for c in COVERAGE_COLUMNS[5:]}}
                    for k in data["coverage"]
                    if k["level"] == Level.KECAMATAN and k["regency_code"] == row["regency_code"]
                ],
                "cards": {c: 0 for c in ("kits", "loaded", "printed", "spoiled", "unknown")},
                "kits_below_threshold": 0,
                "threshold": data["threshold"],
            }
    for kit in data["cards"]:
        entry = files.get(kit["region"][:4])
        if kit["kit_id"] is None or entry is None:
            continue
        entry["cards"]["kits"] += 1
        for column in ("loaded", "printed", "spoiled", "unknown"):
            entry["cards"][column] += kit[column]
        entry["kits_below_threshold"] += kit["flagged"]
    return files


def write_rollup(figures: Figures, folder: str | os.PathLike[str]) -> list[Path]:
    """One ``rollup-<code>.json`` per kabupaten/kota in ``folder`` (counts only)."""
    out = Path(folder)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    for code, entry in sorted(rollup(figures).items()):
        path = out / f"rollup-{code}.json"
        text = json.dumps(entry, indent=2, ensure_ascii=False) + "\n"
        write_atomic(path, text.encode("utf-8"), replace=True)
        written.append(path)
    return written
