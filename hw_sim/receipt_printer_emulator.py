"""An ESC/POS thermal receipt printer on a pty, printing into images.

The parser is streaming and consumes each command by its declared length, as the
real firmware does: ``10 04 01`` inside raster data is picture, not a status query.
It prints what a receipt printer prints: text in its fonts and the modes the set-up
commands choose (code page, bold, underline, size, justification, line spacing), feeds,
and ``GS v 0`` rasters, on a :class:`hw_sim.escpos_paper.Paper`; a job is everything up
to a cut, and each cut job becomes one 1-bit image of the paper's width in
:attr:`ReceiptPrinterEmulator.printed`.  Blank feed after a job's last printed row is not
drawn, so a job of rasters alone is exactly the rasters sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PIL import Image

from hw_sim.escpos_paper import (
    DEFAULT_LINE_SPACING,
    FONT_A,
    FONT_B,
    MAX_MAGNIFY,
    Justify,
    Paper,
)
from hw_sim.link import PtyDevice
from hw_sim.prints import kept_prints
from hw_sim.timing import LineFormat, Timing

_log = logging.getLogger(__name__)

_DLE, _EOT = 0x10, 0x04
_ESC, _GS = 0x1B, 0x1D
_HT, _LF, _CR = 0x09, 0x0A, 0x0D
#: Bytes from here up are characters to print (below are controls).
_FIRST_PRINTABLE = 0x20
_GS_RASTER = ord("v")  # GS v 0 m xL xH yL yH d1..dk
_RASTER_FUNCTION = 0x30
_RASTER_HEADER = 8
_GS_CUT = ord("V")  # GS V m, or GS V m n for m 65/66
_CUT_PLAIN = (0, 1, 48, 49)
_CUT_WITH_FEED = (65, 66)

#: Commands of one fixed length: their first two bytes -> (name, length in all).  What
#: python-escpos's ``set``, ``text``, ``ln``, ``cut`` and ``hw`` send, and Epson's other
#: common set-up commands; those with no mark on paper are recorded and accepted.
_FIXED: dict[bytes, tuple[str, int]] = {
    b"\x1b@": ("ESC @", 2),  # initialise
    b"\x1b!": ("ESC !", 3),  # print modes: font B, emphasised, double height/width, underline
    b"\x1bE": ("ESC E", 3),  # emphasised (bold) on/off
    b"\x1bG": ("ESC G", 3),  # double-strike on/off: prints as emphasised
    b"\x1b-": ("ESC -", 3),  # underline 0, 1 or 2 dots
    b"\x1ba": ("ESC a", 3),  # justification
    b"\x1bd": ("ESC d", 3),  # print and feed n lines
    b"\x1bJ": ("ESC J", 3),  # print and feed n dots
    b"\x1b2": ("ESC 2", 2),  # default line spacing
    b"\x1b3": ("ESC 3", 3),  # line spacing n dots
    b"\x1bM": ("ESC M", 3),  # font A or B
    b"\x1bt": ("ESC t", 3),  # code page
    b"\x1b ": ("ESC SP", 3),  # right-side character spacing
    b"\x1b{": ("ESC {", 3),  # upside-down on/off
    b"\x1bR": ("ESC R", 3),  # international character set (not drawn: USA kept)
    b"\x1b=": ("ESC =", 3),  # select peripheral device
    b"\x1bc": ("ESC c", 4),  # ESC c 3/4/5 n: paper sensors, panel buttons
    b"\x1bp": ("ESC p", 5),  # cash drawer pulse
    b"\x1br": ("ESC r", 3),  # colour (one-colour paper: no effect)
    b"\x1d!": ("GS !", 3),  # character size: width and height multipliers
    b"\x1dB": ("GS B", 3),  # white/black reverse on/off
    b"\x1db": ("GS b", 3),  # smoothing (no effect on a bitmap font)
    b"\x1d|": ("GS |", 3),  # print density (no effect on the image)
    b"\x1dL": ("GS L", 4),  # left margin nL + 256 nH dots
    b"\x1dW": ("GS W", 4),  # print area width nL + 256 nH dots
    b"\x1dH": ("GS H", 3),  # barcode set-up: HRI position, font, height, width
    b"\x1df": ("GS f", 3),
    b"\x1dh": ("GS h", 3),
    b"\x1dw": ("GS w", 3),
}

# ESC ! n and GS ! n bits
_MODE_FONT_B = 0x01
_MODE_EMPHASISED = 0x08
_MODE_DOUBLE_HEIGHT = 0x10
_MODE_DOUBLE_WIDTH = 0x20
_MODE_UNDERLINE = 0x80
_SIZE_WIDTH_SHIFT = 4
_SIZE_MASK = 0x07
#: ESC a, ESC M, ESC -: the ASCII digits "0", "1", "2" mean 0, 1, 2.
_ASCII_ZERO = ord("0")

_QUIET = 0x12  # bits 1 and 4 always set
_OFFLINE = 0x08  # n=1
_COVER_OPEN = 0x04  # n=2
_PAPER_END_STOP = 0x20  # n=2
_PAPER_OUT = 0x60  # n=4
_STATUS_KINDS = (1, 2, 3, 4)
#: Line noise the "garbage" fault sends before a status answer: bit 7 set, bit 4 clear,
#: so it breaks the fixed bits every status byte carries.
_NOISE = b"\xe5"

#: The printer's serial line as the driver opens it (hal.receipt_printer): 19200 8N1.
#: The head prints faster than this line feeds it (docs/devices/receipt-printer.md),
#: so the wire's time is the printer's time.
LINE = LineFormat(19200)

#: The printer's receive buffer (Epson TM-T20II: 4 KB).  The head empties it faster than
#: the line fills it, so it fills only when the head stops (fault "stuck").
RECEIVE_BUFFER_BYTES = 4096
#: XOFF goes out when this little room is left, so bytes already on the way still fit.
XOFF_ROOM_BYTES = 256
#: XON/XOFF flow control: the printer says stop and go on its transmit line.
XON, XOFF = b"\x11", b"\x13"

#: ESC/POS sends 1 = black; Pillow's mode "1" stores 1 = white.
_INVERT = bytes(0xFF - value for value in range(256))


def _digit(value: int) -> int:
    """An argument that may be sent as a number or as its ASCII digit ("1" is 1)."""
    return value - _ASCII_ZERO if value >= _ASCII_ZERO else value


@dataclass(frozen=True)
class Command:
    """One decoded command, e.g. ``Command("GS v 0", (m, width_bytes, height))``."""

    name: str
    args: tuple[int, ...] = ()


class ReceiptPrinterEmulator(PtyDevice):
    """The printer's end of a pty; a driver opens ``.port``.

    ``received`` lists every decoded command, ``unknown`` the raw bytes of what the
    parser did not understand, ``printed`` one image per cut job, ``lines`` the text of
    every printed line, ``flow`` the XON and XOFF it sent.  Faults: "unplugged" (silent),
    "paper-out", "cover-open", "garbage" (line noise before the next status answer) or
    "stuck" (the paper jams as the next raster starts and the head stops without
    telling, a jam it cannot sense: from that raster on, what arrives fills the receive
    buffer unread, status queries included; the printer sends XOFF when the buffer is
    nearly full, as a printer set to XON/XOFF does, and bytes beyond it are lost).
    :meth:`clear_faults` ends a "stuck" as the technician does, by switching the printer
    off and on: the buffer and the job are lost and it sends XON.  :meth:`unplug_after`
    cuts the power part-way through a job, losing the half-received command and the job
    until :meth:`clear_faults`.  ``timing`` keeps the line's time (:data:`LINE`).
    """

    FAULTS: tuple[str, ...] = ("unplugged", "paper-out", "cover-open", "garbage", "stuck")

    def __init__(
        self, *, link_path: str | None = None, paper_dots: int = 384, timing: Timing | None = None
    ) -> None:
        super().__init__("receipt printer")
        self.paper_dots = paper_dots
        self._buffer = bytearray()
        self._paper = Paper(paper_dots)
        self.received: list[Command] = []
        self.unknown: list[bytes] = []
        self.printed = kept_prints()
        self.flow: list[bytes] = []
        self._jammed = False  # the "stuck" fault has struck: the head reads nothing
        self._held = bytearray()  # the receive buffer while jammed
        self._actions: dict[str, Callable[[bytes], None]] = {
            "ESC @": lambda _: self._paper.reset(),
            "ESC !": self._print_modes,
            "ESC E": lambda n: self._restyle(bold=bool(n[0] & 1)),
            "ESC G": lambda n: self._restyle(bold=bool(n[0] & 1)),
            "ESC -": lambda n: self._restyle(underline=min(_digit(n[0]), 2)),
            "ESC a": self._justify,
            "ESC d": lambda n: self._paper.feed_lines(n[0]),
            "ESC J": lambda n: self._paper.print_line(feed=n[0]),
            "ESC 2": lambda _: self._relayout(line_spacing=DEFAULT_LINE_SPACING),
            "ESC 3": lambda n: self._relayout(line_spacing=n[0]),
            "ESC M": lambda n: self._restyle(font=FONT_B if _digit(n[0]) == 1 else FONT_A),
            "ESC t": self._code_page,
            "ESC SP": lambda n: self._restyle(spacing=n[0]),
            "ESC {": lambda n: self._relayout(upside_down=bool(n[0] & 1)),
            "GS !": self._size,
            "GS B": lambda n: self._restyle(reverse=bool(n[0] & 1)),
            "GS L": lambda n: self._relayout(left_margin=n[0] | n[1] << 8),
            "GS W": lambda n: self._relayout(area_width=n[0] | n[1] << 8 or None),
        }
        self._plug_in(link_path, "receipt-printer", line=LINE, timing=timing)

    def __repr__(self) -> str:
        return (
            f"<ReceiptPrinterEmulator port={self.port} faults={sorted(self._faults)} "
            f"printed={len(self.printed)}>"
        )

    @property
    def lines(self) -> list[str]:
        """The text of every line printed so far, decoded by its code page."""
        with self._lock:
            return list(self._paper.lines)

    def save_png(self, directory: str | Path) -> list[Path]:
        """Write each printed job as ``receipt-NNN.png`` in ``directory``."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        with self._lock:
            jobs = list(self.printed)
        for number, image in enumerate(jobs, start=1):
            path = folder / f"receipt-{number:03d}.png"
            image.save(path)
            paths.append(path)
        return paths

    @property
    def _ready(self) -> bool:
        return not self._faults & {"paper-out", "cover-open"}

    def clear_faults(self) -> None:
        """End every fault; a stuck printer is switched off and on to clear it."""
        with self._lock:
            jammed, self._jammed = self._jammed, False
            super().clear_faults()
            if jammed:
                self._held.clear()
                self._buffer.clear()
                self._paper.discard()
                self._paper.reset()
                self._say(XON)  # ready again, as after power-on

    def _say(self, flow: bytes) -> None:
        self.flow.append(flow)
        self._link.send(flow)

    def _hold(self, data: bytes) -> None:
        """A jammed head reads nothing: bytes fill the buffer; XOFF when it is nearly full."""
        room = RECEIVE_BUFFER_BYTES - len(self._held)
        if len(data) > room:
            _log.warning("receipt printer emulator: buffer full, %d bytes lost", len(data) - room)
        self._held += data[:room]
        nearly_full = RECEIVE_BUFFER_BYTES - len(self._held) <= XOFF_ROOM_BYTES
        if nearly_full and self.flow[-1:] != [XOFF]:
            self._say(XOFF)

    def _on_bytes(self, data: bytes) -> None:
        with self._lock:
            if "unplugged" in self._faults:
                return
            if self._jammed:
                self._hold(data)
                return
            data, cut = self._let_through(data)
            self._buffer += data
            while self._buffer:
                used = self._parse_one()
                if not used:
                    break  # the command is not complete yet, or the paper jammed at it
                del self._buffer[:used]
            if self._jammed:
                self._hold(bytes(self._buffer))
                self._buffer.clear()
            if cut:
                self._buffer.clear()
                self._paper.discard()

    def _parse_one(self) -> int:
        """Act on the command at the buffer's start; bytes used, 0 if incomplete."""
        buf = self._buffer
        first = buf[0]
        if first >= _FIRST_PRINTABLE:
            return self._text(buf)
        if first in (_LF, _CR, _HT):
            return self._control(first)
        if first not in (_DLE, _ESC, _GS):
            return self._unknown(1)
        if len(buf) < 2:
            return 0
        fixed = _FIXED.get(bytes(buf[:2]))
        if fixed is not None:
            return self._fixed(*fixed)
        if first == _DLE and buf[1] == _EOT:
            return self._status(buf)
        if first == _GS and buf[1] == _GS_RASTER:
            return self._raster(buf)
        if first == _GS and buf[1] == _GS_CUT:
            return self._cut(buf)
        return self._unknown(2)

    def _unknown(self, length: int) -> int:
        raw = bytes(self._buffer[:length])
        _log.warning("receipt printer emulator: unknown command %s", raw.hex(" "))
        self.unknown.append(raw)
        return length

    # -- text, feeds and modes ---------------------------------------------------------

    def _text(self, buf: bytearray) -> int:
        """A run of printable bytes, up to the next control byte or the buffer's end."""
        end = next((i for i, byte in enumerate(buf) if byte < _FIRST_PRINTABLE), len(buf))
        if self._ready:
            self._paper.text(bytes(buf[:end]))
        else:
            _log.warning("receipt printer emulator: text dropped, printer not ready")
        return end

    def _control(self, byte: int) -> int:
        """LF prints the line, HT moves to the next tab stop, CR is ignored (as Epson's
        serial printers do without automatic line feed)."""
        name = {_LF: "LF", _CR: "CR", _HT: "HT"}[byte]
        self.received.append(Command(name))
        if byte == _LF:
            self._paper.print_line()
        elif byte == _HT:
            self._paper.tab()
        return 1

    def _fixed(self, name: str, length: int) -> int:
        if len(self._buffer) < length:
            return 0
        args = bytes(self._buffer[2:length])
        self.received.append(Command(name, tuple(args)))
        action = self._actions.get(name)
        if action is not None:
            action(args)
        return length

    def _restyle(self, **changes: Any) -> None:
        """Character modes from the next character on (the set-up command's args)."""
        self._paper.style = replace(self._paper.style, **changes)

    def _relayout(self, **changes: Any) -> None:
        """Line modes for the lines printed from now on."""
        self._paper.layout = replace(self._paper.layout, **changes)

    def _print_modes(self, args: bytes) -> None:
        """ESC ! n: font, emphasis, double height and width, underline, all at once."""
        n = args[0]
        self._restyle(
            font=FONT_B if n & _MODE_FONT_B else FONT_A,
            bold=bool(n & _MODE_EMPHASISED),
            height=2 if n & _MODE_DOUBLE_HEIGHT else 1,
            width=2 if n & _MODE_DOUBLE_WIDTH else 1,
            underline=1 if n & _MODE_UNDERLINE else 0,
        )

    def _size(self, args: bytes) -> None:
        """GS ! n: width multiplier in bits 4-6, height in bits 0-2, each plus one."""
        n = args[0]
        width = min((n >> _SIZE_WIDTH_SHIFT & _SIZE_MASK) + 1, MAX_MAGNIFY)
        self._restyle(width=width, height=min((n & _SIZE_MASK) + 1, MAX_MAGNIFY))

    def _justify(self, args: bytes) -> None:
        try:
            self._relayout(justify=Justify(_digit(args[0])))
        except ValueError:
            _log.warning("receipt printer emulator: ESC a %d is no justification", args[0])

    def _code_page(self, args: bytes) -> None:
        if not self._paper.select_code_page(args[0]):
            _log.warning(
                "receipt printer emulator: code page %d not emulated; text stays in %s",
                args[0],
                self._paper.code_page,
            )

    # -- status, rasters and the cut ---------------------------------------------------

    def _status(self, buf: bytearray) -> int:
        if len(buf) < 3:
            return 0
        kind = buf[2]
        if kind not in _STATUS_KINDS:
            return self._unknown(3)
        self.received.append(Command("DLE EOT", (kind,)))
        cover, paper_out = "cover-open" in self._faults, "paper-out" in self._faults
        answer = _QUIET
        if kind == 1 and (cover or paper_out):
            answer |= _OFFLINE
        elif kind == 2:
            answer |= (_COVER_OPEN if cover else 0) | (_PAPER_END_STOP if paper_out else 0)
        elif kind == 4 and paper_out:
            answer |= _PAPER_OUT
        noise = _NOISE if self._take_fault("garbage") else b""
        self._link.send(noise + bytes((answer,)))
        return 3

    def _raster(self, buf: bytearray) -> int:
        if "stuck" in self._faults:
            self._jammed = True  # the raster is never read: it stays in the buffer
            return 0
        if len(buf) < _RASTER_HEADER:
            return 0
        if buf[2] != _RASTER_FUNCTION:
            return self._unknown(3)
        mode = buf[3]
        width_bytes = buf[4] | buf[5] << 8
        height = buf[6] | buf[7] << 8
        end = _RASTER_HEADER + width_bytes * height
        if len(buf) < end:
            return 0
        self.received.append(Command("GS v 0", (mode, width_bytes, height)))
        if not self._ready:
            _log.warning("receipt printer emulator: raster dropped, printer not ready")
        elif width_bytes and height:
            data = bytes(buf[_RASTER_HEADER:end]).translate(_INVERT)
            self._paper.raster(Image.frombytes("1", (width_bytes * 8, height), data))
        return end

    def _cut(self, buf: bytearray) -> int:
        if len(buf) < 3:
            return 0
        mode = buf[2]
        args: tuple[int, ...]
        if mode in _CUT_PLAIN:
            used, args = 3, (mode,)
        elif mode in _CUT_WITH_FEED:
            if len(buf) < 4:
                return 0
            used, args = 4, (mode, buf[3])
        else:
            return self._unknown(3)
        self.received.append(Command("GS V", args))
        page = self._paper.cut()
        if page is not None and self._ready:
            self.printed.append(page)
        return used
