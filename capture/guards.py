"""The controller's guards: what it watches in every state, each an object of its own.

- :class:`JobTicket`: the device job the state waits for.  A result of any other job is
  stale (the officer moved on), and is ignored: so Cancel always works.  A job run behind
  the machine (a print) brings its outcome to its own handler instead.
- :class:`IdleLock`: an officer who walked away locks the kit.
- :class:`PowerWatch`: the battery, read every :data:`BATTERY_EVERY_SECONDS` of kit time,
  and the safe shutdown that a critical battery or the power co-processor asks for: at
  once where the machine allows it, else once the seal or print under way is done.

Each keeps its own facts and answers a question; the controller
(:mod:`capture.controller`) asks on every event and acts on the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from capture.events import Job, JobKind, ShutdownReason
from capture.machine import FINAL_STATE, LOCKABLE, POWER_OFF_AT_ONCE, CaptureState
from capture.ports import RunJob
from hal.contracts import Battery
from hal.exc import DeviceError
from hal.types import BatteryReading

log = logging.getLogger(__name__)

#: How often the battery is read, in seconds of kit time.
BATTERY_EVERY_SECONDS = 30


#: What gets the outcome of a job run behind the machine: its result, or the error it raised.
Outcome = Callable[[object, BaseException | None], None]


class JobTicket:
    """Runs device work off the loop through ``run_job``, one ticket per run.

    A job the state waits for is *pending*; a job run *behind* the machine (a print, while
    the officer starts the next person) keeps its own outcome handler, called whatever
    state the loop is in when it ends.
    """

    def __init__(self, run_job: RunJob) -> None:
        self._run_job = run_job
        self._pending: Job | None = None
        self._behind: dict[Job, Outcome] = {}
        self._issued = 0

    @property
    def pending(self) -> Job | None:
        """The job the state waits for, if any."""
        return self._pending

    @property
    def working(self) -> bool:
        """True while a job runs that does more than wait for a finger."""
        return self._pending is not None and not self._pending.kind.only_waits

    @property
    def behind(self) -> bool:
        """True while a job runs behind the machine."""
        return bool(self._behind)

    @property
    def kinds_behind(self) -> tuple[JobKind, ...]:
        """What runs behind the machine, in the order it was started (a card, a slip)."""
        jobs = tuple(self._behind)  # copied at once: the simulator's page reads it off the loop
        return tuple(job.kind for job in jobs)

    def _issue(self, kind: JobKind, work: Callable[[], object]) -> Job:
        self._issued += 1
        job = Job(kind, self._issued)
        self._run_job(job, work, lane=kind.lane)
        return job

    def run(self, kind: JobKind, work: Callable[[], object]) -> None:
        self._pending = self._issue(kind, work)

    def run_behind(self, kind: JobKind, work: Callable[[], object], done: Outcome) -> None:
        """Run ``work`` without the state waiting for it; ``done`` gets its outcome."""
        self._behind[self._issue(kind, work)] = done

    def take_behind(self, job: object) -> Outcome | None:
        """The outcome handler of ``job`` when it ran behind the machine (it runs no more)."""
        return self._behind.pop(job, None) if isinstance(job, Job) else None

    def take(self, job: object) -> bool:
        """``job`` came back: True when the state waits for it (it waits no more), False
        when it is stale."""
        if job != self._pending:
            return False
        self._pending = None
        return True

    def forget(self) -> None:
        """The state no longer waits for its job (it was left, or cancelled)."""
        self._pending = None


class IdleLock:
    """Locks the kit after the policy's seconds without a button."""

    def __init__(self, now: datetime) -> None:
        self._since = now

    def touch(self, now: datetime) -> None:
        """A button was pressed (or the kit locked): the idle time starts again."""
        self._since = now

    def due(self, now: datetime, *, seconds: float, state: CaptureState, working: bool) -> bool:
        """Whether to lock now: idle ``seconds``, in a state the lock may interrupt, and no
        device work under way but a wait for someone's finger (an officer who left)."""
        idle = (now - self._since).total_seconds()
        return idle >= seconds and state in LOCKABLE and not working


class PowerWatch:
    """Reads the fuel gauge and keeps why (and whether) the kit is to switch off."""

    def __init__(self, battery: Battery) -> None:
        self._battery = battery
        self._read_at: datetime | None = None
        self._reading: BatteryReading | None = None
        self._reason: ShutdownReason | None = None
        self._waiting = False

    @property
    def reading(self) -> BatteryReading | None:
        """The last reading (None before the first, or while the gauge never answered)."""
        return self._reading

    @property
    def reason(self) -> ShutdownReason | None:
        """Why the kit switches off, once it was asked to (the shutdown screen says it)."""
        return self._reason

    def due(self, now: datetime) -> bool:
        """Whether a reading is due (the first at once); True starts the next period."""
        if self._read_at is not None and (now - self._read_at).total_seconds() < (
            BATTERY_EVERY_SECONDS
        ):
            return False
        self._read_at = now
        return True

    def read(self, *, critical_percent: float) -> bool:
        """Read the gauge: True when the battery is critical.  A gauge fault must not stop
        enrolment: it is logged, and the last reading stands."""
        try:
            self._reading = self._battery.read()
        except DeviceError as exc:
            log.warning("battery read failed: %s", exc)
            return False
        return self._reading.percent <= critical_percent

    def ask(self, reason: ShutdownReason, state: CaptureState) -> bool:
        """Switch off for ``reason``: True when it is to happen now, False when it waits
        for the work of ``state`` (see :meth:`arrived`) or the kit is already switching
        off.  The first reason given is kept."""
        if state is FINAL_STATE or self._reason is not None:
            return False
        self._reason = reason
        if state in POWER_OFF_AT_ONCE:
            return True
        self._waiting = True
        return False

    def hold(self) -> None:
        """The switch-off asked for waits for work behind the machine (a card half
        printed would be spoiled): :meth:`arrived` says when to go on."""
        self._waiting = True

    def arrived(self, state: CaptureState) -> bool:
        """``state`` was entered: True when a shutdown waited for the work just finished."""
        if self._waiting and state in POWER_OFF_AT_ONCE:
            self._waiting = False
            return True
        return False
