"""The kit on its real drivers, over the wire emulators: a whole enrolment, a fault, and
each serial emulator run on its own with ``python -m hw_sim``."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from capture.faults import device_key
from capture.login_fingers import LoginSlot
from capture.machine import CaptureState
from capture.menu_steps import AdminItem
from capture.prompts import prompt, word
from firmware.hardware import Absent
from firmware.kit import Kit
from hal.exc import DeviceAbsent, NoFinger
from hal.fingerprint import R30xSensor
from hal.r30x import UP_IMAGE
from hal.types import Button, FingerPosition, SensorModel
from hw_sim.wired import WiredKit
from hw_sim.world import Person, SimOfficer, World
from simulator.demo import OfficerBot, Task
from simulator.hardware import PresentedFinger, PresentedSignature, wired_kit
from simulator.kit import (
    DEMO_CARDS,
    Bystanders,
    demo_cards,
    demo_world,
    enrol_officers,
    provision_demo,
)
from storage.keys import AuthorityPublic
from storage.kit import KitStore
from storage.verify import verify_folder

ROOT = Path(__file__).resolve().parents[2]
HW_SIM = (sys.executable, "-m", "hw_sim")
#: Waits for nobody (an empty glass) are cut to this share of their timeout.
WAIT_SCALE = 0.02


@dataclass
class Session:
    world: World
    wired: WiredKit
    kit: Kit
    bot: OfficerBot


@contextlib.contextmanager
def wired_session(
    data_dir: Path,
    *,
    seed: int = 3,
    sensor: SensorModel = SensorModel.R307,
    officer_fingers: bool = True,
) -> Iterator[Session]:
    """A demo kit provisioned in ``data_dir``, running on real drivers over the emulators,
    the first officer logged in by finger.  Without ``officer_fingers`` the sensor holds
    none, as a flash leaves a real kit, and the supervisor logs in with their PIN."""
    world = demo_world(seed, clock_speed=0.0)
    provision_demo(data_dir, world, now=world.clock.now())
    with wired_kit(world, sensor=sensor, wait_scale=WAIT_SCALE, reply_timeout=0.5) as (
        wired,
        opened,
    ):
        assert opened.broken == []
        if officer_fingers:
            enrol_officers(opened.devices, world.officers, sensor=sensor)
        store = KitStore(data_dir, now=world.clock.now)
        store.ledger.receive((demo_cards(DEMO_CARDS),), officer_id="PROVISIONING")
        kit = Kit(opened.devices, store, now=world.clock.now)
        bystanders = Bystanders(world, kit.controller)
        if not officer_fingers:
            bystanders.on_duty(bystanders.supervisor.officer_id, bystanders.supervisor.pin)
            bystanders.offer_finger = False
        world.follow(bystanders)
        try:
            kit.start()
            bot = OfficerBot(kit, world, bystanders)
            bot.settle()
            bot.login(by_pin=not officer_fingers)
            yield Session(world, wired, kit, bot)
        finally:
            world.follow(None)
            kit.close()


def sound_resident(world: World) -> Person:
    """A worklist resident with ten good fingers, so no exception is needed."""
    return next(p for p in world.residents if not p.fingers)


def start_enrolment(session: Session, person: Person) -> None:
    """From READY to the face photo taken, not yet accepted."""
    bot, ctl = session.bot, session.kit.controller
    bot.select_resident(person)
    bot.press(Button.OK)  # the right person
    bot.until(bot.photo_kept, lambda: bot.act(person))  # the notice read, the photo taken
    assert ctl.state == "face" and bot.photo_kept()


def finish_enrolment(session: Session, person: Person) -> None:
    ctl = session.kit.controller
    session.bot.until(lambda: ctl.state == "done", lambda: session.bot.act(person))


@pytest.mark.parametrize("sensor", list(SensorModel), ids=lambda m: m.name)
def test_a_whole_enrolment_on_real_drivers_seals_a_verified_record_and_prints_a_card(
    tmp_path: Path, sensor: SensorModel
) -> None:
    with wired_session(tmp_path, sensor=sensor) as session:
        person = sound_resident(session.world)
        assert isinstance(session.kit.devices.fingerprint, PresentedFinger)
        assert isinstance(session.kit.devices.signature_pad, PresentedSignature)

        outcome = session.bot.enrol(Task(person))
        # ten images of the model's size crossed the wire (the driver refuses any other)
        uploads = [op for op, _ in session.wired.fingerprint.received if op == UP_IMAGE]
        assert session.wired.fingerprint.image_size == sensor.image_size
        assert len(uploads) >= 10

        assert outcome.seq == 1 and outcome.fingers == "10/10" and outcome.printed == "card"
        cards = session.wired.card_printer.printed
        assert len(cards) == 1 and cards[0].size == (1016, 648)
        assert session.wired.card_printer.hopper == 99
        assert 0 < cards[0].histogram()[0] < 1016 * 648, "the card has ink, and not everywhere"
        assert session.kit.store.status().cards["printed"] == 1
        # the officer's login went through the sensor's on-chip library, at the wire, and
        # the sealed person's ten fingers went in after the officers' pages
        library = session.wired.fingerprint.library
        assert len(library) == len(session.world.officers) + 10
        assert sorted(library)[: len(session.world.officers)] == list(range(3))
        assert session.wired.signature_pad.sent_frames > 0
        assert session.wired.display.display_on

    report = verify_folder(tmp_path / "records", AuthorityPublic.load(tmp_path / "demo-authority"))
    assert report.ok, report.problems
    assert (report.count, report.first, report.last) == (1, 1, 1)


def test_an_unplugged_sensor_mid_session_is_shown_and_the_officer_retries_after_replugging(
    tmp_path: Path,
) -> None:
    with wired_session(tmp_path) as session:
        ctl = session.kit.controller
        person = sound_resident(session.world)
        start_enrolment(session, person)

        session.wired.inject("fingerprint", "unplugged")
        session.bot.press(Button.OK)  # accept the photo: the first finger's capture starts

        assert ctl.state == "fingers"
        assert not ctl.draft.fingers, "no finger was taken from a silent sensor"
        sensor = word(device_key("fingerprint"))  # the part in the officer's words
        assert ctl.screen[:3] == [f"{sensor}:", *prompt("fault.absent")], ctl.screen

        session.wired.clear_faults("fingerprint")
        session.bot.press(Button.OK)  # retry
        assert len(ctl.draft.fingers) >= 1, ctl.screen
        finish_enrolment(session, person)
        assert ctl.sealed is not None and ctl.sealed.seq == 1


def to_login_finger(bot: OfficerBot, officer: SimOfficer) -> None:
    """OK on ``officer``'s line of the login fingers (opened from the ready list if need be):
    the two captures of their finger follow."""
    if bot.screen.state is CaptureState.READY:
        bot.admin(AdminItem.LOGIN_FINGERS)
    bot.driver.choose(
        lambda c: (
            isinstance(c.value, LoginSlot) and c.value.officer.officer_id == officer.officer_id
        ),
        what=f"{officer.officer_id}'s login finger",
    )


def finger_login(bot: OfficerBot, officer: SimOfficer) -> None:
    """From the login fingers: back to the ready list, lock, and ``officer``'s finger."""
    bot.press(Button.BACK)
    bot.bystanders.on_duty(officer.officer_id, officer.pin)
    bot.lock()
    bot.login(by_pin=False)
    assert bot.kit.store.audit.entries()[-1][2:] == (
        "login",
        {"officer": officer.officer_id, "how": "finger"},
    )


def test_a_supervisor_enrols_login_fingers_on_real_drivers_and_again_after_a_sensor_swap(
    tmp_path: Path,
) -> None:
    with wired_session(tmp_path, officer_fingers=False) as session:
        bot, world, sensor = session.bot, session.world, session.wired.fingerprint
        bystanders = bot.bystanders
        officer, supervisor = world.officers[0], bystanders.supervisor
        to_login_finger(bot, officer)
        assert bot.screen.opens_with("login_finger_kept"), bot.screen
        assert list(sensor.library) == [0]
        bystanders.stand_in = officer  # the officer's finger offered as the supervisor's
        to_login_finger(bot, supervisor)
        assert bot.screen.opens_with("login_finger_refused.other-officer"), bot.screen
        bystanders.stand_in = None
        bot.press(Button.OK)  # the supervisor's own finger
        assert sorted(sensor.library) == [0, 1]
        finger_login(bot, officer)

        # a technician swaps the sensor: the new one holds no finger
        session.kit.close()
        session.kit.devices.fingerprint.clear_library()
        assert sensor.library == {}
        kit = Kit(session.kit.devices, KitStore(tmp_path, now=world.clock.now), now=world.clock.now)
        bystanders.controller, bystanders.offer_finger = kit.controller, False
        try:
            kit.start()
            bot = OfficerBot(kit, world, bystanders)
            bot.settle()
            assert prompt("login_fingers_missing", count=3)[0] in bot.screen.lines
            bystanders.on_duty(supervisor.officer_id, supervisor.pin)
            bot.login(by_pin=True)
            to_login_finger(bot, officer)
            assert bot.screen.opens_with("login_finger_kept"), bot.screen
            finger_login(bot, officer)
        finally:
            kit.close()


def test_a_driver_that_fails_to_open_is_named_and_stands_absent(tmp_path: Path) -> None:
    world = World(5, people=3, clock_speed=0.0)
    faults = [("card-printer", "unplugged"), ("battery", "wrong-version")]
    with wired_kit(world, faults=faults, wait_scale=WAIT_SCALE, reply_timeout=0.3) as (_, opened):
        assert [name for name, _ in opened.broken] == ["battery"]
        battery = opened.devices.battery
        assert isinstance(battery, Absent)
        with pytest.raises(DeviceAbsent, match=r"battery did not open at boot.*not a MAX17048"):
            battery.read()
        battery.show(["a dead part only ignores what it is told to show"])
        # the card printer opens its port; its silence shows when it is asked
        with pytest.raises(DeviceAbsent, match="card printer"):
            opened.devices.card_printer.probe()


def test_nobody_in_front_cuts_the_wait_for_a_finger(tmp_path: Path) -> None:
    world = World(6, people=3, clock_speed=0.0)
    with wired_kit(world, wait_scale=0.01) as (wired, opened):
        world.subject = None
        with pytest.raises(NoFinger, match=r"no finger within 0\.1 s"):
            opened.devices.fingerprint.take_image(FingerPosition.LEFT_THUMB, timeout=10.0)
        assert wired.fingerprint.received, "the driver still asked the sensor"


def test_inject_names_the_valid_devices_and_kinds() -> None:
    with WiredKit(World(7, people=2, clock_speed=0.0)) as wired:
        with pytest.raises(ValueError, match="valid: fingerprint, signature-pad"):
            wired.inject("scanner", "unplugged")
        with pytest.raises(ValueError, match="unplugged, corrupt"):
            wired.inject("fingerprint", "melted")
        assert set(wired.DEVICE_FAULTS) == set(wired.emulators)


def test_the_wired_kit_leaves_no_thread_or_pty_behind() -> None:
    threads, fds = set(threading.enumerate()), len(os.listdir("/proc/self/fd"))
    with WiredKit(World(8, people=2, clock_speed=0.0)) as wired:
        assert len(os.listdir("/proc/self/fd")) >= fds + 8, "two pty ends per serial part"
        wired.signature_pad.sign([[(10, 10), (20, 20)]])
    wired.close()  # twice is fine
    assert set(threading.enumerate()) <= threads
    assert len(os.listdir("/proc/self/fd")) == fds


def test_python_m_hw_sim_links_an_emulator_a_real_driver_can_open(tmp_path: Path) -> None:
    link = tmp_path / "fingerprint"
    process = subprocess.Popen(
        [*HW_SIM, "fingerprint", "--link", str(link), "--seed", "2", "--sensor", "r503"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not link.is_symlink():
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "the link never appeared"
            time.sleep(0.05)
        with R30xSensor(port=str(link), model=SensorModel.R503) as sensor:
            assert sensor.probe().detail["library_size"] == "200"
            sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=2.0)
            image = sensor.upload_image(FingerPosition.RIGHT_INDEX)
            assert image.quality > 0, "a simulated finger rests on the glass"
            assert (image.width, image.height) == SensorModel.R503.image_size
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert f"linked at {link}" in out and "stopped" in out
    assert not link.exists() and not link.is_symlink()


def test_python_m_hw_sim_help_lists_devices_and_faults() -> None:
    result = subprocess.run(
        [*HW_SIM, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for words in ("signature-pad", "receipt-printer", "poor-image", "out-of-cards", "paper-out"):
        assert words in result.stdout


def test_python_m_hw_sim_refuses_an_unknown_fault(tmp_path: Path) -> None:
    result = subprocess.run(
        [*HW_SIM, "card-printer", "--link", str(tmp_path / "p"), "--fault", "melted"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "out-of-cards" in result.stderr and not (tmp_path / "p").exists()
