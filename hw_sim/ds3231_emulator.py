"""The DS3231 real-time clock at register level: BCD time registers and the oscillator flag."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hw_sim.register_bus import RegisterModel

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
            self._set_time(bytes(time_registers))

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
