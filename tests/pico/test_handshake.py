"""The shutdown handshake, the button and the battery, on the real firmware.

The Pico asks (button held 3 s, or the cell at its critical voltage); the Pi finishes its
seal, closes its store and says halted; the Pico cuts after the short delay.  A Pi that
never says halted is cut after the long delay, but never while it says it is sealing.
"""

from __future__ import annotations

from hal.coprocessor import (
    BatteryLevel,
    PowerCoprocessor,
    PowerCut,
    PowerState,
    ShutdownRequest,
)
from hw_sim.pico import PicoSim
from tests.pico.conftest import beat_for

HEALTHY_VOLTS = 3.9
LOW_VOLTS = 3.40
CRITICAL_VOLTS = 3.20


def _reply_time(pico: PicoSim) -> int:
    """When the Pico sent its last answer, in virtual ms."""
    return pico.to_pi[-1][0]


def test_critical_battery_asks_and_halted_cuts_after_the_short_delay(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    short = driver.info.short_delay
    beat_for(driver, pico, 5)
    pico.set_battery(CRITICAL_VOLTS)
    status = beat_for(driver, pico, 2)
    assert status.level is BatteryLevel.CRITICAL
    assert status.request is ShutdownRequest.BATTERY
    assert status.state is PowerState.REQUESTED
    assert status.volts < driver.info.critical_volts

    status = driver.halted()  # the kit finished its seal and closed its store
    halted_at = _reply_time(pico)
    assert status.state is PowerState.HALTING
    assert status.seconds_left == short
    pico.advance(short - 1)
    assert pico.powered
    pico.advance(2)
    (cut,) = pico.cuts()
    assert short * 1000 <= cut.at_ms - halted_at < (short + 1) * 1000
    pico.advance(600)
    assert not pico.powered  # it stays off: no watchdog cycle after a safe shutdown


def test_a_pi_that_never_says_halted_is_cut_after_the_long_delay(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    long_delay = driver.info.long_delay
    beat_for(driver, pico, 5)
    pico.set_battery(CRITICAL_VOLTS)
    assert beat_for(driver, pico, 2).request is ShutdownRequest.BATTERY
    known_at = _reply_time(pico)  # asked at most 2 s before this answer
    status = beat_for(driver, pico, long_delay - 10)  # it heartbeats, but never halts
    assert status.request is ShutdownRequest.BATTERY
    assert pico.cuts() == []
    pico.advance(15)
    (cut,) = pico.cuts()
    assert (long_delay - 2) * 1000 <= cut.at_ms - known_at <= long_delay * 1000
    pico.set_battery(HEALTHY_VOLTS)  # charged again
    pico.advance(1)
    pico.press()  # a press wakes the kit
    assert pico.powered
    assert driver.read_info().last_cut is PowerCut.LONG_DELAY


def test_the_long_delay_waits_for_a_seal_under_way(pico: PicoSim, driver: PowerCoprocessor) -> None:
    long_delay = driver.info.long_delay
    beat_for(driver, pico, 5)
    pico.press(3.5)  # the officer holds the power button
    status = beat_for(driver, pico, long_delay + 60, sealing=True)
    assert status.request is ShutdownRequest.BUTTON
    assert pico.cuts() == []  # well past the long delay, but sealing
    driver.heartbeat(sealing=False)  # the seal is done; the kit still does not halt
    pico.advance(1)
    assert len(pico.cuts()) == 1


def test_a_short_press_shows_the_battery_and_asks_nothing(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    beat_for(driver, pico, 5)
    pico.press(0.5)
    status = driver.heartbeat(sealing=False)
    assert status.pressed
    assert status.request is ShutdownRequest.NONE
    assert not driver.heartbeat(sealing=False).pressed  # shown once per press


def test_holding_the_button_three_seconds_asks_for_a_shutdown(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    beat_for(driver, pico, 5)
    pico.button(down=True)
    pico.advance(2.5)
    assert driver.heartbeat(sealing=False).request is ShutdownRequest.NONE
    pico.advance(1)
    status = driver.heartbeat(sealing=False)  # asked while still held
    assert status.request is ShutdownRequest.BUTTON
    assert not status.pressed  # a hold is not also a press
    pico.button(down=False)


def test_low_battery_is_reported_without_a_request(pico: PicoSim, driver: PowerCoprocessor) -> None:
    pico.set_battery(LOW_VOLTS)
    status = beat_for(driver, pico, 3)
    assert status.level is BatteryLevel.LOW
    assert status.request is ShutdownRequest.NONE


def test_a_printer_surge_does_not_shut_the_kit_down(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    beat_for(driver, pico, 5)
    with pico.paused():  # exact durations: the dip lasts 0.6 s, five samples need 1 s
        pico.set_battery(CRITICAL_VOLTS)
        pico.advance(0.6)
        pico.set_battery(HEALTHY_VOLTS)
        pico.advance(2)
    status = driver.heartbeat(sealing=False)
    assert status.level is BatteryLevel.OK
    assert status.request is ShutdownRequest.NONE


def test_a_recovering_cell_needs_the_hysteresis_to_leave_low(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    low = driver.info.low_volts
    pico.set_battery(LOW_VOLTS)
    assert beat_for(driver, pico, 3).level is BatteryLevel.LOW
    pico.set_battery(low + 0.03)  # above the threshold, inside the hysteresis
    assert beat_for(driver, pico, 3).level is BatteryLevel.LOW
    pico.set_battery(low + 0.2)
    assert beat_for(driver, pico, 3).level is BatteryLevel.OK


def test_an_empty_cell_does_not_wake_the_kit() -> None:
    with PicoSim(volts=CRITICAL_VOLTS, realtime=False) as pico:
        pico.advance(125)  # asked at boot; nobody answers; cut after the long delay
        assert not pico.powered
        pico.press()
        pico.advance(1)
        assert not pico.powered  # waking into an empty cell would only cut again
        pico.set_battery(HEALTHY_VOLTS)
        pico.advance(2)
        pico.press()
        assert pico.powered


def test_a_pi_gone_quiet_after_the_request_gets_the_whole_long_delay(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    info = driver.info
    beat_for(driver, pico, 5)
    pico.set_battery(CRITICAL_VOLTS)
    assert beat_for(driver, pico, 2).request is ShutdownRequest.BATTERY
    pico.advance(info.heartbeat_timeout + 10)  # halting, without having said so
    assert pico.cuts() == []  # not power-cycled: that would boot it into an empty cell
    pico.advance(info.long_delay - info.heartbeat_timeout)
    assert len(pico.cuts()) == 1
    pico.advance(info.heartbeat_timeout * 3)
    assert not pico.powered
