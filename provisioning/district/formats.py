"""The district figures as tables: for the terminal, CSV, JSON and the national roll-up.

Why each table is one `provisioning.columns.Table`: its columns' keys are the CSV header
and the JSON keys, their headings the terminal's and the HTML page's, in either language,
so a table added to the report (`TABLES`, and its rows under its name in
`Figures.as_map`) appears in every format at once.

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provisioning.columns import (
    COVERAGE,
    DESA,
    EXCEPTED,
    KABKOTA,
    KECAMATAN,
    KIT,
    MISSING,
    NO_HEAD,
    NONE_SHOWN,
    PRINTED,
    RECORDED,
    WALK_INS,
    Column,
    Kind,
    Table,
)
from provisioning.district.figures import WALK_IN_VILLAGE, Figures, FleetFlag, Level
from provisioning.district.round_figures import RoundLevel
from provisioning.report import spreadsheet_safe
from storage.files import write_atomic
from vocabulary.language import Language, Words, count

ALL_AREAS = Words("seluruh wilayah", "all areas")
SYNC_LOG = Words(
    "log sinkron: {statements} pernyataan, terakhir {head}",
    "sync log: {statements} statement(s), head {head}",
)
LEVEL = Column(
    "level",
    Words("tingkat", "level"),
    Kind.TEXT,
    values={
        Level.KIT: Words("kit", "kit"),
        Level.VILLAGE: DESA,
        Level.KECAMATAN: KECAMATAN,
        Level.KABKOTA: KABKOTA,
        Level.DISTRICT: ALL_AREAS,
    },
)
REGENCY = Column("regency", KABKOTA, Kind.TEXT)
VILLAGE = Column(
    "village", DESA, Kind.TEXT, values={WALK_IN_VILLAGE: Words("(di luar daftar)", "(walk-ins)")}
)
COVERAGE_TABLE = Table(
    "coverage",
    Words("Cakupan perekaman", "Enrolment coverage"),
    (
        LEVEL,
        Column("regency_code", Words("kode", "code"), Kind.TEXT),
        REGENCY,
        Column("kecamatan", KECAMATAN, Kind.TEXT),
        VILLAGE,
        *COVERAGE,
    ),
)
CARD_COUNTS = (
    Column("kits", Words("jumlah kit", "kits"), short=Words("kit", "kits")),
    Column("loaded", Words("blangko dimuat", "blanks loaded"), short=Words("muat", "load")),
    PRINTED,
    Column("spoiled", Words("blangko rusak", "spoiled"), short=Words("rusak", "spoil")),
    Column("unknown", Words("hasil tak diketahui", "outcome unknown"), short=Words("?", "?")),
    Column("share_used", Words("% terpakai", "% used"), Kind.SHARE, short=Words("%", "%")),
    Column(
        "flagged",
        Words("di bawah ambang", "below threshold"),
        Kind.FLAG,
        short=Words("ambang", "flag"),
    ),
)
REGION = Column(
    "region", Words("kode wilayah", "region code"), Kind.TEXT, short=Words("kode", "code")
)
CARDS_TABLE = Table(
    "cards", Words("Blangko KTP-el", "Blank cards"), (LEVEL, KIT, REGION, REGENCY, *CARD_COUNTS)
)
DAY = Column("day", Words("tanggal", "day"), Kind.DAY)
DAYS_TABLE = Table(
    "days",
    Words("Per hari", "Per day"),
    (
        DAY,
        KIT,
        RECORDED,
        WALK_INS,
        PRINTED,
        EXCEPTED,
    ),
)
#: Each flag of the fleet table as a yes/no column, keyed by the flag's value.
FLEET_FLAGS = {
    FleetFlag.BEHIND: Words("versi tertinggal", "behind on version"),
    FleetFlag.BELOW_MINIMUM: Words("di bawah versi minimum", "below the minimum version"),
    FleetFlag.STALE: Words("lama tak dikumpulkan", "not collected lately"),
    FleetFlag.DRIFTED: Words("jam bergeser", "clock drifted"),
    FleetFlag.REVOKED: Words("dicabut", "revoked"),
}
#: The same flags in a word or two, for the table people read (terminal and page).
FLAG_SHORT = {
    FleetFlag.BEHIND: Words("tertinggal", "behind"),
    FleetFlag.BELOW_MINIMUM: Words("di bawah minimum", "below minimum"),
    FleetFlag.STALE: Words("lama", "stale"),
    FleetFlag.DRIFTED: Words("jam bergeser", "clock off"),
    FleetFlag.REVOKED: Words("dicabut", "revoked"),
}
VERSION = Column("version", Words("versi", "version"), Kind.TEXT)
DAYS_SINCE = Column("days", Words("hari sejak", "days since"), short=Words("hari", "days"))
STOCK = Column("stock", Words("sisa blangko", "blanks left"), short=Words("sisa", "left"))
BATTERY = Column("battery_percent", Words("baterai %", "battery %"), short=Words("bat%", "bat%"))
DRIFT = Column("drift", Words("selisih jam (detik)", "clock drift (s)"), short=Words("jam", "clk"))
FLEET_TABLE = Table(
    "fleet",
    Words("Armada kit", "Kit fleet"),
    (
        KIT,
        Column("region", Words("wilayah", "region"), Kind.TEXT),
        VERSION,
        Column("pico_version", Words("versi Pico", "Pico version"), Kind.TEXT),
        Column("minimum", Words("minimum", "minimum"), Kind.TEXT),
        Column(
            "collected_at",
            Words("terakhir dikumpulkan", "last collected"),
            Kind.TEXT,
            short=Words("dikumpulkan", "collected"),
        ),
        DAYS_SINCE,
        STOCK,
        BATTERY,
        Column("battery_millivolts", Words("baterai mV", "battery mV"), short=Words("mV", "mV")),
        DRIFT,
        *(Column(flag.value, words, Kind.FLAG) for flag, words in FLEET_FLAGS.items()),
        Column("flagged", Words("ditandai", "flagged"), Kind.FLAG),
    ),
)
#: The fleet as people read it (80 columns, A4): its flags named in one column.
FLAGS = Column("flags", Words("tanda", "flags"), Kind.TEXT)
READ_FLEET = Table(
    FLEET_TABLE.name, FLEET_TABLE.title, (KIT, VERSION, DAYS_SINCE, STOCK, BATTERY, DRIFT, FLAGS)
)
ROUND_LEVEL = Column(
    "level",
    Words("tingkat", "level"),
    Kind.TEXT,
    values={
        RoundLevel.ROUND: Words("putaran", "round"),
        RoundLevel.VENUE: Words("jenis lokasi", "venue kind"),
        RoundLevel.KECAMATAN: KECAMATAN,
        RoundLevel.DAY: Words("hari", "day"),
        RoundLevel.ALL: Words("semua putaran", "all rounds"),
    },
)
#: A round's list: who was on it, left out or without a NIK, and who of it was recorded.
ROUND_LISTS = (
    Column("listed", Words("dalam daftar", "listed"), short=Words("daftar", "list")),
    Column(
        "left_out",
        Words("sudah terekam, ditinggalkan", "left out, recorded"),
        short=Words("lewat", "left"),
    ),
    Column("no_nik", Words("tanpa NIK", "no NIK"), short=Words("-NIK", "-NIK")),
    RECORDED,
    PRINTED,
    MISSING,
)
ROUND_RECORDS = Column("records", Words("rekaman", "records"))
#: The groups among the records naming a round (`vocabulary.rounds.Group`).
ROUND_GROUPS = (
    Column(
        "first_voter", Words("pemilih pemula", "first-time voters"), short=Words("pemula", "1st")
    ),
    Column("kia", Words("KIA", "KIA")),
    Column("domicile", Words("domisili", "domicile")),
    Column("disability", Words("disabilitas", "disability"), short=Words("difabel", "disab")),
)
#: The rounds (`provisioning.district.round_figures`): each round, then per venue kind,
#: kecamatan and day; the list's counts, the records naming the round, and its groups.
ROUNDS_TABLE = Table(
    "rounds",
    Words("Jemput bola per lokasi dan kelompok", "Rounds by venue and group"),
    (
        ROUND_LEVEL,
        Column("code", Words("kode", "code"), Kind.TEXT),
        Column("venue", Words("jenis lokasi", "venue kind"), Kind.TEXT),
        Column("place", Words("lokasi", "place"), Kind.TEXT),
        Column("kecamatan", KECAMATAN, Kind.TEXT),
        DAY,
        Column("rounds", Words("putaran", "rounds")),
        *ROUND_LISTS,
        ROUND_RECORDS,
        WALK_INS,
        *ROUND_GROUPS,
    ),
)
#: After the day (docs/office.md): each village's cards on their way, each kabupaten/kota's
#: blank cards by serial, each holder's serials, and every finding with what to do.
REGENCY_CODE = Column("regency_code", Words("kode", "code"), Kind.TEXT)
PIPELINE_TABLE = Table(
    "pipeline",
    Words("Kartu setelah perekaman, per desa", "Cards after the recording, per village"),
    (
        REGENCY_CODE,
        Column("kecamatan", KECAMATAN, Kind.TEXT),
        VILLAGE,
        RECORDED,
        Column("printed", Words("kartu dicetak", "cards printed"), short=Words("cetak", "card")),
        Column("handed", Words("diserahkan ke desa", "handed over"), short=Words("desa", "hand")),
        Column("received", Words("diterima warga", "received"), short=Words("terima", "recv")),
        Column("returned", Words("dikembalikan", "returned"), short=Words("kembali", "back")),
        Column("waiting", Words("menunggu kantor", "waiting"), short=Words("tunggu", "wait")),
        Column(
            "oldest_waiting_days",
            Words("hari tertua belum diterima", "oldest not received, days"),
            short=Words("hari", "days"),
        ),
    ),
)
#: The pipeline as people read it (terminal, page): each row named by its village alone.
READ_PIPELINE = Table(
    PIPELINE_TABLE.name,
    PIPELINE_TABLE.title,
    (Column("place", DESA, Kind.TEXT), *PIPELINE_TABLE.columns[3:]),
)
USED = Column("share_used", Words("% terpakai", "% used"), Kind.SHARE, short=Words("%", "%"))
BELOW_THRESHOLD = Column(
    "flagged", Words("di bawah ambang", "below threshold"), Kind.FLAG, short=Words("ambang", "flag")
)
SPOILED = Column("spoiled", Words("blangko rusak", "spoiled"), short=Words("rusak", "spoil"))
REGENCY_CARDS_TABLE = Table(
    "regency_cards",
    Words(
        "Blangko per kabupaten/kota, menurut nomor seri",
        "Blank cards per kabupaten/kota, by serial",
    ),
    (
        REGENCY_CODE,
        REGENCY,
        Column(
            "registered", Words("blangko terdaftar", "registered"), short=Words("daftar", "reg")
        ),
        Column("handed_out", Words("diserahkan", "handed out"), short=Words("serah", "out")),
        PRINTED,
        SPOILED,
        USED,
        BELOW_THRESHOLD,
    ),
)
HOLDERS_TABLE = Table(
    "blank_holders",
    Words("Nomor seri blangko per pemegang", "Blank serials per holder"),
    (
        Column("holder", Words("pemegang", "holder"), Kind.TEXT),
        Column("regency", Words("kode kabupaten/kota", "kabupaten/kota code"), Kind.TEXT),
        Column("assigned", Words("diserahkan", "assigned"), short=Words("serah", "got")),
        PRINTED,
        SPOILED,
        Column("unknown", Words("hasil tak diketahui", "outcome unknown"), short=Words("?", "?")),
        Column("held", Words("masih dipegang", "still held"), short=Words("pegang", "held")),
        Column("returned", Words("dikembalikan", "returned"), short=Words("kembali", "back")),
    ),
)
FINDINGS_TABLE = Table(
    "findings",
    Words("Temuan dan yang dilakukan", "Findings and what to do"),
    (
        Column("kind", Words("jenis", "kind"), Kind.TEXT),
        Column("what", Words("temuan", "what"), Kind.TEXT),
        Column("todo", Words("yang dilakukan", "what to do"), Kind.TEXT),
    ),
)
#: The report's tables, in the order every format shows them.
TABLES = (
    COVERAGE_TABLE,
    CARDS_TABLE,
    DAYS_TABLE,
    ROUNDS_TABLE,
    PIPELINE_TABLE,
    REGENCY_CARDS_TABLE,
    HOLDERS_TABLE,
    FINDINGS_TABLE,
    FLEET_TABLE,
)
#: The tables people read (terminal, page) name a row by one place or kit instead of the
#: level and four names.
PLACE = Column("place", Words("wilayah", "place"), Kind.TEXT)
READ_COVERAGE = Table(COVERAGE_TABLE.name, COVERAGE_TABLE.title, (PLACE, *COVERAGE))
READ_CARDS = Table(
    CARDS_TABLE.name,
    CARDS_TABLE.title,
    (
        Column(
            "place",
            Words("kit / wilayah", "kit / place"),
            Kind.TEXT,
            short=Words("kit/wilayah", "kit/place"),
        ),
        REGION,
        *CARD_COUNTS,
    ),
)


#: The rounds as people read them (terminal, page), in two tables of 80 columns: each
#: round's list and who of it was recorded, then the records naming the round, their
#: walk-ins and groups.  A row is named by one round, venue kind, kecamatan or day
#: (`round_place`).
ROUND_PLACE = Column(
    "place",
    Words("putaran / lokasi", "round / place"),
    Kind.TEXT,
    short=Words("putaran/lokasi", "round/place"),
)
READ_ROUNDS = Table(
    ROUNDS_TABLE.name,
    Words("Jemput bola: daftar dan yang terekam", "Rounds: their lists and who was recorded"),
    (ROUND_PLACE, *ROUND_LISTS),
)
READ_ROUND_GROUPS = Table(
    "round_groups",
    Words("Jemput bola: rekaman per kelompok", "Rounds: records by group"),
    (ROUND_PLACE, ROUND_RECORDS, WALK_INS, *ROUND_GROUPS),
)
#: Characters a round's name may take on a line of the two tables above and both still
#: fit 80 terminal columns (and the A4 page): a code of up to 32 (`storage.model.ROUND_CODE`)
#: or a place of up to 200 (`storage.rounds.TEXT_MAX`) does not.
ROUND_NAME_WIDTH = 23
#: A round whose code or place is longer is named in the tables by a mark, "[1]", over its
#: venue kind, and listed in full under them, its code and its place: nothing is cut.
READ_ROUND_NAMES = Table(
    "round_names",
    Words("Jemput bola: putaran bertanda di atas", "Rounds: those marked above"),
    (
        Column("mark", Words("tanda", "mark"), Kind.TEXT),
        Column("code", Words("kode putaran", "round code"), Kind.TEXT),
        Column("place", Words("lokasi", "place"), Kind.TEXT),
    ),
)


def place(row: dict[str, Any], language: Language) -> str:
    """The most specific name of a row's kit or place; villages indented under kecamatan."""
    if row["level"] == Level.KIT:
        return str(row["kit_id"])
    if row["level"] == Level.VILLAGE:
        return "  " + VILLAGE.cell(row["village"], language)
    if row["level"] == Level.KECAMATAN:
        return "KEC. " + row["kecamatan"]
    return row["regency"] or f"({ALL_AREAS(language)})"


def round_place(row: dict[str, Any], language: Language, mark: int | None = None) -> str:
    """A rounds row's name: a round's code over its place (its venue kind when it names
    none, as a home visit), or its ``mark`` over its venue kind when either is too long
    (`round_marks`); a venue kind, a kecamatan, a day, or all rounds."""
    if row["level"] == RoundLevel.ROUND and mark is not None:
        return f"[{mark}]\n  {row['venue']}"
    if row["level"] == RoundLevel.ROUND:
        return f"{row['code']}\n  {row['place'] or row['venue']}"
    if row["level"] == RoundLevel.VENUE:
        return str(row["venue"])
    if row["level"] == RoundLevel.KECAMATAN:
        return "KEC. " + row["kecamatan"]
    if row["level"] == RoundLevel.DAY:
        return DAY.cell(row["day"], language)
    return f"({ROUND_LEVEL.cell(row['level'], language)})"


def _village(row: dict[str, Any], language: Language) -> str:
    return VILLAGE.cell(row["village"], language)


def round_marks(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The rounds (by code) whose code or place does not fit `ROUND_NAME_WIDTH`, each with
    its mark, numbered from 1 in the rows' order."""
    long = [
        row["code"]
        for row in rows
        if row["level"] == RoundLevel.ROUND
        and max(len(row["code"]), 2 + len(row["place"] or row["venue"])) > ROUND_NAME_WIDTH
    ]
    return {code: number for number, code in enumerate(long, start=1)}


def _read_rounds(
    rows: list[dict[str, Any]], language: Language
) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The two rounds tables, each row named by one round (`round_place`), and under them
    the rounds marked there, by code and place in full, if any is."""
    marks = round_marks(rows)
    named = [{**row, "place": round_place(row, language, marks.get(row["code"]))} for row in rows]
    shown = [(READ_ROUNDS, named), (READ_ROUND_GROUPS, named)]
    by_code = {row["code"]: row for row in rows if row["level"] == RoundLevel.ROUND}
    listed = [
        {
            "mark": f"[{mark}]",
            "code": code,
            "place": by_code[code]["place"] or by_code[code]["venue"],
        }
        for code, mark in marks.items()
    ]
    return [*shown, (READ_ROUND_NAMES, listed)] if listed else shown


#: Per table that people read otherwise: the tables they read, and the name of a row.
_READ: dict[str, tuple[tuple[Table, ...], Callable[[dict[str, Any], Language], str]]] = {
    COVERAGE_TABLE.name: ((READ_COVERAGE,), place),
    CARDS_TABLE.name: ((READ_CARDS,), place),
    PIPELINE_TABLE.name: ((READ_PIPELINE,), _village),
}


def log_text(figures: Figures, language: Language) -> str:
    """The audited sync log's length and head, to compare with a report sent before."""
    return SYNC_LOG(language).format(
        statements=count(figures.log_length, language), head=figures.log_head or NO_HEAD(language)
    )


def sections(figures: Figures) -> list[tuple[Table, list[dict[str, Any]]]]:
    """Each table of the report with its rows, from the figures' one map."""
    data = figures.as_map()
    return [(table, data[table.name]) for table in TABLES]


def reading_order(coverage: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Coverage rows as people read them: per kabupaten/kota each kecamatan followed by its
    villages, then its walk-ins and its total; the whole store last.  (`Figures` lists all
    villages before all kecamatan, which CSV and JSON keep.)"""

    def key(row: dict[str, Any]) -> tuple[int, str, str, int, str, int, str]:
        if row["level"] == Level.DISTRICT:
            return (1, "", "", 0, "", 0, "")
        part = 2 if row["level"] == Level.KABKOTA else 0 if row["kecamatan"] else 1
        within = 0 if row["level"] == Level.KECAMATAN else 1
        return (
            0,
            row["regency"],
            row["regency_code"],
            part,
            row["kecamatan"],
            within,
            row["village"],
        )

    return sorted(coverage, key=key)


def read_sections(figures: Figures, language: Language) -> list[tuple[Table, list[dict[str, Any]]]]:
    """`sections` for people (terminal, page): coverage, card, round and pipeline rows
    named by one kit, place or round only, coverage in `reading_order`; the rounds, in two
    tables, only once one is planned."""
    shown = []
    for table, rows in sections(figures):
        if table is FLEET_TABLE:
            shown.append(
                (READ_FLEET, [{**row, "flags": flag_words(row, language)} for row in rows])
            )
            continue
        if table is ROUNDS_TABLE:
            shown.extend(_read_rounds(rows, language) if rows else ())  # none: nothing to read
            continue
        if table is COVERAGE_TABLE:
            rows = reading_order(rows)
        if table.name not in _READ:
            shown.append((table, rows))
            continue
        tables, name = _READ[table.name]
        named = [{**row, "place": name(row, language)} for row in rows]
        shown.extend((read, named) for read in tables)
    return shown


def flag_words(row: dict[str, Any], language: Language) -> str:
    """A fleet row's flags in a word or two each, or none shown."""
    named = [words(language) for flag, words in FLAG_SHORT.items() if row[flag.value]]
    return ", ".join(named) or NONE_SHOWN


def to_csv(figures: Figures) -> str:
    """Each table under a ``section`` column, so one file holds the whole report."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    for table, rows in sections(figures):
        writer.writerow(["section", *table.keys])
        for cells in table.raw(rows):
            writer.writerow(
                [table.name, *(spreadsheet_safe("" if c is None else c) for c in cells)]
            )
    return out.getvalue()


def to_json(figures: Figures) -> str:
    return json.dumps(figures.as_map(), indent=2, ensure_ascii=False)


_COUNTS = tuple(column.key for column in COVERAGE)
_CARD_COUNTS = ("kits", "loaded", "printed", "spoiled", "unknown", "flagged")


def rollup(figures: Figures) -> dict[str, dict[str, Any]]:
    """Per kabupaten/kota code: its counts, its kecamatan's, its kits' cards and its blank
    cards by serial."""
    data = figures.as_map()
    files: dict[str, dict[str, Any]] = {}
    for row in data["coverage"]:
        if row["level"] == Level.KABKOTA:
            files[row["regency_code"]] = {
                "regency_code": row["regency_code"],
                "regency": row["regency"],
                "generated_at": data["generated_at"],
                "coverage": {k: row[k] for k in _COUNTS},
                "kecamatan": [
                    {"kecamatan": k["kecamatan"], **{c: k[c] for c in _COUNTS}}
                    for k in data["coverage"]
                    if k["level"] == Level.KECAMATAN and k["regency_code"] == row["regency_code"]
                ],
                "cards": {c: 0 for c in _CARD_COUNTS},
                "kits_below_threshold": 0,
                "threshold": data["threshold"],
            }
    for regency in data["regency_cards"]:
        if regency["regency_code"] in files:
            blanks = {c: regency[c] for c in REGENCY_CARDS_TABLE.keys[2:]}
            files[regency["regency_code"]]["blank_cards"] = blanks
    for cards in data["cards"]:
        entry = files.get(cards["region"][:4])
        if entry is None or cards["level"] == Level.DISTRICT:
            continue
        if cards["level"] == Level.KABKOTA:
            entry["cards"] = {c: cards[c] for c in _CARD_COUNTS}
        else:
            entry["kits_below_threshold"] += cards["flagged"]
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
