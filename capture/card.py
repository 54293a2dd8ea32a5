"""The front of the e-KTP card, rendered as the bitmap the card printer receives.

The layout follows the order DESIGN.md lists for the card front: the province and
regency (or city) centred at the top, the NIK, twelve labelled fields, and on the right
the photo on a red (odd birth year) or blue (even birth year) background with the place
and date of issue and the signature under it.

Nothing here may assume a system font: the kit's SD image has none we control, so every
text uses the scalable Aileron that Pillow bundles (``ImageFont.load_default(size=...)``,
Pillow >= 10.1).  That font covers printable ASCII only, so text passes through
:func:`printable`, which spells accented letters without their accents (as Dukcapil
prints names: A-Z, apostrophe, hyphen, dot, comma) instead of drawing missing glyphs.

Long values wrap onto a second line, then shrink down to :data:`MIN_SIZE` (only the
address may then take a third line); what still does not fit ends in "..." and its
:class:`FieldLayout` says so.  Text never reaches the
photo column or the card's edge: the layout measures every line before drawing it.
"""

from __future__ import annotations

import functools
import io
import math
import unicodedata
from datetime import date, timedelta
from typing import NamedTuple, cast

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from capture.paper_texts import (
    CARD_CITY,
    CARD_LABELS,
    CARD_PROVINCE,
    CARD_REGENCY,
    CARD_VALID_FOR_LIFE,
    KIA_TITLE,
    TRAINING_CARD_BAND,
    TRAINING_WORD,
)
from storage.eligibility import EKTP_AGE, birthday
from storage.model import CardKind, Resident

#: CR80 (ISO/IEC 7810 ID-1, 85.60 x 53.98 mm) at 300 dpi.
CARD_SIZE = (1016, 648)
MARGIN = 28

#: The photo box (left, top, right, bottom): 3:4, right-aligned under the header.
PHOTO_BOX = (772, 150, 988, 438)
#: Background visible around the photo, so the colour rule holds for any photo.
PHOTO_INSET = 10
PHOTO_RED = (204, 32, 39)  # odd birth years
PHOTO_BLUE = (22, 82, 176)  # even birth years

ISSUE_PLACE_TOP = 446
ISSUE_DATE_TOP = 476
ISSUE_SIZE = 24
SIGNATURE_BOX = (782, 508, 978, 630)

HEADER_TOPS = (16, 52)
HEADER_SIZE = 30
NIK_TOP = 94
NIK_SIZE = 36

#: The field column: labels at MARGIN, colons at COLON_X, values from VALUE_X to VALUE_RIGHT.
FIELDS_TOP = 146
FIELDS_BOTTOM = 636
COLON_X = 258
VALUE_X = 276
VALUE_RIGHT = PHOTO_BOX[0] - 16
VALUE_WIDTH = VALUE_RIGHT - VALUE_X
#: "Gol. Darah" shares the Jenis Kelamin row, from this x.
BLOOD_X = VALUE_X + 200
BLOOD_COLON_X = BLOOD_X + 136
BLOOD_VALUE_X = BLOOD_X + 150

FIELD_SIZE = 26  # about 6.2 pt at 300 dpi, as on issued cards
MIN_SIZE = 20  # about 4.8 pt: the smallest size still read at arm's length
WRAP_LINES = 2  # lines a value may take before it must shrink instead
LINE_PITCH = 1.2  # line height as a multiple of the font size
ROW_GAP = 2

INK = (20, 20, 20)
BOLD_STROKE = 1  # the bundled font has no bold face: a 1-px stroke of the ink emulates it
ELLIPSIS = "..."
EMPTY = "-"

#: A training kit's card (`render_card_front` with ``training``): a red band over the
#: province line and the word in translucent red from corner to corner, over the photo too,
#: so that no one could take it for an e-KTP.  Red unlike the photo's (`PHOTO_RED`).
TRAINING_RED = (235, 0, 0)
TRAINING_BAND_HEIGHT = 48
TRAINING_BAND_SIZE = 30
TRAINING_WORD_SIZE = 230
TRAINING_WORD_ALPHA = 110  # of 255: the card stays legible under the word

BACKGROUND_BLUE = (212, 231, 246)  # at the right edge
BACKGROUND_GREEN = (216, 241, 220)  # at the left edge
PATTERN_INK = (188, 214, 228)
PATTERN_WAVES = 16

#: Letters the bundled font lacks that do not decompose into a letter and an accent.
_SPELLED_OUT = {
    **{"Æ": "AE", "Ø": "O", "Œ": "OE", "Đ": "D", "Ł": "L", "Þ": "TH", "Ð": "D"},
    **{"æ": "ae", "ø": "o", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ð": "d", "ß": "ss"},
}
_FONT_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F))


class FieldLayout(NamedTuple):
    """One labelled field as it will be drawn.

    ``same_row`` puts the field on the previous field's row (Gol. Darah beside Jenis
    Kelamin); ``truncated`` says the value did not fit even at :data:`MIN_SIZE`.
    """

    label: str
    lines: tuple[str, ...]
    font_size: int
    same_row: bool = False
    truncated: bool = False


class _Field(NamedTuple):
    label: str
    value: str
    max_lines: int
    width: int
    same_row: bool = False


@functools.lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled Aileron at ``size`` pixels (cached: it is decoded from base64)."""
    # With a size, load_default always returns the FreeType font (or raises ImportError
    # when Pillow lacks FreeType); the cast only narrows Pillow's declared union.
    return cast(ImageFont.FreeTypeFont, ImageFont.load_default(size=size))


def printable(text: str, *, upper: bool = True) -> str:
    """``text`` (in upper case unless ``upper`` is false) in characters the font can draw.

    Accents are dropped (É -> E), ligatures spelled out (Æ -> AE), runs of whitespace
    collapsed; anything else outside printable ASCII becomes "?", so a missing glyph is
    visible on the card rather than a blank box.
    """
    decomposed = unicodedata.normalize("NFKD", text.upper() if upper else text)
    out: list[str] = []
    for char in decomposed:
        if unicodedata.combining(char):
            continue
        char = _SPELLED_OUT.get(char, char)
        if char.isspace():
            char = " "
        out.append(char if all(c in _FONT_CHARS for c in char) else "?")
    return " ".join("".join(out).split())


def wrap(text: str, size: int, width: int) -> list[str]:
    """Greedy word wrap of ``text`` into lines no wider than ``width`` at ``size``.

    A single word wider than a whole line is broken between characters, so every line
    fits whatever the input.
    """
    face = font(size)
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if face.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if face.getlength(current + char) > width and current:
                lines.append(current)
                current = ""
            current += char
    if current:
        lines.append(current)
    return lines or [""]


def _ellipsize(line: str, size: int, width: int) -> str:
    """``line`` cut short enough that it ends in "..." within ``width``."""
    face = font(size)
    while line and face.getlength(line.rstrip() + ELLIPSIS) > width:
        line = line[:-1]
    return line.rstrip() + ELLIPSIS


def fit(text: str, *, width: int, max_lines: int, largest: int) -> FieldLayout:
    """Lay ``text`` out in at most ``max_lines`` lines of ``width``, as large as it fits.

    Sizes go down from ``largest`` to :data:`MIN_SIZE`; at each size the text may wrap,
    so a long value first takes a second line and only then shrinks.  A field allowed
    more than :data:`WRAP_LINES` lines (the address) takes them only when two lines at
    the smallest size are not enough.  The label is left empty: callers name the field.
    """
    for allowed in sorted({min(max_lines, WRAP_LINES), max_lines}):
        for size in range(largest, MIN_SIZE - 1, -1):
            lines = wrap(text, size, width)
            if len(lines) <= allowed:
                return FieldLayout("", tuple(lines), size)
    lines = wrap(text, MIN_SIZE, width)[:max_lines]
    lines[-1] = _ellipsize(lines[-1], MIN_SIZE, width)
    return FieldLayout("", tuple(lines), MIN_SIZE, truncated=True)


def _value(text: str) -> str:
    return printable(text) or EMPTY


KIA_TITLE_TOP = 128
KIA_TITLE_SIZE = 22


def _fields(resident: Resident, width: int, kind: CardKind = CardKind.EKTP) -> list[_Field]:
    """The card's fields in DESIGN order, with how many lines each may take.

    A KIA has no status perkawinan or pekerjaan, and is valid until the day before the
    17th birthday, when the child records an e-KTP.
    """
    born = f"{_value(resident.birth_place)}, {resident.birth_date:%d-%m-%Y}"
    blood_width = width - (BLOOD_VALUE_X - VALUE_X)
    kia = kind is CardKind.KIA
    if kia:
        until = birthday(resident.birth_date, EKTP_AGE) - timedelta(days=1)
        valid = f"{until:%d-%m-%Y}"
    else:
        valid = CARD_VALID_FOR_LIFE
    label = CARD_LABELS
    adult_only = [
        _Field(label["marital"], _value(resident.marital_status), 1, width),
        _Field(label["occupation"], _value(resident.occupation), 2, width),
    ]
    return [
        _Field(label["name"], _value(resident.name), 2, width),
        _Field(label["born"], born, 2, width),
        _Field(label["sex"], printable(resident.sex.value), 1, BLOOD_X - VALUE_X - 8),
        _Field(label["blood"], _value(resident.blood_type), 1, blood_width, same_row=True),
        _Field(label["address"], _value(resident.address), 3, width),
        _Field(label["rt_rw"], _value(resident.rt_rw), 1, width),
        _Field(label["village"], _value(resident.village), 2, width),
        _Field(label["district"], _value(resident.district), 2, width),
        _Field(label["religion"], _value(resident.religion), 1, width),
        *([] if kia else adult_only),
        _Field(label["citizenship"], _value(resident.citizenship), 1, width),
        _Field(label["valid"], valid, 1, width),
    ]


def pitch(size: int) -> int:
    """Vertical distance between two lines of text at ``size``."""
    return math.ceil(size * LINE_PITCH)


def label_size(layout: list[FieldLayout]) -> int:
    """Labels keep one size, the largest any value got, so the column reads evenly."""
    return max(field.font_size for field in layout)


def _row_height(field: FieldLayout, labels: int) -> int:
    return max(len(field.lines) * pitch(field.font_size), pitch(labels)) + ROW_GAP


def _height(layout: list[FieldLayout]) -> int:
    labels = label_size(layout)
    return sum(_row_height(f, labels) for f in layout if not f.same_row)


def layout_fields(
    resident: Resident, *, width: int = VALUE_WIDTH, kind: CardKind = CardKind.EKTP
) -> list[FieldLayout]:
    """The labelled fields of the card front, wrapped and sized to fit the field column.

    Every field is as large as it fits in its allowed lines (wrapping before shrinking);
    when the rows together are taller than the column, every field's largest size is
    lowered one step at a time.  At :data:`MIN_SIZE` the column holds every field at its
    most lines (19 lines of 24 px and 12 row gaps in 490 px), so the loop always ends
    with a layout that fits.
    """
    fields = _fields(resident, width, kind)
    for largest in range(FIELD_SIZE, MIN_SIZE - 1, -1):
        layout = [
            fit(f.value, width=f.width, max_lines=f.max_lines, largest=largest)._replace(
                label=f.label, same_row=f.same_row
            )
            for f in fields
        ]
        if _height(layout) <= FIELDS_BOTTOM - FIELDS_TOP:
            break
    return layout


def header_lines(resident: Resident) -> tuple[str, str]:
    """ "PROVINSI <province>" and "KABUPATEN <regency>" (or the regency as is for a KOTA)."""
    regency = printable(resident.regency)
    if not regency.startswith((f"{CARD_CITY} ", f"{CARD_REGENCY} ")):
        regency = f"{CARD_REGENCY} {regency or EMPTY}"
    return f"{CARD_PROVINCE} {_value(resident.province)}", regency


def photo_background(birth_year: int) -> tuple[int, int, int]:
    """Red behind the photo for odd birth years, blue for even ones."""
    return PHOTO_RED if birth_year % 2 else PHOTO_BLUE


def render_photo_panel(photo_jpeg: bytes | None, birth_year: int) -> Image.Image:
    """The photo box: the photo fitted inside a frame of the birth year's colour.

    The photo keeps its proportions and stands on the bottom edge of the inset area,
    as a head-and-shoulders portrait should.  A KIA of a child under 5 carries no photo
    (``None``): the box is the background colour alone.
    """
    width = PHOTO_BOX[2] - PHOTO_BOX[0]
    height = PHOTO_BOX[3] - PHOTO_BOX[1]
    if photo_jpeg is None:
        return Image.new("RGB", (width, height), photo_background(birth_year))
    try:
        with Image.open(io.BytesIO(photo_jpeg)) as opened:
            photo = opened.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(
            f"the face photo for the card is not a readable image ({exc}); retake the photo"
        ) from exc
    panel = Image.new("RGB", (width, height), photo_background(birth_year))
    inner = (width - 2 * PHOTO_INSET, height - 2 * PHOTO_INSET)
    photo = ImageOps.contain(photo, inner, Image.Resampling.LANCZOS)
    left = (width - photo.width) // 2
    top = height - PHOTO_INSET - photo.height
    panel.paste(photo, (left, top))
    return panel


@functools.lru_cache(maxsize=1)
def _background() -> Image.Image:
    gradient = Image.linear_gradient("L").rotate(90).resize(CARD_SIZE)
    card = Image.composite(
        Image.new("RGB", CARD_SIZE, BACKGROUND_BLUE),
        Image.new("RGB", CARD_SIZE, BACKGROUND_GREEN),
        gradient,
    )
    draw = ImageDraw.Draw(card)
    width, height = CARD_SIZE
    for wave in range(PATTERN_WAVES):
        base = (wave + 0.5) * height / PATTERN_WAVES
        phase = wave * 0.7
        points = [
            (x, base + 14 * math.sin(x / 53 + phase) + 6 * math.sin(x / 17 - phase))
            for x in range(0, width + 4, 4)
        ]
        draw.line(points, fill=PATTERN_INK, width=1)
    return card


def card_background() -> Image.Image:
    """The empty card: a blue-to-green gradient under fine guilloche-like waves."""
    return _background().copy()


def _signature_ink(signature_png: bytes) -> Image.Image:
    """The signature as a mask (ink = 255), fitted into the signature box."""
    try:
        with Image.open(io.BytesIO(signature_png)) as opened:
            signature = opened.convert("RGBA")
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(
            f"the signature image for the card is not readable ({exc}); "
            "ask the resident to sign on the pad again"
        ) from exc
    paper = Image.new("RGBA", signature.size, "white")
    grey = Image.alpha_composite(paper, signature).convert("L")
    box = (SIGNATURE_BOX[2] - SIGNATURE_BOX[0], SIGNATURE_BOX[3] - SIGNATURE_BOX[1])
    return ImageOps.invert(ImageOps.contain(grey, box, Image.Resampling.LANCZOS))


def _centred(
    draw: ImageDraw.ImageDraw,
    text: str,
    *,
    top: int,
    left: int,
    right: int,
    size: int,
    bold: bool = False,
) -> None:
    """One line centred between ``left`` and ``right``, shrunk or cut to fit."""
    line = fit(text, width=right - left, max_lines=1, largest=size)
    draw.text(
        ((left + right) / 2, top),
        line.lines[0],
        font=font(line.font_size),
        fill=INK,
        anchor="ma",
        stroke_width=BOLD_STROKE if bold else 0,
        stroke_fill=INK,
    )


def _training_mark(card: Image.Image) -> Image.Image:
    """``card`` marked LATIHAN: the band over the top, the word across the whole card."""
    width, height = CARD_SIZE
    draw = ImageDraw.Draw(card)
    draw.rectangle([0, 0, width - 1, TRAINING_BAND_HEIGHT - 1], fill=TRAINING_RED)
    draw.text(
        (width / 2, TRAINING_BAND_HEIGHT / 2),
        TRAINING_CARD_BAND,
        font=font(TRAINING_BAND_SIZE),
        fill="white",
        anchor="mm",
        stroke_width=BOLD_STROKE,
        stroke_fill="white",
    )
    face = font(TRAINING_WORD_SIZE)
    left, top, right, bottom = (round(edge) for edge in face.getbbox(TRAINING_WORD))
    word = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(word).text((-left, -top), TRAINING_WORD, font=face, fill=TRAINING_WORD_ALPHA)
    angle = math.degrees(math.atan2(height, width))  # along the card's diagonal
    word = word.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    alpha = Image.new("L", CARD_SIZE, 0)
    alpha.paste(word, ((width - word.width) // 2, (height - word.height) // 2))
    red = Image.new("RGB", CARD_SIZE, TRAINING_RED)
    return Image.composite(red, card, alpha)


def render_card_front(
    resident: Resident,
    *,
    photo_jpeg: bytes | None,
    signature_png: bytes | None,
    issued_place: str,
    issued_on: date,
    kind: CardKind = CardKind.EKTP,
    training: bool = False,
) -> Image.Image:
    """The card front as an RGB image of :data:`CARD_SIZE`, ready for the card printer.

    A KIA (``kind``) has its title above the photo, its own fields (`_fields`), and no
    signature; under age 5 no photo either.  A ``training`` kit's card carries the LATIHAN
    mark (`_training_mark`); every other card is drawn exactly as without it.
    """
    card = card_background()
    draw = ImageDraw.Draw(card)
    width = CARD_SIZE[0]
    for top, text in zip(HEADER_TOPS, header_lines(resident), strict=True):
        _centred(
            draw, text, top=top, left=MARGIN, right=width - MARGIN, size=HEADER_SIZE, bold=True
        )

    nik = fit(_value(resident.nik), width=width - MARGIN - VALUE_X, max_lines=1, largest=NIK_SIZE)
    nik_font = font(nik.font_size)
    draw.text(
        (MARGIN, NIK_TOP), "NIK", font=nik_font, fill=INK, stroke_width=BOLD_STROKE, stroke_fill=INK
    )
    draw.text((COLON_X, NIK_TOP), ":", font=nik_font, fill=INK)
    draw.text(
        (VALUE_X, NIK_TOP),
        nik.lines[0],
        font=nik_font,
        fill=INK,
        stroke_width=BOLD_STROKE,
        stroke_fill=INK,
    )

    layout = layout_fields(resident, kind=kind)
    labels = label_size(layout)
    label_face = font(labels)
    y = row_top = FIELDS_TOP
    for field in layout:
        face = font(field.font_size)
        if field.same_row:
            draw.text((BLOOD_X, row_top), field.label, font=label_face, fill=INK)
            draw.text((BLOOD_COLON_X, row_top), ":", font=label_face, fill=INK)
            draw.text((BLOOD_VALUE_X, row_top), field.lines[0], font=face, fill=INK)
            continue
        row_top = y
        draw.text((MARGIN, y), field.label, font=label_face, fill=INK)
        draw.text((COLON_X, y), ":", font=label_face, fill=INK)
        for number, line in enumerate(field.lines):
            draw.text((VALUE_X, y + number * pitch(field.font_size)), line, font=face, fill=INK)
        y += _row_height(field, labels)

    card.paste(render_photo_panel(photo_jpeg, resident.birth_date.year), PHOTO_BOX[:2])
    if kind is CardKind.KIA:
        _centred(
            draw,
            KIA_TITLE,
            top=KIA_TITLE_TOP,
            left=PHOTO_BOX[0] - 70,
            right=width - 8,
            size=KIA_TITLE_SIZE,
            bold=True,
        )
        signature_png = None
    for top, text in (
        (ISSUE_PLACE_TOP, _value(issued_place)),
        (ISSUE_DATE_TOP, f"{issued_on:%d-%m-%Y}"),
    ):
        _centred(draw, text, top=top, left=PHOTO_BOX[0], right=PHOTO_BOX[2], size=ISSUE_SIZE)
    if signature_png is not None:
        ink = _signature_ink(signature_png)
        left = SIGNATURE_BOX[0] + (SIGNATURE_BOX[2] - SIGNATURE_BOX[0] - ink.width) // 2
        top = SIGNATURE_BOX[1] + (SIGNATURE_BOX[3] - SIGNATURE_BOX[1] - ink.height) // 2
        card.paste(Image.new("RGB", ink.size, INK), (left, top), ink)
    return _training_mark(card) if training else card
