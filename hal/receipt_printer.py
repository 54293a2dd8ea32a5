"""Driver of a 58/80 mm thermal receipt printer speaking ESC/POS over a serial port.

The kit prints a receipt slip when no card can be printed, so the driver needs only
three things of ESC/POS (python-escpos and the Epson manual; docs/devices/receipt-printer.md):
raster images (``GS v 0``), a cut (``GS V 66 0``) and real-time status (``DLE EOT n``),
whose one-byte answers carry fixed bits the driver checks before trusting them.

A slip is slow on its line: a 128-row band of a 58 mm slip is 6 KB, 3.2 s at 19200 baud,
and a whole slip takes about 19 s.  So the driver paces itself to the line: it sends one
band, then asks the printer's status, whose answer cannot come before the band has
crossed the line; only then does the next band go.  Each band's wait has a deadline
from its size and the port's rate (with a margin), so the kernel's buffer never holds
more than one band and no write waits behind earlier ones; a printer that stops taking
data (it holds off with XON/XOFF, or goes silent) is caught at the band it stopped in.
"""

from __future__ import annotations

import time

from PIL import Image

from hal.contracts import Closing
from hal.exc import CoverOpen, DeviceAbsent, DeviceBusy, DeviceTimeout, FrameError, PaperOut
from hal.serial_port import SerialPort
from hal.types import DeviceInfo, PrinterState, PrinterStatus

_INIT = b"\x1b@"  # ESC @: reset modes, clear the line buffer
_RASTER = b"\x1dv0"  # GS v 0 m xL xH yL yH d1..dk
_RASTER_NORMAL = 0  # m: no double width/height
_FEED_LINES = 3
_FEED = b"\x1bd" + bytes((_FEED_LINES,))  # ESC d n: print and feed n lines
_CUT = b"\x1dV" + bytes((66, 0))  # GS V 66 0: feed to the cutter and cut
_STATUS = b"\x10\x04"  # DLE EOT n: real-time status, one byte back
_STATUS_QUERY_BYTES = len(_STATUS) + 1

_STATUS_PRINTER = 1
_STATUS_OFFLINE_CAUSE = 2
_STATUS_PAPER = 4

_FIXED_MASK = 0x93  # bits 0, 1, 4, 7 of every status byte are fixed...
_FIXED_VALUE = 0x12  # ...bits 1 and 4 set, bits 0 and 7 clear
_OFFLINE = 0x08  # n=1 bit 3
_COVER_OPEN = 0x04  # n=2 bit 2
_PAPER_END_STOP = 0x20  # n=2 bit 5: stopped at paper end
_ERROR = 0x40  # n=2 bit 6
_PAPER_NEAR_END = 0x0C  # n=4 bits 2-3
_PAPER_OUT = 0x60  # n=4 bits 5-6

#: How long a status query may take before the printer is judged silent.
_STATUS_SECONDS = 0.5
#: How long one read waits before the driver looks at its deadline again.
_POLL_SECONDS = 0.05
#: Pillow packs mode "1" with bit 1 = white; ESC/POS wants 1 = black.
_INVERT = bytes(0xFF - value for value in range(256))

#: A band may take this many times its bytes' time on the line, plus the slack below:
#: the printer's answer, a busy machine's scheduling, a printer pausing to cool its head.
_BAND_MARGIN = 1.5
_BAND_SLACK_SECONDS = 0.5


class EscPosPrinter(Closing):
    """An ESC/POS receipt printer; satisfies ``hal.contracts.ReceiptPrinter``.

    ``paper_dots`` is the printable width (384 on 58 mm paper, 576 on 80 mm);
    ``band_rows`` caps the rows of one ``GS v 0``, because many printers refuse
    or garble taller rasters.  The port uses XON/XOFF flow control, which needs only the
    data wires: set the printer's serial handshake to XON/XOFF (docs/devices/receipt-printer.md).
    """

    def __init__(
        self,
        *,
        port: str,
        baudrate: int = 19200,
        paper_dots: int = 384,
        band_rows: int = 128,
        name: str = "receipt-printer",
    ) -> None:
        if band_rows < 1:
            raise ValueError(f"band_rows must be at least 1, not {band_rows}")
        self.name = name
        self.port = port
        self.paper_dots = paper_dots
        self.band_rows = band_rows
        self._link = SerialPort(
            port,
            device=name,
            label="receipt printer",
            advice="check that it is switched on and has paper, its cable, and the configured port",
            poll=_POLL_SECONDS,
            baudrate=baudrate,
            xonxoff=True,
            write_timeout=_STATUS_SECONDS,
        )

    def __repr__(self) -> str:
        state = "closed" if self._link.closed else "open"
        return f"<EscPosPrinter {self.name} port={self.port} {state}>"

    def _query(self, n: int, deadline: float, *, late: str = "") -> int:
        """Send DLE EOT ``n`` and return its answer byte, checked for the fixed bits.

        No answer by ``deadline`` is DeviceTimeout saying ``late`` (by default, that the
        query went unanswered).
        """
        late = late or f"did not answer status query DLE EOT {n}"
        self._link.reset_input()  # a late answer to an earlier query is not this one
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._link.timeout(late)
        try:
            self._link.write(_STATUS + bytes((n,)), timeout=remaining)
        except DeviceTimeout as exc:  # held off (XOFF) before the query even went out
            raise self._link.timeout(late) from exc
        answer = self._link.read()
        while not answer and time.monotonic() < deadline:
            answer = self._link.read()
        if not answer:
            raise self._link.timeout(late)
        if answer[0] & _FIXED_MASK != _FIXED_VALUE:
            raise FrameError(
                f"the receipt printer on {self.port} answered DLE EOT {n} with "
                f"0x{answer[0]:02X}, not a status byte; check the baud rate "
                f"({self._link.baudrate})",
                device=self.name,
            )
        return answer[0]

    def _status(self, first: float | None = None, *, late: str = "") -> PrinterStatus:
        """DLE EOT 1, 2 and 4, each answered within ``_STATUS_SECONDS``.

        Real-time status is answered as soon as the query reaches the printer, so only
        a query queued behind data waits longer: the first one may wait until
        ``first``, and says ``late`` if it is not answered by then.
        """

        def soon() -> float:
            return time.monotonic() + _STATUS_SECONDS

        printer = self._query(_STATUS_PRINTER, soon() if first is None else first, late=late)
        cause = self._query(_STATUS_OFFLINE_CAUSE, soon())
        paper = self._query(_STATUS_PAPER, soon())
        if cause & _COVER_OPEN:
            return PrinterStatus(PrinterState.COVER_OPEN, "cover open")
        if paper & _PAPER_OUT or cause & _PAPER_END_STOP:
            return PrinterStatus(PrinterState.NO_MEDIA, "paper out")
        if cause & _ERROR:
            return PrinterStatus(PrinterState.OFFLINE, "error: switch the printer off and on")
        if printer & _OFFLINE:
            return PrinterStatus(PrinterState.OFFLINE, "offline (feeding or busy)")
        if paper & _PAPER_NEAR_END:
            return PrinterStatus(PrinterState.READY, "paper near end")
        return PrinterStatus(PrinterState.READY)

    def status(self) -> PrinterStatus:
        """Ask the printer's state with DLE EOT 1, 2 and 4; raises DeviceTimeout if silent."""
        return self._status()

    def _raise_unless_ready(self, status: PrinterStatus, when: str) -> None:
        where = f"receipt printer on {self.port}"
        if status.state is PrinterState.COVER_OPEN:
            raise CoverOpen(f"{when}: the {where} has its cover open; close it", device=self.name)
        if status.state is PrinterState.NO_MEDIA:
            raise PaperOut(f"{when}: the {where} is out of paper; load a roll", device=self.name)
        if not status.ready:
            raise DeviceBusy(
                f"{when}: the {where} is {status.detail}; wait a moment and retry",
                device=self.name,
            )

    def print_image(self, image: Image.Image, *, timeout: float) -> None:
        """Print ``image`` as a 1-bit raster, left-aligned, then feed and cut.

        The status is checked before anything is sent, so a missing roll costs no
        half-printed slip; after each band, which paces the bands to the line and
        reports paper running out or the cover opened mid-slip; and after the cut.

        The whole slip must be printed within ``timeout``, but never within less than
        its bytes need on the line (with the bands' margin): the caller cannot know the
        line's rate, and a long slip cut off half-printed helps nobody.  A printer that
        stops is still caught at its band's own deadline.
        """
        if image.width > self.paper_dots:
            raise ValueError(
                f"the image is {image.width} dots wide but the receipt paper takes "
                f"{self.paper_dots}; scale it down"
            )
        bitmap = image.convert("1")
        bands = [
            _raster(bitmap.crop((0, top, bitmap.width, min(top + self.band_rows, bitmap.height))))
            for top in range(0, bitmap.height, self.band_rows)
        ]
        on_line = self._line_seconds(sum(map(len, bands)) + len(bands) * _STATUS_QUERY_BYTES)
        allowed = max(timeout, on_line * _BAND_MARGIN + _BAND_SLACK_SECONDS)
        deadline = time.monotonic() + allowed
        self._raise_unless_ready(self._status(), "before printing")
        self._link.write(_INIT, timeout=_STATUS_SECONDS)
        for number, band in enumerate(bands, start=1):
            self._send_band(band, f"band {number} of {len(bands)}", deadline, allowed)
        self._link.write(_FEED + _CUT, timeout=_STATUS_SECONDS)
        self._raise_unless_ready(self._status(), "after printing")

    def _send_band(self, band: bytes, which: str, deadline: float, timeout: float) -> None:
        """Send one band and wait for the status answer queued behind it: the printer
        has taken the band when it answers.  The wait is the band's own allowance, never
        past the whole slip's ``deadline`` (``timeout`` after it began)."""
        on_line = self._line_seconds(len(band) + _STATUS_QUERY_BYTES)
        allowed = on_line * _BAND_MARGIN + _BAND_SLACK_SECONDS
        start = time.monotonic()
        band_deadline = min(start + allowed, deadline)
        what = f"{which} ({len(band):,} bytes, {on_line:.1f} s at {self._link.baudrate} baud)"
        late = (
            f"did not take {what} within {allowed:.1f} s: it holds the line off or has "
            "stopped (a paper jam or a stalled head)"
            if band_deadline < deadline
            else f"printing took over {timeout:g} s, at {what}"
        )
        if band_deadline <= start:
            raise self._link.timeout(late)
        self._link.write(band, timeout=band_deadline - start, during=what)
        self._raise_unless_ready(self._status(band_deadline, late=late), f"while printing {what}")

    def _line_seconds(self, count: int) -> float:
        """How long ``count`` bytes take on the printer's line at the port's settings."""
        return count * self._link.byte_seconds

    def probe(self) -> DeviceInfo:
        """Ask the printer's status: an answer proves an ESC/POS printer is there."""
        try:
            status = self.status()
        except DeviceTimeout as exc:
            raise DeviceAbsent(
                f"no receipt printer answers on {self.port}; check its power and cable",
                device=self.name,
            ) from exc
        detail = {
            "port": self.port,
            "paper_dots": str(self.paper_dots),
            "state": status.state.value,
        }
        if status.detail:
            detail["detail"] = status.detail
        return DeviceInfo(name=self.name, model="ESC/POS receipt printer", detail=detail)

    def close(self) -> None:
        """Release the serial port; safe to call twice."""
        self._link.close()


def _raster(band: Image.Image) -> bytes:
    """One ``GS v 0`` command for a 1-bit band: rows padded to whole bytes, 1 = black."""
    width_bytes = (band.width + 7) // 8
    padded = Image.new("1", (width_bytes * 8, band.height), 255)  # padding is white
    padded.paste(band, (0, 0))
    data = padded.tobytes().translate(_INVERT)
    header = bytes((_RASTER_NORMAL,)) + width_bytes.to_bytes(2, "little")
    return _RASTER + header + band.height.to_bytes(2, "little") + data
