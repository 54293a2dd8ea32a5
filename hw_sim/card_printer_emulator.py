"""A CR80 card printer on a pty, speaking the escape commands hal.card_printer sends.

It parses ``ESC name;args CR`` commands off the byte stream, answers one CR-terminated
line to each, and turns a printed black panel back into the card a person would hold, so
a test (or a developer looking at the PNGs) sees what the real printer would have laid
down.  The panel download ``Db;<panel>;<levels>;<data> CR`` carries no length field: its
length follows from the vendor's fixed panel size (1016 lines of 648 dots) and the bits per dot
of ``<levels>``, so the parser counts exactly that many bytes and then expects the CR;
ESC or CR bytes inside the data are data.  The decoder is written here, not borrowed
from the driver, so a wrong orientation or bit order on either side shows up in tests.

Like a monochrome printer with a black resin ribbon, it prints only ``Db;k;2``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from hw_sim.link import PtyDevice
from hw_sim.prints import kept_prints
from hw_sim.timing import LineFormat, Timing

ESC = b"\x1b"
CR = b"\r"
SEP = b";"

CMD_SEQUENCE_START = "Ss"
CMD_SEQUENCE_END = "Se"
CMD_DOWNLOAD = "Db"
CMD_STATUS = "Xst"
CMD_FIRMWARE = "Xfw"
CMD_PRINT_EJECT = "Xpe"

#: Panel geometry of the vendor guide: 1016 lines in the printing direction, 648 dots each.
PANEL_LINES = 1016
PANEL_DOTS = 648
#: Bits per dot for each ``<levels>`` argument of ``Db`` (vendor guide).
LEVEL_BITS = {"2": 1, "32": 5, "64": 6, "128": 7}

#: The printer's serial line as the driver opens it (hal.card_printer): 115200 8N1.
LINE = LineFormat(115200)
#: Seconds to print one single-sided monochrome (resin black) card and eject it; see
#: docs/devices/card-printer.md for the datasheet figure this comes from.
PRINT_SECONDS = 6.0

MODEL = "Jemput CR80 emulator"
FIRMWARE = "1.0"

#: ``ESC Db;<panel>;<levels>;`` : the header that tells how many data bytes follow.
_DB_HEADER = re.compile(rb"\x1bDb;([a-z]);(\d{1,3});")
#: A header or plain command longer than this without its terminator is garbage.
_MAX_HEADER = 64
#: Line noise the "garbage" fault sends before an answer (not ASCII, no CR).
_NOISE = b"\x00\xff\x55\xaa"


@dataclass(frozen=True)
class Received:
    """One command as the printer understood it; ``payload`` is a panel's raw data."""

    command: str
    args: tuple[str, ...] = ()
    payload: bytes = b""


class CardPrinterEmulator(PtyDevice):
    """Serve a simulated card printer on a pty; point the driver at :attr:`port`.

    ``hopper`` is the number of blank cards loaded.  ``out_dir`` receives every printed
    card as ``card-0001.png`` and so on.  ``timing`` keeps the line's time (115200 8N1,
    so a panel takes about 7 s to download) and :data:`PRINT_SECONDS` per card.  Fault
    kinds:

    * ``unplugged``: nothing is heard or answered;
    * ``out-of-cards``: the hopper is emptied (``load(n)`` refills it; clear_faults does not);
    * ``cover-open``, ``ribbon-out``: refused before feeding, no card used;
    * ``jam``: the next print feeds a card and jams; the card is spoiled and nothing is
      printed, and the status stays ``JAM`` until clear_faults() (the jam cleared);
    * ``garbage``: line noise goes out before the next answer.

    :meth:`unplug_after` cuts the power part-way through what the driver sends, e.g. in
    the middle of a panel: the half-received command and the job in progress are lost, as
    the real printer's RAM is; :meth:`clear_faults` powers it back up with its hopper as
    it was.
    """

    FAULTS: tuple[str, ...] = (
        "unplugged",
        "out-of-cards",
        "cover-open",
        "ribbon-out",
        "jam",
        "garbage",
    )

    def __init__(
        self,
        *,
        link_path: str | os.PathLike[str] | None = None,
        hopper: int = 100,
        out_dir: str | os.PathLike[str] | None = None,
        timing: Timing | None = None,
    ) -> None:
        super().__init__("card printer")
        self.hopper = hopper
        self.out_dir = Path(out_dir) if out_dir else None
        self.printed = kept_prints()  # the last few; `cards_printed` counts them all
        self.cards_printed = 0
        self.received: list[Received] = []
        self._jammed = False
        self._in_sequence = False
        self._panel: bytes | None = None
        self._job: bytes | None = None
        self._buffer = bytearray()
        self._plug_in(link_path, "card-printer", line=LINE, timing=timing)

    def __repr__(self) -> str:
        return (
            f"<CardPrinterEmulator port={self.port} hopper={self.hopper} "
            f"status={self._status_word()} faults={sorted(self._faults)}>"
        )

    def load(self, cards: int) -> None:
        """Put ``cards`` more blank cards into the hopper."""
        if cards < 0:
            raise ValueError(f"cannot load {cards} cards into the card printer's hopper")
        with self._lock:
            self.hopper += cards

    def inject(self, kind: str) -> None:
        """Start fault ``kind`` (one of :attr:`FAULTS`); "out-of-cards" empties the hopper."""
        with self._lock:
            super().inject(kind)
            if kind == "out-of-cards":
                self.hopper = 0

    def clear_faults(self) -> None:
        """Close the cover, fit a ribbon, clear any jam and plug the printer back in."""
        with self._lock:
            super().clear_faults()
            self._jammed = False

    # -- the wire ---------------------------------------------------------------------

    def _on_bytes(self, chunk: bytes) -> None:
        with self._lock:
            if "unplugged" in self._faults:
                self._buffer.clear()
                return
            chunk, cut = self._let_through(chunk)
            self._buffer += chunk
            while self._next_command():
                pass
            if cut:
                self._power_lost()

    def _power_lost(self) -> None:
        """Go dark mid-stream: what was half received and the open job are gone."""
        self._buffer.clear()
        self._in_sequence = False
        self._panel = self._job = None

    def _next_command(self) -> bool:
        """Take one whole command off the buffer and answer it; False if none is whole."""
        start = self._buffer.find(ESC)
        if start < 0:
            self._buffer.clear()  # line noise before any command
            return False
        del self._buffer[:start]
        if self._buffer.startswith(ESC + CMD_DOWNLOAD.encode() + SEP):
            return self._next_download()
        end = self._buffer.find(CR)
        if end < 0:
            if len(self._buffer) > _MAX_HEADER:
                self._reject_garbage()
                return True
            return False
        text = bytes(self._buffer[1:end])
        del self._buffer[: end + 1]
        try:
            command, *args = text.decode("ascii").split(";")
        except UnicodeDecodeError:
            self._reply(f"ERR;BAD_COMMAND {text!r}")
            return True
        self._dispatch(Received(command, tuple(args)))
        return True

    def _next_download(self) -> bool:
        header = _DB_HEADER.match(self._buffer)
        if header is None:
            if CR in self._buffer[:_MAX_HEADER] or len(self._buffer) > _MAX_HEADER:
                self._reject_garbage()
                return True
            return False
        panel, levels = (group.decode("ascii") for group in header.groups())
        if levels not in LEVEL_BITS:
            del self._buffer[: header.end()]
            self._reply(f"ERR;BAD_LEVELS {levels}")  # length unknown: the data is lost
            return True
        length = PANEL_LINES * PANEL_DOTS * LEVEL_BITS[levels] // 8
        if len(self._buffer) < header.end() + length + 1:
            return False
        data_end = header.end() + length
        payload = bytes(self._buffer[header.end() : data_end])
        terminated = self._buffer[data_end : data_end + 1] == CR
        del self._buffer[: data_end + 1 if terminated else data_end]
        if not terminated:
            self._reply(f"ERR;BAD_LENGTH expected {length} data bytes then CR")
            return True
        self._dispatch(Received(CMD_DOWNLOAD, (panel, levels), payload))
        return True

    def _reject_garbage(self) -> None:
        end = self._buffer.find(CR)
        del self._buffer[: end + 1 if end >= 0 else len(self._buffer)]
        self._reply("ERR;BAD_COMMAND")

    def _reply(self, line: str) -> None:
        noise = _NOISE if self._take_fault("garbage") else b""
        self._link.send(noise + line.encode("ascii") + CR)

    # -- the printer ------------------------------------------------------------------

    def _dispatch(self, received: Received) -> None:
        self.received.append(received)
        handler = {
            CMD_STATUS: self._on_status,
            CMD_FIRMWARE: self._on_firmware,
            CMD_SEQUENCE_START: self._on_sequence_start,
            CMD_DOWNLOAD: self._on_download,
            CMD_SEQUENCE_END: self._on_sequence_end,
            CMD_PRINT_EJECT: self._on_print_eject,
        }.get(received.command)
        if handler is None:
            self._reply(f"ERR;UNKNOWN_COMMAND {received.command}")
        else:
            self._reply(handler(received))

    def _status_word(self) -> str:
        """What stops a print now, worst first (a jam hides everything else)."""
        if self._jammed:
            return "JAM"
        if "cover-open" in self._faults:
            return "COVER_OPEN"
        if "ribbon-out" in self._faults:
            return "RIBBON_OUT"
        if self.hopper <= 0:
            return "NO_CARD"
        return "READY"

    def _on_status(self, _: Received) -> str:
        return self._status_word()

    def _on_firmware(self, _: Received) -> str:
        return f"{MODEL};{FIRMWARE}"

    def _on_sequence_start(self, _: Received) -> str:
        self._in_sequence = True
        self._panel = None
        return "OK"

    def _on_download(self, received: Received) -> str:
        if not self._in_sequence:
            return "ERR;NO_SEQUENCE"
        if received.args != ("k", "2"):
            return f"ERR;UNSUPPORTED_PANEL {';'.join(received.args)}"
        self._panel = received.payload
        return "OK"

    def _on_sequence_end(self, _: Received) -> str:
        if not self._in_sequence:
            return "ERR;NO_SEQUENCE"
        self._in_sequence = False
        if self._panel is None:
            return "ERR;NO_PANEL"
        self._job, self._panel = self._panel, None
        return "OK"

    def _on_print_eject(self, _: Received) -> str:
        if self._job is None:
            return "ERR;NO_JOB"
        word = self._status_word()
        if word != "READY":
            return f"ERR;{word}"
        self.hopper -= 1
        job, self._job = self._job, None
        if self._take_fault("jam"):
            self._jammed = True
            return "ERR;JAM"
        if not self._work(PRINT_SECONDS):
            return "ERR;POWER_OFF"  # closed while printing: nobody hears this
        self._print(job)
        return "OK"

    def _print(self, panel: bytes) -> None:
        """Lay the panel on a card: line n is column n, its dots bottom up, set bits black."""
        lines = Image.frombytes("1", (PANEL_DOTS, PANEL_LINES), panel, "raw", "1;I")
        card = lines.transpose(Image.Transpose.ROTATE_90)
        self.printed.append(card)
        self.cards_printed += 1
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            card.save(self.out_dir / f"card-{self.cards_printed:04d}.png")
