"""An ESC/POS thermal receipt printer on a pty, printing into images.

The parser is streaming and consumes each command by its declared length, as the
real firmware does: ``10 04 01`` inside raster data is picture, not a status query.
A job is every raster row up to a cut; each cut job becomes one 1-bit image of the
paper's width in :attr:`ReceiptPrinterEmulator.printed`.  Line feeds and ``ESC d``
feeds are recorded but not drawn, so a printed image is exactly the rasters sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from hw_sim.link import PtyDevice
from hw_sim.prints import kept_prints
from hw_sim.timing import LineFormat, Timing

_log = logging.getLogger(__name__)

_DLE, _EOT = 0x10, 0x04
_ESC, _GS = 0x1B, 0x1D
_LF, _CR = 0x0A, 0x0D
_ESC_INIT = ord("@")  # ESC @
_ESC_FEED = ord("d")  # ESC d n
_GS_RASTER = ord("v")  # GS v 0 m xL xH yL yH d1..dk
_RASTER_FUNCTION = 0x30
_RASTER_HEADER = 8
_GS_CUT = ord("V")  # GS V m, or GS V m n for m 65/66
_CUT_PLAIN = (0, 1, 48, 49)
_CUT_WITH_FEED = (65, 66)

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

#: ESC/POS sends 1 = black; Pillow's mode "1" stores 1 = white.
_INVERT = bytes(0xFF - value for value in range(256))


@dataclass(frozen=True)
class Command:
    """One decoded command, e.g. ``Command("GS v 0", (m, width_bytes, height))``."""

    name: str
    args: tuple[int, ...] = ()


class ReceiptPrinterEmulator(PtyDevice):
    """The printer's end of a pty; a driver opens ``.port``.

    ``received`` lists every decoded command, ``unknown`` the raw bytes of what the
    parser did not understand, ``printed`` one image per cut job.  Faults: "unplugged"
    (silent), "paper-out", "cover-open" or "garbage" (line noise before the next status
    answer); :meth:`unplug_after` cuts the power part-way through a job, losing the
    half-received command and the job's rows until :meth:`clear_faults`.  ``timing``
    keeps the line's time (:data:`LINE`).
    """

    FAULTS: tuple[str, ...] = ("unplugged", "paper-out", "cover-open", "garbage")

    def __init__(
        self, *, link_path: str | None = None, paper_dots: int = 384, timing: Timing | None = None
    ) -> None:
        super().__init__("receipt printer")
        self.paper_dots = paper_dots
        self._buffer = bytearray()
        self._job: list[Image.Image] = []
        self.received: list[Command] = []
        self.unknown: list[bytes] = []
        self.printed = kept_prints()
        self._plug_in(link_path, "receipt-printer", line=LINE, timing=timing)

    def __repr__(self) -> str:
        return (
            f"<ReceiptPrinterEmulator port={self.port} faults={sorted(self._faults)} "
            f"printed={len(self.printed)}>"
        )

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

    def _on_bytes(self, data: bytes) -> None:
        with self._lock:
            if "unplugged" in self._faults:
                return
            data, cut = self._let_through(data)
            self._buffer += data
            while self._buffer:
                used = self._parse_one()
                if not used:
                    break  # the command is not complete yet
                del self._buffer[:used]
            if cut:
                self._buffer.clear()
                self._job = []

    def _parse_one(self) -> int:
        """Act on the command at the buffer's start; bytes used, 0 if incomplete."""
        buf = self._buffer
        first = buf[0]
        if first in (_LF, _CR):
            self.received.append(Command("LF" if first == _LF else "CR"))
            return 1
        if first not in (_DLE, _ESC, _GS):
            return self._unknown(1)
        if len(buf) < 2:
            return 0
        if first == _DLE and buf[1] == _EOT:
            return self._status(buf)
        if first == _ESC and buf[1] == _ESC_INIT:
            self.received.append(Command("ESC @"))
            return 2
        if first == _ESC and buf[1] == _ESC_FEED:
            if len(buf) < 3:
                return 0
            self.received.append(Command("ESC d", (buf[2],)))
            return 3
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
            self._job.append(Image.frombytes("1", (width_bytes * 8, height), data))
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
        if self._job and self._ready:
            self.printed.append(self._compose(self._job))
        self._job = []
        return used

    def _compose(self, bands: list[Image.Image]) -> Image.Image:
        """Stack a job's rasters, left-aligned on paper ``paper_dots`` wide."""
        if any(band.width > self.paper_dots for band in bands):
            _log.warning("receipt printer emulator: raster wider than the paper, clipped")
        page = Image.new("1", (self.paper_dots, sum(band.height for band in bands)), 255)
        top = 0
        for band in bands:
            page.paste(band, (0, top))
            top += band.height
        return page
