"""Keys reach the kit through the real panel driver on gpiozero's mock pins."""

from __future__ import annotations

import time
from pathlib import Path

from capture.prompts import prompt
from hal.coprocessor import ShutdownRequest
from hal.types import Button, Indicator, Press
from simulator.kit import open_sim_kit
from simulator.options import SimOptions, SimParts
from simulator.terminal import key_presser, panel_io
from simulator.tui import KEYS


def step_until(sim, condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sim.kit.loop.step(timeout=0.01)
        if condition():
            return True
    return False


def test_keys_push_the_mock_pins_and_the_led_is_read_back(tmp_path: Path) -> None:
    with open_sim_kit(SimOptions(tmp_path, clock_speed=0.0)) as sim:
        sim.bystanders.offer_finger = False
        press, indicator = panel_io(sim)
        assert step_until(sim, lambda: sim.kit.controller.state == "locked")
        assert step_until(sim, lambda: indicator() is Indicator.ATTENTION)

        press(Button.OK, Press.SHORT)
        assert step_until(sim, lambda: sim.kit.controller.state == "pin_entry")
        press(Button.BACK, Press.SHORT)  # BACK in the officer list leaves the PIN login
        assert step_until(sim, lambda: sim.kit.controller.state == "locked")


def test_held_p_holds_the_picos_power_button_and_the_kit_shuts_down_safely(
    tmp_path: Path,
) -> None:
    """The terminal's power key goes to the co-processor's firmware, not to the panel: the
    Pico sees a 3 s hold and asks the kit for a safe shutdown, as on the web page."""
    with open_sim_kit(
        SimOptions(tmp_path, seed=3, clock_speed=0.0, parts=SimParts(coprocessor=True))
    ) as sim:
        assert sim.power is not None and sim.power.guard is not None
        guard = sim.power.guard
        press, _ = panel_io(sim)
        key = key_presser(sim, press)
        assert step_until(sim, lambda: sim.kit.controller.state == "locked")
        assert step_until(sim, lambda: guard.status is not None), "the Pico answers"

        key(*KEYS[b"p"])  # a short press only shows the battery
        assert not step_until(sim, lambda: guard.request is not ShutdownRequest.NONE, seconds=1.0)
        key(*KEYS[b"P"])
        assert step_until(sim, lambda: sim.kit.controller.state == "safe_shutdown")
        assert guard.request is ShutdownRequest.BUTTON
        assert sim.kit.controller.screen == prompt("shutdown.power_button")
