"""DS3231 real-time clock on I2C: the kit's time while it is off and offline.

Time registers 0x00..0x06 hold BCD seconds, minutes, hours, weekday, date, month and
year; the chip latches them when a read starts, so one block read gives a consistent
time.  Bit 7 of the month is the century (set: 2100..2199).  The OSF flag (status bit 7)
says the oscillator stopped since the time was last set, e.g. when the coin cell ran
flat: such a time is returned but marked not trustworthy, and setting the time clears it.
Times are UTC, timezone-aware; the DS3231 itself knows no zone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hal.exc import ClockNotTrustworthy
from hal.i2c import I2CDevice, SMBus
from hal.types import ClockReading, DeviceInfo

ADDRESS = 0x68

# registers
REG_SECONDS = 0x00  # 0x00..0x06: seconds, minutes, hours, weekday, date, month, year
REG_CONTROL = 0x0E
REG_STATUS = 0x0F
REG_TEMPERATURE = 0x11  # 0x11 signed whole degrees, 0x12 bits 7..6 quarter degrees

TIME_REGISTERS = 7
HOURS_12 = 0x40  # hours bit 6: 12-hour mode (we always write 24-hour)
HOURS_PM = 0x20  # hours bit 5 in 12-hour mode
MONTH_CENTURY = 0x80
CONTROL_EOSC = 0x80  # set: oscillator stops on battery power
STATUS_OSF = 0x80

FIRST_YEAR = 2000
LAST_YEAR = 2199  # two BCD digits plus the century bit


def _bcd(value: int) -> int:
    return ((value // 10) << 4) | (value % 10)


def _from_bcd(value: int) -> int:
    """The number two BCD digits hold; ValueError for a nibble above 9, which no set
    time ever writes (so the registers hold noise, not a time)."""
    tens, units = value >> 4, value & 0x0F
    if tens > 9 or units > 9:
        raise ValueError(f"0x{value:02X} is not a BCD number")
    return tens * 10 + units


def _hour(hours: int) -> int:
    """The 0..23 hour of the hours register, in either 12- or 24-hour mode."""
    if not hours & HOURS_12:
        return _from_bcd(hours & 0x3F)
    twelve = _from_bcd(hours & 0x1F)
    if not 1 <= twelve <= 12:
        raise ValueError(f"{twelve} is no hour on a 12-hour clock")
    return twelve % 12 + (12 if hours & HOURS_PM else 0)


class DS3231(I2CDevice):
    """The clock; satisfies :class:`hal.contracts.Clock`.

    The constructor reads the status register, so a missing clock fails at boot.
    """

    def __init__(self, *, bus: int | SMBus, address: int = ADDRESS, name: str = "clock") -> None:
        super().__init__(bus=bus, address=address, name=name)
        self._start(self.probe)

    def probe(self) -> DeviceInfo:
        """The DS3231 has no identity register; its status register shows it answers."""
        stopped = self._oscillator_stopped()
        return DeviceInfo(
            self.name,
            "DS3231",
            {
                "address": f"0x{self.address:02X}",
                "oscillator": "stopped since last set" if stopped else "running",
            },
        )

    def read(self) -> ClockReading:
        """The time, and whether the oscillator kept running since it was set.

        Raises ClockNotTrustworthy when the registers hold no valid date at all
        (as after a power loss with a flat coin cell), invalid BCD digits included.
        """
        raw = self._read_block(REG_SECONDS, TIME_REGISTERS)
        seconds, minutes, hours, _weekday, day, month, year = raw
        century = 100 if month & MONTH_CENTURY else 0
        try:
            when = datetime(
                FIRST_YEAR + century + _from_bcd(year),
                _from_bcd(month & 0x1F),
                _from_bcd(day & 0x3F),
                _hour(hours),
                _from_bcd(minutes & 0x7F),
                _from_bcd(seconds & 0x7F),
                tzinfo=UTC,
            )
        except ValueError as error:
            raise ClockNotTrustworthy(
                f"{self.name} at 0x{self.address:02X} holds no valid time "
                f"(registers {bytes(raw).hex(' ')}): set the time",
                device=self.name,
            ) from error
        return ClockReading(time=when, trustworthy=not self._oscillator_stopped())

    def set(self, when: datetime) -> None:
        """Set the clock to ``when`` (timezone-aware; stored as UTC, whole seconds).

        Writes 24-hour mode, keeps the oscillator running on battery and clears OSF.
        """
        if when.tzinfo is None:
            raise ValueError("the clock is set from a timezone-aware datetime, not a naive one")
        utc = when.astimezone(UTC)
        if not FIRST_YEAR <= utc.year <= LAST_YEAR:
            raise ValueError(f"the DS3231 holds years {FIRST_YEAR}..{LAST_YEAR}, not {utc.year}")
        century = MONTH_CENTURY if utc.year >= FIRST_YEAR + 100 else 0
        self._write_block(
            REG_SECONDS,
            [
                _bcd(utc.second),
                _bcd(utc.minute),
                _bcd(utc.hour),
                utc.isoweekday(),
                _bcd(utc.day),
                _bcd(utc.month) | century,
                _bcd(utc.year % 100),
            ],
        )
        control = self._read_byte(REG_CONTROL)
        self._write_byte(REG_CONTROL, control & ~CONTROL_EOSC)
        status = self._read_byte(REG_STATUS)
        self._write_byte(REG_STATUS, status & ~STATUS_OSF)

    @property
    def temperature(self) -> float:
        """The chip's temperature in degrees Celsius, in quarter degrees."""
        whole, fraction = self._read_block(REG_TEMPERATURE, 2)
        return (whole - 256 if whole & 0x80 else whole) + (fraction >> 6) * 0.25

    def _oscillator_stopped(self) -> bool:
        return bool(self._read_byte(REG_STATUS) & STATUS_OSF)
