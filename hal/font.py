"""Text for the 128 x 64 display, in Pillow's built-in bitmap font.

The built-in font (6 x 11 pixels a glyph) needs no font file on the kit and covers
printable ASCII and the Latin-1 letters (é, ü, ñ…) that Indonesian and English prompts
use.  Four lines fit, 16 pixels apart, 21 characters each.  A prompt must never crash the
display, so typographic quotes and dashes become their ASCII look-alikes, anything else
the font lacks becomes "?", and a line too long is cut at the display's edge.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

_FONT = ImageFont.load_default_imagefont()
_GLYPH_WIDTH, _GLYPH_HEIGHT = _FONT.getbbox("M")[2:]

#: The display's size in pixels.
WIDTH = 128
HEIGHT = 64
#: Text lines on the display; prompts never use more.
LINES = 4
#: Characters of one line that fit across the display.
COLUMNS = WIDTH // _GLYPH_WIDTH

#: Every character the font draws (it has glyphs for 0x20..0x7E and 0xA1..0xFF).
SUPPORTED: frozenset[str] = frozenset(
    chr(code) for code in range(256) if _FONT.getbbox(chr(code))[2] > 0
)

#: Characters that translators and editors slip into prompts, drawn as what they look like.
_LOOK_ALIKES = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)

#: What stands in for a character the font cannot draw.
REPLACEMENT = "?"


def fit(text: str, columns: int = COLUMNS) -> str:
    """``text`` as the display will draw it: drawable characters only, cut to ``columns``."""
    text = unicodedata.normalize("NFC", text).translate(_LOOK_ALIKES)
    return "".join(ch if ch in SUPPORTED else REPLACEMENT for ch in text)[:columns]


def render_lines(lines: Sequence[str], width: int = WIDTH, height: int = HEIGHT) -> Image.Image:
    """A mode "1" image of up to :data:`LINES` lines of text, lit pixels 1, rest 0.

    Raises ValueError for more lines than fit (a prompt bug, not a field condition)
    and TypeError for a bare string, which would otherwise show one letter per line.
    """
    if isinstance(lines, str):
        raise TypeError("render_lines takes a sequence of lines, not one string")
    if len(lines) > LINES:
        raise ValueError(f"{len(lines)} lines do not fit the display, which shows {LINES}")
    image = Image.new("1", (width, height), 0)
    draw = ImageDraw.Draw(image)
    pitch = height // LINES
    columns = width // _GLYPH_WIDTH
    for row, line in enumerate(lines):
        top = row * pitch + (pitch - _GLYPH_HEIGHT) // 2
        draw.text((0, top), fit(line, columns), font=_FONT, fill=1)
    return image
