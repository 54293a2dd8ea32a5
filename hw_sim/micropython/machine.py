"""A fake ``machine`` for the unix MicroPython: the Pico's parts, bridged to hw_sim.pico.

Only what the co-processor firmware uses: Pin, ADC, UART, WDT and reset_cause.  Output
pins and UART writes go to the simulator as they happen; input levels, ADC values and
UART bytes come from it (see _bridge).
"""

import _bridge

PWRON_RESET = 1
WDT_RESET = _bridge.WDT_RESET


def reset_cause() -> int:
    return _bridge.reset_cause


def reset() -> None:
    """As on the RP2040, where machine.reset() reboots through the watchdog."""
    _bridge.reset(WDT_RESET)


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, id: int, mode: int = -1, pull: int = -1, *, value=None) -> None:
        self.id = id
        self._mode = mode
        self._level = -1
        if mode == Pin.IN and pull == Pin.PULL_UP:
            _bridge.levels.setdefault(id, 1)
        if value is not None:
            self.value(value)

    def value(self, level=None):
        if level is None:
            if self._mode == Pin.OUT:
                return self._level
            return _bridge.levels.get(self.id, 0)
        level = 1 if level else 0
        if level != self._level:
            self._level = level
            _bridge.send(f"o {_bridge.now()} {self.id} {level}")
        return None


class ADC:
    def __init__(self, pin: int) -> None:
        self._pin = pin

    def read_u16(self) -> int:
        return _bridge.adc.get(self._pin, 0)


class UART:
    def __init__(self, id: int, baudrate: int = 115200, **settings) -> None:
        self.id = id
        self.baudrate = baudrate

    def any(self) -> int:
        _bridge.drain()
        return len(_bridge.rx)

    def read(self, nbytes: int = -1):
        if not _bridge.rx:
            return None
        count = len(_bridge.rx) if nbytes < 0 else min(nbytes, len(_bridge.rx))
        data = bytes(_bridge.rx[:count])
        _bridge.rx[:] = _bridge.rx[count:]
        return data

    def write(self, buf) -> int:
        _bridge.send(f"u {_bridge.now()} {bytes(buf).hex()}")
        return len(buf)

    def flush(self) -> None:
        """Every byte written is on the wire already."""


class WDT:
    """Once started it cannot be stopped, as on the RP2040; a missed feed resets."""

    def __init__(self, id: int = 0, timeout: int = 5000) -> None:
        _bridge.watchdog[:] = [timeout, _bridge.local_ms]

    def feed(self) -> None:
        _bridge.watchdog[1] = _bridge.local_ms
