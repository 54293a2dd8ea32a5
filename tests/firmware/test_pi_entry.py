"""`jemput-kit run --config kit.toml` (backend "pi") end to end, with only the buses swapped.

The kit runs `firmware.pi.run_pi` on this test's main thread, as systemd runs it: the real
drivers open the serial parts on ptys (the wire emulators), the I2C parts through
``smbus2.SMBus`` (here the register models' SMBus-compatible bus), the panel through
gpiozero's default pin factory (here a MockFactory) and the camera through picamera2
(here a stand-in module whose stills come from the simulated camera).  The technician's
tool talks to the kit's provisioning port over a null-modem pair of ptys.  A fake
``NOTIFY_SOCKET`` records what the kit tells systemd; SIGTERM ends the run.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gpiozero
import pytest
import smbus2

from firmware.config import load_config
from firmware.host import KitHost
from firmware.notify import Notifier
from firmware.pi import run_pi
from hal import font
from hal.types import FingerPosition
from hw_sim.link import PtyLink
from hw_sim.wired import WiredKit
from hw_sim.world import Person, World
from kitlink.framing import FramedPort
from provisioning import collect as collecting
from provisioning.collector import CollectorDB
from simulator.demo import Task
from simulator.hardware import emulator_ports
from simulator.kit import demo_world, provision_demo
from simulator.panel_bot import PanelBot
from storage.keys import Authority
from tests.firmware.test_pi_run import LOCKED_AS_FLASHED

SEED = 5
WAIT = 60.0


def eventually(condition: Callable[[], bool], seconds: float = WAIT) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


class NullModem:
    """Two ptys whose far ends are joined: the kit opens one path, the tool the other."""

    def __init__(self) -> None:
        self.kit_end = PtyLink(lambda data: self.tool_end.send(data), name="kit-end")
        self.tool_end = PtyLink(lambda data: self.kit_end.send(data), name="tool-end")

    def close(self) -> None:
        self.kit_end.close()
        self.tool_end.close()


def fake_picamera2(wired: WiredKit) -> types.ModuleType:
    """picamera2's API as hal.camera uses it, its stills from the simulated camera."""

    class Picamera2:
        def __init__(self) -> None:
            self.camera_properties = {"Model": "imx708_wide"}
            self.camera_controls = {"AfMode": (0, 2, 0)}

        def create_still_configuration(self, **kwargs: Any) -> dict[str, Any]:
            return dict(kwargs)

        def configure(self, config: object) -> None: ...

        def start(self) -> None: ...

        def stop(self) -> None: ...

        def close(self) -> None: ...

        def autofocus_cycle(self) -> bool:
            return True

        def capture_file(self, target: io.BytesIO, format: str = "jpeg") -> None:
            target.write(wired.camera.capture(timeout=5.0).jpeg)

    module = types.ModuleType("picamera2")
    module.Picamera2 = Picamera2  # type: ignore[attr-defined]
    return module


class NotifyListener:
    """A datagram socket standing in for systemd's; keeps every message in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                self.messages.append(self.sock.recv(4096).decode())

    def kinds(self) -> list[str]:
        return [message.split("\n")[0] for message in self.messages]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    world = demo_world(SEED, clock_speed=0)
    data_dir = tmp_path / "kit"
    provision_demo(data_dir, world, now=world.clock.now())
    with contextlib.ExitStack() as stack:
        wired = stack.enter_context(WiredKit(world))
        modem = NullModem()
        stack.callback(modem.close)
        ports = emulator_ports(wired)
        (tmp_path / "kit.toml").write_text(
            f"""[kit]
backend = "pi"
data_dir = "{data_dir}"
[ports]
fingerprint = "{ports.fingerprint}"
signature_pad = "{ports.signature_pad}"
card_printer = "{ports.card_printer}"
receipt_printer = "{ports.receipt_printer}"
provisioning = "{modem.kit_end.port}"
i2c_bus = 1
""",
            encoding="utf-8",
        )
        # only the buses are swapped: SMBus(1), gpiozero's default pins, picamera2
        monkeypatch.setattr(smbus2, "SMBus", lambda number: wired.bus)
        monkeypatch.setattr(gpiozero.Device, "pin_factory", wired.pin_factory)
        monkeypatch.setitem(sys.modules, "picamera2", fake_picamera2(wired))
        listener = NotifyListener(tmp_path / "notify.sock")
        stack.callback(listener.close)
        monkeypatch.setenv("NOTIFY_SOCKET", str(listener.path))
        monkeypatch.setenv("WATCHDOG_USEC", "400000")
        yield {
            "world": world,
            "wired": wired,
            "modem": modem,
            "config": tmp_path / "kit.toml",
            "authority": Authority.load(data_dir / "demo-authority"),
            "collector": tmp_path / "collector.db",
            "notify": listener,
        }


def a_resident_with_ten_good_fingers(world: World) -> Person:
    return next(person for person in world.residents if not person.fingers)


def test_the_pi_entry_point_enrols_and_serves_its_port_end_to_end(bench: dict[str, Any]) -> None:
    world, wired, modem = bench["world"], bench["wired"], bench["modem"]
    hosts: list[KitHost] = []
    seen: dict[str, Any] = {}
    failure: list[BaseException] = []
    stop = threading.Event()

    def technician_and_officer() -> None:
        try:
            assert eventually(lambda: bool(hosts) and hosts[0].kit is not None)
            host = hosts[0]
            locked = font.render_lines(LOCKED_AS_FLASHED).tobytes()
            assert eventually(lambda: wired.display.to_image().tobytes() == locked)
            seen["ready_at_locked"] = list(bench["notify"].kinds())
            bot = PanelBot(host, world, wired)
            resident = a_resident_with_ten_good_fingers(world)
            bot.login(by_pin=True)  # the officers' fingers are not in this sensor's library
            outcome = bot.enrol(Task(resident))
            seen["sealed"] = outcome.seq
            with FramedPort(port=modem.tool_end.port) as link:
                with CollectorDB(bench["collector"]) as db:
                    collecting.collect(link, bench["authority"], db)
                    seen["collected"] = [
                        seq for chain in db.chains() for seq, _ in db.record_bytes(chain)
                    ]
                world.follow(None)
                world.subject = resident  # now the technician, ten good fingers
                wired.present_finger(FingerPosition.RIGHT_INDEX)
                seen["verdicts"] = collecting.selftest(link, bench["authority"])
                when = datetime(2027, 3, 4, 5, 6, 7, tzinfo=UTC)
                collecting.set_time(link, bench["authority"], when)
                seen["rtc"] = wired.clock.now
                seen["set_to"] = when
        except BaseException as exc:  # handed to the test's thread
            failure.append(exc)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # as systemd stops the service

    person = threading.Thread(target=technician_and_officer)
    person.start()
    settings = load_config(bench["config"])
    try:
        state = run_pi(
            settings,
            stop=stop,
            notifier=Notifier.from_environment(),
            system_clock=False,
            started=hosts.append,
        )
    finally:
        stop.set()
        person.join(timeout=WAIT)
    if failure:
        raise failure[0]
    assert state == "locked" or state == "ready"
    assert seen["ready_at_locked"][:1] == ["READY=1"], "READY once the locked screen shows"
    assert seen["collected"][-1] == seen["sealed"], "the collection got the record just sealed"
    by_device = {verdict.device: verdict for verdict in seen["verdicts"]}
    assert {"display", "panel", "battery", "clock", "camera", "fingerprint"} <= set(by_device)
    assert by_device["clock"].ok and by_device["display"].ok
    assert by_device["fingerprint"].ok, by_device["fingerprint"]
    assert "test finger quality" in by_device["fingerprint"].detail, "a capture was checked"
    assert abs(seen["rtc"] - seen["set_to"]) < timedelta(seconds=5), "settime set the DS3231"
    kinds = bench["notify"].kinds()
    assert kinds[0] == "READY=1" and kinds[-1] == "STOPPING=1"
    assert kinds.count("READY=1") == 1 and kinds.count("STOPPING=1") == 1
    assert "WATCHDOG=1" in kinds[1:-1], "the event loop pinged the watchdog while it ran"
