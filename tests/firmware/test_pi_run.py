"""`jemput-kit run` on the kit's real drivers, here against the wire emulators.

What the officer sees is read back from the display emulator's framebuffer and compared
with the font's rendering of the expected lines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from capture.machine import CaptureState
from capture.prompts import prompt
from firmware.config import DevicePorts, KitConfig
from firmware.hardware import Opened
from firmware.kit import KitEnd, NoKit
from firmware.pi import UNPROVISIONED_LINES, run_pi
from hal import font
from simulator.hardware import wired_kit
from simulator.kit import demo_world, provision_demo


def start(settings: KitConfig, opened: Opened, stop: threading.Event):
    outcome: dict[str, KitEnd] = {}

    def run() -> None:
        outcome["state"] = run_pi(settings, open_devices=lambda: opened, stop=stop)

    thread = threading.Thread(target=run)
    thread.start()
    return outcome, thread


def eventually(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


#: A kit as a flash leaves it: locked, and none of its three officers has a login finger on
#: the sensor yet (a supervisor enrols them on the kit), which the lock screen says above
#: the way on by PIN.
LOCKED_AS_FLASHED = [
    *prompt("locked")[:2],
    *prompt("login_fingers_missing", count=3),
    *prompt("locked")[2:],
]


def showing(wired, lines: list[str]) -> Callable[[], bool]:
    expected = font.render_lines(lines).tobytes()
    return lambda: wired.display.to_image().tobytes() == expected


def test_a_provisioned_kit_boots_on_its_drivers_to_locked_and_stops(tmp_path: Path) -> None:
    world = demo_world(3, clock_speed=0)
    provision_demo(tmp_path, world, now=world.clock.now())
    settings = KitConfig(data_dir=tmp_path, ports=DevicePorts(provisioning=""))
    stop = threading.Event()
    with wired_kit(world, wait_scale=0.02) as (wired, opened):
        outcome, thread = start(settings, opened, stop)
        try:
            assert eventually(showing(wired, LOCKED_AS_FLASHED))
        finally:
            stop.set()
            thread.join(timeout=30)
    assert not thread.is_alive()
    assert outcome["state"] is CaptureState.LOCKED


def test_an_unflashed_kit_says_so_and_waits_for_the_technician(tmp_path: Path) -> None:
    world = demo_world(3, clock_speed=0)
    settings = KitConfig(data_dir=tmp_path, ports=DevicePorts(provisioning=""))
    stop = threading.Event()
    with wired_kit(world, wait_scale=0.02) as (wired, opened):
        outcome, thread = start(settings, opened, stop)
        try:
            assert eventually(showing(wired, list(UNPROVISIONED_LINES)))
        finally:
            stop.set()
            thread.join(timeout=30)
    assert not thread.is_alive()
    assert outcome["state"] is NoKit.UNPROVISIONED
