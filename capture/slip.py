"""The receipt slip a resident takes home when no card could be printed on the spot.

Blank cards are scarce, so many recordings end without a card; DESIGN.md promises the
person a slip then, never nothing.  The slip names the person (the NIK masked, since
slips get lost), the record number, date and kit, why no card was printed and what the
office will do next, where to collect it, and a QR code of the record reference that the
collection office scans.  Its words are the paper catalogue's (`capture.paper_texts`), in
Bahasa Indonesia: the slip goes home with the citizen whatever the display's language.

The image is mode "1", :data:`SLIP_WIDTH` dots wide (a 58 mm thermal printer at
203 dpi), as tall as its content.  Text uses the same bundled font as the card.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import segno
from PIL import Image, ImageDraw

from capture.card import font, printable, wrap
from capture.paper_texts import (
    SLIP_COMPANION,
    SLIP_KEEP,
    SLIP_LABELS,
    SLIP_REASONS,
    SLIP_TITLE,
    TRAINING_SLIP_BAND,
    TRAINING_WORD,
)
from capture.print_plan import SlipReason

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

#: A training slip: an inked band at the top and the bottom, and the outlined word
#: repeated slantwise over everything but the QR code, which stays scannable.
TRAINING_BAND_PAD = 8
WATERMARK_SIZE = 64
WATERMARK_STROKE = 2
WATERMARK_ANGLE = 30  # degrees
WATERMARK_EVERY = 150  # dots down the slip between two words


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


def _training_band(lines: list[_Line]) -> int:
    """The height of a training band holding ``lines``."""
    return sum(_pitch(line.size) for line in lines) + 2 * TRAINING_BAND_PAD


def _draw_band(slip: Image.Image, lines: list[_Line], top: int) -> None:
    """An inked band from ``top`` with ``lines`` in paper colour: what a real slip never has."""
    draw = ImageDraw.Draw(slip)
    bottom = top + _training_band(lines)
    draw.rectangle([0, top, SLIP_WIDTH - 1, bottom - 1], fill=INK)
    y = top + TRAINING_BAND_PAD
    for line in lines:
        draw.text(
            (SLIP_WIDTH / 2, y),
            line.text,
            font=font(line.size),
            fill=PAPER,
            anchor="ma",
            stroke_width=1 if line.bold else 0,
            stroke_fill=PAPER,
        )
        y += _pitch(line.size)


def _watermark(slip: Image.Image) -> None:
    """The training word, outlined and slanted, repeated down the whole slip.

    Outlined, not solid, so the text under it stays legible; the caller draws the QR
    code afterwards on clean paper.
    """
    face = font(WATERMARK_SIZE)
    box = face.getbbox(TRAINING_WORD, stroke_width=WATERMARK_STROKE)
    left, top, right, bottom = (round(edge) for edge in box)
    word = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(word).text(
        (-left, -top),
        TRAINING_WORD,
        font=face,
        fill=0,
        stroke_width=WATERMARK_STROKE,
        stroke_fill=255,
    )
    word = word.rotate(WATERMARK_ANGLE, expand=True)
    ink = Image.new("1", word.size, INK)
    x = (SLIP_WIDTH - word.width) // 2
    for y in range(0, slip.height, WATERMARK_EVERY):
        slip.paste(ink, (x, y - word.height // 2), word)


def render_slip(
    *,
    name: str,
    nik: str,
    record_seq: int,
    kit_id: str,
    when: datetime,
    reference: str,
    collect_at: str,
    reason: SlipReason,
    training: bool = False,
    companion: bool = False,
) -> Image.Image:
    """The receipt slip as a mode "1" image :data:`SLIP_WIDTH` dots wide.

    Always in Bahasa Indonesia (`capture.paper_texts`), whatever language the officer
    reads the display in.  A ``training`` kit's slip carries the LATIHAN mark: an inked
    band at the top and bottom and the word slanted over everything but the QR code.
    A ``companion`` who answered for the person is named as who confirmed the data (not
    by name: the slip gets lost).
    ``image.info["qr_box"]`` holds the (left, top, right, bottom) of the QR code with its
    quiet zone, so a test or a preview can find it.
    """
    title = _wrapped(SLIP_TITLE, TITLE_SIZE, centred=True, bold=True)
    why, then = SLIP_REASONS[reason]
    items = [
        (SLIP_LABELS["name"], printable(name)),
        (SLIP_LABELS["nik"], mask_nik(nik)),
        (SLIP_LABELS["record"], f"{record_seq:06d}"),
        (SLIP_LABELS["date"], f"{when:%d-%m-%Y %H:%M}"),
        (SLIP_LABELS["kit"], printable(kit_id)),
        *([(SLIP_LABELS["companion"], SLIP_COMPANION)] if companion else []),
        (SLIP_LABELS["reason"], why),
        (SLIP_LABELS["next"], then),
        (SLIP_LABELS["collect"], printable(collect_at, upper=False)),
    ]
    body: list[list[_Line]] = [
        _wrapped(label, LABEL_SIZE) + _wrapped(value, VALUE_SIZE, bold=True)
        for label, value in items
    ]
    code, scale = _qr(reference)
    qr_side = int(code.symbol_size(scale=scale, border=QR_BORDER)[0])
    after_qr = _wrapped(
        f"{SLIP_LABELS['reference']}: {printable(reference)}", LABEL_SIZE, centred=True
    )
    after_qr += _wrapped(SLIP_KEEP, LABEL_SIZE, centred=True)
    band = [
        _Line(TRAINING_SLIP_BAND[0], TITLE_SIZE, centred=True, bold=True),
        *_wrapped(TRAINING_SLIP_BAND[1], LABEL_SIZE, centred=True),
    ]
    band_height = _training_band(band) if training else 0

    def height(lines: list[_Line]) -> int:
        return sum(_pitch(line.size) for line in lines)

    total = (
        band_height
        + MARGIN
        + height(title)
        + 2 * RULE_GAP
        + sum(height(item) + ITEM_GAP for item in body)
        + qr_side
        + height(after_qr)
        + BOTTOM_FEED
        + band_height
    )
    slip = Image.new("1", (SLIP_WIDTH, total), PAPER)
    draw = ImageDraw.Draw(slip)
    y = _draw_lines(draw, title, band_height + MARGIN) + RULE_GAP
    draw.line([(MARGIN, y), (SLIP_WIDTH - MARGIN, y)], fill=INK, width=2)
    y += RULE_GAP
    for item in body:
        y = _draw_lines(draw, item, y) + ITEM_GAP
    _draw_lines(draw, after_qr, y + qr_side)
    left = (SLIP_WIDTH - qr_side) // 2
    qr_box = (left, y, left + qr_side, y + qr_side)
    if training:
        _watermark(slip)
        _draw_band(slip, band, 0)
        _draw_band(slip, band, total - band_height)
        draw.rectangle([qr_box[0], qr_box[1], qr_box[2] - 1, qr_box[3] - 1], fill=PAPER)
    offset = QR_BORDER * scale
    for row, modules in enumerate(code.matrix):
        for column, dark in enumerate(modules):
            if dark:
                x0 = left + offset + column * scale
                y0 = y + offset + row * scale
                draw.rectangle([x0, y0, x0 + scale - 1, y0 + scale - 1], fill=INK)
    slip.info["qr_box"] = qr_box
    return slip
