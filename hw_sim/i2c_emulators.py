"""The kit's I2C bus, simulated at the register level: display, fuel gauge, clock.

:class:`RegisterBus` offers the ``smbus2.SMBus`` calls our drivers use and hands each
transfer, as the bytes that would cross the wire, to the register model at that address.
An address with no model (or an unplugged one) fails like a real bus: ``OSError``
``EREMOTEIO``.  Word transfers are little-endian like SMBus, so a model of a big-endian
part (the MAX17048) answers with its bytes in wire order and the driver must swap them,
exactly as against the real chip.

Every model logs each write it receives in ``writes`` as ``(register, bytes)`` and
accepts faults from ``FAULTS`` through ``inject``; ``clear_faults`` ends them.
"""

from __future__ import annotations

import abc
import errno
import io
import os
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from PIL import Image, ImageOps

from hal.contracts import Closing
from hw_sim.faults import FaultSwitch

#: The most an SMBus block transfer carries, as smbus2 enforces.
BLOCK_MAX = 32


def _no_answer() -> OSError:
    return OSError(errno.EREMOTEIO, os.strerror(errno.EREMOTEIO))


class RegisterModel(FaultSwitch, abc.ABC):
    """Base of a chip model: an address, a write log and fault injection.

    Subclasses implement ``_read(register, count)`` returning the bytes the chip
    would clock out, and ``_write(register, data)``; they may extend ``FAULTS`` and
    extend ``inject``/``clear_faults`` to act out their own faults.
    """

    def __init__(self, address: int) -> None:
        super().__init__(type(self).__name__.removesuffix("Model"))
        self.address = address
        self.writes: list[tuple[int, bytes]] = []

    @property
    def present(self) -> bool:
        """Whether the chip acknowledges its address."""
        return "unplugged" not in self.faults

    def read(self, register: int, count: int) -> bytes:
        return self._read(register, count)

    def write(self, register: int, data: bytes) -> None:
        self.writes.append((register, bytes(data)))
        self._write(register, bytes(data))

    @abc.abstractmethod
    def _read(self, register: int, count: int) -> bytes: ...

    @abc.abstractmethod
    def _write(self, register: int, data: bytes) -> None: ...


class RegisterBus(Closing):
    """An SMBus-compatible bus of register models, for the drivers in ``hal``."""

    def __init__(self, models: Iterable[RegisterModel] = ()) -> None:
        self.models: dict[int, RegisterModel] = {}
        self._lock = threading.Lock()
        self.closed = False
        for model in models:
            self.attach(model)

    def attach(self, model: RegisterModel) -> None:
        """Put ``model`` on the bus at its address."""
        if model.address in self.models:
            raise ValueError(f"address 0x{model.address:02X} is already taken on the bus")
        self.models[model.address] = model

    def _model(self, address: int) -> RegisterModel:
        if self.closed:
            raise OSError(errno.EBADF, "the I2C bus was closed")
        model = self.models.get(address)
        if model is None or not model.present:
            raise _no_answer()
        return model

    def _read(self, address: int, register: int, count: int) -> bytes:
        with self._lock:
            return self._model(address).read(register, count)

    def _write(self, address: int, register: int, data: bytes) -> None:
        with self._lock:
            self._model(address).write(register, data)

    def read_byte_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        return self._read(i2c_addr, register, 1)[0]

    def write_byte_data(
        self, i2c_addr: int, register: int, value: int, force: bool | None = None
    ) -> None:
        self._write(i2c_addr, register, bytes([value]))

    def read_word_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        low, high = self._read(i2c_addr, register, 2)
        return low | (high << 8)

    def write_word_data(
        self, i2c_addr: int, register: int, value: int, force: bool | None = None
    ) -> None:
        self._write(i2c_addr, register, bytes([value & 0xFF, (value >> 8) & 0xFF]))

    def read_i2c_block_data(
        self, i2c_addr: int, register: int, length: int, force: bool | None = None
    ) -> list[int]:
        if length > BLOCK_MAX:
            raise ValueError(f"Desired block length over {BLOCK_MAX} bytes")
        return list(self._read(i2c_addr, register, length))

    def write_i2c_block_data(
        self, i2c_addr: int, register: int, data: Sequence[int], force: bool | None = None
    ) -> None:
        if len(data) > BLOCK_MAX:
            raise ValueError(f"Data length cannot exceed {BLOCK_MAX} bytes")
        self._write(i2c_addr, register, bytes(data))

    def close(self) -> None:
        self.closed = True


# --- SSD1306 -------------------------------------------------------------------------

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
        blocks = {(0, 0): " ", (1, 0): "▀", (0, 1): "▄", (1, 1): "█"}
        return "\n".join(
            "".join(blocks[bool(pixels[x, y]), bool(pixels[x, y + 1])] for x in range(self.WIDTH))
            for y in range(0, self.HEIGHT, 2)
        )


# --- MAX17048 ------------------------------------------------------------------------

#: Resting voltage of a single-cell LiPo against its state of charge (percent, volts).
LIPO_CURVE: tuple[tuple[float, float], ...] = (
    (0.0, 3.30),
    (5.0, 3.50),
    (10.0, 3.60),
    (20.0, 3.70),
    (40.0, 3.78),
    (60.0, 3.87),
    (80.0, 4.00),
    (100.0, 4.20),
)

_VCELL, _SOC, _VERSION, _CRATE, _CMD = 0x02, 0x04, 0x08, 0x16, 0xFE
_MAX17048_READ_ONLY = frozenset({_VCELL, _SOC, _VERSION, _CRATE})
_MAX17048_RESET = 0x5400
#: The writable registers at power-on: MODE, CONFIG, VALRT, STATUS.
_MAX17048_POWER_ON: dict[int, int] = {0x06: 0x0000, 0x0C: 0x971C, 0x14: 0x00FF, 0x1A: 0x0100}


class MAX17048Model(RegisterModel):
    """A MAX17048 on a cell that drains (or charges) at a steady rate in percent per hour.

    The charge follows ``clock`` (seconds), so a test can step time instead of waiting.
    Faults: "unplugged"; "drain" drops the charge to 4 % at once (it stays there, as a
    real battery would, after ``clear_faults``); "wrong-version" makes the VERSION
    register read 0x0000, as another chip at the address would.
    """

    FAULTS = ("unplugged", "drain", "wrong-version")
    VERSION = 0x0012

    def __init__(
        self,
        percent: float = 80.0,
        drain_per_hour: float = 10.0,
        curve: Sequence[tuple[float, float]] = LIPO_CURVE,
        clock: Callable[[], float] = time.monotonic,
        address: int = 0x36,
    ) -> None:
        super().__init__(address)
        self._curve = tuple(curve)
        self._clock = clock
        self._percent = percent
        self._rate = -drain_per_hour
        self._since = clock()
        self.registers = dict(_MAX17048_POWER_ON)

    @property
    def percent(self) -> float:
        """State of charge now, 0..100."""
        self._settle()
        return self._percent

    @property
    def rate(self) -> float:
        """Percent per hour, negative while draining."""
        return self._rate

    @property
    def voltage(self) -> float:
        """Cell voltage for the present charge, on the model's curve."""
        percent = self.percent
        points = [point for point, _ in self._curve]
        upper = min(max(bisect_left(points, percent), 1), len(points) - 1)
        (p0, v0), (p1, v1) = self._curve[upper - 1], self._curve[upper]
        return v0 + (v1 - v0) * (percent - p0) / (p1 - p0)

    def set_percent(self, percent: float) -> None:
        """Put the charge at ``percent`` now; it drains or charges on from there."""
        self._settle()
        self._percent = min(max(percent, 0.0), 100.0)

    def charge(self, rate: float) -> None:
        """Plug in a charger adding ``rate`` percent per hour."""
        if rate < 0:
            raise ValueError(f"charge rate {rate} %/h is negative; use drain() to discharge")
        self._settle()
        self._rate = rate

    def drain(self, per_hour: float) -> None:
        """Unplug the charger: the charge falls ``per_hour`` percent per hour."""
        if per_hour < 0:
            raise ValueError(f"drain {per_hour} %/h is negative; use charge() to charge")
        self._settle()
        self._rate = -per_hour

    def _settle(self) -> None:
        now = self._clock()
        hours = (now - self._since) / 3600
        self._since = now
        self._percent = min(max(self._percent + self._rate * hours, 0.0), 100.0)

    def inject(self, kind: str) -> None:
        super().inject(kind)
        if kind == "drain":
            self.set_percent(4.0)

    def _register(self, register: int) -> int:
        if register == _VCELL:
            return min(round(self.voltage / 78.125e-6), 0xFFFF)
        if register == _SOC:
            return min(round(self.percent * 256), 0xFFFF)
        if register == _CRATE:
            return round(self._rate / 0.208) & 0xFFFF
        if register == _VERSION:
            return 0x0000 if "wrong-version" in self.faults else self.VERSION
        return self.registers.get(register, 0x0000)

    def _read(self, register: int, count: int) -> bytes:
        words = b"".join(
            self._register((register + step) & 0xFF).to_bytes(2, "big")
            for step in range(0, count + 1, 2)
        )
        return words[:count]

    def _write(self, register: int, data: bytes) -> None:
        for offset in range(0, len(data) - 1, 2):
            target = (register + offset) & 0xFF
            value = int.from_bytes(data[offset : offset + 2], "big")
            if target == _CMD and value == _MAX17048_RESET:
                # the chip resets at once and never acknowledges the command
                self.registers = dict(_MAX17048_POWER_ON)
                raise _no_answer()
            if target not in _MAX17048_READ_ONLY:
                self.registers[target] = value


# --- DS3231 --------------------------------------------------------------------------

_DS3231_REGISTERS = 0x13
_DS3231_CONTROL, _DS3231_STATUS, _DS3231_TEMP = 0x0E, 0x0F, 0x11
_OSF = 0x80


def _bcd(value: int) -> int:
    return ((value // 10) << 4) | (value % 10)


def _from_bcd(value: int) -> int:
    return (value >> 4) * 10 + (value & 0x0F)


class DS3231Model(RegisterModel):
    """A DS3231 whose time runs from ``start`` as ``clock`` (seconds) advances.

    Writing the time registers sets the time (and restarts its second, like the chip);
    12-hour writes are honoured.  The status register's OSF bit is set while the
    oscillator is or has been stopped and cleared only by writing it 0.
    Faults: "unplugged"; "osc-stopped" stops the time and sets OSF (``stopped=True``
    starts that way); ``clear_faults`` lets it run again but leaves OSF set.
    """

    FAULTS = ("unplugged", "osc-stopped")

    def __init__(
        self,
        start: datetime,
        clock: Callable[[], float] = time.monotonic,
        stopped: bool = False,
        temperature: float = 25.0,
        address: int = 0x68,
    ) -> None:
        super().__init__(address)
        self._clock = clock
        self._base = start if start.tzinfo else start.replace(tzinfo=UTC)
        self._since = clock()
        self._twelve_hour = False
        self.registers = bytearray(_DS3231_REGISTERS)
        self.registers[_DS3231_CONTROL] = 0x1C
        self.temperature = temperature
        if stopped:
            self.inject("osc-stopped")

    @property
    def running(self) -> bool:
        return "osc-stopped" not in self.faults

    @property
    def now(self) -> datetime:
        """The time the chip holds now (UTC, whole seconds count)."""
        elapsed = self._clock() - self._since if self.running else 0.0
        return self._base + timedelta(seconds=elapsed)

    @property
    def osf(self) -> bool:
        return bool(self.registers[_DS3231_STATUS] & _OSF)

    def inject(self, kind: str) -> None:
        if kind == "osc-stopped":
            self._base, self._since = self.now, self._clock()  # time stands still from here
            self.registers[_DS3231_STATUS] |= _OSF
        super().inject(kind)

    def clear_faults(self) -> None:
        if not self.running:
            self._since = self._clock()  # time runs on from where it stopped
        super().clear_faults()

    def _time_registers(self) -> bytes:
        now = self.now
        if self._twelve_hour:
            hours = 0x40 | (0x20 if now.hour >= 12 else 0) | _bcd((now.hour + 11) % 12 + 1)
        else:
            hours = _bcd(now.hour)
        century = 0x80 if now.year >= 2100 else 0
        return bytes(
            [
                _bcd(now.second),
                _bcd(now.minute),
                hours,
                now.isoweekday(),
                _bcd(now.day),
                _bcd(now.month) | century,
                _bcd(now.year % 100),
            ]
        )

    def _byte(self, register: int, time_registers: bytes) -> int:
        if register < 7:
            return time_registers[register]
        if register == _DS3231_TEMP:
            return round(self.temperature * 4) >> 2 & 0xFF
        if register == _DS3231_TEMP + 1:
            return (round(self.temperature * 4) & 0x03) << 6
        return self.registers[register]

    def _read(self, register: int, count: int) -> bytes:
        # the chip auto-increments its register pointer, wrapping after the last, and reads
        # the time from a copy taken as the read starts, so a burst never tears at a second
        time_registers = self._time_registers()
        return bytes(
            self._byte((register + step) % _DS3231_REGISTERS, time_registers)
            for step in range(count)
        )

    def _write(self, register: int, data: bytes) -> None:
        time_registers = bytearray(self._time_registers())
        wrote_time = False
        for step, value in enumerate(data):
            target = (register + step) % _DS3231_REGISTERS
            if target < 7:
                time_registers[target] = value
                wrote_time = True
            elif target == _DS3231_STATUS:
                # OSF and the alarm flags can only be cleared; EN32kHz is writable
                old = self.registers[target]
                self.registers[target] = (old & value & 0x83) | (value & 0x08) | (old & 0x04)
            elif target < _DS3231_TEMP:
                self.registers[target] = value
        if wrote_time:
            self._set_time(time_registers)

    def _set_time(self, raw: bytes) -> None:
        seconds, minutes, hours, _weekday, day, month, year = raw
        self._twelve_hour = bool(hours & 0x40)
        if self._twelve_hour:
            hour = _from_bcd(hours & 0x1F) % 12 + (12 if hours & 0x20 else 0)
        else:
            hour = _from_bcd(hours & 0x3F)
        century = 100 if month & 0x80 else 0
        self._base = datetime(
            2000 + century + _from_bcd(year),
            _from_bcd(month & 0x1F),
            _from_bcd(day & 0x3F),
            hour,
            _from_bcd(minutes & 0x7F),
            _from_bcd(seconds & 0x7F),
            tzinfo=UTC,
        )
        self._since = self._clock()
