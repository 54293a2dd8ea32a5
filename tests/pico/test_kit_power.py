"""The kit and its power co-processor, end to end: the issue's scenarios.

A demo kit (the capture controller on the fast device doubles, a real store) is wired to
the Pico's own firmware under the real MicroPython through :class:`firmware.power.PowerGuard`
and the ``hal.coprocessor`` driver on a pty.  An officer bot presses the buttons.  When
the Pico cuts power, the kit is gone (closed, as its process would end); the next boot is
a new kit on the same data folder.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from capture.events import Tick
from capture.guards import BATTERY_EVERY_SECONDS
from capture.prompts import prompt
from firmware.kit import Kit
from firmware.power import GuardedBattery, PowerGuard
from hal.coprocessor import PowerCoprocessor, PowerCut, PowerState, ShutdownRequest
from hal.types import Button
from hw_sim.pico import PicoSim
from hw_sim.world import Person, World
from simulator.demo import OfficerBot
from simulator.kit import Bystanders, build, demo_cards, demo_world, provision_demo
from storage.kit import KitStore
from tests.pico.conftest import DRIVER_TIMEOUT

SEED = 13
CARDS = 10
CRITICAL_VOLTS = 3.2
HEALTHY_VOLTS = 3.9


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A provisioned demo kit, made once (keys are the slow part) and copied per test."""
    data_dir = tmp_path_factory.mktemp("power-kit") / "template"
    world = demo_world(SEED, clock_speed=0)
    provision_demo(data_dir, world, now=world.clock.now())
    store = KitStore(data_dir, now=world.clock.now)
    store.ledger.receive((demo_cards(CARDS),), officer_id="PROVISIONING")
    store.close()
    return data_dir


class PoweredKit:
    """One boot of the kit on ``data_dir``, guarded by the Pico at ``pico``."""

    def __init__(self, data_dir: Path, world: World, pico: PicoSim) -> None:
        self.world = world
        self.coprocessor = PowerCoprocessor(port=pico.port, timeout=DRIVER_TIMEOUT)
        self.guard = PowerGuard(self.coprocessor, every=0)  # a beat after every event
        devices = build(world, time_scale=0).devices
        self.store = KitStore(data_dir, now=world.clock.now)
        devices.battery = GuardedBattery(
            devices.battery, self.guard, policy=lambda: self.store.policy
        )
        self.kit = Kit(devices, self.store, now=world.clock.now, after_event=self.guard.after_event)
        self.guard.watch(self.kit.controller)
        self.bystanders = Bystanders(world, self.kit.controller)
        world.follow(self.bystanders)
        self.kit.start()
        self.bot = OfficerBot(self.kit, world, self.bystanders)
        self.bot.settle()
        if self.state == "self_test":
            self.bot.press(Button.OK)

    @property
    def state(self) -> str:
        return self.kit.controller.state

    def login(self) -> None:
        self.bot.login(by_pin=False)

    def enrol_until(self, person: Person, state: str) -> None:
        """Start ``person`` and capture until the kit shows ``state``."""
        self.bot.select_resident(person)
        self.bot.press(Button.OK)
        self.bot.until(lambda: self.state == state, lambda: self.bot.act(person))

    def halt(self) -> None:
        """What the Pi does after SAFE_SHUTDOWN: close the store, then say halted."""
        self.close(halted=True)

    def close(self, *, halted: bool = False) -> None:
        """The kit's program ends (the store closes); ``halted``: it tells the Pico so."""
        self.world.follow(None)
        self.kit.close()
        if halted:
            self.guard.halted()
        self.coprocessor.close()


@pytest.fixture
def rig(tmp_path: Path, template: Path) -> Iterator[tuple[Path, World, PicoSim]]:
    data_dir = tmp_path / "kit"
    shutil.copytree(template, data_dir)
    with PicoSim(volts=HEALTHY_VOLTS) as pico:
        yield data_dir, demo_world(SEED, clock_speed=0), pico


def _residents(kit: PoweredKit, count: int) -> list[Person]:
    """The next ``count`` worklist residents not yet recorded, as the world's people."""
    recorded = kit.store.recorded_refs()
    waiting = [r for r in kit.store.worklist if r.worklist_ref not in recorded]
    return [kit.world.visitor(r.nik, r.name, r.sex, r.birth_date) for r in waiting[:count]]


def test_critical_battery_during_a_seal_finishes_it_then_shuts_down(
    rig: tuple[Path, World, PicoSim],
) -> None:
    data_dir, world, pico = rig
    kit = PoweredKit(data_dir, world, pico)
    kit.login()
    (person,) = _residents(kit, 1)
    kit.enrol_until(person, "review")
    pico.set_battery(CRITICAL_VOLTS)  # the cell sags while the officer reviews
    pico.advance(2)
    kit.bot.press(Button.OK)  # save: the seal starts, and the first beat hears the request
    assert kit.guard.request is ShutdownRequest.BATTERY
    assert kit.state == "safe_shutdown"
    assert kit.kit.controller.sealed is not None  # the seal finished before the shutdown
    assert kit.kit.controller.screen == prompt("shutdown.battery_critical")
    assert pico.cuts() == []  # nothing is cut before the kit says it halted
    kit.halt()
    pico.advance(kit.coprocessor.info.short_delay + 1)
    assert not pico.powered

    pico.set_battery(HEALTHY_VOLTS)  # charged overnight
    pico.advance(1)
    pico.press()
    assert pico.powered
    again = PoweredKit(data_dir, world, pico)
    try:
        assert again.store.status().sealed == 1  # nothing lost
        assert again.coprocessor.read_info().last_cut is PowerCut.HALTED
        again.login()
        again.enrol_until(_residents(again, 1)[0], "done")  # the chain goes on
        assert again.store.status().sealed == 2
    finally:
        again.close()


def test_a_button_held_while_sealing_waits_for_the_seal(
    rig: tuple[Path, World, PicoSim],
) -> None:
    data_dir, world, pico = rig
    kit = PoweredKit(data_dir, world, pico)
    kit.login()
    (person,) = _residents(kit, 1)
    kit.enrol_until(person, "review")
    pico.press(3.5)  # the officer holds the power button
    kit.bot.press(Button.OK)
    assert kit.guard.request is ShutdownRequest.BUTTON
    assert kit.state == "safe_shutdown"
    assert kit.store.status().sealed == 1
    audit = [kind for _, _, kind, _ in kit.store.audit.entries()]
    assert audit.index("power-request") < audit.index("safe-shutdown")
    assert kit.kit.controller.screen == prompt("shutdown.power_button")
    kit.halt()
    pico.advance(kit.coprocessor.info.short_delay + 1)
    assert len(pico.cuts()) == 1


def test_a_hung_capture_loop_is_power_cycled_and_the_kit_resumes(
    rig: tuple[Path, World, PicoSim],
) -> None:
    data_dir, world, pico = rig
    kit = PoweredKit(data_dir, world, pico)
    kit.login()
    (person,) = _residents(kit, 1)
    kit.enrol_until(person, "review")  # every step journaled, nothing sealed yet
    timeout = kit.coprocessor.info.heartbeat_timeout
    pico.advance(timeout + 10)  # the loop hangs: no event, no heartbeat
    assert len(pico.cuts()) == 1
    kit.close()  # the power went: this process is gone
    pico.wait_until(lambda: pico.powered)  # the Pico powers the kit again
    again = PoweredKit(data_dir, world, pico)
    try:
        assert again.coprocessor.read_info().last_cut is PowerCut.WATCHDOG
        again.login()  # the login offers the interrupted person, and the bot resumes
        assert again.state == "confirm_person"
        again.bot.finish_resumed()
        assert again.store.status().sealed == 1
        assert again.coprocessor.heartbeat(sealing=False).state is PowerState.RUNNING
    finally:
        again.close()


def test_a_kit_that_never_says_halted_is_cut_late_and_keeps_every_record(
    rig: tuple[Path, World, PicoSim],
) -> None:
    data_dir, world, pico = rig
    kit = PoweredKit(data_dir, world, pico)
    kit.login()
    first, second = _residents(kit, 2)
    kit.enrol_until(first, "done")
    kit.bot.press(Button.OK)
    kit.enrol_until(second, "review")
    kit.bot.press(Button.OK)  # sealed while the battery holds (a critical level read first
    assert kit.store.status().sealed == 2  # would stop at the review: resumed, not sealed)
    pico.set_battery(CRITICAL_VOLTS)
    pico.advance(2)
    kit.bot.until(lambda: kit.state == "safe_shutdown", kit.bot.settle)
    kit.close()  # the store is closed, but "halted" never reaches the Pico
    long_delay = kit.coprocessor.info.long_delay
    pico.advance(long_delay - 10)
    assert pico.powered
    pico.advance(15)
    assert not pico.powered
    store = KitStore(data_dir, now=world.clock.now)  # the next boot, with its repair
    try:
        assert store.status().sealed == 2
    finally:
        store.close()
    pico.set_battery(HEALTHY_VOLTS)
    pico.advance(1)
    pico.press()
    with PowerCoprocessor(port=pico.port, timeout=DRIVER_TIMEOUT) as coprocessor:
        assert coprocessor.read_info().last_cut is PowerCut.LONG_DELAY


def test_low_battery_refuses_a_new_enrolment(rig: tuple[Path, World, PicoSim]) -> None:
    data_dir, world, pico = rig
    kit = PoweredKit(data_dir, world, pico)
    try:
        kit.login()
        pico.set_battery(3.40)  # low, not critical
        pico.advance(2)
        world.clock.step(BATTERY_EVERY_SECONDS)  # the next battery reading is due
        kit.kit.loop.post(Tick(world.clock.now()))
        kit.bot.settle()  # the reading asks the Pico, which says LOW
        (person,) = _residents(kit, 1)
        kit.bot.select_resident(person)  # OK on the resident: refused
        assert kit.state == "ready"
        assert "Baterai lemah" in "\n".join(kit.kit.controller.screen)
        assert kit.guard.request is ShutdownRequest.NONE
    finally:
        kit.close()


def test_an_unplugged_coprocessor_never_stops_an_enrolment(
    rig: tuple[Path, World, PicoSim],
) -> None:
    data_dir, world, pico = rig
    kit = PoweredKit(data_dir, world, pico)
    try:
        kit.login()
        pico.inject("unplugged")
        (person,) = _residents(kit, 1)
        kit.enrol_until(person, "done")  # dozens of events: one try, then the back-off
        assert kit.store.status().sealed == 1
        assert kit.guard.missed == 1
        assert kit.guard.request is ShutdownRequest.NONE
    finally:
        kit.close()
