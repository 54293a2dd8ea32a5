"""The district report as the page an office head shows the bupati: key figures, charts of
coverage per kecamatan and per village, blank cards per kabupaten/kota and per kit, days,
and every table, printable on A4.

Why no script and no CDN: the page must open on an office computer without a network,
and a page that only draws from its own numbers cannot show a figure the JSON lacks.  It
is rendered from `Figures.as_map()`, the very map `--format json` prints, which is also
embedded in the page (``<script type="application/json" id="figures">``) for anyone who
wants the numbers back.  The charts are inline SVG drawn here, on the server, from the same
map; a Content-Security-Policy forbids the page to load or run anything.

Why the tables are generic: each is a `provisioning.columns.Table` of
`provisioning.district.formats.TABLES`, so a table added there is on the page with its
headings in both languages; a chart is added beside it in `_CHARTS`.  Numbers are written
the reader's way (``1.575``, ``27,0%`` in Bahasa Indonesia, the default).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from itertools import groupby
from typing import Any

from provisioning.columns import Table
from provisioning.district.figures import Figures, Level
from provisioning.district.formats import DAY, log_text, read_sections
from vocabulary.language import Language, Words, count, local_time, share

Data = dict[str, Any]

TITLE = Words("Laporan perekaman KTP-el", "e-KTP enrolment report")
MADE = Words("Dibuat {when}", "Made {when}")
OF = Words("dari", "of")
SHARE_LINE = Words(
    "{recorded} dari {registered} penduduk terdaftar sudah merekam",
    "{recorded} of {registered} registered residents recorded",
)
WALK_IN_LINE = Words("merekam di luar daftar", "walk-ins recorded")
PRINTED_LINE = Words("kartu KTP-el dicetak di lokasi", "e-KTP cards printed on site")
FLAG_LINE = Words(
    "{regencies} dari {all_regencies} kabupaten/kota dan {kits} dari {all_kits} kit mencetak "
    "kurang dari {threshold} kartu",
    "{regencies} of {all_regencies} kabupaten/kota and {kits} of {all_kits} kits printed "
    "fewer than {threshold} cards",
)
BELOW = Words("di bawah ambang", "below threshold")
THRESHOLD = Words("ambang {threshold} kartu", "threshold {threshold} cards")
RECORDED_KEY = Words("sudah merekam", "recorded")
WALK_IN_KEY = Words("di luar daftar", "walk-ins")
PRINTED_KEY = Words("kartu dicetak", "cards printed")
LOADED_KEY = Words("blangko dimuat, belum dicetak", "blanks loaded, not printed")
CHART_TITLES = {
    "kecamatan": Words("Cakupan per kecamatan", "Coverage per kecamatan"),
    "village": Words("Cakupan per kelurahan/desa", "Coverage per kelurahan/desa"),
    "cards-kabkota": Words("Blangko per kabupaten/kota", "Blank cards per kabupaten/kota"),
    "cards-kit": Words("Blangko per kit", "Blank cards per kit"),
    "days": Words("Perekaman per hari", "Records per day"),
}
FOOTER = Words(
    "Angka dari catatan yang ditandatangani kit dan otoritas, diperiksa ulang sebelum "
    "dihitung. Rekaman: {records}; cabang rantai (kit tergandakan): {forks}; {log}.",
    "Figures from what the kits and the authority signed, verified again before counting. "
    "Records: {records}; forks (cloned kits): {forks}; {log}.",
)

#: The chart's drawing, in CSS pixels; A4 portrait less the print margins is about 700.
WIDTH = 680
LABEL = 190
VALUE = 200
ROW = 20
COLOURS = {"main": "#1f6fb2", "second": "#e69f00", "rest": "#d9d9d9", "flag": "#c0392b"}
STYLE = """
@page{size:A4 portrait;margin:14mm 12mm}
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px auto;max-width:720px;color:#222}
h1{font-size:22px;margin:0}h2{font-size:17px;margin:26px 0 6px;border-bottom:2px solid #1f6fb2}
h3{font-size:13px;margin:10px 0 2px}h3.group{font-size:12px;color:#444;margin:6px 0 0}
.made{color:#555;font-size:12px;margin:2px 0 14px}
.tiles{display:flex;gap:10px;flex-wrap:wrap}
.tile{flex:1 1 150px;border:1px solid #ccc;border-radius:4px;padding:8px}
.tile .big{font-size:26px;font-weight:bold;display:block}
.tile.flag .big{color:#c0392b}
figure{margin:6px 0;break-inside:avoid}
svg{width:100%;height:auto}svg text{font-size:11px;font-family:inherit}
svg .flag text.value{fill:#c0392b;font-weight:bold}
.legend{font-size:11px;color:#444;margin:2px 0}
.swatch{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
table{border-collapse:collapse;font-size:10px;width:100%;margin-top:8px}
td,th{border:1px solid #ccc;padding:2px 4px}td.text,td.day{white-space:nowrap}
#findings td.text{white-space:normal}#rounds td.text,#round_groups td.text{white-space:pre}
#round_names td[data-field=place]{white-space:normal}
td.count,td.share,th{text-align:right}td.text,td.day,td.flag,th.text,th.day,th.flag{text-align:left}
tr.flagged td{background:#fde2e2}
tr.level-district td,tr.level-kabkota td,tr.level-kecamatan td{font-weight:bold}
tr.level-village td:first-child{padding-left:14px}
footer{font-size:10px;color:#555;margin-top:20px}
@media print{
 body{margin:0;max-width:none}
 h2,h3{break-after:avoid}
 thead{display:table-header-group}
 tr{break-inside:avoid}
 .tile{break-inside:avoid}
 tr.flagged td{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""


@dataclass(frozen=True)
class Bar:
    """One bar: the row it shows (``key``), stacked ``parts`` (a colour of `COLOURS` and a
    length in the chart's units), and its figure as written beside it."""

    key: str
    label: str
    parts: tuple[tuple[str, float], ...]
    value: str
    flagged: bool = False


def _chart(name: str, bars: Sequence[Bar], top: float, *, marker: float | None = None) -> str:
    """Horizontal bars scaled to ``top``; ``marker`` draws the threshold across them."""
    height = ROW * len(bars) + 6
    scale = (WIDTH - LABEL - VALUE) / top if top else 0.0
    parts = [
        f'<svg class="chart" id="chart-{escape(name)}" xmlns="http://www.w3.org/2000/svg"'
        f' role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}">'
    ]
    if marker is not None:  # under the bars and their figures, which stay readable
        x = LABEL + marker * scale
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height}" stroke="#333"'
            ' stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    for i, bar in enumerate(bars):
        y = 3 + i * ROW
        # a long name is squeezed to fit, never cut: a village is known by its whole name
        squeeze = f' textLength="{LABEL - 8}" lengthAdjust="spacingAndGlyphs"' * (
            len(bar.label) > 32
        )
        x = float(LABEL)
        segments = []
        for fill, part in bar.parts:
            length = max(part * scale, 0.0)
            segments.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{length:.1f}" height="{ROW - 6}"'
                f' fill="{COLOURS[fill]}"/>'
            )
            x += length
        parts.append(
            f'<g class="bar{" flag" * bar.flagged}" data-key="{escape(bar.key)}">'
            f'<text class="label" x="0" y="{y + 14}"{squeeze}>{escape(bar.label)}</text>'
            f"{''.join(segments)}"
            f'<text class="value" x="{x + 5:.1f}" y="{y + 14}">{escape(bar.value)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _legend(language: Language, *entries: tuple[str, Words]) -> str:
    shown = "".join(
        f'<span class="swatch" style="background:{COLOURS[fill]}"></span>{escape(words(language))}'
        for fill, words in entries
    )
    return f'<p class="legend">{shown}</p>'


def _figure(name: str, language: Language, body: str) -> str:
    title = escape(CHART_TITLES[name](language))
    return f'<figure><h3 id="title-{name}">{title}</h3>{body}</figure>'


def _coverage_bar(row: Data, label: str, language: Language) -> Bar:
    value = (
        f"{share(row['share_recorded'] or 0.0, language)} "
        f"({count(row['recorded'], language)} {OF(language)} {count(row['registered'], language)})"
    )
    return Bar(label, label, (("main", row["share_recorded"] or 0.0),), value)


def _coverage_charts(data: Data, language: Language) -> list[str]:
    """Share recorded per kecamatan, then per village, one chart per kecamatan (so a
    printed page breaks between kecamatan, never through a chart)."""
    rows = [r for r in data["coverage"] if r["registered"]]
    kecamatan = [_coverage_bar(r, r["kecamatan"], language) for r in rows
                 if r["level"] == Level.KECAMATAN]  # fmt: skip
    charts = [_figure("kecamatan", language, _chart("kecamatan", kecamatan, 100.0))]
    villages = [r for r in rows if r["level"] == Level.VILLAGE]
    groups: list[str] = []
    for (_, name), members in groupby(villages, key=lambda r: (r["regency_code"], r["kecamatan"])):
        bars = [_coverage_bar(r, r["village"], language) for r in members]
        groups.append(
            f'<h3 class="group">Kec. {escape(name)}</h3>'
            + _chart(f"village-{len(groups)}", bars, 100.0)
        )
    charts.append(_figure("village", language, "".join(groups)))
    return charts


def _cards_bar(row: Data, label: str, language: Language) -> Bar:
    value = f"{count(row['printed'], language)} / {count(row['loaded'], language)}"
    if row["flagged"]:
        value += f" · {BELOW(language)}"
    rest = max(row["loaded"] - row["printed"], 0)
    used = "flag" if row["flagged"] else "main"
    return Bar(label, label, ((used, row["printed"]), ("rest", rest)), value, row["flagged"])


def _cards_charts(data: Data, language: Language) -> list[str]:
    """Cards printed of those loaded, per kabupaten/kota and per kit, the threshold drawn."""
    threshold = data["threshold"]
    charts = []
    for level, name, label in (
        (Level.KABKOTA, "cards-kabkota", "regency"),
        (Level.KIT, "cards-kit", "kit_id"),
    ):
        rows = [r for r in data["cards"] if r["level"] == level]
        top = float(max([threshold, *(r["loaded"] for r in rows)]))
        bars = [_cards_bar(r, r[label], language) for r in rows]
        charts.append(_figure(name, language, _chart(name, bars, top, marker=threshold)))
    legend = (
        _legend(language, ("main", PRINTED_KEY), ("rest", LOADED_KEY), ("flag", BELOW))
        + f'<p class="legend">- - - {escape(THRESHOLD(language).format(threshold=threshold))}</p>'
    )
    return [*charts, legend]


def _days_chart(data: Data, language: Language) -> list[str]:
    """Records per day of the whole store: registered residents, then walk-ins."""
    rows = [d for d in data["days"] if d["kit_id"] is None]
    top = float(max([1, *(d["recorded"] + d["walk_ins"] for d in rows)]))
    bars = [
        Bar(
            d["day"],
            DAY.cell(d["day"], language),
            (("main", d["recorded"]), ("second", d["walk_ins"])),
            f"{count(d['recorded'], language)} + {count(d['walk_ins'], language)}",
        )
        for d in rows
    ]
    return [
        _figure("days", language, _chart("days", bars, top)),
        _legend(language, ("main", RECORDED_KEY), ("second", WALK_IN_KEY)),
    ]


#: The charts drawn above each table, by the table's name.
_CHARTS: dict[str, Callable[[Data, Language], list[str]]] = {
    "coverage": _coverage_charts,
    "cards": _cards_charts,
    "days": _days_chart,
}


def _table(table: Table, rows: list[Data], language: Language) -> str:
    head = "".join(
        f'<th class="{column.kind.value}">{escape(heading)}</th>'
        for column, heading in zip(table.columns, table.headings(language), strict=True)
    )
    body = []
    for row in rows:
        classes = f"level-{row['level']}" if "level" in row else ""
        classes += " flagged" * bool(row.get("flagged"))
        cells = "".join(
            f'<td class="{column.kind.value}" data-field="{escape(column.key)}">{escape(text)}</td>'
            for column, text in zip(table.columns, table.cells(row, language), strict=True)
        )
        body.append(f'<tr class="{classes.strip()}">{cells}</tr>')
    return (
        f'<table id="{table.name}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _tiles(data: Data, language: Language) -> str:
    total = next(r for r in data["coverage"] if r["level"] == Level.DISTRICT)
    cards = data["cards"]
    regencies = [c for c in cards if c["level"] == Level.KABKOTA]
    kits = [c for c in cards if c["level"] == Level.KIT]
    flagged = sum(c["flagged"] for c in regencies)  # the figure the bupati asks about
    flags = FLAG_LINE(language).format(
        regencies=count(flagged, language),
        all_regencies=count(len(regencies), language),
        kits=count(sum(c["flagged"] for c in kits), language),
        all_kits=count(len(kits), language),
        threshold=count(data["threshold"], language),
    )
    recorded = SHARE_LINE(language).format(
        recorded=count(total["recorded"], language),
        registered=count(total["registered"], language),
    )
    shown = "-" if total["share_recorded"] is None else share(total["share_recorded"], language)
    tiles = (
        ("share", shown, recorded, False),
        ("walk-ins", count(total["walk_ins"], language), WALK_IN_LINE(language), False),
        ("printed", count(total["printed"], language), PRINTED_LINE(language), False),
        ("flagged", count(flagged, language), flags, flagged > 0),
    )
    return (
        '<div class="tiles">'
        + "".join(
            f'<div class="tile{" flag" * alarm}"><span class="big" id="{name}">{escape(big)}</span>'
            f'<span id="{name}-line">{escape(line)}</span></div>'
            for name, big, line, alarm in tiles
        )
        + "</div>"
    )


def render(figures: Figures, language: Language = Language.ID) -> str:
    """The whole page; every number on it comes from ``figures.as_map()``."""
    data = figures.as_map()
    body = [
        f"<h1>{escape(TITLE(language))}</h1>",
        f'<p class="made" id="made">'
        f"{escape(MADE(language).format(when=local_time(figures.generated_at, language)))}</p>",
        _tiles(data, language),
    ]
    for table, rows in read_sections(figures, language):
        body.append(f'<section id="section-{table.name}"><h2>{escape(table.title(language))}</h2>')
        body.extend(_CHARTS.get(table.name, lambda _data, _language: [])(data, language))
        body.append(_table(table, rows, language) + "</section>")
    footer = FOOTER(language).format(
        records=count(data["records"], language),
        forks=count(data["forks"], language),
        log=log_text(figures, language),
    )
    body.append(f'<footer id="footer">{escape(footer)}</footer>')
    figures_json = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return (
        f'<!DOCTYPE html><html lang="{language.value}"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>{escape(TITLE(language))}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(body)}"
        f'<script type="application/json" id="figures">{figures_json}</script>'
        "</body></html>\n"
    )


__all__ = ["render"]
