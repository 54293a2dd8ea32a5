"""The cell's voltage through the ADC, and its level: OK, LOW or CRITICAL.

A level worsens only after LEVEL_SAMPLES consecutive samples below its threshold (a
printer's surge dips the cell for a moment) and recovers only HYSTERESIS_MV above it.
"""

from machine import ADC
from micropython import const

import config

OK = const(0)
LOW = const(1)
CRITICAL = const(2)


class BatteryMonitor:
    """Samples ``adc`` and keeps the cell's millivolts and level."""

    def __init__(self, adc: ADC, *, divider: int, ref_mv: int, full_scale: int) -> None:
        self._adc = adc
        self._divider = divider
        self._ref_mv = ref_mv
        self._full_scale = full_scale
        self.millivolts = self._read_mv()
        self.level = self._level_of(self.millivolts, OK)
        self._worse_samples = 0

    def _read_mv(self) -> int:
        total = 0
        for _ in range(4):  # four conversions average the ADC's own noise
            total += self._adc.read_u16()
        return (total // 4) * self._ref_mv * self._divider // self._full_scale

    @staticmethod
    def _level_of(mv: int, current: int) -> int:
        """The level ``mv`` calls for; leaving ``current`` upwards takes HYSTERESIS_MV more."""
        critical_edge = config.CRITICAL_MV + (config.HYSTERESIS_MV if current == CRITICAL else 0)
        low_edge = config.LOW_MV + (config.HYSTERESIS_MV if current != OK else 0)
        if mv < critical_edge:
            return CRITICAL
        if mv < low_edge:
            return LOW
        return OK

    def sample(self) -> int:
        """Read the cell once; return the level (changed only as the docstring says)."""
        self.millivolts = self._read_mv()
        wanted = self._level_of(self.millivolts, self.level)
        if wanted > self.level:
            self._worse_samples += 1
            if self._worse_samples >= config.LEVEL_SAMPLES:
                self.level = wanted
                self._worse_samples = 0
        else:
            self._worse_samples = 0
            self.level = wanted
        return self.level
