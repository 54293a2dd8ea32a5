"""The kit's panel on GPIO: four buttons, an RGB status LED and a buzzer (gpiozero).

gpiozero does the pin work, so the same code runs on the Pi (lgpio) and against
gpiozero's ``MockFactory`` in the simulator and the tests; the factory is handed in
(``pin_factory=``) like every other driver's port or bus.

Only BACK knows a hold (the officer holds BACK to cancel an enrolment): its short
press is reported on *release*, so a hold is never also reported as a short press.
UP, DOWN and OK report SHORT on *press*, which feels quicker with gloves on.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import astuple, dataclass, fields

import gpiozero

from hal.contracts import ButtonHandler, Closing
from hal.exc import DeviceAbsent
from hal.types import Button, DeviceInfo, Indicator, Press, Tone

#: Debounce for the switches; short enough for a quick double tap.
BOUNCE_SECONDS = 0.02

#: Steady LED colour (red, green, blue; 0 off, 1 full) per indicator; SAVED blinks.
COLOURS: dict[Indicator, tuple[float, float, float]] = {
    Indicator.OFF: (0.0, 0.0, 0.0),
    Indicator.READY: (0.0, 1.0, 0.0),
    Indicator.BUSY: (0.0, 0.0, 1.0),
    Indicator.ATTENTION: (1.0, 1.0, 0.0),
    Indicator.FAULT: (1.0, 0.0, 0.0),
    Indicator.SAVED: (0.0, 1.0, 0.0),
}

#: SAVED blinks green (on, off seconds) until the next indicate().
SAVED_BLINK = (0.25, 0.25)

#: Buzzer patterns as (on seconds, off seconds, beeps): distinct by ear in a noisy hall.
TONES: dict[Tone, tuple[float, float, int]] = {
    Tone.CLICK: (0.03, 0.0, 1),  # a tick for every button press
    Tone.OK: (0.15, 0.0, 1),  # one clear beep: step accepted
    Tone.SAVED: (0.08, 0.08, 2),  # two quick beeps: record sealed
    Tone.ERROR: (0.25, 0.12, 3),  # three long beeps: look at the display
}


class _Back(enum.Enum):
    """Where BACK's press in progress stands."""

    DOWN = "down"
    HELD = "held"


@dataclass(frozen=True)
class PanelPins:
    """BCM GPIO numbers of the panel's parts.

    The defaults keep clear of I2C (2, 3: display, fuel gauge, clock), the UART
    (14, 15: fingerprint sensor), SPI0 (7-11) and the HAT EEPROM pins (0, 1).  The
    buttons switch to ground (internal pull-ups); the LED is common-cathode, each
    colour through its resistor; the buzzer is an active buzzer on a transistor,
    on GPIO18 so a tonal buzzer on hardware PWM can replace it later.  UP is on
    GPIO26, not GPIO5: GPIO4/5 are UART3, the power co-processor's link.
    """

    up: int = 26
    down: int = 6
    ok: int = 13
    back: int = 19
    red: int = 17
    green: int = 27
    blue: int = 22
    buzzer: int = 18

    def __post_init__(self) -> None:
        numbers = astuple(self)
        if len(set(numbers)) != len(numbers):
            raise ValueError(f"panel pins must all differ, got {self}")

    def as_dict(self) -> dict[str, int]:
        """The pins by part name, as the simulator's ``MockPanelDriver`` takes them."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class GpioPanel(Closing):
    """The panel on gpiozero; satisfies :class:`hal.contracts.Panel`."""

    def __init__(
        self,
        *,
        pins: PanelPins = PanelPins(),  # frozen, so one shared default is safe
        hold_seconds: float = 1.0,
        pin_factory: gpiozero.Factory | None = None,
        name: str = "panel",
    ) -> None:
        if hold_seconds <= 0:
            raise ValueError(f"hold_seconds must be positive, got {hold_seconds}")
        self.name = name
        self.pins = pins
        self.hold_seconds = hold_seconds
        self._handler: ButtonHandler | None = None
        self._lock = threading.Lock()
        # BACK's press in progress, None while it is up; guarded by _lock.
        self._back_state: _Back | None = None
        self._buttons: dict[Button, gpiozero.Button] = {}
        self._led: gpiozero.RGBLED | None = None
        self._buzzer: gpiozero.Buzzer | None = None
        try:
            for button in Button:
                self._buttons[button] = gpiozero.Button(
                    getattr(pins, button.value),
                    pull_up=True,
                    bounce_time=BOUNCE_SECONDS,
                    hold_time=hold_seconds,
                    pin_factory=pin_factory,
                )
            # Full-on mixes only, so no software PWM threads and any pin factory works.
            self._led = gpiozero.RGBLED(
                pins.red, pins.green, pins.blue, pwm=False, pin_factory=pin_factory
            )
            self._buzzer = gpiozero.Buzzer(pins.buzzer, pin_factory=pin_factory)
        except gpiozero.GPIOZeroError as exc:
            self.close()
            raise DeviceAbsent(
                f"{name}: cannot claim GPIO pins {pins.as_dict()}: {exc}; check that no other "
                "program uses them and that lgpio is installed (the `pi` extra)",
                device=name,
            ) from exc
        for button, device in self._buttons.items():
            if button is Button.BACK:
                device.when_pressed = self._back_pressed
                device.when_held = self._back_held
                device.when_released = self._back_released
            else:
                device.when_pressed = lambda button=button: self._emit(button, Press.SHORT)

    def __repr__(self) -> str:
        state = "closed" if self._led is None else "open"
        return f"GpioPanel(name={self.name!r}, pins={self.pins}, {state})"

    def on_button(self, handler: ButtonHandler | None) -> None:
        """Call ``handler(button, press)`` from gpiozero's thread; None detaches."""
        self._handler = handler

    def indicate(self, indicator: Indicator) -> None:
        """Show ``indicator`` on the status LED (stopping any blink in progress)."""
        led = self._open_led()
        if indicator is Indicator.SAVED:
            on_time, off_time = SAVED_BLINK
            led.blink(
                on_time=on_time, off_time=off_time, on_color=COLOURS[indicator], background=True
            )
        else:
            led.value = COLOURS[indicator]

    def beep(self, tone: Tone) -> None:
        """Sound ``tone`` in the background; a new beep replaces one still sounding."""
        if self._buzzer is None:
            raise DeviceAbsent(f"{self.name} is closed: reopen it before beeping", device=self.name)
        on_time, off_time, count = TONES[tone]
        self._buzzer.beep(on_time=on_time, off_time=off_time, n=count, background=True)

    def probe(self) -> DeviceInfo:
        """The panel cannot answer back; report what pins it holds and on which backend."""
        led = self._open_led()
        detail = {part: f"GPIO{number}" for part, number in self.pins.as_dict().items()}
        detail["pin_factory"] = type(led.pin_factory).__name__
        detail["hold_seconds"] = f"{self.hold_seconds:g}"
        return DeviceInfo(
            name=self.name, model="GPIO panel (4 buttons, RGB LED, buzzer)", detail=detail
        )

    def close(self) -> None:
        """Release every pin (LED and buzzer go dark); safe to call twice."""
        self._handler = None
        devices: list[gpiozero.Device] = [*self._buttons.values()]
        devices += [device for device in (self._led, self._buzzer) if device is not None]
        self._buttons = {}
        self._led = None
        self._buzzer = None
        for device in devices:
            device.close()

    def _open_led(self) -> gpiozero.RGBLED:
        if self._led is None:
            raise DeviceAbsent(f"{self.name} is closed: reopen it first", device=self.name)
        return self._led

    def _emit(self, button: Button, press: Press) -> None:
        handler = self._handler
        if handler is not None:
            handler(button, press)

    # BACK: the hold thread and the pin callback race at the moment hold_seconds runs
    # out; the state under the lock makes exactly one of HOLD or SHORT win.

    def _back_pressed(self) -> None:
        with self._lock:
            self._back_state = _Back.DOWN

    def _back_held(self) -> None:
        with self._lock:
            won = self._back_state is _Back.DOWN
            if won:
                self._back_state = _Back.HELD
        if won:
            self._emit(Button.BACK, Press.HOLD)

    def _back_released(self) -> None:
        with self._lock:
            won = self._back_state is _Back.DOWN
            self._back_state = None
        if won:
            self._emit(Button.BACK, Press.SHORT)
