"""The simulated kit: a world in front of it, device doubles, and a demo provisioning.

A data folder that was never provisioned gets a demo authority (``DATA_DIR/demo-authority``,
marked as a demo everywhere it shows), two demo officers and a worklist of the world's
residents, so ``jemput-kit run --sim`` and ``jemput-kit demo`` work on a fresh clone and
``jemput-prov verify`` can check what they sealed.  Only `firmware` may import `hw_sim`,
and only for this backend.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from capture.controller import Controller
from capture.prompts import Language
from firmware.kit import Kit
from firmware.tray import OutputTray
from hal.contracts import Devices
from hal.types import FingerPosition
from hw_sim.doubles import sim_devices
from hw_sim.fingerprints import template_of
from hw_sim.timing import Timing
from hw_sim.wired import WiredKit
from hw_sim.world import PROVINCE, REGENCY, Person, SimOfficer, World
from storage.keys import Authority
from storage.kit import KitStore, is_provisioned, provision
from storage.model import Policy, Resident, Role, Sex
from storage.officers import make_officer

DEMO_KIT_ID = "DEMO-3505-01"
DEMO_REGION = "3505"
DEMO_AUTHORITY = "demo-authority"
#: Residents on the demo worklist; runs of `jemput-kit demo` work through them in turn.
DEMO_WORKLIST = 60
DEMO_WALK_INS = 20
DEMO_CARDS = 40
#: Smallest scale of device waits on the wired simulator (see open_sim_kit).
WIRED_WAIT_SCALE = 0.02


@dataclass
class SimDevices:
    world: World
    devices: Devices


@dataclass
class SimKit:
    """A running simulated kit: the world in front, the kit, who stands where."""

    world: World
    kit: Kit
    bystanders: Bystanders
    provisioned: bool
    #: The emulators behind the drivers (None when the contract-level doubles stand in).
    wired: WiredKit | None = None
    #: Every card and slip the emulated printers printed, kept in ``printed/``.
    tray: OutputTray | None = None


def resident_of(person: Person) -> Resident:
    """A world person as the village worklist names them."""
    return Resident(
        nik=person.nik,
        name=person.name,
        sex=Sex(person.sex),
        birth_place=person.birth_place,
        birth_date=person.birth_date,
        province=PROVINCE,
        regency=REGENCY,
        district=person.district,
        village=person.village,
        address=person.address,
        rt_rw=person.rt_rw,
        religion=person.religion,
        marital_status="KAWIN",
        occupation=person.occupation,
        blood_type=person.blood_type,
        worklist_ref=person.nik,
    )


def demo_world(seed: int, *, clock_speed: float = 1.0, start: datetime | None = None) -> World:
    """The demo village: its worklist residents and walk-ins (``start``: the clock's start)."""
    return World(
        seed, people=DEMO_WORKLIST, walk_ins=DEMO_WALK_INS, start=start, clock_speed=clock_speed
    )


def provision_demo(data_dir: Path, world: World, *, now: datetime) -> bool:
    """Make ``data_dir`` a demo kit unless it already is a kit; True when it provisioned."""
    if is_provisioned(data_dir):
        return False
    data_dir.mkdir(parents=True, exist_ok=True)
    authority_dir = data_dir / DEMO_AUTHORITY
    if (authority_dir / "authority.pub.cbor").exists():
        authority = Authority.load(authority_dir)
    else:
        # an earlier run died while making the demo authority; it certified nothing yet
        shutil.rmtree(authority_dir, ignore_errors=True)
        authority = Authority.init(
            authority_dir, name="DEMO AUTHORITY - not for real records", demo=True
        )
    officers = tuple(
        make_officer(o.officer_id, o.name, Role(o.role), o.pin, finger_pages=(page,))
        for page, o in enumerate(world.officers)
    )
    provision(
        data_dir,
        authority=authority,
        kit_id=DEMO_KIT_ID,
        region=DEMO_REGION,
        officers=officers,
        worklist=tuple(resident_of(p) for p in world.residents),
        policy=Policy(print_on_site=True),
        now=now,
        demo=True,
    )
    return True


def enrol_officers(devices: Devices, officers: list[SimOfficer]) -> None:
    """Put the officers' login fingers into the sensor's library, as flashing does."""
    for page, officer in enumerate(officers):
        template = template_of(officer.seed, int(FingerPosition.RIGHT_INDEX))
        devices.fingerprint.enrol(page, template)


def build(world: World, *, time_scale: float) -> SimDevices:
    devices = sim_devices(world, time_scale=time_scale)
    enrol_officers(devices, world.officers)
    return SimDevices(world, devices)


@contextlib.contextmanager
def open_sim_kit(
    data_dir: Path,
    *,
    seed: int,
    language: Language = Language.ID,
    clock_speed: float = 1.0,
    time_scale: float = 0.0,
    booted: bool = True,
    wired: bool = True,
    fast: bool = False,
    faults: tuple[tuple[str, str], ...] = (),
) -> Iterator[SimKit]:
    """A simulated kit on ``data_dir`` (provisioned as a demo kit if it is not a kit yet).

    ``wired``: the real drivers talk to the wire-level emulators (ptys, register models,
    mock GPIO pins), as on a kit; otherwise the fast contract-level doubles stand in.
    The emulators keep the wires' and the parts' time unless ``fast`` (or
    ``JEMPUT_TIMING=fast``, as in the test suite).
    The world's clock starts at the real time, so records of later runs come after those
    of earlier ones.  With ``booted`` the kit is started here; otherwise the caller starts
    it on the thread that will run its loop.
    """
    world = demo_world(
        seed, clock_speed=clock_speed, start=datetime.now(UTC).replace(microsecond=0)
    )
    provisioned = provision_demo(data_dir, world, now=world.clock.now())
    with contextlib.ExitStack() as stack:
        if wired:
            from firmware.hardware import wired_kit

            # waits scaled down, never to zero: a sensor answers "no finger" only after a while
            wired_parts, opened = stack.enter_context(
                wired_kit(
                    world,
                    timing=Timing(fast=True) if fast else None,
                    faults=faults,
                    wait_scale=max(time_scale, WIRED_WAIT_SCALE),
                )
            )
            devices = opened.devices
            enrol_officers(devices, world.officers)
        else:
            wired_parts = None
            devices = build(world, time_scale=time_scale).devices
        store = KitStore(data_dir, now=world.clock.now)
        if store.profile.demo and store.ledger.counts()["loaded"] == 0:
            store.ledger.load(DEMO_CARDS, officer_id="PROVISIONING")
            store.audit.append("cards-loaded", count=DEMO_CARDS, officer="PROVISIONING", demo=True)
        kit = Kit(devices, store, now=world.clock.now, language=language)
        bystanders = Bystanders(world, kit.controller)
        world.follow(bystanders)
        tray = (
            OutputTray(data_dir, card=wired_parts.card_printer, receipt=wired_parts.receipt_printer)
            if wired_parts is not None
            else None
        )
        try:
            if booted:
                kit.start()
            yield SimKit(world, kit, bystanders, provisioned, wired_parts, tray)
        finally:
            world.follow(None)
            kit.close()
            if tray is not None:
                tray.collect()


class Bystanders:
    """Whoever the kit is dealing with stands in front of it, as people do in a hall.

    Locked: the officer on duty, offering a finger unless :attr:`offer_finger` is off (then
    they use their PIN); a supervisor's approval: the supervisor; during an enrolment: that
    resident.  Install with ``world.follow(Bystanders(world, controller))``.
    """

    def __init__(self, world: World, controller: Controller) -> None:
        self._world = world
        self._controller = controller
        self.offer_finger = True
        #: The officer's finger is not in the sensor's library (a flashed kit's officer
        #: given as --officer ID:PIN): they always log in with their PIN.
        self.pin_only = False
        self.officer = world.officers[0]
        self.supervisor = next(o for o in world.officers if o.role == "supervisor")
        #: Someone standing in front whatever the kit is doing (the browser kit's choice):
        #: the wrong person at the camera, or a resident arriving before being selected.
        self.stand_in: Person | None = None

    def on_duty(self, officer_id: str, pin: str) -> None:
        """``officer_id`` works the kit, logging in with ``pin``."""
        known = self._world.officer(officer_id)
        self.officer = SimOfficer(
            officer_id, known.name if known else officer_id, "officer", pin, 0
        )
        self.pin_only = known is None or known.pin != pin

    def __call__(self) -> Person | SimOfficer | None:
        if self.stand_in is not None:
            return self.stand_in
        state = self._controller.state
        if state == "locked":
            return self.officer if self.offer_finger else None
        if state == "approval":
            return self.supervisor if self.offer_finger else None
        draft = self._controller.draft
        return self._world.person(draft.resident.nik) if draft is not None else None
