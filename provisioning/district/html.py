"""The district report as one HTML page an office head opens offline: tables and SVG charts.

Why no script and no CDN: the page must open on an office computer without a network,
and a page that only draws from its own numbers cannot show a figure the JSON lacks.  It
is rendered from `Figures.as_map()`, the very map `--format json` prints, which is also
embedded in the page (``<script type="application/json" id="figures">``) for anyone who
wants the numbers back.  Headings are in Bahasa Indonesia with English beside them; the
fleet table speaks the report's ``--language`` (Bahasa Indonesia unless English is asked).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import Any

from provisioning.district.figures import Figures, Level
from provisioning.district.formats import (
    FLEET_HEADINGS,
    FLEET_TITLE,
    fleet_rows,
    in_language,
    sections,
)
from vocabulary.language import Language

TITLES = {
    "coverage": "Cakupan perekaman / Coverage",
    "cards": "Blangko KTP-el per kit / Blank cards per kit",
    "days": "Per hari / Per day",
}
BAR_WIDTH = 360
ROW_HEIGHT = 18
STYLE = """
body{font-family:sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
td.text,th{text-align:left}
tr.flagged td{background:#fde2e2}
tr.level-district td,tr.level-kabkota td{font-weight:bold}
svg text{font-size:11px;font-family:sans-serif}
.big{font-size:28px;font-weight:bold}
"""


def _cell(column: str, value: Any) -> str:
    shown = "-" if value is None else str(value)
    kind = "num" if isinstance(value, (int, float)) and not isinstance(value, bool) else "text"
    return f'<td class="{kind}" data-field="{escape(column)}">{escape(shown)}</td>'


def _table(
    name: str,
    columns: Sequence[str],
    rows: list[dict[str, Any]],
    headings: dict[str, str] | None = None,
) -> str:
    """A table of ``rows``; each column headed by ``headings`` or by its name."""
    head = "".join(f"<th>{escape((headings or {}).get(c, c))}</th>" for c in columns)
    body = []
    for row in rows:
        classes = []
        if row.get("flagged"):
            classes.append("flagged")
        if "level" in row:
            classes.append(f"level-{row['level']}")
        cells = "".join(_cell(column, row[column]) for column in columns)
        body.append(f'<tr class="{" ".join(classes)}">{cells}</tr>')
    return (
        f'<table id="{name}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _bars(name: str, bars: list[tuple[str, float, float | None]], unit: str, top: float) -> str:
    """Horizontal bars (label, value, optional marker) scaled to ``top``."""
    label_width = 170
    height = ROW_HEIGHT * len(bars) + 10
    parts = [
        f'<svg id="{name}" xmlns="http://www.w3.org/2000/svg" role="img"'
        f' width="{label_width + BAR_WIDTH + 70}" height="{height}">'
    ]
    scale = BAR_WIDTH / top if top else 0
    for i, (label, value, marker) in enumerate(bars):
        y = 5 + i * ROW_HEIGHT
        width = max(value * scale, 0)
        parts.append(
            f'<text x="0" y="{y + 12}">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 2}" width="{width:.1f}" height="{ROW_HEIGHT - 5}"'
            f' fill="#2b7bb9" data-value="{value}"/>'
            f'<text x="{label_width + width + 4:.1f}" y="{y + 12}">{value:g}{unit}</text>'
        )
        if marker is not None:
            x = label_width + marker * scale
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y}" y2="{y + ROW_HEIGHT}"'
                ' stroke="#c0392b" stroke-width="2"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def render(figures: Figures, language: Language = Language.ID) -> str:
    """The whole page; every number on it comes from ``figures.as_map()``."""
    data = figures.as_map()
    district = next(row for row in data["coverage"] if row["level"] == Level.DISTRICT)
    share = district["share_recorded"]
    villages = [r for r in data["coverage"] if r["level"] == Level.VILLAGE and r["registered"]]
    kits = [c for c in data["cards"] if c["kit_id"] is not None]
    day_rows = [d for d in data["days"] if d["kit_id"] is None]
    charts = {
        "coverage": _bars(
            "chart-coverage",
            [(f"{r['kecamatan']} / {r['village']}", r["share_recorded"] or 0.0, None)
             for r in villages],
            "%",
            100.0,
        ),
        "cards": _bars(
            "chart-cards",
            [(k["kit_id"], float(k["printed"]), float(data["threshold"])) for k in kits],
            "",
            float(max([data["threshold"], *(k["loaded"] for k in kits)])),
        ),
        "days": _bars(
            "chart-days",
            [(d["day"], float(d["records"]), None) for d in day_rows],
            "",
            float(max([1, *(d["records"] for d in day_rows)])),
        ),
    }  # fmt: skip
    body = [
        "<h1>Laporan perekaman KTP-el kabupaten/kota / District enrolment report</h1>",
        f'<p>Dibuat / generated <span id="generated">{escape(data["generated_at"])}</span>; '
        f'ambang blangko / card threshold <span id="threshold">{data["threshold"]}</span>; '
        f'rekaman / records <span id="records">{data["records"]}</span>; '
        f'cabang rantai / forks <span id="forks">{data["forks"]}</span>; '
        f'log sinkron / sync log <span id="sync-log">{escape(figures.log_line)}</span></p>',
        f'<p class="big"><span id="share">{"-" if share is None else share}</span>% '
        "sudah merekam / recorded</p>",
    ]
    for name, columns, rows in sections(figures):
        if name == "fleet":
            headings = {c: in_language(FLEET_HEADINGS[c], language) for c in columns}
            body.append(f"<h2>{escape(in_language(FLEET_TITLE, language))}</h2>")
            body.append(_table(name, columns, fleet_rows(figures, language), headings))
            continue
        body.append(f"<h2>{escape(TITLES[name])}</h2>")
        body.append(charts[name])
        body.append(_table(name, columns, rows))
    figures_json = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return (
        '<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>Laporan perekaman / District report</title><style>{STYLE}</style></head>"
        f"<body>{''.join(body)}"
        f'<script type="application/json" id="figures">{figures_json}</script>'
        "</body></html>\n"
    )
