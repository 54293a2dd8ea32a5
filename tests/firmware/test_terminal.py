"""Keys reach the kit through the real panel driver on gpiozero's mock pins."""

from __future__ import annotations

import time
from pathlib import Path

from firmware.sim import open_sim_kit
from firmware.terminal import panel_io
from hal.types import Button, Indicator, Press


def step_until(sim, condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sim.kit.loop.step(timeout=0.01)
        if condition():
            return True
    return False


def test_keys_push_the_mock_pins_and_the_led_is_read_back(tmp_path: Path) -> None:
    with open_sim_kit(tmp_path, seed=1, clock_speed=0.0) as sim:
        sim.bystanders.offer_finger = False
        press, indicator = panel_io(sim)
        assert step_until(sim, lambda: sim.kit.controller.state == "locked")
        assert step_until(sim, lambda: indicator() is Indicator.ATTENTION)

        press(Button.OK, Press.SHORT)
        assert step_until(sim, lambda: sim.kit.controller.state == "pin_entry")
        press(Button.BACK, Press.SHORT)  # BACK in the officer list leaves the PIN login
        assert step_until(sim, lambda: sim.kit.controller.state == "locked")
