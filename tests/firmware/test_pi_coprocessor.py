"""`jemput-kit run` with its power co-processor: the Pico's own firmware under MicroPython
(hw_sim.pico.PicoSim) on a pty, the kit's real drivers on the wire emulators.

The loop heartbeats the Pico; the power button held ends the run in SAFE_SHUTDOWN with
the button's screen, the store closed, "halted" sent, and the Pico cuts the power.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from capture.machine import CaptureState
from capture.prompts import prompt
from firmware.config import DevicePorts, KitConfig
from firmware.hardware import Opened
from firmware.host import KitHost
from firmware.kit import KitEnd, NoKit
from firmware.pi import UNPROVISIONED_LINES, run_pi
from firmware.power import open_coprocessor
from hal.coprocessor import HALTED, HEARTBEAT, FrameReader, PowerCoprocessor
from hal.exc import DeviceError
from hw_sim.pico import PicoSim
from simulator.hardware import wired_kit
from simulator.kit import build, demo_world, provision_demo
from tests.firmware.test_pi_run import LOCKED_AS_FLASHED, eventually, showing
from tests.pico.conftest import DRIVER_TIMEOUT, firmware_version


def sent_to_pico(pico: PicoSim) -> list[int]:
    """The kinds of the frames the Pi sent the Pico, in order."""
    reader = FrameReader()
    return [kind for _, chunk in list(pico.from_pi) for kind, _, _ in reader.feed(chunk)]


def patient(port: str) -> PowerCoprocessor | DeviceError:
    """The kit's own opener, with the tests' longer deadline (a busy test machine)."""
    return open_coprocessor(port, timeout=DRIVER_TIMEOUT)


@pytest.fixture
def pico() -> Iterator[PicoSim]:
    with PicoSim() as sim:
        yield sim


def start(settings: KitConfig, opened: Opened, stop: threading.Event) -> Running:
    """run_pi on its own thread; the host once the port is served, the state it ended in."""
    running = Running()

    def run() -> None:
        running.state = run_pi(
            settings,
            open_devices=lambda: opened,
            stop=stop,
            open_power=patient,
            started=lambda host: setattr(running, "host", host),
        )

    running.thread = threading.Thread(target=run)
    running.thread.start()
    return running


class Running:
    thread: threading.Thread
    host: KitHost | None = None
    state: KitEnd | None = None


def test_the_power_button_held_ends_the_run_safely_and_the_pico_cuts(
    tmp_path: Path, pico: PicoSim
) -> None:
    world = demo_world(3, clock_speed=0)
    provision_demo(tmp_path, world, now=world.clock.now())
    settings = KitConfig(
        data_dir=tmp_path, ports=DevicePorts(provisioning="", coprocessor=pico.port)
    )
    with PowerCoprocessor(port=pico.port, timeout=DRIVER_TIMEOUT) as technician:
        short_delay = technician.info.short_delay  # from "halted" to the cut, in seconds
    stop = threading.Event()
    with wired_kit(world, wait_scale=0.02) as (wired, opened):
        running = start(settings, opened, stop)
        try:
            assert eventually(showing(wired, LOCKED_AS_FLASHED))
            assert eventually(lambda: HEARTBEAT in sent_to_pico(pico)), "no heartbeat"
            assert pico.cuts() == []
            pico.press(3.5)  # the officer holds the power button
            running.thread.join(timeout=60)
            assert not running.thread.is_alive(), "the run did not end on the button"
        finally:
            stop.set()
            running.thread.join(timeout=30)
        assert running.state == CaptureState.SAFE_SHUTDOWN
        assert showing(wired, prompt("shutdown.power_button"))()
    assert sent_to_pico(pico)[-1] == HALTED, "the kit's last word to the Pico is halted"
    pico.advance(short_delay + 1)
    assert len(pico.cuts()) == 1
    assert not pico.powered


def test_a_configured_coprocessor_that_does_not_answer_never_stops_the_kit(
    tmp_path: Path, pico: PicoSim
) -> None:
    world = demo_world(3, clock_speed=0)
    provision_demo(tmp_path, world, now=world.clock.now())
    pico.inject("unplugged")
    settings = KitConfig(
        data_dir=tmp_path, ports=DevicePorts(provisioning="", coprocessor=pico.port)
    )
    stop = threading.Event()
    with wired_kit(world, wait_scale=0.02) as (wired, opened):
        running = start(settings, opened, stop)
        try:
            assert eventually(showing(wired, LOCKED_AS_FLASHED))
        finally:
            stop.set()
            running.thread.join(timeout=30)
    assert not running.thread.is_alive()
    assert running.state == CaptureState.LOCKED
    assert HEARTBEAT not in sent_to_pico(pico)


def coprocessor_row(host: KitHost) -> dict[str, Any]:
    """The co-processor's row of the self-test asked for over the port."""
    (row,) = [row for row in host.selftest() if row["device"] == "coprocessor"]
    return row


def test_the_ports_selftest_reports_the_pico(tmp_path: Path, pico: PicoSim) -> None:
    world = demo_world(3, clock_speed=0)
    devices = build(world, time_scale=0).devices
    with PowerCoprocessor(port=pico.port, timeout=DRIVER_TIMEOUT) as coprocessor:
        host = KitHost(tmp_path, devices, world.clock, coprocessor=coprocessor)
        row = coprocessor_row(host)
    assert row["ok"], row
    assert row["detail"].startswith(f"firmware {firmware_version()}, last reset POWER_ON, ")
    assert "last power cut NONE, cell 3.90 V (OK), 0 bytes of line noise" in row["detail"]


def test_the_ports_selftest_names_a_missing_pico(tmp_path: Path) -> None:
    world = demo_world(3, clock_speed=0)
    devices = build(world, time_scale=0).devices
    host = KitHost(tmp_path, devices, world.clock, coprocessor=open_coprocessor(""))
    row = coprocessor_row(host)
    assert not row["ok"]
    assert "[ports] coprocessor is empty" in row["detail"]
    assert "mpremote" in row["check"]


def test_an_unflashed_kit_heartbeats_so_the_pico_lets_the_technician_flash_it(
    tmp_path: Path, pico: PicoSim
) -> None:
    world = demo_world(3, clock_speed=0)
    settings = KitConfig(
        data_dir=tmp_path, ports=DevicePorts(provisioning="", coprocessor=pico.port)
    )
    stop = threading.Event()
    with wired_kit(world, wait_scale=0.02) as (wired, opened):
        running = start(settings, opened, stop)
        try:
            assert eventually(showing(wired, list(UNPROVISIONED_LINES)))
            assert eventually(lambda: HEARTBEAT in sent_to_pico(pico)), "no heartbeat"
        finally:
            stop.set()
            running.thread.join(timeout=30)
    assert running.state is NoKit.UNPROVISIONED
    assert HALTED not in sent_to_pico(pico), "only a safe shutdown says halted"
