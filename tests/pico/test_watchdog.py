"""The Pico's watchdog on the Pi, and its own machine.WDT, on the real firmware.

A Pi that stops heartbeating is power-cycled (off for a moment, then booted again); a Pi
whose last heartbeat said a seal is under way is given the seal grace instead; a Pi that
never sends a first heartbeat is cycled after the boot grace; a Pico whose firmware hangs
is reset by its own WDT, keeps the Pi powered throughout and reports why it reset.
"""

from __future__ import annotations

import time

from hal.coprocessor import PowerCoprocessor, PowerCut, PowerState, ResetCause
from hw_sim.pico import PicoSim
from tests.pico.conftest import beat_for


def test_heartbeats_keep_the_pi_powered(pico: PicoSim, driver: PowerCoprocessor) -> None:
    timeout = driver.info.heartbeat_timeout
    status = beat_for(driver, pico, 3 * timeout)
    assert status.state is PowerState.RUNNING
    assert pico.cuts() == []


def test_a_silent_pi_is_power_cycled_and_boots_again(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    timeout = driver.info.heartbeat_timeout
    beat_for(driver, pico, 10)
    last_beat = pico.to_pi[-1][0]  # when the Pico answered the last heartbeat
    pico.advance(timeout + 10)  # the capture loop hangs: no heartbeat
    (cut,) = pico.cuts()
    assert timeout * 1000 <= cut.at_ms - last_beat < (timeout + 1) * 1000
    back = [change for change in pico.power_log if change.on and change.at_ms > cut.at_ms]
    assert back, "the Pi was cut and never powered again"
    status = driver.heartbeat(sealing=False)  # the rebooted kit's first heartbeat
    assert status.state is PowerState.RUNNING
    assert driver.read_info().last_cut is PowerCut.WATCHDOG


def test_a_seal_under_way_is_never_cut_by_the_watchdog(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    info = driver.info
    beat_for(driver, pico, 10, sealing=True)
    # the loop is busy sealing (a slow fsync): silent for longer than the heartbeat timeout
    pico.advance(info.heartbeat_timeout + 30)
    assert pico.cuts() == []
    status = driver.heartbeat(sealing=False)  # the seal finished
    assert status.state is PowerState.RUNNING
    # once the seal is over, the ordinary timeout applies again
    pico.advance(info.heartbeat_timeout + 1)
    assert len(pico.cuts()) == 1


def test_a_pi_silent_past_the_seal_grace_is_taken_as_hung(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    info = driver.info
    beat_for(driver, pico, 5, sealing=True)
    pico.advance(info.seal_grace - 5)
    assert pico.cuts() == []
    pico.advance(10)
    assert len(pico.cuts()) == 1


def test_a_pi_that_never_heartbeats_is_cycled_after_the_boot_grace() -> None:
    with PicoSim(realtime=False) as pico:
        pico.advance(200)
        assert pico.cuts() == []  # the Pi may take minutes to boot
        pico.advance(45)
        (cut,) = pico.cuts()
        assert cut.at_ms == 240_000  # BOOT_GRACE_MS on a virtual clock, to the millisecond
        assert pico.power_log[-1].on and pico.power_log[-1].at_ms == 245_000  # OFF_CYCLE_MS


def test_a_hung_pico_is_reset_by_its_own_wdt_and_says_so(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    assert driver.info.reset_cause is ResetCause.POWER_ON
    beat_for(driver, pico, 5)
    pico.hang_firmware()
    pico.advance(10)  # WDT_MS is 5 s
    (reset,) = pico.resets
    assert reset.cause == ResetCause.WATCHDOG
    assert pico.cuts() == []  # the switch's pull-up held the Pi up while the Pico reset
    info = driver.read_info()
    assert info.reset_cause is ResetCause.WATCHDOG
    status = driver.heartbeat(sealing=False)
    assert status.pico_reset
    assert status.state is PowerState.RUNNING
    assert not driver.heartbeat(sealing=False).pico_reset  # reported once


def test_the_button_held_at_power_on_leaves_the_pico_to_mpremote() -> None:
    with PicoSim(button_down=True, realtime=False) as pico:
        pico.wait_until(lambda: pico.crashed is not None)  # main() returned: the REPL
        # what it printed before may still be on its way off the pipe (a bounded wait)
        deadline = time.monotonic() + 10
        while not any("maintenance mode" in line for line in pico.output):
            assert time.monotonic() < deadline, pico.output
            time.sleep(0.05)
        assert pico.resets == []  # no watchdog was started to reset it mid-flash
        assert pico.powered  # the switch's pin floats: the pull-up keeps the Pi on
