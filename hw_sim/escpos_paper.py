"""The paper of an ESC/POS thermal printer: what its text, feed and raster commands put on it.

A real receipt printer prints text in its own bitmap fonts, with the modes that set-up
commands choose (code page, bold, underline, size, justification, line spacing); a
client such as python-escpos sends a receipt as text and those commands, not as
pictures.  :class:`Paper` draws what such a printer would, so that the emulator
(:mod:`hw_sim.receipt_printer_emulator`) shows a text receipt as paper rather than as a
list of unknown bytes.

The fonts are Pillow's built-in bitmap font (6 x 11 dots a glyph, printable ASCII and
Latin-1), needing no font file: Font A (12 x 24 dots a character, 32 on 58 mm paper, as
Epson's) draws it doubled, Font B (9 x 17) at its own size.  Bytes become characters
through the code page ``ESC t`` chose.  Rules follow the Epson ESC/POS reference for
standard mode: a line prints on LF, ``ESC d`` or ``ESC J``, or when the next character
would not fit (it wraps); a line is as tall as the line spacing or its tallest
character; justification and upside-down apply to the whole line when it prints; ``ESC
@`` resets every mode and drops an unprinted line.  Blank feed after the last printed
dot of a job is the paper running to the cutter and is not drawn, so a job's image ends
at its last ink or raster row.
"""

from __future__ import annotations

import enum
import functools
import logging
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

_log = logging.getLogger(__name__)

_FONT = ImageFont.load_default_imagefont()
#: The built-in font's glyph box, in dots.
_GLYPH_WIDTH, _GLYPH_HEIGHT = _FONT.getbbox("M")[2:]
#: Every character the built-in font draws; any other prints as :data:`MISSING_GLYPH`.
_DRAWN = frozenset(chr(code) for code in range(256) if _FONT.getbbox(chr(code))[2] > 0)
MISSING_GLYPH = "?"

#: Epson's default line spacing, 1/6 inch, in dots at 203 dpi (``ESC 2``).
DEFAULT_LINE_SPACING = 34
#: Tab stops every this many characters (Epson's default for ``HT``).
TAB_COLUMNS = 8
#: The largest character multiplier ``GS !`` sets, per axis.
MAX_MAGNIFY = 8

#: ``ESC t n`` -> the code page that decodes bytes 0x80..0xFF (Epson's table numbers).
CODE_PAGES: dict[int, str] = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
}

#: Mode "1" pixel values (Pillow stores a set pixel as 255): white paper, black ink; in a
#: glyph's mask, where the ink goes.
PAPER = 255
INK = 0
_MASK_ON = 255


@dataclass(frozen=True)
class Font:
    """A printer font: its character cell and how much the built-in glyph is scaled."""

    cell: tuple[int, int]
    glyph_scale: int


#: ``ESC M 0`` and ``ESC M 1``.
FONT_A = Font((12, 24), 2)
FONT_B = Font((9, 17), 1)


class Justify(enum.Enum):
    """``ESC a n``: 0/48 left, 1/49 centre, 2/50 right."""

    LEFT = 0
    CENTRE = 1
    RIGHT = 2


@dataclass(frozen=True)
class Style:
    """The print modes in force for the next character."""

    font: Font = FONT_A
    bold: bool = False
    underline: int = 0  # dots: 0, 1 or 2
    width: int = 1  # character multipliers, 1..8
    height: int = 1
    reverse: bool = False  # white on black (GS B)
    spacing: int = 0  # extra dots right of each character (ESC SP)


@dataclass(frozen=True)
class Layout:
    """The modes that apply to a whole line, taken when it prints."""

    justify: Justify = Justify.LEFT
    line_spacing: int = DEFAULT_LINE_SPACING
    upside_down: bool = False
    left_margin: int = 0  # GS L, dots
    area_width: int | None = None  # GS W, dots; None: to the paper's edge


class Paper:
    """One printer's paper and modes: a job's image grows until :meth:`cut`.

    ``width`` is the printable width in dots (384 on 58 mm paper).  The emulator sets
    :attr:`style` (from the next character) and :attr:`layout` (for the lines printed
    next) as the set-up commands say, and calls the methods named after the printing
    commands; :attr:`lines` keeps the decoded text of every printed line.
    """

    def __init__(self, width: int) -> None:
        self.width = width
        self.lines: list[str] = []
        self.style = Style()
        self.layout = Layout()
        self.code_page = CODE_PAGES[0]
        self._rows: list[Image.Image] = []
        self._pending_feed = 0  # blank dots not drawn until something follows them
        self._line: list[tuple[str, Style]] = []

    # -- modes -----------------------------------------------------------------------

    def reset(self) -> None:
        """``ESC @``: every mode back to its default, and an unprinted line dropped."""
        self.style = Style()
        self.layout = Layout()
        self.code_page = CODE_PAGES[0]
        self._line = []

    def select_code_page(self, number: int) -> bool:
        """``ESC t n``; False (the page unchanged) for a table the emulator lacks."""
        page = CODE_PAGES.get(number)
        if page is None:
            return False
        self.code_page = page
        return True

    # -- text ------------------------------------------------------------------------

    def text(self, data: bytes) -> None:
        """Printable bytes into the line buffer, decoded by the code page; wraps."""
        for char in data.decode(self.code_page, errors="replace"):
            self._add(char)

    def tab(self) -> None:
        """``HT``: spaces to the next tab stop (every :data:`TAB_COLUMNS` characters)."""
        used = len(self._line) % TAB_COLUMNS
        for _ in range(TAB_COLUMNS - used):
            self._add(" ")

    def _add(self, char: str) -> None:
        if self._line_width() + _cell(self.style)[0] > self._area():
            self.print_line()  # the line is full: the printer prints it and goes on
        self._line.append((char, self.style))

    def _area(self) -> int:
        layout = self.layout
        return min(layout.area_width or self.width, self.width - layout.left_margin)

    def _line_width(self) -> int:
        return sum(_cell(style)[0] for _, style in self._line)

    # -- feeds -----------------------------------------------------------------------

    def print_line(self, feed: int | None = None) -> None:
        """Print the line buffer and feed ``feed`` dots (the line spacing by default): LF.

        An empty buffer only feeds.  Characters of different heights stand on one
        baseline under the line's top, and a line is never shorter than its tallest.
        """
        feed = self.layout.line_spacing if feed is None else feed
        if not self._line:
            self.feed(feed)
            return
        tallest = max(_cell(style)[1] for _, style in self._line)
        line = Image.new("1", (self.width, max(feed, tallest)), PAPER)
        x = self._left(self._line_width())
        for char, style in self._line:
            cell = _render(char, style)
            line.paste(cell, (x, tallest - cell.height))
            x += cell.width
        if self.layout.upside_down:
            line = line.rotate(180)
        self.lines.append("".join(char for char, _ in self._line))
        self._line = []
        self._draw(line)

    def _left(self, used: int) -> int:
        """Where a line or raster ``used`` dots wide starts, by the justification."""
        free = max(0, self._area() - used)
        shift = {Justify.LEFT: 0, Justify.CENTRE: free // 2, Justify.RIGHT: free}
        return self.layout.left_margin + shift[self.layout.justify]

    def feed_lines(self, count: int) -> None:
        """``ESC d n``: print the buffer (its own line) and feed to ``count`` lines."""
        printed = 1 if self._line else 0
        if printed:
            self.print_line()
        self.feed(self.layout.line_spacing * (count - printed))

    def feed(self, dots: int) -> None:
        """Blank paper, drawn only if something is printed after it."""
        self._pending_feed += max(0, dots)

    # -- rasters and the cut ---------------------------------------------------------

    def raster(self, image: Image.Image) -> None:
        """A ``GS v 0`` raster, justified as text is; the line buffer prints first."""
        if self._line:
            self.print_line()
        if image.width > self.width:
            _log.warning("receipt printer emulator: raster wider than the paper, clipped")
        band = Image.new("1", (self.width, image.height), PAPER)
        band.paste(image, (self._left(image.width), 0))
        self._draw(band)

    def _draw(self, band: Image.Image) -> None:
        if self._pending_feed:
            self._rows.append(Image.new("1", (self.width, self._pending_feed), PAPER))
            self._pending_feed = 0
        self._rows.append(band)

    def cut(self) -> Image.Image | None:
        """The job printed since the last cut as one image (None if nothing was printed).

        An unprinted line is printed first, as the cut's feed does on the part.
        """
        if self._line:
            self.print_line()
        rows, self._rows, self._pending_feed = self._rows, [], 0
        if not rows:
            return None
        page = Image.new("1", (self.width, sum(row.height for row in rows)), PAPER)
        top = 0
        for row in rows:
            page.paste(row, (0, top))
            top += row.height
        return page

    def discard(self) -> None:
        """Forget the job so far (the power was cut): nothing of it is printed."""
        self._rows, self._pending_feed, self._line = [], 0, []


def _cell(style: Style) -> tuple[int, int]:
    width, height = style.font.cell
    return width * style.width + style.spacing, height * style.height


@functools.lru_cache(maxsize=1024)
def _render(char: str, style: Style) -> Image.Image:
    """One character cell in ``style``: the glyph scaled, bold, underlined, reversed
    (cached: a receipt repeats its characters; callers only paste it)."""
    font = style.font
    glyph = Image.new("1", (_GLYPH_WIDTH, _GLYPH_HEIGHT), 0)
    drawn = char if char in _DRAWN else MISSING_GLYPH
    ImageDraw.Draw(glyph).text((0, 0), drawn, font=_FONT, fill=_MASK_ON)
    scale_x, scale_y = font.glyph_scale * style.width, font.glyph_scale * style.height
    size = (_GLYPH_WIDTH * scale_x, _GLYPH_HEIGHT * scale_y)
    glyph = glyph.resize(size, Image.Resampling.NEAREST)
    width, height = _cell(style)
    ink = Image.new("1", (width, height), 0)  # the mask of where ink goes
    left = (font.cell[0] * style.width - glyph.width) // 2
    top = (font.cell[1] * style.height - glyph.height) // 2
    ink.paste(glyph, (left, top), glyph)
    if style.bold:  # emphasised: the glyph struck again one dot to the right
        ink.paste(glyph, (left + 1, top), glyph)
    if style.underline:
        ink.paste(_MASK_ON, (0, height - style.underline, width - style.spacing, height))
    cell = Image.new("1", (width, height), INK if style.reverse else PAPER)
    cell.paste(PAPER if style.reverse else INK, (0, 0), ink)
    return cell
