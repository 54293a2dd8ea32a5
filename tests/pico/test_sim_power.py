"""The simulator's cell: the page's charge in percent, as a voltage the Pico's ADC reads."""

from __future__ import annotations

import pytest

from hal.coprocessor import BatteryLevel, PowerCoprocessor
from hw_sim.pico import PicoSim
from simulator.power import DISCHARGE_CURVE, cell_volts
from storage.model import Policy
from tests.pico.conftest import DRIVER_TIMEOUT


def test_the_curve_passes_its_points_and_never_falls_as_the_charge_rises() -> None:
    for percent, volts in DISCHARGE_CURVE:
        assert cell_volts(percent) == pytest.approx(volts)
    samples = [cell_volts(p / 2) for p in range(0, 201)]
    assert samples == sorted(samples)
    assert cell_volts(-5) == cell_volts(0) and cell_volts(140) == cell_volts(100)


@pytest.mark.parametrize(
    ("percent", "level"),
    [
        (Policy().critical_battery_percent - 1, BatteryLevel.CRITICAL),
        (Policy().low_battery_percent - 1, BatteryLevel.LOW),
        (Policy().low_battery_percent + 2, BatteryLevel.OK),
    ],
)
def test_the_pico_judges_the_charge_as_the_policy_does(percent: float, level: BatteryLevel) -> None:
    with PicoSim(volts=cell_volts(percent)) as pico:
        pico.advance(3)  # enough samples for the level to settle
        with PowerCoprocessor(port=pico.port, timeout=DRIVER_TIMEOUT) as driver:
            assert driver.status().level is level
