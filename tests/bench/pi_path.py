"""The Pi program's own memory: ``firmware.pi.run_pi`` enrolling 50 and 500 people.

Three processes.  The serial emulators (`hw_sim.wired.SerialParts`: the fingerprint
sensor with its ridge patterns, the pad, the two printers with their prints) run in the
devices' process, ``python -m tests.bench.pi_path devices FOLDER``, each on its pty,
reached through a `multiprocessing` manager on a Unix socket.  The kit's process,
``python -m tests.bench.pi_path kit FOLDER PEOPLE VILLAGE``, runs ``run_pi`` with the
real drivers (`hal`, opened by `simulator.hardware.sim_wired_devices`) on those ptys.

What has no pty stays in the kit's process, as it does on a Pi: the I2C register models
behind the drivers' SMBus calls, gpiozero's mock pins, the camera (picamera2's stills
are the kit's memory on a Pi too), and the officer at the panel
(`simulator.panel_bot.PanelBot`) with the world that says who comes next.  Officers log
in by finger (enrolled into the sensor's library as flashing does); residents with ten
good fingers come one after the other, from a village of the same size in both runs
(its worklist, and the world the officer reads, do not grow with the people asked for).
``wait4``'s ``ru_maxrss`` of the kit's process is the figure; the 500-person run is
judged against the 50-person one.
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import replace
from multiprocessing.managers import BaseManager, BaseProxy
from pathlib import Path
from typing import TYPE_CHECKING

from tests.bench.core import Goal, Row, Run, benchmark, waited_peak_mb

if TYPE_CHECKING:
    from firmware.host import KitHost
    from hal.types import SensorModel
    from hw_sim.wired import WiredKit

BUDGET_MB = 120.0
FIRST_GOAL = Goal(figure_max=BUDGET_MB)
#: 500 people within 5% of 50, and within the budget.
GROWTH_GOAL = Goal(ratio_max=1.05, figure_max=BUDGET_MB)
SEED = 1
#: The serial parts the devices' process serves, as `hw_sim.wired.SerialParts` names them.
PARTS = ("fingerprint", "signature_pad", "card_printer", "receipt_printer")
#: The longest the kit's process may take for one person (the fast emulators: seconds).
SECONDS_A_PERSON = 120.0
_ADDRESS = "devices.sock"


class _Remote(BaseProxy):
    """A serial emulator in the devices' process, as the kit's side uses one: its pty's
    path and the sensor's model read there, a finger placed or strokes signed there."""

    _exposed_ = ("__getattribute__", "place", "sign", "idle")

    @property
    def port(self) -> str:
        return str(self._callmethod("__getattribute__", ("port",)))

    @property
    def model(self) -> SensorModel:
        return self._callmethod("__getattribute__", ("model",))

    def place(self, finger: object) -> None:
        self._callmethod("place", (finger,))

    def sign(self, strokes: object, *, delay: float = 0.0) -> None:
        self._callmethod("sign", (strokes,), {"delay": delay})

    def idle(self) -> None:
        self._callmethod("idle")


class _Devices(BaseManager):
    """The devices' process's manager: ``part(name)`` is one of :data:`PARTS`."""


def _key(folder: Path) -> bytes:
    return (folder / "devices.key").read_bytes()


def village_for(people: int) -> int:
    """Residents enough for ``people`` with ten good fingers who sign (three in four of
    the demo village: 488 of 645)."""
    return people * 3 // 2 + 20


def peak_rss_mb(folder: Path, people: int, village: int) -> float:
    """Peak RSS in MB of the kit's process enrolling ``people`` of a demo village of
    ``village`` residents, its devices elsewhere."""
    folder.mkdir(parents=True)
    (folder / "devices.key").write_bytes(secrets.token_bytes(32))
    devices = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.pi_path", "devices", str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert devices.stdin is not None and devices.stdout is not None
    try:
        if devices.stdout.readline().strip() != "serving":
            raise RuntimeError("the devices' process did not start")
        command = ("kit", str(folder), str(people), str(village))
        kit = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.pi_path", *command],
            stdout=subprocess.DEVNULL,
        )
        return waited_peak_mb(kit, f"the kit's process enrolling {people}")
    finally:
        devices.stdin.close()
        devices.wait(timeout=60)


@benchmark("pi-memory")
def pi_memory(run: Run) -> list[Row]:
    small, large = run.size(50, 2), run.size(500, 4)
    # one village for both: what grows is what the kit enrolled, not the world or its list
    village = village_for(large)
    first = peak_rss_mb(run.scratch / "pi-small", small, village)
    second = peak_rss_mb(run.scratch / "pi-large", large, village)
    what = "the Pi program's peak RSS"
    return [
        Row("pi-memory", f"{what}, {small} people", first, "MB", None, "", FIRST_GOAL),
        Row(
            "pi-memory",
            f"{what}, {large} people",
            second,
            "MB",
            first,
            f"{small} people",
            GROWTH_GOAL,
        ),
    ]


# -- the devices' process ---------------------------------------------------------------


def _serve_devices(folder: Path) -> None:
    """The serial emulators on their ptys, served until stdin closes."""
    from hw_sim.timing import Timing
    from hw_sim.wired import SerialParts

    with contextlib.ExitStack() as stack:
        parts = SerialParts.start(stack, seed=SEED, hopper=10_000, timing=Timing(fast=True))
        _Devices.register("part", callable=lambda name: getattr(parts, name), proxytype=_Remote)
        manager = _Devices(address=str(folder / _ADDRESS), authkey=_key(folder))
        server = manager.get_server()
        threading.Thread(target=server.serve_forever, daemon=True, name="devices").start()
        print("serving", flush=True)
        sys.stdin.read()  # the bench closes it once the kit's process has ended


# -- the kit's process ------------------------------------------------------------------


def _run_kit(folder: Path, people: int, village: int) -> None:
    """``run_pi`` on the real drivers over the devices' ptys until ``people`` are sealed."""
    from firmware.config import load_config
    from firmware.notify import Notifier
    from firmware.pi import run_pi
    from hw_sim.timing import Timing
    from hw_sim.wired import SerialParts, WiredKit
    from simulator import kit as sim
    from simulator.hardware import sim_wired_devices
    from tests.bench.memory import enlarge_village

    enlarge_village(village)
    world = sim.demo_world(SEED, clock_speed=0.0)
    data_dir = folder / "kit"
    sim.provision_demo(data_dir, world, now=world.clock.now())
    _Devices.register("part", proxytype=_Remote)
    manager = _Devices(address=str(folder / _ADDRESS), authkey=_key(folder))
    manager.connect()
    serial = SerialParts(*(manager.part(name) for name in PARTS))  # type: ignore[attr-defined]
    # no USB gadget port here: the tool's side is not measured
    settings = load_config(None, data_dir=data_dir)
    settings = replace(settings, ports=replace(settings.ports, provisioning=""))
    with WiredKit(world, serial=serial, timing=Timing(fast=True)) as wired:
        opened = sim_wired_devices(wired, wait_scale=sim.WIRED_WAIT_SCALE)
        sim.enrol_officers(opened.devices, world.officers)
        stop = threading.Event()
        hosts: list[KitHost] = []
        failures: list[BaseException] = []
        officer = threading.Thread(
            target=_officer, args=(hosts, wired, people, stop, failures), name="officer"
        )
        officer.start()
        try:
            run_pi(
                settings,
                open_devices=lambda: opened,
                stop=stop,
                notifier=Notifier(None),
                system_clock=False,
                started=hosts.append,
            )
        finally:
            stop.set()
            officer.join(timeout=SECONDS_A_PERSON)
    if failures:
        raise failures[0]


def _officer(
    hosts: list[KitHost],
    wired: WiredKit,
    people: int,
    stop: threading.Event,
    failures: list[BaseException],
) -> None:
    """Log in by finger and enrol ``people`` residents with ten good fingers, then stop."""
    from capture.machine import CaptureState
    from hal.types import Button
    from simulator.demo import MINUTES_PER_PERSON, DemoError, Task, waiting
    from simulator.panel_bot import PanelBot

    try:
        deadline = time.monotonic() + SECONDS_A_PERSON
        while not (hosts and hosts[0].kit is not None):
            if time.monotonic() > deadline or stop.is_set():
                raise DemoError("the Pi program never opened its kit")
            time.sleep(0.05)
        host = hosts[0]
        bot = PanelBot(host, wired.world, wired)
        bot.settle(timeout=SECONDS_A_PERSON)
        if bot.screen.state is CaptureState.SELF_TEST:
            bot.press(Button.OK)  # a fault named on screen: the officer goes on
        bot.login(by_pin=False)
        kit = bot.kit
        good = (p for p in waiting(kit, wired.world) if not p.fingers and p.signature)
        for _, person in zip(range(people), good, strict=False):
            wired.world.clock.step(MINUTES_PER_PERSON * 60)
            bot.enrol(Task(person))
        sealed = kit.store.status().sealed
        if sealed != people:
            raise DemoError(f"{sealed} records sealed for {people} people")
    except BaseException as exc:  # handed to the kit's main thread
        failures.append(exc)
    finally:
        stop.set()


def _main(argv: list[str]) -> None:
    if argv[0] == "devices":
        _serve_devices(Path(argv[1]))
    else:
        _run_kit(Path(argv[1]), int(argv[2]), int(argv[3]))


if __name__ == "__main__":
    _main(sys.argv[1:])
