"""MAX17048 fuel gauge on I2C: the battery's voltage, state of charge and drain rate.

Registers are 16 bits, sent most significant byte first; SMBus "words" are low byte
first, so every word read here is swapped.  The chip learns the cell by itself
(ModelGauge), so the driver only reads: no configuration, no reset.
"""

from __future__ import annotations

from hal.exc import ProtocolError
from hal.i2c import I2CDevice, SMBus
from hal.types import BatteryReading, DeviceInfo

ADDRESS = 0x36

# registers
REG_VCELL = 0x02
REG_SOC = 0x04
REG_MODE = 0x06
REG_VERSION = 0x08
REG_CONFIG = 0x0C
REG_VALRT = 0x14
REG_CRATE = 0x16
REG_STATUS = 0x1A
REG_CMD = 0xFE

VOLTS_PER_BIT = 78.125e-6  # VCELL: 78.125 uV per bit
PERCENT_PER_BIT = 1 / 256  # SOC: the high byte is whole percent
RATE_PER_BIT = 0.208  # CRATE: signed, 0.208 %/h per bit

VERSION_MASK = 0xFFF0
VERSION_FAMILY = 0x0010  # MAX17048/MAX17049 report 0x001x


class MAX17048(I2CDevice):
    """The fuel gauge; satisfies :class:`hal.contracts.Battery`.

    The constructor checks the version register, so a missing gauge (or another chip
    at its address) fails at boot.
    """

    def __init__(self, *, bus: int | SMBus, address: int = ADDRESS, name: str = "battery") -> None:
        super().__init__(bus=bus, address=address, name=name)
        self._start(self.probe)

    def probe(self) -> DeviceInfo:
        """Raises DeviceAbsent if nothing answers, ProtocolError if it is not a MAX1704x."""
        version = self._register(REG_VERSION)
        if version & VERSION_MASK != VERSION_FAMILY:
            raise ProtocolError(
                f"{self.name} at 0x{self.address:02X} reports version 0x{version:04X}, "
                f"not a MAX17048 (0x001x): check the fuel gauge part and its address",
                device=self.name,
            )
        return DeviceInfo(
            self.name,
            "MAX17048",
            {"address": f"0x{self.address:02X}", "version": f"0x{version:04X}"},
        )

    @property
    def voltage(self) -> float:
        """Cell voltage in volts."""
        return self._register(REG_VCELL) * VOLTS_PER_BIT

    @property
    def percent(self) -> float:
        """State of charge in percent, as the chip reports it (it may exceed 100 briefly)."""
        return self._register(REG_SOC) * PERCENT_PER_BIT

    @property
    def rate(self) -> float:
        """Charge rate in percent per hour, negative while discharging."""
        raw = self._register(REG_CRATE)
        return (raw - 0x10000 if raw & 0x8000 else raw) * RATE_PER_BIT

    def read(self) -> BatteryReading:
        """One reading; percent clamped to 0..100 as :class:`BatteryReading` promises."""
        return BatteryReading(
            voltage=self.voltage, percent=min(self.percent, 100.0), rate=self.rate
        )

    def _register(self, register: int) -> int:
        word = self._read_word(register)
        return ((word & 0xFF) << 8) | (word >> 8)
