"""A scripted outreach session: an officer bot enrols residents by pressing the kit's buttons.

The bot presses buttons through the one kit driver (`capture.driver.KitDriver`), which reads
only the kit's public screen model: the state, what is highlighted, the digit under the
cursor, the finger asked for, as an officer reads the display; its presses go through the
same queue the panel uses.  It knows the world
(which finger is missing, who is a walk-in) only as an officer sees a person in front of
them.  The session includes what a real day has: a finger exception, an enrolment
cancelled half-way and redone, a walk-in keyed in by NIK, and a PIN login after a lock;
and, in a world with the rules' cases (`hw_sim.world.World` ``cases``), the village
official's login, a child of 10 (KIA with a photo) and of 3 (KIA, no photo), a lost card
(a slip: the office prints), a correction the official approves, a walk-in from another
regency (domisili sementara, with the KK), a first-time voter who turns 17 after the day,
and a person who cannot sign.

It runs on any flashed kit too: the worklist's residents, whom the world does not know,
come as visitors with bodies of their own; the walk-in lives in the kit's own regency;
officers and the village official whose fingers the kit did not enrol log in by PIN
(``--officer``, ``--official``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from capture.driver import KitDriver
from capture.errors import NotOnScreen
from capture.machine import CaptureState
from capture.menu_steps import AdminItem, ReadyChoice
from capture.notice_steps import LETTERS, Need, Spelling
from capture.screen import Screen
from capture.widgets import Choice
from firmware.kit import Kit
from hal.types import Button, FingerException, Press
from hw_sim.fingers import FingerCondition
from hw_sim.world import Person, SimOfficer, World
from simulator.kit import DEMO_AUTHORITY, Bystanders, HeldKit, open_sim_kit, pty_port
from simulator.options import SimOptions
from storage.eligibility import card_rule
from storage.kit import KitStatus
from storage.model import CorrectableField, Officer, Resident, SignatureExceptionReason, walk_in_ref
from storage.nik import MAX_SERIAL

log = logging.getLogger(__name__)

#: Kit-clock minutes one enrolment takes in the hall (the clock is stepped, not waited).
MINUTES_PER_PERSON = 3
#: Button presses the bot allows itself for one person before it calls the session stuck.
PRESS_BUDGET = 400


class DemoError(RuntimeError):
    """The scripted session could not go on (a stuck screen, a world that does not fit)."""


def guardian_of(person: Person) -> str:
    """Who comes with a child in the simulated world: their mother, named after them."""
    first = "".join(letter for letter in person.name.split()[0] if letter in LETTERS)
    return f"IBU {first or 'WALI'}"


def offering(wanted: object) -> Callable[[Choice], bool]:
    """A menu line that stands for ``wanted`` (an enum member: the menu item itself)."""
    return lambda choice: choice.value is wanted


@dataclass
class Task:
    person: Person
    walk_in: bool = False
    cancel_first: bool = False
    pin_login: bool = False


@dataclass
class Outcome:
    seq: int
    name: str
    nik: str
    fingers: str
    exceptions: str
    printed: str
    kind: str = "E-KTP"
    purpose: str = "BARU"
    #: Fingers imaged (and so put into the sensor's library once sealed).
    fingers_taken: int = 0


_EXCEPTION_FOR = {
    FingerCondition.MISSING: FingerException.MISSING,
    FingerCondition.BANDAGED: FingerException.BANDAGED,
    FingerCondition.SCARRED: FingerException.UNREADABLE,
}


def waiting(kit: Kit, world: World) -> list[Person]:
    """The worklist residents this kit has not recorded yet, as the world has them."""
    recorded = kit.store.recorded_refs()
    return [
        world.visitor(resident.nik, resident.name, resident.sex, resident.birth_date)
        for resident in kit.store.worklist
        if resident.worklist_ref not in recorded
    ]


def local_walk_ins(kit: Kit, world: World) -> list[Person]:
    """The world's walk-ins (not its rules' cases) not yet recorded, each a resident of
    the kit's own regency.

    A walk-in from another regency records at a temporary domicile, with the number of
    their KK: a rules case of its own.  The world makes its walk-ins in Kabupaten Blitar,
    so on a kit flashed for another regency each is given a NIK of that regency (and, as
    any visitor, a body of their own made from it).
    """
    region, recorded = kit.store.region, kit.store.recorded_refs()
    listed = {r.nik for r in kit.store.worklist}
    cases = {p.nik for p in world.cases}
    local = []
    for person in world.walk_ins:
        if person.nik in cases:
            continue
        if not person.nik.startswith(region):
            nik = next(
                nik
                for serial in range(int(person.nik[12:]), MAX_SERIAL + 1)
                if (nik := f"{region}01{person.nik[6:12]}{serial:04d}") not in listed
            )
            person = world.visitor(nik, person.name, person.sex, person.birth_date)
        if walk_in_ref(person.nik) not in recorded:
            local.append(person)
    return local


def plan(kit: Kit, world: World, people: int) -> list[Task]:
    """Whom to enrol this run: residents not yet recorded, one walk-in, one hurt finger;
    in a world with the rules' cases, those first (as many as ``people`` allows)."""
    recorded = kit.store.recorded_refs()
    waiting_now = waiting(kit, world)
    walk_ins = local_walk_ins(kit, world)
    if people < 1:
        return []
    if not walk_ins or len(waiting_now) < people - 1:
        raise DemoError(
            f"only {len(waiting_now)} worklist residents and {len(walk_ins)} walk-ins are left to "
            f"enrol on this kit; ask for fewer people or use a fresh --data-dir"
        )
    listed = {w.nik for w in waiting_now}
    # a flashed kit's worklist is not the demo village's: then the cases are not its day
    demo_village = any(r.nik == p.nik for r in kit.store.worklist for p in world.cases)
    case_tasks = [
        Task(p, walk_in=not p.on_worklist)
        for p in (world.cases if demo_village else [])
        if ((p.nik in listed) if p.on_worklist else walk_in_ref(p.nik) not in recorded)
    ]
    case_tasks = case_tasks[: max(people, 0)]  # the cases count among the people asked for
    case_niks = {t.person.nik for t in case_tasks}
    waiting_now = [p for p in waiting_now if p.nik not in case_niks]
    walk_ins = [p for p in walk_ins if p.nik not in case_niks]
    people -= len(case_tasks)
    if people < 1:
        return case_tasks
    chosen = waiting_now[: people - 1]
    if chosen and not any(p.fingers for p in chosen):
        hurt = next((p for p in waiting_now[people - 1 :] if p.fingers), None)
        if hurt is not None:
            chosen[-1] = hurt
    tasks = [Task(p) for p in chosen]
    tasks.insert(min(len(tasks), people // 2), Task(walk_ins[0], walk_in=True))
    residents = [t for t in tasks if not t.walk_in]
    if residents:
        residents[min(2, len(residents) - 1)].cancel_first = True
    if len(tasks) > 4:
        tasks[4].pin_login = True
    return tasks + case_tasks


class OfficerBot:
    """Presses the buttons an officer would, one person at a time, through a kit driver.

    How a press reaches the kit is :meth:`press` (and :meth:`settle`): here the loop's queue,
    stepped on this thread; a subclass may press the panel's pins instead.
    """

    def __init__(
        self,
        kit: Kit,
        world: World,
        bystanders: Bystanders,
        *,
        safe_point: Callable[[], None] | None = None,
    ) -> None:
        self.kit = kit
        self.ctl = kit.controller
        self.world = world
        self.bystanders = bystanders
        self.presses = 0
        #: Called between the loop's steps: the host answers the port's device requests
        #: (selftest, settime) there, never in the middle of an event.
        self._safe_point = safe_point or (lambda: None)
        #: The officer's hands: every button below is pressed through it.
        self.driver = KitDriver(lambda: self.ctl.view, self.press)

    @property
    def screen(self) -> Screen:
        """What the kit shows, as the officer reads it."""
        return self.ctl.view

    # -- the loop --------------------------------------------------------------------------

    #: Whether :meth:`settle` also waits for the work behind the machine (a card printing):
    #: the demo reads what was printed; an officer who starts the next person does not wait.
    waits_behind = True

    def settle(self, *, timeout: float = 120.0) -> None:
        """Let the kit handle everything queued and finish the device work it waits for
        (and what runs behind the machine, unless :attr:`waits_behind` is off).

        At wire time one press can start ten fingers in a row (about 40 s at 115200 baud)."""
        deadline = time.monotonic() + timeout
        while True:
            handled = self.kit.loop.step(timeout=0.005)
            self._safe_point()
            job = self.screen.job
            idle_sensor = job is not None and job.kind.only_waits
            if idle_sensor and not self.bystanders.offer_finger and not self.kit.loop.queued():
                return  # nobody will put a finger down: the officer acts instead
            loop = self.kit.loop
            working = loop.busy() if self.waits_behind else loop.queued()
            if not handled and job is None and not working:
                return
            if time.monotonic() > deadline:
                raise DemoError(f"the kit stayed busy: {self.screen}")

    def press(self, button: Button, press: Press = Press.SHORT) -> None:
        self.presses += 1
        if self.presses > PRESS_BUDGET:
            raise DemoError(
                f"the officer bot pressed {PRESS_BUDGET} buttons for one person and is stuck "
                f"in {self.screen}"
            )
        self.kit.press(button, press)
        self.settle()

    def until(self, done: Callable[[], bool], act: Callable[[], None]) -> None:
        self.presses = 0
        while not done():
            act()

    def _finger(self) -> int:
        """The finger the screen asks for."""
        position = self.screen.finger
        if position is None:
            raise DemoError(f"no finger is asked for in {self.screen}")
        return int(position)

    def photo_kept(self) -> bool:
        """Whether the face screen shows a photo that OK keeps."""
        screen = self.screen
        return screen.state is CaptureState.FACE and (
            screen.opens_with("face_ok") or screen.opens_with("face_forced")
        )

    def select_resident(self, person: Person) -> None:
        self.driver.choose(
            lambda choice: isinstance(choice.value, Resident) and choice.value.nik == person.nik,
            what=f"resident {person.nik}",
        )

    # -- one session -----------------------------------------------------------------------

    def login(self, *, by_pin: bool) -> None:
        """From LOCKED to READY: a finger, or the PIN typed digit by digit."""
        officer = self.bystanders.officer
        by_pin = by_pin or self.bystanders.pin_only
        self.bystanders.offer_finger = not by_pin
        if by_pin:
            self.by_pin(officer.officer_id, officer.pin)
        self.settle()
        self.bystanders.offer_finger = not self.bystanders.pin_only
        while self.screen.state in (CaptureState.PRINT_QUESTION, CaptureState.RESUME_OFFER):
            self.press(Button.OK)  # yes, the card came out; yes, resume the person
        if self.screen.state not in (CaptureState.READY, CaptureState.CONFIRM_PERSON):
            raise DemoError(f"login ended in {self.screen}")

    def by_pin(self, officer_id: str, pin: str) -> None:
        """OK for a PIN where the kit waits for a finger, the officer, then the PIN."""
        self.press(Button.OK)
        self.driver.choose(
            lambda choice: getattr(choice.value, "officer_id", None) == officer_id,
            what=f"officer {officer_id}",
        )
        self.driver.key(pin)

    def finish_resumed(self) -> Outcome:
        """Complete the enrolment a crash or the idle lock interrupted, from where it stopped."""
        draft = self.ctl.draft
        assert draft is not None
        person = self.world.person(draft.resident.nik)
        if person is None:
            raise DemoError(f"the resumed person {draft.resident.nik} is not in this world")
        self.press(Button.OK)
        self.until(self.done, lambda: self.act(person))
        return self.outcome(person)

    def spell(self, name: str) -> None:
        """Spell a child's guardian's name in the letter menu, then say it is complete."""
        for letter in name:
            self.driver.pick(letter, what=f"letter {letter!r}")
        self.driver.pick(Spelling.DONE, what="done")

    def declare_needs(self, person: Person) -> None:
        """What the person (or their companion) declares, and a seated photo; then go on."""
        if person.disability is not None:
            self.driver.pick(Need.DISABILITY, what="disability")
            self.driver.pick(person.disability, what=f"disability {person.disability.value}")
        if person.seated:
            self.driver.pick(Need.SEATED, what="seated")
        self.driver.pick(Need.GO, what="continue")

    def done(self) -> bool:
        """Whether the kit shows a record sealed."""
        return self.screen.state is CaptureState.DONE

    def official_login(self) -> Officer | None:
        """The village official says they are present, at the officer's menu: their finger,
        or their PIN where the kit did not enrol it (a flashed kit's official given as
        --official).  Returns the official the kit now names in its records; None when
        the official of the day is not on this kit (the day goes on without one)."""
        bystanders = self.bystanders
        on_kit = self.kit.store.officers.get(bystanders.official.officer_id)
        if on_kit is None or not on_kit.is_official:
            return None
        self.admin(AdminItem.OFFICIAL)
        if bystanders.official_pin_only or not on_kit.finger_pages:
            self.by_pin(on_kit.officer_id, bystanders.official.pin)
        self.settle()
        official = self.ctl.session.official
        if self.screen.state is not CaptureState.READY or official is None:
            raise DemoError(f"the village official could not log in: {self.screen}")
        return official

    def lock(self) -> None:
        self.admin(AdminItem.LOCK)

    def admin(self, item: AdminItem) -> None:
        """Choose ``item`` of the officer's menu, from the ready list."""
        # the admin menu ends the worklist: one UP from the top wraps round to it
        self.driver.choose(offering(ReadyChoice.ADMIN), what="the admin menu", button=Button.UP)
        self.driver.choose(offering(item), what=f"{item.name.lower()} in the admin menu")

    def enrol(self, task: Task) -> Outcome:
        """One person from READY back to READY; returns what was sealed."""
        person = task.person
        if task.walk_in:
            # the walk-in entry heads the list, just above the residents the cursor is on
            self.driver.choose(offering(ReadyChoice.WALK_IN), what="walk-in", button=Button.UP)
            self.driver.key(person.nik)
            if self.screen.state is CaptureState.PURPOSE:
                self.driver.choose(offering(person.purpose), what=f"purpose {person.purpose.value}")
            if self.screen.state is CaptureState.KK_ENTRY:
                self.driver.key(person.kk_number)
        else:
            self.select_resident(person)
        if self.screen.state is not CaptureState.CONFIRM_PERSON:
            raise DemoError(f"{person.nik} was not accepted: {self.screen}")
        self.press(Button.OK)
        self.until(self.done, lambda: self.act(person))
        return self.outcome(person)

    def act(self, person: Person) -> None:
        """One officer action for the screen the kit shows now."""
        state = self.screen.state
        if state is CaptureState.NOTICE:
            self.press(Button.OK)  # the officer reads the page aloud and turns it
        elif state is CaptureState.GUARDIAN:
            self.spell(guardian_of(person))
        elif state is CaptureState.NEEDS:
            self.declare_needs(person)
        elif state is CaptureState.FACE:
            self.press(Button.OK)  # take the photo, then accept it
        elif state is CaptureState.FINGERS:
            condition = person.condition(self._finger())
            if condition in (FingerCondition.MISSING, FingerCondition.BANDAGED):
                self.press(Button.DOWN)  # the officer sees it: record the exception at once
            else:
                self.press(Button.OK)  # retry a poor image; after N tries, choose the exception
        elif state is CaptureState.FINGER_EXCEPTION:
            wanted = _EXCEPTION_FOR[person.condition(self._finger())]
            self.driver.choose(offering(wanted), what=f"exception {wanted}")
        elif state is CaptureState.SIGNATURE and not person.can_sign:
            self.press(Button.DOWN)  # cannot sign: the exception, approved by a supervisor
        elif state is CaptureState.SIGNATURE_EXCEPTION:
            cannot_write = SignatureExceptionReason.CANNOT_WRITE
            self.driver.choose(offering(cannot_write), what="cannot write")
        elif state is CaptureState.REVIEW and self._to_correct(person):
            self.press(Button.DOWN)  # the worklist's occupation is wrong: correct it
        elif state is CaptureState.CORRECTION:
            self._correct(person)
        elif state in (CaptureState.SIGNATURE, CaptureState.REVIEW):
            self.press(Button.OK)  # accept the signature, or save
        elif state is CaptureState.APPROVAL:
            self.settle()  # the supervisor puts a finger on the sensor
            if self.screen.state is CaptureState.APPROVAL:
                raise DemoError(f"the approver's finger was not accepted: {self.screen}")
        else:
            raise DemoError(f"the bot does not know what to do in {self.screen}")

    def _to_correct(self, person: Person) -> bool:
        draft = self.ctl.draft
        return bool(person.listed_occupation) and draft is not None and not draft.corrections

    def _correct(self, person: Person) -> None:
        """Pick the occupation, then its right value: the official approves it."""
        occupation = CorrectableField.OCCUPATION
        menu = self.screen.menu
        if menu is not None and any(choice.value is occupation for choice in menu.choices):
            self.driver.choose(offering(occupation), what="pekerjaan")
        else:
            self.driver.choose(lambda choice: choice.value == person.occupation, what="occupation")

    def cancel_midway(self, task: Task) -> None:
        """Start the person, take the photo, then cancel with a held BACK and confirm."""
        person = task.person
        self.select_resident(person)
        self.press(Button.OK)  # the right person
        self.until(self.photo_kept, lambda: self.act(person))  # the notice, the photo
        self.press(Button.BACK, Press.HOLD)
        self.press(Button.OK)
        if self.screen.state is not CaptureState.READY:
            raise DemoError(f"cancel ended in {self.screen}")
        log.info("cancelled a resident after the photo, as planned; enrolling again")

    def caught(self, stand_in: Person | SimOfficer, posing_as: Person) -> list[str]:
        """``stand_in`` offers their fingers while ``posing_as`` is enrolled: the kit stops
        at the first finger (someone enrolled before, or an officer); the officer drops
        the enrolment.  Returns what the kit showed."""
        self.bystanders.stand_in = stand_in
        try:
            self.select_resident(posing_as)
            self.press(Button.OK)
            hands = stand_in if isinstance(stand_in, Person) else posing_as
            self.until(self._stopped, lambda: self.act(hands))
            shown = list(self.screen.lines)
            if self.screen.state is CaptureState.FINGERS:  # someone enrolled: no supervisor here
                self.press(Button.BACK)
                self.press(Button.OK)  # yes, drop the person
        finally:
            self.bystanders.stand_in = None
        if self.screen.state is not CaptureState.READY or self.ctl.draft is not None:
            raise DemoError(f"the duplicate was not dropped: {self.screen}")
        return shown

    def _stopped(self) -> bool:
        """The kit refused a finger as a duplicate (or already dropped the person)."""
        screen = self.screen
        if screen.state is CaptureState.FINGERS:
            return screen.opens_with("duplicate_enrolled")
        if screen.state is CaptureState.DONE:
            raise DemoError(f"the duplicate check missed: the kit sealed {screen.lines[0]}")
        return screen.state is CaptureState.READY

    def outcome(self, person: Person) -> Outcome:
        session = self.ctl.session
        sealed, draft = session.sealed, session.draft
        assert sealed is not None and draft is not None
        taken = sum(1 for f in draft.fingers.values() if f.image_png)
        excepted = ", ".join(f"{p}:{f.exception}" for p, f in draft.fingers.items() if f.exception)
        printed = session.print_outcome
        if draft.signature_exception is not None:
            excepted = ", ".join(filter(None, [excepted, "ttd"]))
        # OK goes on; a print that failed is shown at done first, and OK answers it (a
        # card that failed: the slip instead)
        self.until(lambda: not self.done(), lambda: self.press(Button.OK))
        return Outcome(
            sealed.seq,
            person.name if not draft.walk_in else f"(walk-in) {person.name}",
            person.nik,
            f"{taken}/{len(draft.fingers)}",
            excepted or "-",
            printed,
            draft.kind.value + (" (domisili)" if draft.domicile else ""),
            draft.purpose.value + (f" kartu {draft.card_from:%d-%m-%Y}" if draft.card_from else ""),
            taken,
        )


def _returning_and_newcomer(
    kit: Kit, world: World, outcomes: list[Outcome]
) -> tuple[Person | None, Person | None]:
    """Who comes back for a second enrolment (sealed this run with their fingers imaged,
    the latest such, so still in the sensor's library), and as whom (a resident still
    waiting whose card takes fingers, with whole hands): the demo's duplicate catch."""
    returning = next(  # the latest: a full library has rotated the earliest out
        (
            world.person(o.nik)
            for o in reversed(outcomes)
            if o.fingers_taken and o.exceptions == "-"
        ),
        None,
    )
    recorded, today = kit.store.recorded_refs(), world.clock.now().date()
    waiting_adults = (
        world.person(r.nik)
        for r in kit.store.worklist
        if r.worklist_ref not in recorded and card_rule(r, today, kit.store.policy).fingers
    )
    posing_as = next((p for p in waiting_adults if p is not None and not p.fingers), None)
    return returning, posing_as


def run_session(
    kit: Kit,
    world: World,
    bystanders: Bystanders,
    *,
    people: int,
    report: Callable[[Outcome], None],
    note: Callable[[str], None],
    safe_point: Callable[[], None] | None = None,
) -> list[Outcome]:
    """Log in, enrol ``people`` residents as planned, lock the kit; returns what was sealed.

    ``safe_point`` is called between the loop's steps (`firmware.host.KitHost.safe_point`
    when the demo serves its port).
    """
    officer = bystanders.officer
    if officer.officer_id not in kit.store.officers:
        raise DemoError(
            f"officer {officer.officer_id} is not on this kit: give --officer ID:PIN of one "
            f"of {', '.join(sorted(kit.store.officers))}"
        )
    if not kit.store.officers[officer.officer_id].finger_pages:
        bystanders.pin_only = True  # the kit enrolled no finger of theirs
    bystanders.offer_finger = not bystanders.pin_only
    bot = OfficerBot(kit, world, bystanders, safe_point=safe_point)
    bot.settle()
    if kit.controller.state == CaptureState.SELF_TEST:
        bot.press(Button.OK)  # a fault was named on screen; the officer goes on
    bot.login(by_pin=False)
    if world.cases and kit.controller.state == CaptureState.READY:
        official = bot.official_login()
        officials = sorted(o.officer_id for o in kit.store.officers.values() if o.is_official)
        if official is not None:
            note(f"  the village official {official.name} is present")
        elif kit.store.policy.official_required:
            raise DemoError(
                "this kit records only with the village official present: give --official "
                f"ID:PIN of one of {', '.join(officials) or 'its officials (it has none)'}"
            )
        elif officials:
            note(f"  no village official present (--official ID:PIN of {', '.join(officials)})")
    outcomes = []
    if kit.controller.state == CaptureState.CONFIRM_PERSON:
        note("  resumed the enrolment the last session left unfinished:")
        outcomes.append(bot.finish_resumed())
        report(outcomes[-1])
    for task in plan(kit, world, people - len(outcomes)):
        if task.pin_login:
            bystanders.offer_finger = False  # gloves on: this time the officer uses the PIN
            bot.lock()
            bot.login(by_pin=True)
            note("  locked the kit; the officer logged in again with the PIN")
        if task.cancel_first:
            bot.cancel_midway(task)
            note(f"  cancelled {task.person.name} after the photo (BACK held, confirmed); again:")
        world.clock.step(MINUTES_PER_PERSON * 60)
        outcome = bot.enrol(task)
        report(outcome)
        outcomes.append(outcome)
    returning, posing_as = _returning_and_newcomer(kit, world, outcomes)
    if returning is not None and posing_as is not None:
        shown = bot.caught(returning, posing_as)
        note(f"  {returning.name} came back as {posing_as.name}: caught: {' / '.join(shown)}")
        kit_officer = kit.store.officers.get(officer.officer_id)
        enrolled = kit_officer is not None and bool(kit_officer.finger_pages)
        if enrolled and not bystanders.pin_only:  # their finger is on the sensor
            shown = bot.caught(officer, posing_as)
            note(f"  officer {officer.name} offered their own finger: caught: {' / '.join(shown)}")
    bystanders.offer_finger = False  # the officer steps away from the locked kit
    bot.lock()
    return outcomes


@dataclass(frozen=True)
class DemoDay:
    """What a scripted day sealed, and the kit's status after it."""

    outcomes: list[Outcome]
    status: KitStatus


def run_demo(
    options: SimOptions,
    *,
    people: int,
    officer: tuple[str, str] | None = None,
    official: tuple[str, str] | None = None,
    port_link: Path | None = None,
    report: Callable[[Outcome], None],
    note: Callable[[str], None],
) -> DemoDay:
    """`jemput-kit sim demo`: open the simulated kit on ``options.data_dir`` and run a day.

    The world has the rules' cases and its clock is stepped per person.  ``officer`` (id,
    PIN) works a flashed kit; ``official`` (id, PIN) is its village official of the day.
    With ``port_link`` the kit serves its provisioning port on a pty linked there while
    the bot enrols; that port refuses flash, purge and keygen (`simulator.kit.HeldKit`),
    which would close the kit under the bot.
    """
    with contextlib.ExitStack() as stack:
        sim = stack.enter_context(open_sim_kit(replace(options, clock_speed=0.0, cases=True)))
        stack.enter_context(sim.host.stepping())
        if port_link is not None:
            port = stack.enter_context(pty_port(HeldKit(sim.host), link_path=port_link))
            note(f"provisioning port {port.port} linked at {port_link}")
        if sim.provisioned:
            note(
                f"provisioned {options.data_dir} as a DEMO kit (demo authority in "
                f"{options.data_dir / DEMO_AUTHORITY})"
            )
        if officer is not None:
            sim.bystanders.on_duty(*officer)
        if official is not None:
            sim.bystanders.official_on_duty(*official)
        note(f"kit {sim.kit.store.kit_id}: enrolling {people} residents")
        tray = sim.tray

        def saved_and_reported(outcome: Outcome) -> None:
            if tray is not None:  # the printers keep only their latest prints
                tray.collect()
            report(outcome)

        try:
            outcomes = run_session(
                sim.kit,
                sim.world,
                sim.bystanders,
                people=people,
                report=saved_and_reported,
                note=note,
                safe_point=sim.host.safe_point,
            )
        except NotOnScreen as exc:  # the bot looked for a line the kit did not show
            raise DemoError(str(exc)) from exc
        return DemoDay(outcomes, sim.kit.store.status())
