"""A scripted outreach session: an officer bot enrols residents by pressing the kit's buttons.

The bot reads the controller's state and what is highlighted, as an officer reads the
display, and presses buttons through the same queue the panel uses.  It knows the world
(which finger is missing, who is a walk-in) only as an officer sees a person in front of
them.  The session includes what a real day has: a finger exception, an enrolment
cancelled half-way and redone, a walk-in keyed in by NIK, and a PIN login after a lock;
and, in a world with the rules' cases (`hw_sim.world.World` ``cases``), the village
official's login, a child of 10 (KIA with a photo) and of 3 (KIA, no photo), a lost card
(a slip: the office prints), a correction the official approves, a walk-in from another
regency (domisili sementara, with the KK), a first-time voter who turns 17 after the day,
and a person who cannot sign.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from capture.base import Step
from capture.enrol_steps import Face, FingerExceptionStep, Fingers, NikEntry
from capture.login_steps import PinEntry
from capture.machine import CaptureState
from capture.menu_steps import Admin, AdminItem, Ready, ReadyChoice
from capture.rules_steps import Correction, KkEntry, PurposeStep, SignatureExceptionStep
from firmware.kit import Kit
from hal.types import Button, FingerException, FingerPosition, Press
from hw_sim.fingers import FingerCondition
from hw_sim.world import Person, SimOfficer, World
from simulator.kit import DEMO_AUTHORITY, Bystanders, HeldKit, open_sim_kit, pty_port
from simulator.options import SimOptions
from storage.eligibility import card_rule
from storage.kit import KitStatus
from storage.model import CorrectableField, Resident, SignatureExceptionReason, walk_in_ref

log = logging.getLogger(__name__)
StepT = TypeVar("StepT", bound=Step)

#: Kit-clock minutes one enrolment takes in the hall (the clock is stepped, not waited).
MINUTES_PER_PERSON = 3
#: Button presses the bot allows itself for one person before it calls the session stuck.
PRESS_BUDGET = 400


class DemoError(RuntimeError):
    """The scripted session could not go on (a stuck screen, a world that does not fit)."""


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


def plan(kit: Kit, world: World, people: int) -> list[Task]:
    """Whom to enrol this run: residents not yet recorded, one walk-in, one hurt finger;
    in a world with the rules' cases, those first (as many as ``people`` allows)."""
    recorded = kit.store.recorded_refs()
    waiting_now = waiting(kit, world)
    walk_ins = [p for p in world.walk_ins if walk_in_ref(p.nik) not in recorded]
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
    """Presses the buttons an officer would, one person at a time."""

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

    # -- the loop --------------------------------------------------------------------------

    def settle(self, *, timeout: float = 120.0) -> None:
        """Let the kit handle everything queued and finish the device work it waits for.

        At wire time one press can start ten fingers in a row (about 40 s at 115200 baud)."""
        deadline = time.monotonic() + timeout
        while True:
            handled = self.kit.loop.step(timeout=0.005)
            self._safe_point()
            idle_sensor = self.ctl.waiting_for_finger and not self.bystanders.offer_finger
            if idle_sensor and not self.kit.loop.queued():
                return  # nobody will put a finger down: the officer acts instead
            if not handled and not self.ctl.busy and not self.kit.loop.busy():
                return
            if time.monotonic() > deadline:
                raise DemoError(f"the kit stayed busy in {self.ctl.state}: {self.ctl.screen}")

    def press(self, button: Button, press: Press = Press.SHORT) -> None:
        self.presses += 1
        if self.presses > PRESS_BUDGET:
            raise DemoError(
                f"the officer bot pressed {PRESS_BUDGET} buttons for one person and is stuck "
                f"in {self.ctl.state} showing {self.ctl.screen}"
            )
        self.kit.press(button, press)
        self.settle()

    def until(self, done: Callable[[], bool], act: Callable[[], None]) -> None:
        self.presses = 0
        while not done():
            act()

    def scroll_to(
        self,
        menu_focus: Callable[[], object],
        wanted: Callable[[object], bool],
        *,
        what: str = "the wanted line",
        button: Button = Button.DOWN,
    ) -> None:
        """Press ``button`` until the highlighted item is ``wanted`` (``what`` names it in
        errors); UP reaches the end of a long list at once, since the cursor wraps."""
        for _ in range(200):
            if wanted(menu_focus()):
                return
            self.press(button)
        raise DemoError(f"{what} is not in the menu on screen: {self.ctl.screen}")

    def choose(
        self,
        menu_focus: Callable[[], object],
        wanted: Callable[[object], bool],
        *,
        what: str,
        button: Button = Button.DOWN,
    ) -> None:
        """Scroll to the item and press OK on it."""
        self.scroll_to(menu_focus, wanted, what=what, button=button)
        self.press(Button.OK)

    def on(self, kind: type[StepT]) -> StepT:
        """The kit's current step as a ``kind``: the bot reads that step's menu or entry."""
        step = self.ctl.step
        if not isinstance(step, kind):
            raise DemoError(f"expected {kind.__name__}, the kit is in {self.ctl.state}")
        return step

    def _finger(self, position: FingerPosition | None) -> int:
        if position is None:
            raise DemoError(f"no finger is asked for in {self.ctl.state}: {self.ctl.screen}")
        return int(position)

    def select_resident(self, person: Person) -> None:
        self.choose(
            lambda: self.on(Ready).focus,
            lambda f: isinstance(f, Resident) and f.nik == person.nik,
            what=f"resident {person.nik}",
        )

    # -- one session -----------------------------------------------------------------------

    def login(self, *, by_pin: bool) -> None:
        """From LOCKED to READY: a finger, or the PIN typed digit by digit."""
        officer = self.bystanders.officer
        by_pin = by_pin or self.bystanders.pin_only
        self.bystanders.offer_finger = not by_pin
        if by_pin:
            self.press(Button.OK)
            self.choose(
                lambda: self.on(PinEntry).picker.menu.focus,
                lambda o: getattr(o, "officer_id", None) == officer.officer_id,
                what=f"officer {officer.officer_id}",
            )
            self.type_digits(officer.pin, start=[0] * len(officer.pin))
        self.settle()
        self.bystanders.offer_finger = not self.bystanders.pin_only
        while self.ctl.state in (CaptureState.PRINT_QUESTION, CaptureState.RESUME_OFFER):
            self.press(Button.OK)  # yes, the card came out; yes, resume the person
        if self.ctl.state not in (CaptureState.READY, CaptureState.CONFIRM_PERSON):
            raise DemoError(f"login ended in {self.ctl.state}: {self.ctl.screen}")

    def finish_resumed(self) -> Outcome:
        """Complete the enrolment a crash or the idle lock interrupted, from where it stopped."""
        draft = self.ctl.draft
        assert draft is not None
        person = self.world.person(draft.resident.nik)
        if person is None:
            raise DemoError(f"the resumed person {draft.resident.nik} is not in this world")
        self.press(Button.OK)
        self.until(lambda: self.ctl.state == CaptureState.DONE, lambda: self.act(person))
        return self.outcome(person)

    def type_digits(self, digits: str, *, start: list[int]) -> None:
        for wanted, current in zip(digits, start, strict=True):
            for _ in range((int(wanted) - current) % 10):
                self.press(Button.UP)
            self.press(Button.OK)

    def official_login(self) -> None:
        """The village official says they are present: their finger, at the officer's menu."""
        self.choose(
            lambda: self.on(Ready).focus,
            lambda f: f is ReadyChoice.ADMIN,
            what="the admin menu",
            button=Button.UP,
        )
        self.choose(
            lambda: self.on(Admin).menu.focus,
            lambda f: f is AdminItem.OFFICIAL,
            what="the village official",
        )
        self.settle()
        if self.ctl.state != CaptureState.READY or self.ctl.official is None:
            raise DemoError(f"the village official could not log in: {self.ctl.screen}")

    def lock(self) -> None:
        # the admin menu ends the worklist: one UP from the top wraps round to it
        self.choose(
            lambda: self.on(Ready).focus,
            lambda f: f is ReadyChoice.ADMIN,
            what="the admin menu",
            button=Button.UP,
        )
        self.choose(lambda: self.on(Admin).menu.focus, lambda f: f is AdminItem.LOCK, what="lock")

    def enrol(self, task: Task) -> Outcome:
        """One person from READY back to READY; returns what was sealed."""
        person = task.person
        if task.walk_in:
            # the walk-in entry heads the list, just above the residents the cursor is on
            self.choose(
                lambda: self.on(Ready).focus,
                lambda f: f is ReadyChoice.WALK_IN,
                what="walk-in",
                button=Button.UP,
            )
            self.type_digits(person.nik, start=list(self.on(NikEntry).entry.digits))
            if self.ctl.state == CaptureState.PURPOSE:
                self.choose(
                    lambda: self.on(PurposeStep).menu.focus,
                    lambda p: p is person.purpose,
                    what=f"purpose {person.purpose.value}",
                )
            if self.ctl.state == CaptureState.KK_ENTRY:
                self.type_digits(person.kk_number, start=list(self.on(KkEntry).entry.digits))
        else:
            self.select_resident(person)
        if self.ctl.state != CaptureState.CONFIRM_PERSON:
            raise DemoError(f"{person.nik} was not accepted: {self.ctl.screen}")
        self.press(Button.OK)
        self.until(lambda: self.ctl.state == CaptureState.DONE, lambda: self.act(person))
        return self.outcome(person)

    def act(self, person: Person) -> None:
        """One officer action for the screen the kit shows now."""
        state = self.ctl.state
        if state == CaptureState.FACE:
            self.press(Button.OK)  # take the photo, then accept it
        elif state == CaptureState.FINGERS:
            condition = person.condition(self._finger(self.on(Fingers).position))
            if condition in (FingerCondition.MISSING, FingerCondition.BANDAGED):
                self.press(Button.DOWN)  # the officer sees it: record the exception at once
            else:
                self.press(Button.OK)  # retry a poor image; after N tries, choose the exception
        elif state == CaptureState.FINGER_EXCEPTION:
            excepting = self.on(FingerExceptionStep)
            wanted = _EXCEPTION_FOR[person.condition(self._finger(excepting.position))]
            self.choose(
                lambda: excepting.menu.focus, lambda e: e is wanted, what=f"exception {wanted}"
            )
        elif state == CaptureState.SIGNATURE and not person.can_sign:
            self.press(Button.DOWN)  # cannot sign: the exception, approved by a supervisor
        elif state == CaptureState.SIGNATURE_EXCEPTION:
            self.choose(
                lambda: self.on(SignatureExceptionStep).menu.focus,
                lambda r: r is SignatureExceptionReason.CANNOT_WRITE,
                what="cannot write",
            )
        elif state == CaptureState.REVIEW and self._to_correct(person):
            self.press(Button.DOWN)  # the worklist's occupation is wrong: correct it
        elif state == CaptureState.CORRECTION:
            self._correct(person)
        elif state in (CaptureState.SIGNATURE, CaptureState.REVIEW, CaptureState.PRINTING):
            self.press(Button.OK)  # accept the signature, save, or print a slip after a fault
        elif state == CaptureState.APPROVAL:
            self.settle()  # the supervisor puts a finger on the sensor
            if self.ctl.state == CaptureState.APPROVAL:
                raise DemoError(f"the approver's finger was not accepted: {self.ctl.screen}")
        else:
            raise DemoError(f"the bot does not know what to do in {state}: {self.ctl.screen}")

    def _to_correct(self, person: Person) -> bool:
        draft = self.ctl.draft
        return bool(person.listed_occupation) and draft is not None and not draft.corrections

    def _correct(self, person: Person) -> None:
        """Pick the occupation, then its right value: the official approves it."""
        step = self.on(Correction)
        if step.values is None:
            self.choose(
                lambda: step.fields.focus,
                lambda f: f is CorrectableField.OCCUPATION,
                what="pekerjaan",
            )
        else:
            values = step.values
            self.choose(lambda: values.focus, lambda v: v == person.occupation, what="occupation")

    def cancel_midway(self, task: Task) -> None:
        """Start the person, take the photo, then cancel with a held BACK and confirm."""
        person = task.person
        self.select_resident(person)
        self.press(Button.OK)  # the right person
        self.until(lambda: self.on(Face).kept is not None, lambda: self.press(Button.OK))
        self.press(Button.BACK, Press.HOLD)
        self.press(Button.OK)
        if self.ctl.state != CaptureState.READY:
            raise DemoError(f"cancel ended in {self.ctl.state}")
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
            shown = list(self.ctl.screen)
            if self.ctl.state == CaptureState.FINGERS:  # someone enrolled: no supervisor here
                self.press(Button.BACK)
                self.press(Button.OK)  # yes, drop the person
        finally:
            self.bystanders.stand_in = None
        if self.ctl.state != CaptureState.READY or self.ctl.draft is not None:
            raise DemoError(f"the duplicate was not dropped: {self.ctl.screen}")
        return shown

    def _stopped(self) -> bool:
        """The kit refused a finger as a duplicate (or already dropped the person)."""
        step = self.ctl.step
        if isinstance(step, Fingers):
            return step.duplicate is not None
        if self.ctl.state == CaptureState.DONE:
            raise DemoError(f"the duplicate check missed: the kit sealed {self.ctl.screen[0]}")
        return self.ctl.state == CaptureState.READY

    def outcome(self, person: Person) -> Outcome:
        sealed, draft = self.ctl.sealed, self.ctl.draft
        assert sealed is not None and draft is not None
        taken = sum(1 for f in draft.fingers.values() if f.image_png)
        excepted = ", ".join(f"{p}:{f.exception}" for p, f in draft.fingers.items() if f.exception)
        printed = self.ctl.print_outcome
        if draft.signature_exception is not None:
            excepted = ", ".join(filter(None, [excepted, "ttd"]))
        self.press(Button.OK)
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
    bystanders.offer_finger = not bystanders.pin_only
    bot = OfficerBot(kit, world, bystanders, safe_point=safe_point)
    bot.settle()
    if kit.controller.state == CaptureState.SELF_TEST:
        bot.press(Button.OK)  # a fault was named on screen; the officer goes on
    bot.login(by_pin=False)
    officials = [o for o in kit.store.officers.values() if o.is_official]
    if world.cases and officials and kit.controller.state == CaptureState.READY:
        bot.official_login()
        note(f"  the village official {kit.controller.official.name} is present")  # type: ignore[union-attr]
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
    port_link: Path | None = None,
    report: Callable[[Outcome], None],
    note: Callable[[str], None],
) -> DemoDay:
    """`jemput-kit sim demo`: open the simulated kit on ``options.data_dir`` and run a day.

    The world has the rules' cases and its clock is stepped per person.  ``officer`` (id,
    PIN) works a flashed kit.  With ``port_link`` the kit serves its provisioning port on
    a pty linked there while the bot enrols; that port refuses flash, purge and keygen
    (`simulator.kit.HeldKit`), which would close the kit under the bot.
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
        note(f"kit {sim.kit.store.kit_id}: enrolling {people} residents")
        outcomes = run_session(
            sim.kit,
            sim.world,
            sim.bystanders,
            people=people,
            report=report,
            note=note,
            safe_point=sim.host.safe_point,
        )
        return DemoDay(outcomes, sim.kit.store.status())
