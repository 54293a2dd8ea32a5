"""The events the capture machine reacts to, all delivered through the loop's one queue."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from hal.types import Button, Press


@dataclass(frozen=True)
class ButtonEvent:
    """A button pressed (short) or held, posted from the panel's or keyboard's thread."""

    button: Button
    press: Press = Press.SHORT


class Lane(enum.Enum):
    """A worker of the loop: the jobs of one lane run one at a time, in the order given.

    Why two: the printers sit on their own lines, so a card can print while the next
    person's face and fingers are captured; every other part is used one at a time.
    """

    DEVICES = "devices"  # the sensor, camera and pad, the self-test, the seal
    PRINTERS = "printers"  # the card and receipt printers


class JobKind(enum.StrEnum):
    """What a device job does; the values (the lower-case names) are what the log shows."""

    SELF_TEST = enum.auto()
    IDENTIFY = enum.auto()
    FACE = enum.auto()
    FINGER = enum.auto()  # waits for the finger asked for and images it
    FINGER_UPLOAD = enum.auto()  # its image over the wire, measured and checked
    SIGNATURE = enum.auto()
    SEAL = enum.auto()
    PRINT = enum.auto()
    SLIP = enum.auto()
    #: The sensor's library read (which officers have a login finger) or a page deleted.
    LIBRARY = enum.auto()

    @property
    def lane(self) -> Lane:
        """The worker the job runs on: a print on the printers' own."""
        return Lane.PRINTERS if self in (JobKind.PRINT, JobKind.SLIP) else Lane.DEVICES

    @property
    def only_waits(self) -> bool:
        """Whether the job only waits for someone to come (a finger at the login or the
        approval screen): the idle lock may interrupt it, as it does an officer who left."""
        return self is JobKind.IDENTIFY


@dataclass(frozen=True)
class Job:
    """One run of device work: its kind, and a ticket that tells a stale result apart."""

    kind: JobKind
    ticket: int

    def __str__(self) -> str:
        return f"{self.kind}#{self.ticket}"


@dataclass(frozen=True)
class JobDone:
    """Device work that ran off the loop has finished: ``result``, or the ``error`` it raised.

    ``name`` is what the job was run under (the capture loop's :class:`Job`); the loop that
    runs it hands it back untouched.
    """

    name: object
    result: object = None
    error: BaseException | None = None


@dataclass(frozen=True)
class Tick:
    """The clock moved on: idle lock, battery checks and the time on screen."""

    now: datetime


class ShutdownReason(enum.StrEnum):
    """Why the kit is switching off; the safe-shutdown screen says it, the audit keeps it."""

    BATTERY_CRITICAL = "battery_critical"  # the fuel gauge, or the co-processor's cell
    POWER_BUTTON = "power_button"  # the co-processor's power button held 3 s


@dataclass(frozen=True)
class ShutdownAsked:
    """Something outside the loop (the power co-processor) asks for a safe shutdown."""

    reason: ShutdownReason
