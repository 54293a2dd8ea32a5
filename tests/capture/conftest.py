"""A provisioned demo kit on the fast device doubles, driven button by button.

The rig presses the kit's buttons through the one kit driver (:mod:`capture.driver`), which
reads the public screen model, as the demo's officer bot does.  The demo data folder is
provisioned once per session and copied for every kit, since making the authority and the
kit key is the slow part.  When :data:`TRANSITIONS_FILE_ENV` names a file, every kit's
state machine gets a listener that appends each transition it takes to it: the coverage
test (``test_transition_coverage.py``) runs the flow tests (``test_flow_*.py``) so, and
compares what was taken with what the machine declares.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from statemachine import State

from capture.controller import Controller
from capture.driver import KitDriver
from capture.events import Tick
from firmware.kit import Kit
from hal.types import Button, Press
from hw_sim.world import World
from simulator.kit import (
    DEMO_AUTHORITY,
    DEMO_KIT_ID,
    DEMO_REGION,
    Bystanders,
    SimDevices,
    build,
    demo_world,
    provision_demo,
)
from storage.blanks import SerialRange
from storage.files import OS_OPS, FileOps
from storage.keys import Authority
from storage.kit import KitStore, provision
from storage.model import Policy
from storage.provision import read_profile

SEED = 1
#: Events a settle handles at most: enough for ten fingers and a print, and a bound for
#: the states that poll the sensor for ever (locked or approval with nobody at the glass).
SETTLE_EVENTS = 150
SETTLE_GUARD_SECONDS = 20.0
#: The environment variable naming the file transitions are recorded to (one per line).
TRANSITIONS_FILE_ENV = "JEMPUT_TRANSITIONS_FILE"


class TransitionRecorder:
    """A python-statemachine listener: appends each transition taken to ``path``.

    A line is ``source event target`` (the states' values): the coverage test reads them.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def after_transition(self, event: str, source: State, target: State) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(f"{source.value} {event} {target.value}\n")


class Rig:
    """One kit on a data folder, with the world in front of it and helpers to drive it."""

    def __init__(
        self,
        data_dir: Path,
        world: World,
        *,
        before_start: Callable[[SimDevices], None],
        login: bool,
        ops: FileOps,
    ) -> None:
        self.data_dir = data_dir
        self.world = world
        self.sim = build(world, time_scale=0)
        before_start(self.sim)
        self.store = KitStore(data_dir, now=world.clock.now, ops=ops)
        self.kit = Kit(self.sim.devices, self.store, now=world.clock.now)
        if record_to := os.environ.get(TRANSITIONS_FILE_ENV):
            self.kit.controller.machine.add_listener(TransitionRecorder(Path(record_to)))
        self.bystanders = Bystanders(world, self.kit.controller)
        self.bystanders.offer_finger = login
        world.follow(self.bystanders)
        #: Settle without waiting for the work behind the machine (a test holds a print).
        self.behind_held = False
        #: The officer's hands: every press below goes through it.
        self.driver = KitDriver(lambda: self.controller.view, self._press)
        self.kit.start()
        self.settle()

    @property
    def controller(self) -> Controller:
        return self.kit.controller

    @property
    def state(self) -> str:
        return self.controller.state

    @property
    def screen(self) -> list[str]:
        return self.controller.screen

    @property
    def text(self) -> str:
        return "\n".join(self.controller.screen)

    def settle(self, limit: int = SETTLE_EVENTS) -> None:
        """Handle events until none waits and no device job runs (or ``limit`` events),
        a print behind the machine included unless the test holds it (``behind_held``).

        The deadline only guards against a hang; settling normally takes milliseconds.
        """
        handled, deadline = 0, time.monotonic() + SETTLE_GUARD_SECONDS
        while handled < limit and time.monotonic() < deadline:
            if self.kit.loop.step(0.002):
                handled += 1
            elif not self.controller.busy and (self.behind_held or not self.kit.loop.busy()):
                return

    def _press(self, button: Button, press: Press) -> None:
        self.kit.press(button, press)
        self.settle()

    def press(self, *buttons: Button, hold: bool = False) -> None:
        """Press each button in turn (held if ``hold``), settling after each."""
        self.driver.press(*buttons, hold=hold)

    def tick(self, seconds: float) -> None:
        """Let ``seconds`` of kit time pass and tell the machine (idle lock, battery)."""
        self.world.clock.step(seconds)
        self.kit.loop.post(Tick(self.world.clock.now()))
        self.settle(60)

    def choose(self, label: str) -> None:
        """Move the cursor of the menu on screen onto the line starting with ``label``."""
        self.driver.scroll_to(lambda line: line.label.startswith(label), what=repr(label))

    def key_digits(self, digits: str) -> None:
        """Key ``digits`` into the digit entry on screen, from its cursor on."""
        self.driver.key(digits)

    def pin(self, officer_id: str) -> str:
        officer = self.world.officer(officer_id)
        assert officer is not None, officer_id
        return officer.pin

    def audit(self, kind: str) -> list[dict[str, object]]:
        """The details of the audit entries of ``kind``, oldest first."""
        return [detail for _, _, k, detail in self.store.audit.entries() if k == kind]

    def close(self) -> None:
        self.world.follow(None)
        self.kit.close()


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo kit provisioned once (authority, kit key, officers, worklist), to copy."""
    data_dir = tmp_path_factory.mktemp("demo-kit") / "template"
    world = demo_world(SEED, clock_speed=0)
    provision_demo(data_dir, world, now=world.clock.now())
    return data_dir


@pytest.fixture
def make_rig(tmp_path: Path, template_dir: Path) -> Iterator[Callable[..., Rig]]:
    """Makes kits: ``make_rig(policy=None, cards=10, login=True, before_start=None, ops=...)``.

    A kit starts on a copy of the provisioned demo folder (re-provisioned with ``policy``
    when given), ``cards`` blank cards loaded, and is logged in by the officer's finger
    unless ``login`` is off; its store makes its file calls through ``ops`` (a test's faulty
    filesystem; the real one by default).  ``make_rig(reopen=rig)`` closes ``rig`` as a
    crash would and starts a new kit on its data folder and world.  Every kit is closed at
    teardown.
    """
    rigs: list[Rig] = []

    def make(
        *,
        policy: Policy | None = None,
        cards: int = 10,
        login: bool = True,
        before_start: Callable[[SimDevices], None] | None = None,
        reopen: Rig | None = None,
        ops: FileOps = OS_OPS,
    ) -> Rig:
        if reopen is not None:
            reopen.close()
            data_dir, world = reopen.data_dir, reopen.world
        else:
            data_dir = tmp_path / f"kit{len(rigs)}"
            shutil.copytree(template_dir, data_dir)
            world = demo_world(SEED, clock_speed=0)
            if policy is not None:
                profile = read_profile(data_dir)
                assert profile is not None
                provision(
                    data_dir,
                    authority=Authority.load(data_dir / DEMO_AUTHORITY),
                    kit_id=DEMO_KIT_ID,
                    region=DEMO_REGION,
                    officers=profile.officers,
                    worklist=profile.worklist,
                    policy=policy,
                    now=world.clock.now(),
                    demo=True,
                )
            if cards:
                store = KitStore(data_dir, now=world.clock.now)
                store.ledger.receive((SerialRange("TEST", 1, cards),), officer_id="TECH")
                store.close()
        rig = Rig(
            data_dir,
            world,
            before_start=before_start or (lambda sim: None),
            login=login,
            ops=ops,
        )
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


@pytest.fixture
def rig(make_rig: Callable[..., Rig]) -> Rig:
    """A demo kit with 10 blank cards, the officer logged in by finger, at the ready list."""
    made = make_rig()
    assert made.state == "ready", made.screen
    return made


@pytest.fixture
def transitions_env() -> str:
    """The environment variable that makes every kit record its transitions to a file."""
    return TRANSITIONS_FILE_ENV
