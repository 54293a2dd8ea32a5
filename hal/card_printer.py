"""CR80 card printer speaking the Evolis-style escape command set, over pyserial.

Every command is ``ESC`` name, ``;``-separated arguments, ``CR``.  From the Evolis
programming guide (A5013 rev. E) we take the framing, the sequence brackets ``Ss`` /
``Se`` and the panel download ``Db;k;2;<data>``: the black panel, 1016 lines of 648 dots
at 300 dpi, 2 levels, 8 dots a byte, so always exactly 82,296 data bytes (the guide's own
byte count, 84,624, does not match its 648 x 1016; Evolis' CUPS driver sends 82,296).
Where the guide is silent we define our own commands, all in an ``X`` family the guide
does not use (its families are A, D, M, P, R, S, W; ``Pc`` there sets the contrast), and
an emulator or a firmware shim for a real part must speak them:

* ``Xst`` reads the status word: ``READY``, ``NO_CARD``, ``COVER_OPEN``, ``RIBBON_OUT``
  or ``JAM``;
* ``Xfw`` reads ``<model>;<firmware>``;
* ``Xpe`` prints the job closed by ``Se`` and ejects the card; it answers ``OK`` or
  ``ERR;<reason>`` (a status word) only once the card has left the printer.

Every command is answered by one CR-terminated line (``OK`` or ``ERR;<reason>`` unless it
reads a value).  docs/devices/card-printer.md has the whole command set.
"""

from __future__ import annotations

import time

from PIL import Image

from hal.contracts import Closing
from hal.exc import (
    CardJam,
    CoverOpen,
    DeviceAbsent,
    DeviceTimeout,
    OutOfCards,
    PrinterError,
    ProtocolError,
    RibbonOut,
)
from hal.serial_port import SerialPort
from hal.types import DeviceInfo, PrinterState, PrinterStatus

ESC = b"\x1b"
CR = b"\r"
SEP = ";"

# Vendor commands (Evolis programming guide).
CMD_SEQUENCE_START = "Ss"
CMD_SEQUENCE_END = "Se"
CMD_DOWNLOAD = "Db"
# Our own commands, in a family the vendor guide leaves free.
CMD_STATUS = "Xst"
CMD_FIRMWARE = "Xfw"
CMD_PRINT_EJECT = "Xpe"

PANEL_BLACK = "k"
LEVELS_2 = "2"

REPLY_OK = "OK"
REPLY_ERR = "ERR"

#: The card front as capture/ draws it: ID-1 landscape at 300 dpi.
CARD_WIDTH = 1016
CARD_HEIGHT = 648
#: A panel is CARD_WIDTH lines (the printing direction) of CARD_HEIGHT dots.
LINE_BYTES = CARD_HEIGHT // 8
PANEL_BYTES = CARD_WIDTH * LINE_BYTES  # 82,296

#: How the printer's status words map onto the contract's states.
STATUS_WORDS: dict[str, PrinterState] = {
    "READY": PrinterState.READY,
    "NO_CARD": PrinterState.NO_MEDIA,
    "COVER_OPEN": PrinterState.COVER_OPEN,
    "RIBBON_OUT": PrinterState.RIBBON_OUT,
    "JAM": PrinterState.JAM,
}

#: Which typed error each non-ready state raises, with what the officer should do.
_FAULTS: dict[PrinterState, tuple[type[PrinterError], str]] = {
    PrinterState.NO_MEDIA: (OutOfCards, "has no blank card: load cards into the hopper"),
    PrinterState.COVER_OPEN: (CoverOpen, "has its cover open: close it and retry"),
    PrinterState.RIBBON_OUT: (RibbonOut, "has no usable ribbon: replace the ribbon"),
    PrinterState.JAM: (CardJam, "has a card stuck: open it, remove the card, close it"),
}

#: pyserial read timeout: how often a wait re-checks its own deadline.
_POLL_SECONDS = 0.05
#: Longest status or model line we accept before calling the answer garbage.
_MAX_REPLY = 256


def to_panel(front: Image.Image) -> bytes:
    """Dither ``front`` to 1 bit and pack it as the ``Db;k;2`` black panel.

    The panel is the front turned a quarter clockwise: line ``n`` is column ``x = n`` of
    the landscape front, left to right, and within a line the dots run from the bottom
    edge (``y = 647``) up, 8 to a byte, most significant bit first, a set bit laying black
    resin (as Evolis' CUPS driver and public scripts lay it out).  Floyd-Steinberg
    dithering keeps the photo recognisable on a 2-level panel.  Raises ValueError for any
    size but 1016 x 648.
    """
    if front.size != (CARD_WIDTH, CARD_HEIGHT):
        width, height = front.size
        raise ValueError(
            f"card front must be {CARD_WIDTH}x{CARD_HEIGHT} px (ID-1 at 300 dpi), "
            f"got {width}x{height}: render the card at that size"
        )
    mono = front.convert("L").convert("1", dither=Image.Dither.FLOYDSTEINBERG)
    return mono.transpose(Image.Transpose.ROTATE_270).tobytes("raw", "1;I")


def from_panel(panel: bytes) -> Image.Image:
    """The inverse of :func:`to_panel`: the 1-bit front a black panel prints."""
    if len(panel) != PANEL_BYTES:
        raise ValueError(f"a black panel is {PANEL_BYTES} bytes, got {len(panel)}")
    lines = Image.frombytes("1", (CARD_HEIGHT, CARD_WIDTH), panel, "raw", "1;I")
    return lines.transpose(Image.Transpose.ROTATE_90)


class EvolisPrinter(Closing):
    """The kit's card printer, satisfying :class:`hal.contracts.CardPrinter`.

    ``reply_timeout`` bounds :meth:`status` and :meth:`probe`, which the contract gives
    no timeout of their own.
    """

    def __init__(
        self,
        *,
        port: str,
        baudrate: int = 115200,
        name: str = "card-printer",
        reply_timeout: float = 2.0,
    ) -> None:
        self.name = name
        self.port = port
        self.reply_timeout = reply_timeout
        self._link = SerialPort(
            port,
            device=name,
            label="card printer",
            advice="check that it is switched on, its USB cable, and the port in the kit's config",
            poll=_POLL_SECONDS,
            baudrate=baudrate,
        )

    def __repr__(self) -> str:
        state = "closed" if self._link.closed else "open"
        return f"<EvolisPrinter {self.name} port={self.port} {state}>"

    def close(self) -> None:
        """Release the port; safe to call twice."""
        self._link.close()

    def probe(self) -> DeviceInfo:
        """Read the model and firmware; DeviceAbsent when the printer does not answer."""
        try:
            reply = self._command(CMD_FIRMWARE, deadline=time.monotonic() + self.reply_timeout)
        except DeviceTimeout as exc:
            raise DeviceAbsent(str(exc), device=self.name) from exc
        model, _, firmware = reply.partition(SEP)
        return DeviceInfo(
            name=self.name, model=model, detail={"firmware": firmware, "port": self.port}
        )

    def status(self) -> PrinterStatus:
        return self._status(time.monotonic() + self.reply_timeout)

    def print_card(self, front: Image.Image, *, timeout: float) -> None:
        """Print ``front`` on one blank card and wait until the card has left.

        The status is read first, so a printer that cannot print raises its typed error
        before any card is fed.  An error answered to ``Xpe`` may come after feeding (a
        jam): that card is spoiled, as the contract says.
        """
        panel = to_panel(front)
        deadline = time.monotonic() + timeout
        current = self._status(deadline)
        if not current.ready:
            raise self._fault(current.state, current.detail)
        self._expect_ok(CMD_SEQUENCE_START, deadline=deadline)
        self._expect_ok(CMD_DOWNLOAD, PANEL_BLACK, LEVELS_2, payload=panel, deadline=deadline)
        self._expect_ok(CMD_SEQUENCE_END, deadline=deadline)
        self._expect_ok(CMD_PRINT_EJECT, deadline=deadline)

    # -- wire -------------------------------------------------------------------------

    def _status(self, deadline: float) -> PrinterStatus:
        word = self._command(CMD_STATUS, deadline=deadline)
        try:
            return PrinterStatus(STATUS_WORDS[word], detail=word)
        except KeyError:
            raise ProtocolError(
                f"card printer on {self.port} answered {CMD_STATUS} with {word!r}, "
                f"not one of {', '.join(STATUS_WORDS)}: is this the right printer or port?",
                device=self.name,
            ) from None

    def _fault(self, state: PrinterState, detail: str) -> PrinterError:
        kind, advice = _FAULTS[state]
        return kind(f"card printer on {self.port} {advice} ({detail})", device=self.name)

    def _expect_ok(self, command: str, *args: str, payload: bytes = b"", deadline: float) -> None:
        """Send one command and turn anything but ``OK`` into its typed error."""
        reply = self._command(command, *args, payload=payload, deadline=deadline)
        if reply == REPLY_OK:
            return
        verdict, _, reason = reply.partition(SEP)
        state = STATUS_WORDS.get(reason) if verdict == REPLY_ERR else None
        if state is not None and state in _FAULTS:
            raise self._fault(state, f"{command}: {reply}")
        if verdict == REPLY_ERR:
            raise PrinterError(
                f"card printer on {self.port} refused {command}: {reason}; "
                "switch the printer off and on, then retry",
                device=self.name,
            )
        raise ProtocolError(
            f"card printer on {self.port} answered {command} with {reply!r}, "
            f"expected {REPLY_OK} or {REPLY_ERR};<reason>: check the baud rate "
            f"({self._link.baudrate}) and that {self.port} is the card printer's port",
            device=self.name,
        )

    def _command(self, command: str, *args: str, payload: bytes = b"", deadline: float) -> str:
        """Send ``ESC command;args[;payload] CR`` and return the answer line."""
        frame = ESC + SEP.join((command, *args)).encode("ascii")
        if payload:
            frame += SEP.encode("ascii") + payload
        self._link.reset_input()  # a late answer to an abandoned command is not ours
        self._link.write(frame + CR, timeout=max(deadline - time.monotonic(), _POLL_SECONDS))
        return self._read_line(command, deadline)

    def _read_line(self, command: str, deadline: float) -> str:
        """The first CR-terminated line; bytes after its CR (line noise) are dropped."""
        line = bytearray()
        while CR not in line:
            if time.monotonic() >= deadline:
                raise self._link.timeout(f"did not answer {command} in time")
            line += self._link.read()
            if line.find(CR, 0, _MAX_REPLY + 1) < 0 and len(line) > _MAX_REPLY:
                raise ProtocolError(
                    f"card printer on {self.port} sent {len(line)} bytes without a CR "
                    f"after {command}: check the baud rate ({self._link.baudrate})",
                    device=self.name,
                )
        line = line[: line.index(CR) + 1]
        try:
            return line[:-1].decode("ascii")
        except UnicodeDecodeError:
            raise ProtocolError(
                f"card printer on {self.port} answered {command} with non-text bytes "
                f"{bytes(line)!r}: check the baud rate ({self._link.baudrate})",
                device=self.name,
            ) from None
