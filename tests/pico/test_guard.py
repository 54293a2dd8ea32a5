"""firmware.power's pieces against the real firmware: the self-test line, a silent Pico.

A co-processor that stops answering must never stop the kit: heartbeats are counted as
missed, the battery reading falls back on the Pico's last word, and "halted" is logged.
"""

from __future__ import annotations

import logging

import pytest

from firmware.power import GuardedBattery, PowerGuard, coprocessor_report
from hal.coprocessor import BatteryLevel, PowerCoprocessor
from hal.types import BatteryReading, DeviceInfo
from hw_sim.pico import PicoSim
from storage.model import Policy
from tests.pico.conftest import firmware_version


class Gauge:
    """A fuel gauge that always reads 80 %: what the Pico's verdict bounds."""

    name = "battery"

    def read(self) -> BatteryReading:
        return BatteryReading(voltage=3.8, percent=80.0)

    def probe(self) -> DeviceInfo:
        return DeviceInfo(self.name, "test gauge")

    def close(self) -> None:
        pass


def test_the_selftest_line_names_version_reset_cut_and_cell(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    line = coprocessor_report(driver)
    expected = f"firmware {firmware_version()}, last reset POWER_ON, last power cut NONE, cell 3."
    assert line.startswith(expected)
    assert "(OK)" in line


def test_a_silent_pico_costs_heartbeats_not_the_kit(
    pico: PicoSim, driver: PowerCoprocessor, caplog: pytest.LogCaptureFixture
) -> None:
    guard = PowerGuard(driver, every=0)
    policy = Policy()
    battery = GuardedBattery(Gauge(), guard, policy=lambda: policy)
    pico.set_battery(3.4)
    pico.advance(2)
    assert battery.read().percent == policy.low_battery_percent  # bounded by the Pico's LOW
    pico.inject("unplugged")
    with caplog.at_level(logging.WARNING):
        assert battery.read().percent == policy.low_battery_percent  # its last word holds
        guard.halted()  # logged, not raised: the halt goes on
    assert guard.level is BatteryLevel.LOW
    assert "did not hear 'halted'" in caplog.text
