"""One person at the kit on the timed simulator, step by step, and people per hour.

The kit runs on its real drivers against the wire-level emulators in real time (fast
mode at tiny size): every finger image crosses the sensor's UART at 115200 baud, the
card's panel the printer's line, each part takes its datasheet time.  The officer bot
presses the buttons without human pauses, so a step's time is the kit's.  Each step's
baseline is its floor: the seconds the bytes it moved need at their lines' rates plus the
parts' datasheet times (``WiredKit.floor_seconds``); the difference is ours.

People per hour adds the human times of :data:`HUMAN_SECONDS` (the scripted officer's,
documented in docs/performance.md) to the kit's time for one person.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from hal.types import Button
from simulator.demo import OfficerBot, Task
from simulator.kit import open_sim_kit
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
    asked = [i for i in range(fingers, signature) if marks[i].label == "finger"]
    bounds = [fingers, *asked[1:], signature]
    spans = [("face", face, fingers)]
    spans += [(f"finger {n}", a, b) for n, (a, b) in enumerate(itertools.pairwise(bounds), 1)]
    spans += [("signature", signature, review), ("review", review, sealing)]
    spans += [("seal", sealing, printing), ("print", printing, done)]
    return [
        (name, marks[b].at - marks[a].at, marks[b].floor - marks[a].floor)
        for name, a, b in spans
        if b > a
    ]


@benchmark("person")
def person(run: Run) -> list[Row]:
    marks: list[Mark] = []
    options = SimOptions(run.scratch / "person-kit", clock_speed=0.0, parts=SimParts(fast=run.tiny))
    with open_sim_kit(options) as sim:
        wired = sim.wired
        assert wired is not None, "the person benchmark runs on the wired simulator"

        def floor() -> float:
            return sum(wired.floor_seconds().values())

        present = wired.present_finger

        def presenting(position: object) -> bool:
            if sim.kit.controller.state == "fingers":
                marks.append(Mark("finger", time.perf_counter(), floor()))
            return present(position)  # type: ignore[arg-type]

        wired.present_finger = presenting  # type: ignore[method-assign]
        bot = OfficerBot(sim.kit, sim.world, sim.bystanders)
        bot.settle()
        if sim.kit.controller.state == "self_test":
            bot.press(Button.OK)
        bot.login(by_pin=False)
        subject = next(
            sim.world.visitor(r.nik, r.name, r.sex, r.birth_date)
            for r in sim.kit.store.worklist
            if not sim.world.person(r.nik).fingers and sim.world.person(r.nik).signature
        )
        started = time.perf_counter()
        with _watching(marks, floor):
            bot.enrol(Task(subject))
        kit_seconds = time.perf_counter() - started
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
    rows.append(
        Row(
            "person",
            "people per hour per kit",
            3600 / (kit_seconds + human),
            "people/h",
            None,
            "",
            REPORTED,
            note=f"kit {kit_seconds:.0f} s + scripted officer {human:.0f} s a person",
        )
    )
    return rows
