"""The officer's fingers and eyes on the simulated panel, at the GPIO pins.

The real panel driver (``hal.panel.GpioPanel``) runs unchanged over gpiozero's
``MockFactory``; this module stands on the other side of those mock pins: it pushes
buttons by driving input pins (pull-up wiring, so pressed is low) and reads the LED
and buzzer back from the output pins.  It knows the pins only as numbers, never the
driver.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping

from gpiozero.pins.mock import MockFactory, MockPin

from hal.types import Button
from hw_sim.history import trim

#: The parts a panel wiring names, as ``hal.panel.PanelPins`` does.
PARTS: tuple[str, ...] = ("up", "down", "ok", "back", "red", "green", "blue", "buzzer")


class MockPanelDriver:
    """Presses buttons and reads the LED and buzzer of a panel on a ``MockFactory``.

    ``pins`` maps each part in :data:`PARTS` to its BCM number, either as a mapping or
    as any object with those attributes (such as ``hal.panel.PanelPins``).  Create the
    panel first: reading an output pin it has not claimed reads an idle input.
    """

    def __init__(self, pins: Mapping[str, int] | object, factory: MockFactory) -> None:
        self.pins = {part: int(_pin_number(pins, part)) for part in PARTS}
        self.factory = factory
        #: The presses made (the latest, `hw_sim.history`), as (button name, seconds held).
        self.received: list[tuple[str, float]] = []

    def __repr__(self) -> str:
        return f"MockPanelDriver(pins={self.pins})"

    def press(self, button_name: str | Button, *, hold_seconds: float = 0.0) -> None:
        """Push a button down, keep it there ``hold_seconds``, then let go.

        Edge callbacks run in this thread, so a SHORT press reaches the driver's
        handler before this returns; a hold is noticed by gpiozero's hold thread.
        """
        name = button_name.value if isinstance(button_name, Button) else button_name
        if name not in {button.value for button in Button}:
            valid = ", ".join(button.value for button in Button)
            raise ValueError(f"no button named {name!r} on the panel; valid: {valid}")
        pin = self._pin(name)
        self.received.append((name, hold_seconds))
        trim(self.received)
        pin.drive_low()
        if hold_seconds > 0:
            time.sleep(hold_seconds)
        pin.drive_high()
        for part in PARTS:  # the mock pins' own histories of every edge, the LED's too
            trim(self._pin(part).states)

    def led_colour(self) -> tuple[float, float, float]:
        """The LED's (red, green, blue) as driven now, each 0.0 (off) to 1.0 (full)."""
        red, green, blue = (float(self._pin(part).state) for part in ("red", "green", "blue"))
        return red, green, blue

    def buzzer_on(self) -> bool:
        """Whether the buzzer pin is driven high right now."""
        return bool(self._pin("buzzer").state)

    def pulses(self, part: str) -> int:
        """How many times an output pin went high since the panel claimed it.

        Beep patterns and blinks are too quick to sample; the mock pin keeps its
        history, so count its rising edges instead.
        """
        states = [bool(change.state) for change in self._pin(part).states]
        return sum(1 for before, after in itertools.pairwise(states) if after and not before)

    def _pin(self, part: str) -> MockPin:
        return self.factory.pin(self.pins[part])


def _pin_number(pins: Mapping[str, int] | object, part: str) -> int:
    try:
        return pins[part] if isinstance(pins, Mapping) else getattr(pins, part)
    except (KeyError, AttributeError) as exc:
        raise ValueError(f"panel wiring {pins!r} names no pin for {part!r}") from exc
