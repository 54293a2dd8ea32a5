"""The SSD1306 OLED controller at register level: commands, display RAM, a PNG of the panel."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from hw_sim.history import trim
from hw_sim.register_bus import RegisterModel

#: Argument bytes of each SSD1306 command the model understands (fundamental, addressing,
#: hardware configuration, timing and charge pump commands of the datasheet).
_SSD1306_ARGS: dict[int, int] = {
    0x20: 1,  # memory addressing mode
    0x21: 2,  # column window
    0x22: 2,  # page window
    0x81: 1,  # contrast
    0x8D: 1,  # charge pump
    0xA8: 1,  # multiplex ratio
    0xD3: 1,  # display offset
    0xD5: 1,  # clock divide
    0xD9: 1,  # pre-charge period
    0xDA: 1,  # COM pins
    0xDB: 1,  # VCOMH deselect
}
#: Single-byte commands: start line, remap, scan direction, on/off, page-mode addressing.
_SSD1306_SIMPLE = (
    set(range(0x00, 0x20))  # page mode: lower / upper column nibble
    | set(range(0x40, 0x80))  # display start line
    | set(range(0xB0, 0xB8))  # page mode: page
    | {0xA0, 0xA1, 0xA4, 0xA5, 0xA6, 0xA7, 0xAE, 0xAF, 0xC0, 0xC8, 0xE3, 0x2E}
)
_SSD1306_HORIZONTAL, _SSD1306_VERTICAL, _SSD1306_PAGE = 0, 1, 2


class SSD1306Model(RegisterModel):
    """A 128 x 64 SSD1306: its command parser, display RAM and what the panel shows.

    ``commands`` lists every decoded command as a tuple (opcode, arguments...);
    ``unknown`` lists opcodes the model does not know, which a correct driver never sends.
    The panel lights only with the display on and the charge pump enabled, upright when
    the segment remap (0xA1) and reverse COM scan (0xC8) are set, as the module is mounted.
    """

    WIDTH = 128
    HEIGHT = 64
    PAGES = HEIGHT // 8

    def __init__(self, address: int = 0x3C) -> None:
        super().__init__(address)
        self.commands: list[tuple[int, ...]] = []
        self.unknown: list[int] = []
        self.ram = bytearray(self.WIDTH * self.PAGES)
        self._pending: list[int] = []
        # reset state of the chip
        self.mode = _SSD1306_PAGE
        self.columns = (0, self.WIDTH - 1)
        self.pages = (0, self.PAGES - 1)
        self.column = 0
        self.page = 0
        self.display_on = False
        self.charge_pump = False
        self.contrast = 0x7F
        self.inverted = False
        self.entire_on = False
        self.segment_remap = False
        self.com_reversed = False

    def _read(self, register: int, count: int) -> bytes:
        status = 0x00 if self.display_on else 0x40  # status byte: bit 6 display off
        return bytes([status]) * count

    def _write(self, register: int, data: bytes) -> None:
        # The first byte (SMBus "register") is the control byte: bit 6 says data or
        # commands, bit 7 (Co) says only one byte follows before the next control byte.
        stream = [register, *data]
        while stream:
            control = stream.pop(0)
            payload = stream[:1] if control & 0x80 else stream
            stream = stream[1:] if control & 0x80 else []
            for byte in payload:
                if control & 0x40:
                    self._data(byte)
                else:
                    self._command_byte(byte)

    def _command_byte(self, byte: int) -> None:
        self._pending.append(byte)
        opcode = self._pending[0]
        if opcode not in _SSD1306_ARGS and opcode not in _SSD1306_SIMPLE:
            self.unknown.append(opcode)
            self._pending.clear()
            return
        if len(self._pending) <= _SSD1306_ARGS.get(opcode, 0):
            return
        command = tuple(self._pending)
        self._pending.clear()
        self.commands.append(command)
        trim(self.commands)
        self._execute(command)

    def _execute(self, command: tuple[int, ...]) -> None:
        opcode, *args = command
        if opcode == 0x20:
            self.mode = args[0] & 0x03
        elif opcode == 0x21:
            self.columns = (args[0] & 0x7F, args[1] & 0x7F)
            self.column = self.columns[0]
        elif opcode == 0x22:
            self.pages = (args[0] & 0x07, args[1] & 0x07)
            self.page = self.pages[0]
        elif opcode == 0x81:
            self.contrast = args[0]
        elif opcode == 0x8D:
            self.charge_pump = bool(args[0] & 0x04)
        elif opcode in (0xAE, 0xAF):
            self.display_on = opcode == 0xAF
        elif opcode in (0xA6, 0xA7):
            self.inverted = opcode == 0xA7
        elif opcode in (0xA4, 0xA5):
            self.entire_on = opcode == 0xA5
        elif opcode in (0xA0, 0xA1):
            self.segment_remap = opcode == 0xA1
        elif opcode in (0xC0, 0xC8):
            self.com_reversed = opcode == 0xC8
        elif 0xB0 <= opcode <= 0xB7:
            self.page = opcode & 0x07
        elif opcode < 0x10:
            self.column = (self.column & 0xF0) | opcode
        elif opcode < 0x20:
            self.column = (self.column & 0x0F) | ((opcode & 0x0F) << 4)

    def _data(self, byte: int) -> None:
        self.ram[self.page * self.WIDTH + self.column] = byte
        first_column, last_column = self.columns
        first_page, last_page = self.pages
        if self.mode == _SSD1306_PAGE:
            self.column = (self.column + 1) % self.WIDTH
        elif self.mode == _SSD1306_VERTICAL:
            if self.page < last_page:
                self.page += 1
            else:
                self.page = first_page
                self.column = first_column if self.column >= last_column else self.column + 1
        elif self.column < last_column:
            self.column += 1
        else:
            self.column = first_column
            self.page = first_page if self.page >= last_page else self.page + 1

    def ram_image(self) -> Image.Image:
        """Display RAM as a mode "1" image, as the driver meant it (no panel effects)."""
        image = Image.new("1", (self.WIDTH, self.HEIGHT), 0)
        pixels = image.load()
        assert pixels is not None  # a new image is loaded
        for page in range(self.PAGES):
            for x in range(self.WIDTH):
                byte = self.ram[page * self.WIDTH + x]
                for bit in range(8):
                    if byte >> bit & 1:
                        pixels[x, page * 8 + bit] = 1
        return image

    def to_image(self) -> Image.Image:
        """What the officer sees on the panel, as a mode "1" image (1 = lit)."""
        if not (self.display_on and self.charge_pump):
            return Image.new("1", (self.WIDTH, self.HEIGHT), 0)
        if self.entire_on:
            return Image.new("1", (self.WIDTH, self.HEIGHT), 1)
        image = self.ram_image()
        if not self.segment_remap:
            image = ImageOps.mirror(image)
        if not self.com_reversed:
            image = ImageOps.flip(image)
        if self.inverted:
            image = image.point(lambda value: 0 if value else 1)
        return image

    def to_png(self) -> bytes:
        """The panel as PNG bytes, white on black, for screenshots and logs."""
        buffer = io.BytesIO()
        self.to_image().save(buffer, format="PNG")
        return buffer.getvalue()

    def to_text(self) -> str:
        """The panel for a terminal: one character per pixel column, two rows per line."""
        pixels = self.to_image().load()
        assert pixels is not None  # a rendered image is loaded
        blocks = {(0, 0): " ", (1, 0): "▀", (0, 1): "▄", (1, 1): "█"}
        return "\n".join(
            "".join(blocks[bool(pixels[x, y]), bool(pixels[x, y + 1])] for x in range(self.WIDTH))
            for y in range(0, self.HEIGHT, 2)
        )
