"""One person at the kit on the timed simulator, step by step, and people per hour.

The kit runs on its real drivers against the wire-level emulators on the timed wires,
whatever ``JEMPUT_TIMING`` says (fast only at tiny size, the test's): every finger image
crosses the sensor's UART at 115200 baud, the card's panel the printer's line, each part
takes its datasheet time.

The steps: the officer bot presses the buttons without human pauses and waits for every
job, the card's too, so a step's time is the kit's.  Each step's baseline is its floor:
the seconds the bytes it moved need at their lines' rates plus the parts' datasheet times
(``WiredKit.floor_seconds``); the difference is ours.  Their sum is the sequential floor
of one person.

People per hour is measured: an officer and residents who take the human times of
:data:`HUMAN_SECONDS` in real time (shrunk, with the wires and the parts, by
:data:`HOUR_SCALE`), on a kit that overlaps them with its wires.  Beside it, the
sequential floor: the link floors of one person plus the same human times, one after the
other.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from capture.machine import CaptureState
from hal.types import Button, FingerPosition
from hw_sim.timing import Timing
from hw_sim.wired import WiredKit
from hw_sim.world import Person
from simulator.demo import DemoError, OfficerBot, Outcome, Task
from simulator.kit import SimKit, open_sim_kit
from simulator.options import SimOptions, SimParts
from tests.bench.core import REPORTED, Goal, Row, Run, benchmark

#: Our overhead over the link floors at most 5%.
STEP_GOAL = Goal(ratio_max=1.05)

#: What people do at a kit that the kit does not time, in seconds: the scripted officer's
#: day (the demo's three minutes a person).  Assumptions from watching an outreach desk,
#: not measurements; docs/performance.md lists them.
HUMAN_SECONDS = {
    "call the next person, check the papers, find them on the list": 60.0,
    "seat them and frame the photo": 15.0,
    "place and lift each finger (10 x 3 s)": 30.0,
    "pick up the pen, sign": 10.0,
    "read the data back with the village official": 45.0,
    "hand over the card or slip": 20.0,
}

#: The human times, by the moment each is taken (the keys of :data:`HUMAN_SECONDS`).
CALL_NEXT, FRAME, FINGERS, SIGN, READ_BACK, HAND_OVER = HUMAN_SECONDS.values()
FINGER = FINGERS / 10  # each of the ten

#: The people-per-hour run: the wires, the parts and the people at this share of their
#: time, so that a person takes under two minutes; what the kit computes is not shrunk, so
#: the figure is pessimistic.
HOUR_SCALE = 0.5
#: People a run enrols (one officer, no fault): at least two, so a card prints behind one.
HOUR_PEOPLE = 3
#: The goal of the issue: at least this many people an hour, under the same human times.
HOUR_GOAL = Goal(ratio_min=1.0, figure_min=18.0)
#: The longest a card may take to come out before the hand-over gives up (scaled).
CARD_OUT_SECONDS = 60.0

_CONTROLLER_LOG = "capture.controller"


@dataclass(frozen=True)
class Mark:
    """A moment of the enrolment: the state entered (or a finger asked for), when, and
    how many floor seconds every timed part had reached by then."""

    label: str
    at: float
    floor: float


class _Transitions(logging.Handler):
    """Notes every state the controller enters, from its own log line."""

    def __init__(self, marks: list[Mark], floor: Callable[[], float]) -> None:
        super().__init__(logging.INFO)
        self._marks = marks
        self._floor = floor

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s --%s--> %s" and isinstance(record.args, tuple):
            self._marks.append(Mark(str(record.args[2]), time.perf_counter(), self._floor()))


@contextmanager
def _watching(marks: list[Mark], floor: Callable[[], float]) -> Iterator[None]:
    logger = logging.getLogger(_CONTROLLER_LOG)
    handler = _Transitions(marks, floor)
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _steps(marks: list[Mark]) -> list[tuple[str, float, float]]:
    """(step, seconds, floor seconds) from the marks of one enrolment."""

    def first(label: str) -> int:
        return next(i for i, mark in enumerate(marks) if mark.label == label)

    face, fingers = first("face"), first("fingers")
    signature, review, sealing = first("signature"), first("review"), first("sealing")
    done = first("done")
    printing = next((i for i, m in enumerate(marks) if m.label == "printing"), done)
    # the card prints behind the done screen: this bot waits for it before it goes on
    ready = next((i for i in range(done, len(marks)) if marks[i].label == "ready"), done)
    asked = [i for i in range(fingers, signature) if marks[i].label == "finger"]
    bounds = [fingers, *asked[1:], signature]
    spans = [("face", face, fingers)]
    spans += [(f"finger {n}", a, b) for n, (a, b) in enumerate(itertools.pairwise(bounds), 1)]
    spans += [("signature", signature, review), ("review", review, sealing)]
    spans += [("seal", sealing, printing), ("print", printing, ready)]
    return [
        (name, marks[b].at - marks[a].at, marks[b].floor - marks[a].floor)
        for name, a, b in spans
        if b > a
    ]


def _timing(run: Run, scale: float = 1.0) -> Timing:
    """The wires' clock of a person row: timed, whatever ``JEMPUT_TIMING`` says (an
    untimed run would report ratios of 0.02 as met); untimed only at the test's tiny size."""
    return Timing(fast=True) if run.tiny else Timing(scale=scale)


def _subjects(sim: SimKit, count: int) -> list[Person]:
    """Residents of the worklist with ten good fingers who can sign: no exception asked."""
    world = sim.world
    found = (
        world.visitor(r.nik, r.name, r.sex, r.birth_date)
        for r in sim.kit.store.worklist
        if not world.person(r.nik).fingers and world.person(r.nik).signature
    )
    return list(itertools.islice(found, count))


def _start(sim: SimKit, bot: OfficerBot) -> None:
    """From power-on to the ready list: past the self-test, logged in by finger."""
    bot.settle()
    if sim.kit.controller.state == "self_test":
        bot.press(Button.OK)
    bot.login(by_pin=False)


@benchmark("person")
def person(run: Run) -> list[Row]:
    marks: list[Mark] = []
    parts = SimParts(timing=_timing(run))
    with open_sim_kit(SimOptions(run.scratch / "person-kit", clock_speed=0.0, parts=parts)) as sim:
        wired = sim.wired
        assert wired is not None, "the person benchmark runs on the wired simulator"

        def floor() -> float:
            return sum(wired.floor_seconds().values())

        present = wired.present_finger

        def presenting(position: FingerPosition | None) -> bool:
            if sim.kit.controller.state == "fingers":
                marks.append(Mark("finger", time.perf_counter(), floor()))
            return present(position)

        wired.present_finger = presenting  # type: ignore[method-assign]
        bot = OfficerBot(sim.kit, sim.world, sim.bystanders)
        _start(sim, bot)
        (subject,) = _subjects(sim, 1)
        with _watching(marks, floor):
            bot.enrol(Task(subject))
    steps = _steps(marks)
    rows = [
        Row(
            "person",
            f"person: {name}",
            seconds,
            "s",
            floor_seconds,
            "link floor" if floor_seconds else "link floor: none",
            STEP_GOAL if floor_seconds else REPORTED,
            note="" if floor_seconds else "no link or part: all ours",
        )
        for name, seconds, floor_seconds in steps
    ]
    total, total_floor = sum(s for _, s, _ in steps), sum(f for _, _, f in steps)
    rows.append(
        Row("person", "person: all steps", total, "s", total_floor, "link floors", STEP_GOAL)
    )
    human = sum(HUMAN_SECONDS.values())
    sequential = 3600 / (total_floor + human)
    rows.append(
        Row(
            "person",
            "people per hour: sequential floor",
            sequential,
            "people/h",
            None,
            "",
            REPORTED,
            note=f"link floors {total_floor:.0f} s + human times {human:.0f} s, in turn",
        )
    )
    scale = HOUR_SCALE
    people = run.size(HOUR_PEOPLE, 2)
    signing = next(floor for name, _, floor in steps if name == "signature")
    per_person = _paced_run(run, people, scale, signing=signing)
    rows.append(
        Row(
            "person",
            "people per hour per kit",
            3600 / per_person,
            "people/h",
            sequential,
            "sequential floor",
            REPORTED if run.tiny else HOUR_GOAL,
            note=(
                f"measured: {people} people at {per_person:.0f} s each, human times "
                f"{human:.0f} s taken in real time, all at x{scale:g} time"
            ),
        )
    )
    return rows


class PacedOfficer(OfficerBot):
    """The officer and the residents at their :data:`HUMAN_SECONDS`, on the kit's clock.

    The officer calls the next person while the last card prints, hands it over once it
    is out, frames the photo, reads the data back; a resident puts each finger down a
    finger's time after the screen names it, and signs a pen's time after the pad asks.
    Those two wait on the sensor's and the pad's job threads, as a person at the glass
    would; the officer's waits keep the loop running.  ``signing`` is the seconds the
    signature itself takes on the pad (its floor), part of the pen's :data:`SIGN`.
    """

    waits_behind = False

    def __init__(self, sim: SimKit, wired: WiredKit, timing: Timing, *, signing: float) -> None:
        super().__init__(sim.kit, sim.world, sim.bystanders, safe_point=self._watch)
        self._timing = timing
        #: When the screen named each finger of this person, and asked for the signature.
        self._asked: dict[FingerPosition, float] = {}
        self._named: FingerPosition | None = None
        self._sign_asked: float | None = None
        self._paced: set[CaptureState] = set()
        place, sign = wired.present_finger, wired.present_signature

        def place_when_moved(position: FingerPosition | None) -> bool:
            if position is not None and self.ctl.state == "fingers":
                self._at(self._asked.get(position, time.monotonic()) + self._human(FINGER))
            return place(position)

        def sign_when_ready() -> bool:
            # the pen comes down so that picking it up and signing take SIGN together
            pen = self._human(SIGN) - self._human(signing)
            self._at((self._sign_asked or time.monotonic()) + pen)
            return sign()

        wired.present_finger = place_when_moved  # type: ignore[method-assign]
        wired.present_signature = sign_when_ready  # type: ignore[method-assign]

    def _human(self, seconds: float) -> float:
        return self._timing.human(seconds)

    @staticmethod
    def _at(moment: float) -> None:
        """Wait on a job thread until ``moment`` (a person's pace: never long)."""
        time.sleep(max(0.0, moment - time.monotonic()))

    def _watch(self) -> None:
        """Between the loop's steps: note when the screen names a finger or the pad."""
        view = self.ctl.view
        if view.finger is not None and view.finger is not self._named:
            self._asked[view.finger] = time.monotonic()
        self._named = view.finger
        # the last finger is checked: none is asked for, the officer hands over the pen
        moved_on = view.state is CaptureState.SIGNATURE or view.opens_with("fingers_checking")
        if moved_on and self._sign_asked is None:
            self._sign_asked = time.monotonic()

    def _pause(self, seconds: float) -> None:
        """The officer takes ``seconds`` of human time; the kit goes on meanwhile."""
        until = time.monotonic() + self._human(seconds)
        while (left := until - time.monotonic()) > 0:
            self.kit.loop.step(timeout=min(left, 0.05))
            self._watch()

    def card_out(self) -> None:
        """Wait for what prints behind the machine (the last person's card)."""
        deadline = time.monotonic() + self._timing.device(CARD_OUT_SECONDS) + 1.0
        while self.ctl.working_behind:
            if time.monotonic() > deadline:
                raise DemoError(f"the card did not come out: {self.screen}")
            self.kit.loop.step(timeout=0.05)

    def enrol(self, task: Task) -> Outcome:
        self._asked, self._named, self._sign_asked, self._paced = {}, None, None, set()
        self._pause(CALL_NEXT)  # the last card prints meanwhile
        self.card_out()
        self._pause(HAND_OVER)
        return super().enrol(task)

    def act(self, person: Person) -> None:
        state = self.screen.state
        if state not in self._paced:
            self._paced.add(state)
            if state is CaptureState.FACE:
                self._pause(FRAME)
            elif state is CaptureState.REVIEW:
                self._pause(READ_BACK)
        super().act(person)


def _paced_run(run: Run, people: int, scale: float, *, signing: float) -> float:
    """Seconds of kit time (unscaled) a person takes, officer and residents at their human
    times: from the call of the first to the ready list after the last, over ``people``."""
    timing = _timing(run, scale)
    parts = SimParts(timing=timing)
    options = SimOptions(run.scratch / "paced-kit", clock_speed=0.0, parts=parts)
    with open_sim_kit(options) as sim:
        assert sim.wired is not None, "the paced run is on the wired simulator"
        bot = PacedOfficer(sim, sim.wired, timing, signing=signing)
        _start(sim, bot)
        subjects = _subjects(sim, people)
        started = time.monotonic()
        for subject in subjects:
            bot.enrol(Task(subject))
        seconds = time.monotonic() - started
        bot.card_out()
        printed = sim.kit.store.ledger.counts()["printed"]
        if printed != people:
            raise DemoError(f"{printed} cards printed for {people} people")
    human_speed = timing.human_speed
    return seconds * human_speed / people
