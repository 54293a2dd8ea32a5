"""The MAX17048 fuel gauge at register level: a LiPo cell that drains and charges."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Sequence

from hw_sim.register_bus import RegisterModel, no_answer

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
                raise no_answer()
            if target not in _MAX17048_READ_ONLY:
                self.registers[target] = value
