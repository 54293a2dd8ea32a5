"""The simulated kit: a world in front of it, device doubles, and a demo provisioning.

A data folder that was never provisioned gets a demo authority (``DATA_DIR/demo-authority``,
marked as a demo everywhere it shows), two demo officers and a worklist of the world's
residents, so ``jemput-kit sim web`` and ``jemput-kit sim demo`` work on a fresh clone and
``jemput-prov verify`` can check what they sealed.  The kit runs in a
`firmware.host.KitHost`, the same host as on the Pi, and holds the data folder's write
lock.  A simulator module: `firmware` imports `hw_sim` only from these (see
tests/test_layering.py).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from capture.controller import Controller
from capture.machine import CaptureState
from firmware.host import KitBusy, KitHost
from firmware.kit import Kit
from firmware.observer import KitObserver
from firmware.power import KitPower
from hal.contracts import Devices
from hal.exc import DeviceAbsent
from hal.types import BatteryReading, FingerPosition, SensorModel
from hw_sim.doubles import SimFingerprint, sim_devices
from hw_sim.fingerprints import template_of
from hw_sim.pico import PicoSim
from hw_sim.provisioning_port import PtyPort
from hw_sim.timing import Timing
from hw_sim.wired import WiredKit
from hw_sim.world import PROVINCE, REGENCY, Person, SimOfficer, World
from simulator.options import Provisioning, SimOptions
from simulator.power import cell_volts, sim_power
from simulator.tray import OutputTray
from storage.audit import AuditKind
from storage.blanks import SerialRange
from storage.keys import Authority
from storage.kit import KitStore, provision
from storage.layout import is_provisioned
from storage.lock import FolderLock
from storage.model import WALK_IN_PREFIX, Policy, Resident
from storage.officers import make_officer
from vocabulary.people import Role

if TYPE_CHECKING:
    from firmware.port import KitHost as PortHost

DEMO_KIT_ID = "DEMO-3505-01"
#: The kit id of a training kit (``--scenario``): its certificate marks it as training.
TRAINING_KIT_ID = "LATIH-3505-01"
DEMO_REGION = "3505"
DEMO_AUTHORITY = "demo-authority"
#: Residents on the demo worklist; runs of `jemput-kit sim demo` work through them in turn.
DEMO_WORKLIST = 60
DEMO_WALK_INS = 20
#: First-time voters who turn 17 by this day record as e-KTP early (a national recording day).
DEMO_VOTER_DATE = date(2027, 2, 14)
DEMO_CARDS = 40
#: The demo kit's blank cards are numbered from 1 in this batch, as the district numbers a
#: real kit's (storage.blanks).
DEMO_BATCH = "DEMO-3505"
#: Smallest scale of device waits on the wired simulator (see open_sim_kit).
WIRED_WAIT_SCALE = 0.02


log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class SimDevices:
    world: World
    devices: Devices


@dataclass
class SimKit:
    """A running simulated kit: the world in front, its host, who stands where."""

    world: World
    host: KitHost
    bystanders: Bystanders
    provisioned: bool
    #: The emulators behind the drivers (None when the contract-level doubles stand in).
    wired: WiredKit | None = None
    #: Every card and slip the emulated printers printed, kept in ``printed/``.
    tray: OutputTray | None = None
    #: The power co-processor's firmware under MicroPython (None when not simulated).
    pico: PicoSim | None = None
    #: The kit's side of it: the guard that heartbeats it (no guard without a Pico).
    power: KitPower | None = None

    @property
    def kit(self) -> Kit:
        """The kit the host runs (the folder is a kit once provisioned or flashed)."""
        if self.host.kit is None:
            raise LookupError(f"{self.host.data_dir} is not a kit yet: flash it first")
        return self.host.kit


class SimClock:
    """The simulated kit's time: the world's clock, and the DS3231 behind its driver."""

    def __init__(self, world: World, devices: Devices) -> None:
        self._world = world
        self._devices = devices

    def now(self) -> datetime:
        return self._world.clock.now()

    def set(self, when: datetime) -> None:
        self._devices.clock.set(when)
        self._world.clock.set(when)


def resident_of(person: Person) -> Resident:
    """A world person as the village worklist names them."""
    return Resident(
        nik=person.nik,
        name=person.name,
        sex=person.sex,
        birth_place=person.birth_place,
        birth_date=person.birth_date,
        province=PROVINCE,
        regency=REGENCY,
        district=person.district,
        village=person.village,
        address=person.address,
        rt_rw=person.rt_rw,
        religion=person.religion,
        marital_status=person.marital_status,
        occupation=person.listed_occupation or person.occupation,
        blood_type=person.blood_type,
        worklist_ref=person.nik,
        purpose=person.purpose,
    )


def demo_world(
    seed: int, *, clock_speed: float = 1.0, start: datetime | None = None, cases: bool = False
) -> World:
    """The demo village: its worklist residents and walk-ins (``start``: the clock's start;
    ``cases``: with the outreach day's rules cases, see `hw_sim.world.World`)."""
    return World(
        seed,
        people=DEMO_WORKLIST,
        walk_ins=DEMO_WALK_INS,
        start=start,
        clock_speed=clock_speed,
        cases=cases,
    )


class NotATrainingKit(ValueError):
    """Training was asked of a data folder that holds a kit whose records count."""


def provision_demo(data_dir: Path, world: World, *, now: datetime, training: bool = False) -> bool:
    """Make ``data_dir`` a demo kit unless it already is a kit; True when it provisioned.

    ``training`` makes it a training kit: its certificate says so, and collectors refuse
    what it seals, so practice never counts as coverage.
    """
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
        make_officer(o.officer_id, o.name, o.role, o.pin, finger_pages=(page,))
        for page, o in enumerate(world.officers)
    )
    provision(
        data_dir,
        authority=authority,
        kit_id=TRAINING_KIT_ID if training else DEMO_KIT_ID,
        region=DEMO_REGION,
        officers=officers,
        worklist=tuple(resident_of(p) for p in world.residents),
        policy=Policy(print_on_site=True, voter_date=DEMO_VOTER_DATE),
        now=now,
        demo=True,
        training=training,
    )
    return True


def enrol_officers(
    devices: Devices, officers: list[SimOfficer], *, sensor: SensorModel = SensorModel.R307
) -> None:
    """Put the officers' login fingers into the sensor's library, as flashing does, each
    as a ``sensor`` extracts it."""
    for page, officer in enumerate(officers):
        template = template_of(
            officer.seed, int(FingerPosition.RIGHT_INDEX), size=sensor.image_size
        )
        devices.fingerprint.enrol(page, template)


class SensorFlash(Protocol):
    """A simulated sensor's library as its flash keeps it across power cycles."""

    #: The sensor's image size: the templates it keeps are extracted at it.
    image_size: tuple[int, int]

    def load_flash(self, pages: Mapping[int, bytes]) -> None: ...


def keep_sensor_flash(flash: SensorFlash, store: KitStore, world: World) -> None:
    """A real sensor keeps its library through a restart; a simulated one starts empty.
    So the fingers the kit's page map names are put back from the world's bodies, the
    identities the sensor matched before, and a restarted simulator still catches a
    returning person."""
    refs = dict(store.recent(limit=store.policy.sensor_library_pages))
    pages = {
        page: template_of(
            world.body_seed(ref.removeprefix(WALK_IN_PREFIX)), position, size=flash.image_size
        )
        for page, (seq, position) in store.sensor_pages().items()
        if (ref := refs.get(seq)) is not None
    }
    flash.load_flash(pages)
    if pages:
        log.info("the simulated sensor kept %d enrolled fingers through the restart", len(pages))


def build(world: World, *, time_scale: float) -> SimDevices:
    devices = sim_devices(world, time_scale=time_scale)
    enrol_officers(devices, world.officers)
    return SimDevices(world, devices)


def pty_port(host: PortHost, *, link_path: Path | None = None) -> PtyPort:
    """The running kit's provisioning port on a pty (the simulator's USB gadget serial).

    The responder (and the update and wire-message modules under it) is imported here,
    not with this module: a simulated kit serves its port only when asked to.
    """
    from firmware.port import KitPort

    return PtyPort(KitPort(host.data_dir, host), link_path=link_path)


def demo_cards(count: int) -> SerialRange:
    """The serial range of a demo kit's ``count`` blank cards."""
    return SerialRange(DEMO_BATCH, 1, count)


def load_demo_cards(kit: Kit) -> None:
    """A demo kit starts with blank cards in its ledger, as a flash with --cards gives."""
    store = kit.store
    if store.profile.demo and store.ledger.counts()["loaded"] == 0:
        store.ledger.receive((demo_cards(DEMO_CARDS),), officer_id="PROVISIONING")
        store.audit.append(
            AuditKind.CARDS_LOADED, count=DEMO_CARDS, officer="PROVISIONING", demo=True
        )


class AsOnAKit(KitObserver):
    """Each kit the host opens holds what a real kit would: its sensor's library as the
    flash kept it (``flash``: None when the sensor has none to load), and a demo kit's
    card stock."""

    def __init__(self, flash: SensorFlash | None, world: World) -> None:
        self._flash = flash
        self._world = world

    def kit_opened(self, kit: Kit) -> None:
        if self._flash is not None:
            keep_sensor_flash(self._flash, kit.store, self._world)
        load_demo_cards(kit)


#: Why a scripted day's port refuses flash, purge and keygen.
DEMO_HOLDS_THE_KIT = (
    "kit busy: a scripted demo is enrolling on this kit; run the change when the demo has ended"
)


class HeldKit:
    """The port's view of a host whose kit a scripted day holds: reads, the clock and the
    self-test as the host answers them; flash, purge and keygen refused (`KitBusy`).

    Why: those close the kit and open another, and the officer bot would go on pressing
    the buttons of the closed one.  The host itself refuses nothing: only this port does.
    """

    def __init__(self, host: KitHost) -> None:
        self._host = host
        self.data_dir = host.data_dir
        self.keys = host.keys

    def __repr__(self) -> str:
        return f"<HeldKit {self._host!r}>"

    @property
    def store(self) -> KitStore | None:
        return self._host.store

    def now(self) -> datetime:
        return self._host.now()

    def set_clock(self, when: datetime) -> None:
        self._host.set_clock(when)

    def battery(self) -> BatteryReading | None:
        return self._host.battery()

    def selftest(self) -> list[dict[str, Any]]:
        return self._host.selftest()

    def change(self, work: Callable[[], T], *, check: Callable[[], None] | None = None) -> T:
        raise KitBusy(DEMO_HOLDS_THE_KIT)


@contextlib.contextmanager
def open_sim_kit(options: SimOptions) -> Iterator[SimKit]:
    """A simulated kit on ``options.data_dir``, its host holding the folder's write lock.

    What stands behind the drivers, what a fresh folder becomes and who boots the kit:
    `simulator.options.SimOptions`.  The world's clock starts at the real time, so records
    of later runs come after those of earlier ones.  The kit runs in the Pi program's own
    `KitHost`; the host's observers are the people in front (`Bystanders`), what a real
    kit holds when it opens (`AsOnAKit`) and the power guard.
    """
    data_dir, parts = options.data_dir, options.parts
    world = demo_world(
        options.seed,
        clock_speed=options.clock_speed,
        start=datetime.now(UTC).replace(microsecond=0),
        cases=options.cases,
    )
    with contextlib.ExitStack() as stack:
        stack.enter_context(FolderLock(data_dir))
        training = options.provisioning is Provisioning.TRAINING
        provisioned = options.provisioning is not Provisioning.UNFLASHED and provision_demo(
            data_dir, world, now=world.clock.now(), training=training
        )
        if not parts.doubles:
            from simulator.hardware import wired_kit

            # waits scaled down, never to zero: a sensor answers "no finger" only after a while
            wired_parts, opened = stack.enter_context(
                wired_kit(
                    world,
                    timing=parts.timing or (Timing(fast=True) if parts.fast else None),
                    wait_scale=max(parts.time_scale, WIRED_WAIT_SCALE),
                    sensor=parts.sensor,
                )
            )
            devices = opened.devices
            enrol_officers(devices, world.officers, sensor=parts.sensor)
        else:
            wired_parts = None
            devices = build(world, time_scale=parts.time_scale).devices
            stack.callback(devices.close)
        bystanders = Bystanders(world, None)
        pico, power = None, KitPower(_NO_COPROCESSOR)
        if parts.coprocessor:  # on the wire emulators: SimParts refuses it with the doubles
            pico = _start_pico(stack, world)
            if pico is not None:
                power = sim_power(pico)
                stack.callback(power.close)

        flash: SensorFlash | None = (
            wired_parts.fingerprint
            if wired_parts is not None
            else devices.fingerprint
            if isinstance(devices.fingerprint, SimFingerprint)
            else None
        )

        host = KitHost(
            data_dir,
            devices,
            SimClock(world, devices),
            language=options.language,
            keys=options.keys,
            observers=(AsOnAKit(flash, world), bystanders, power),
            coprocessor=power.coprocessor if pico is not None else None,
        )
        power.guard_battery(devices, lambda: _policy_of(host))
        world.follow(bystanders)
        tray = (
            OutputTray(data_dir, card=wired_parts.card_printer, receipt=wired_parts.receipt_printer)
            if wired_parts is not None
            else None
        )
        if tray is not None:
            stack.callback(tray.collect)  # after the kit closed: whatever it printed last
        stack.callback(world.follow, None)

        def close_host() -> None:
            state = host.state
            host.close()
            power.halted_if(state)  # a safe shutdown: the Pico may cut

        stack.callback(close_host)
        if options.booted:
            host.boot()
        else:
            host.open_kit()
        if training and (host.store is None or not host.store.training):
            raise NotATrainingKit(
                f"{data_dir} holds a kit whose records count, not a training kit: give a "
                "fresh data folder for training (make training uses var/training)"
            )
        yield SimKit(world, host, bystanders, provisioned, wired_parts, tray, pico, power)


def _start_pico(stack: contextlib.ExitStack, world: World) -> PicoSim | None:
    """The Pico's firmware under MicroPython, closed with ``stack``; None (logged) when it
    cannot start (no ``micropython`` outside the dev extra): the kit runs without it."""
    try:
        return stack.enter_context(PicoSim(volts=cell_volts(world.battery.percent)))
    except (OSError, TimeoutError) as exc:
        log.error("the simulated kit runs without its power co-processor: %s", exc)
        return None


#: What a simulated kit without a co-processor holds in its place.
_NO_COPROCESSOR = DeviceAbsent("no power co-processor is simulated", device="coprocessor")


def _policy_of(host: KitHost) -> Policy:
    """The policy of the kit ``host`` runs (the battery is read only while one runs)."""
    store = host.store
    if store is None:
        raise DeviceAbsent("no kit is running: the battery's policy is unknown", device="battery")
    return store.policy


class Bystanders(KitObserver):
    """Whoever the kit is dealing with stands in front of it, as people do in a hall.

    Locked: the officer on duty, offering a finger unless :attr:`offer_finger` is off (then
    they use their PIN); a supervisor's approval: the supervisor; a login finger being
    enrolled: that officer; during an enrolment: that resident; at a handover: the village
    official, then the resident whose card was chosen; during a self-test asked for over the
    port: the technician.  Install with ``world.follow(Bystanders(world, controller))``; as
    the host's observer it points :attr:`controller` at each kit the host opens (None: no
    kit yet, nobody steps up).
    """

    def __init__(self, world: World, controller: Controller | None) -> None:
        self._world = world
        self.controller = controller
        self.offer_finger = True
        #: The officer's finger is not in the sensor's library (a flashed kit's officer
        #: given as --officer ID:PIN): they always log in with their PIN.
        self.pin_only = False
        self.officer = world.officers[0]
        #: During a self-test the technician stands at the kit: ten good fingers, a pen.
        self.technician = next(p for p in world.residents if not p.fingers)
        self._testing = False
        self.supervisor = next(o for o in world.officers if o.role is Role.SUPERVISOR)
        #: The village official, who approves corrections and says they are present.
        self.official = next(o for o in world.officers if o.role is Role.OFFICIAL)
        #: The official's finger is not in the sensor's library (a flashed kit's official
        #: given as --official ID:PIN): they say they are present with their PIN.
        self.official_pin_only = False
        #: Someone standing in front whatever the kit is doing (the browser kit's choice):
        #: the wrong person at the camera, or a resident arriving before being selected.
        self.stand_in: Person | SimOfficer | None = None

    def on_duty(self, officer_id: str, pin: str) -> None:
        """``officer_id`` works the kit, logging in with ``pin``."""
        self.officer, self.pin_only = self._who(officer_id, pin, Role.OFFICER)

    def official_on_duty(self, officer_id: str, pin: str) -> None:
        """``officer_id`` is the village official of the day, present with ``pin``."""
        self.official, self.official_pin_only = self._who(officer_id, pin, Role.OFFICIAL)

    def _who(self, officer_id: str, pin: str, role: Role) -> tuple[SimOfficer, bool]:
        """Who comes as ``officer_id`` with ``pin``, and whether only by PIN: the world's
        officer when the PIN is theirs (the fingers the kit enrolled), else someone the
        world does not know, with a body of their own, who can only use the PIN."""
        known = self._world.officer(officer_id)
        if known is not None and known.pin == pin:
            return known, False
        return SimOfficer(officer_id, known.name if known else officer_id, role, pin, 0), True

    def kit_opened(self, kit: Kit) -> None:
        self.controller = kit.controller

    def selftest_started(self) -> None:
        """The technician steps up to the sensor and the pad, as a real one does when asked."""
        self._testing = True

    def selftest_ended(self) -> None:
        self._testing = False

    def __call__(self) -> Person | SimOfficer | None:
        if self.stand_in is not None:
            return self.stand_in
        if self._testing:
            return self.technician
        if self.controller is None:
            return None
        state = self.controller.state
        if state == CaptureState.LOCKED:
            return self.officer if self.offer_finger else None
        if state == CaptureState.APPROVAL:
            approval = self.controller.approval
            by_official = approval is not None and approval.purpose.by_official
            approver = self.official if by_official else self.supervisor
            return approver if self.offer_finger else None
        if state in (CaptureState.OFFICIAL_LOGIN, CaptureState.HANDOVER_OFFICIAL):
            return self.official if self.offer_finger and not self.official_pin_only else None
        if state == CaptureState.HANDOVER_RESIDENT:
            card = self.controller.session.handover_card  # its resident comes for it
            return next((p for p in self._world.everyone if card and p.name == card.name), None)
        if state == CaptureState.ENROL_LOGIN_FINGER:
            enrolling = self.controller.session.login_finger_of
            return self._world.officer(enrolling.officer_id) if enrolling else None
        draft = self.controller.draft
        if draft is None:
            return None
        # whoever is being enrolled stands there, a walk-in the world did not make included
        resident = draft.resident
        return self._world.visitor(resident.nik, resident.name, resident.sex, resident.birth_date)
