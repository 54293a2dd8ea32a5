"""The co-processor's main loop: one pass reads the UART, the button and the battery,
answers the Pi, moves the power logic on and drives the LED.

Nothing here waits: every pass takes well under LOOP_MS, so the Pico's own watchdog,
fed once per pass by ``main``, only fires when the firmware itself is stuck.
"""

import time

import machine
from machine import ADC, UART, Pin
from micropython import const

import battery
import board
import button
import config
import frames
import link
import power

#: MicroPython has no typing module; mypy takes this name as true, the Pico as false.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ticks import Ticks

#: A frame left incomplete this long is dropped, so the next one is read whole.
_PARTIAL_MS = const(50)
_BLINK_MS = const(150)


class Blinker:
    """Shows the battery on the LED: three blinks OK, two LOW, one CRITICAL."""

    def __init__(self, led: Pin, now: "Ticks") -> None:
        self._led = led
        self._toggles = 0
        self._next = now
        led.value(0)

    def show(self, level: int, now: "Ticks") -> None:
        self._toggles = 2 * (3 - level)
        self._next = now

    def poll(self, now: "Ticks") -> None:
        if self._toggles and time.ticks_diff(now, self._next) >= 0:
            self._toggles -= 1
            self._led.value(self._toggles % 2)
            self._next = time.ticks_add(now, _BLINK_MS)


class Coprocessor:
    """Everything the Pico does, given its parts; ``main`` builds them from ``board``."""

    def __init__(
        self,
        *,
        uart: UART,
        button_pin: Pin,
        switch: Pin,
        led: Pin,
        adc: ADC,
        reset_cause: int,
        now: "Ticks",
    ) -> None:
        self._uart = uart
        self._booted = now
        self._reader = frames.Reader()
        self._last_rx = now
        self._next_sample = now
        self.battery = battery.BatteryMonitor(
            adc, divider=board.DIVIDER, ref_mv=board.ADC_REF_MV, full_scale=board.ADC_FULL_SCALE
        )
        self.button = button.ButtonWatch(button_pin, now)
        self.power = power.PowerLogic(switch, now, self.battery.level)
        self.blinker = Blinker(led, now)
        timings = (
            config.HEARTBEAT_TIMEOUT_MS // 1000,
            config.SEAL_GRACE_MS // 1000,
            config.SHORT_DELAY_MS // 1000,
            config.LONG_DELAY_MS // 1000,
            config.LOW_MV,
            config.CRITICAL_MV,
        )
        self._responder = link.Responder(self.power, reset_cause, timings)

    def step(self, now: "Ticks") -> None:
        """One pass of the loop."""
        self._serve(now)
        event = self.button.poll(now)
        if event != button.NONE:
            if event == button.PRESS:
                self.blinker.show(self.battery.level, now)
            self.power.button(event, now, self.battery.level)
        if time.ticks_diff(now, self._next_sample) >= 0:
            self._next_sample = time.ticks_add(now, config.SAMPLE_MS)
            self.power.battery(self.battery.sample(), now)
        self.power.tick(now)
        self.blinker.poll(now)

    def _serve(self, now: "Ticks") -> None:
        waiting = self._uart.any()
        if not waiting:
            if self._reader.pending() and time.ticks_diff(now, self._last_rx) >= _PARTIAL_MS:
                self._reader.discard_partial()
            return
        data = self._uart.read(waiting)
        if not data:
            return
        self._last_rx = now
        for kind, seq, payload in self._reader.feed(data):
            if not self.power.powered:
                continue  # the Pi is off: what arrives is noise on a dead line
            status = (
                self.battery.level,
                self.battery.millivolts,
                self._reader.garbage,
                self._reader.bad_frames,
                time.ticks_diff(now, self._booted) // 1000,
            )
            self._uart.write(self._responder.answer(kind, seq, payload, now, status))
            if self._responder.reset_pending:
                self._uart.flush()  # the SWITCH answer leaves before the Pico resets
                machine.reset()  # into the new slot, on trial (boot/main.py)
        in_session = self._responder.session is not None
        self._reader.max_payload = frames.MAINTENANCE_PAYLOAD if in_session else frames.MAX_PAYLOAD
