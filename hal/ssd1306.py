"""SSD1306 128 x 64 OLED on I2C: the kit's four-line display.

Every I2C write starts with a control byte: 0x00 says the rest are commands, 0x40 that
the rest is display RAM.  RAM is 8 pages of 128 columns, each byte 8 pixels stacked
vertically (bit 0 on top); after the init sequence below selects horizontal addressing,
setting the column and page windows and streaming 1,024 bytes redraws the whole panel.
SMBus block writes carry at most 32 bytes, so the frame goes in 32-byte chunks.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from hal import font
from hal.i2c import I2CDevice, SMBus
from hal.types import DeviceInfo

ADDRESS = 0x3C
WIDTH = 128
HEIGHT = 64
PAGES = HEIGHT // 8

# control bytes
CONTROL_COMMAND = 0x00
CONTROL_DATA = 0x40

# commands
SET_MEMORY_MODE = 0x20
SET_COLUMN_ADDRESS = 0x21
SET_PAGE_ADDRESS = 0x22
SET_START_LINE = 0x40
SET_CONTRAST = 0x81
SET_CHARGE_PUMP = 0x8D
SET_SEGMENT_REMAP = 0xA1  # column 127 mapped to SEG0: left-right as the module is mounted
SET_ENTIRE_ON_RESUME = 0xA4  # show RAM (0xA5 would light every pixel)
SET_NORMAL = 0xA6  # 1 bits lit (0xA7 inverts)
SET_MULTIPLEX = 0xA8
SET_DISPLAY_OFF = 0xAE
SET_DISPLAY_ON = 0xAF
SET_COM_SCAN_DECREMENT = 0xC8  # rows scanned bottom-up: top-bottom as mounted
SET_DISPLAY_OFFSET = 0xD3
SET_CLOCK_DIVIDE = 0xD5
SET_PRECHARGE = 0xD9
SET_COM_PINS = 0xDA
SET_VCOM_DESELECT = 0xDB
NOP = 0xE3

#: Power-up sequence (Adafruit's, for a 128 x 64 module with its internal charge pump).
INIT_SEQUENCE: tuple[int, ...] = (
    SET_DISPLAY_OFF,
    SET_MEMORY_MODE, 0x00,  # horizontal addressing: RAM pointer wraps column, then page
    SET_START_LINE | 0x00,
    SET_SEGMENT_REMAP,
    SET_MULTIPLEX, HEIGHT - 1,
    SET_COM_SCAN_DECREMENT,
    SET_DISPLAY_OFFSET, 0x00,
    SET_COM_PINS, 0x12,  # alternative COM pin layout, as 64-row panels are wired
    SET_CLOCK_DIVIDE, 0x80,  # reset oscillator frequency, divide ratio 1
    SET_PRECHARGE, 0xF1,  # phase 1: 1 clock, phase 2: 15 clocks (internal VCC)
    SET_VCOM_DESELECT, 0x30,  # about 0.83 x VCC
    SET_CONTRAST, 0xFF,
    SET_ENTIRE_ON_RESUME,
    SET_NORMAL,
    SET_CHARGE_PUMP, 0x14,  # charge pump on: the panel has no external VCC
    SET_DISPLAY_ON,
)  # fmt: skip

#: Largest SMBus block write, in data bytes after the control byte.
CHUNK = 32


class SSD1306(I2CDevice):
    """The display; satisfies :class:`hal.contracts.Display`.

    The constructor sends the init sequence, so a missing or miswired display raises
    DeviceAbsent at boot rather than on the first prompt.
    """

    lines = font.LINES
    columns = font.COLUMNS

    def __init__(self, *, bus: int | SMBus, address: int = ADDRESS, name: str = "display") -> None:
        super().__init__(bus=bus, address=address, name=name)
        self._start(lambda: self._command(*INIT_SEQUENCE))

    def probe(self) -> DeviceInfo:
        """The SSD1306 has no identity register; a NOP it acknowledges shows it is there."""
        self._command(NOP)
        return DeviceInfo(
            self.name, "SSD1306", {"address": f"0x{self.address:02X}", "size": f"{WIDTH}x{HEIGHT}"}
        )

    def show(self, lines: Sequence[str]) -> None:
        """Show up to :attr:`lines` lines of text, clearing the rest (see :mod:`hal.font`)."""
        self.image(font.render_lines(lines, WIDTH, HEIGHT))

    def image(self, img: Image.Image) -> None:
        """Show a 128 x 64 image; pixels that are non-zero in mode "1" are lit."""
        if img.size != (WIDTH, HEIGHT):
            raise ValueError(f"the display shows {WIDTH}x{HEIGHT} images, not {img.size}")
        frame = _pack_pages(img.convert("1"))
        self._command(SET_COLUMN_ADDRESS, 0, WIDTH - 1)
        self._command(SET_PAGE_ADDRESS, 0, PAGES - 1)
        for start in range(0, len(frame), CHUNK):
            self._write_block(CONTROL_DATA, list(frame[start : start + CHUNK]))

    def contrast(self, value: int) -> None:
        """Set brightness 0..255: low saves battery indoors, high reads outdoors."""
        if not 0 <= value <= 255:
            raise ValueError(f"display contrast {value} is outside 0..255")
        self._command(SET_CONTRAST, value)

    def _command(self, *codes: int) -> None:
        self._write_block(CONTROL_COMMAND, list(codes))


def _pack_pages(img: Image.Image) -> bytes:
    """Display RAM for ``img``: page by page, column by column, bit 0 the top row."""
    pixels = img.load()
    assert pixels is not None  # load() returns None only for images that are not loaded
    frame = bytearray(WIDTH * PAGES)
    for page in range(PAGES):
        for x in range(WIDTH):
            byte = 0
            for bit in range(8):
                if pixels[x, page * 8 + bit]:
                    byte |= 1 << bit
            frame[page * WIDTH + x] = byte
    return bytes(frame)
