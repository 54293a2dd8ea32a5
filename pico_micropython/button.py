"""The power button: a debounced press, or a hold of HOLD_MS reported while still held.

The button pulls its pin to ground; the pin has the Pico's internal pull-up, so 0 means
pressed.  A hold is reported once, at HOLD_MS, so the officer knows the kit heard it;
releasing after a hold reports nothing more.
"""

import time

from machine import Pin
from micropython import const

import config

#: MicroPython has no typing module; mypy takes this name as true, the Pico as false.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ticks import Ticks

NONE = const(0)
PRESS = const(1)
HOLD = const(2)


class ButtonWatch:
    """Polled from the main loop; :meth:`poll` returns NONE, PRESS or HOLD."""

    def __init__(self, pin: Pin, now: "Ticks") -> None:
        self._pin = pin
        self._stable = pin.value() == 0
        self._raw = self._stable
        self._raw_since = now
        self._down_since = now
        self._held = self._stable  # a button already down at boot is not a new press

    def poll(self, now: "Ticks") -> int:
        raw = self._pin.value() == 0
        if raw != self._raw:
            self._raw = raw
            self._raw_since = now
        if raw != self._stable and time.ticks_diff(now, self._raw_since) >= config.DEBOUNCE_MS:
            self._stable = raw
            if raw:
                self._down_since = now
                self._held = False
            elif not self._held:
                return PRESS
        held_long = time.ticks_diff(now, self._down_since) >= config.HOLD_MS
        if self._stable and not self._held and held_long:
            self._held = True
            return HOLD
        return NONE
