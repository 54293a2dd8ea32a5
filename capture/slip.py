"""The receipt slip a resident takes home when no card could be printed on the spot.

Blank cards are scarce, so many recordings end without a card; DESIGN.md promises the
person a slip then, never nothing.  The slip names the person (the NIK masked, since
slips get lost), the record number, date and kit, why no card was printed, where to
collect it, and a QR code of the record reference that the collection office scans.

The image is mode "1", :data:`SLIP_WIDTH` dots wide (a 58 mm thermal printer at
203 dpi), as tall as its content.  Text uses the same bundled font as the card.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import segno
from PIL import Image, ImageDraw

from capture.card import font, printable, wrap

SLIP_WIDTH = 384  # dots: 48 mm printable on 58 mm paper at 8 dots/mm
MARGIN = 8
TEXT_WIDTH = SLIP_WIDTH - 2 * MARGIN
TITLE_SIZE = 26
LABEL_SIZE = 18
VALUE_SIZE = 22
LINE_PITCH = 1.25
ITEM_GAP = 6
RULE_GAP = 10
BOTTOM_FEED = 24  # blank paper after the last line so the tear bar misses the text

#: QR modules: at most 6 dots (0.75 mm) each, at least 2 for a phone to read them.
QR_MAX_SCALE = 6
QR_MIN_SCALE = 2
QR_BORDER = 4  # the quiet zone the QR standard requires, in modules
QR_ERROR = "m"

PAPER = 1
INK = 0

#: The slip's wording per language; Bahasa Indonesia is the default.
TEXTS: dict[str, dict[str, str]] = {
    "id": {
        "title": "TANDA BUKTI PEREKAMAN KTP-EL",
        "name": "Nama",
        "nik": "NIK",
        "record": "Nomor perekaman",
        "date": "Tanggal",
        "kit": "Kit",
        "reason": "Kartu belum dicetak karena",
        "collect": "Ambil kartu di",
        "reference": "Referensi",
        "keep": "Simpan tanda bukti ini dan bawa saat mengambil kartu.",
    },
    "en": {
        "title": "KTP-EL RECORDING RECEIPT",
        "name": "Name",
        "nik": "NIK",
        "record": "Record number",
        "date": "Date",
        "kit": "Kit",
        "reason": "No card was printed because",
        "collect": "Collect the card at",
        "reference": "Reference",
        "keep": "Keep this receipt and bring it when you collect the card.",
    },
}


class _Line(NamedTuple):
    text: str
    size: int
    centred: bool = False
    bold: bool = False


def mask_nik(nik: str) -> str:
    """``nik`` with every character but the last four replaced by "*".

    A lost slip must not give away a NIK; the last four digits are enough for the
    resident and the collection office to tell slips apart.  Four or fewer characters
    are masked entirely.
    """
    nik = nik.strip()
    shown = nik[-4:] if len(nik) > 4 else ""
    return "*" * (len(nik) - len(shown)) + shown


def _pitch(size: int) -> int:
    return round(size * LINE_PITCH)


def _wrapped(text: str, size: int, **style: bool) -> list[_Line]:
    return [_Line(line, size, **style) for line in wrap(text, size, TEXT_WIDTH)]


def _qr(reference: str) -> tuple[segno.QRCode, int]:
    """The QR code of ``reference`` and the largest scale that fits the paper."""
    problem = (
        f"the reference ({len(reference)} characters) makes a QR code too large to scan on "
        f"a {SLIP_WIDTH}-dot slip; use a shorter record reference"
    )
    try:
        code = segno.make(reference, error=QR_ERROR, micro=False)
    except segno.DataOverflowError as exc:
        raise ValueError(problem) from exc
    modules = int(code.symbol_size(scale=1, border=QR_BORDER)[0])
    scale = min(QR_MAX_SCALE, TEXT_WIDTH // modules)
    if scale < QR_MIN_SCALE:
        raise ValueError(problem)
    return code, scale


def _draw_lines(draw: ImageDraw.ImageDraw, lines: list[_Line], top: int) -> int:
    """Draw ``lines`` from ``top``; returns the y below the last one."""
    for line in lines:
        x = SLIP_WIDTH / 2 if line.centred else MARGIN
        draw.text(
            (x, top),
            line.text,
            font=font(line.size),
            fill=INK,
            anchor="ma" if line.centred else "la",
            stroke_width=1 if line.bold else 0,
            stroke_fill=INK,
        )
        top += _pitch(line.size)
    return top


def render_slip(
    *,
    name: str,
    nik: str,
    record_seq: int,
    kit_id: str,
    when: datetime,
    reference: str,
    collect_at: str,
    reason: str,
    language: str = "id",
) -> Image.Image:
    """The receipt slip as a mode "1" image :data:`SLIP_WIDTH` dots wide.

    ``image.info["qr_box"]`` holds the (left, top, right, bottom) of the QR code with
    its quiet zone, so a test or a preview can find it.
    """
    if language not in TEXTS:
        raise ValueError(
            f"no slip wording for language {language!r}; use one of {', '.join(TEXTS)}"
        )
    text = TEXTS[language]
    title = _wrapped(text["title"], TITLE_SIZE, centred=True, bold=True)
    items = [
        (text["name"], printable(name)),
        (text["nik"], mask_nik(nik)),
        (text["record"], f"{record_seq:06d}"),
        (text["date"], f"{when:%d-%m-%Y %H:%M}"),
        (text["kit"], printable(kit_id)),
        (text["reason"], printable(reason, upper=False)),
        (text["collect"], printable(collect_at, upper=False)),
    ]
    body: list[list[_Line]] = [
        _wrapped(label, LABEL_SIZE) + _wrapped(value, VALUE_SIZE, bold=True)
        for label, value in items
    ]
    code, scale = _qr(reference)
    qr_side = int(code.symbol_size(scale=scale, border=QR_BORDER)[0])
    after_qr = _wrapped(f"{text['reference']}: {printable(reference)}", LABEL_SIZE, centred=True)
    after_qr += _wrapped(text["keep"], LABEL_SIZE, centred=True)

    def height(lines: list[_Line]) -> int:
        return sum(_pitch(line.size) for line in lines)

    total = (
        MARGIN
        + height(title)
        + 2 * RULE_GAP
        + sum(height(item) + ITEM_GAP for item in body)
        + qr_side
        + height(after_qr)
        + BOTTOM_FEED
    )
    slip = Image.new("1", (SLIP_WIDTH, total), PAPER)
    draw = ImageDraw.Draw(slip)
    y = _draw_lines(draw, title, MARGIN) + RULE_GAP
    draw.line([(MARGIN, y), (SLIP_WIDTH - MARGIN, y)], fill=INK, width=2)
    y += RULE_GAP
    for item in body:
        y = _draw_lines(draw, item, y) + ITEM_GAP

    left = (SLIP_WIDTH - qr_side) // 2
    offset = QR_BORDER * scale
    for row, modules in enumerate(code.matrix):
        for column, dark in enumerate(modules):
            if dark:
                x0 = left + offset + column * scale
                y0 = y + offset + row * scale
                draw.rectangle([x0, y0, x0 + scale - 1, y0 + scale - 1], fill=INK)
    slip.info["qr_box"] = (left, y, left + qr_side, y + qr_side)
    _draw_lines(draw, after_qr, y + qr_side)
    return slip
