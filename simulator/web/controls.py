"""What the page may do to the simulated kit, checked before anything is touched.

Every request body is a JSON object; each action takes named fields, and anything else
(an unknown button, a finger that does not exist, a battery of 140 %, a stroke off the
pad) is refused with :class:`BadRequest` naming the field, what was wrong and what is
allowed.  A refused request changes nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from hal.types import Button, FingerPosition, Press
from hw_sim.fingers import Glass
from hw_sim.wired import Strokes, WiredKit
from hw_sim.world import PAD_HEIGHT, PAD_WIDTH
from simulator.kit import SimKit
from simulator.power import cell_volts, press_power
from simulator.terminal import panel_io
from simulator.web.events import EventLog
from simulator.web.texts import DEVICES, FAULTS, GLASS, PAGE, Note, finger_word

#: Bounds on a drawn signature, so a page cannot make the pad replay for an hour.
MAX_STROKES = 40
MAX_POINTS = 4000

E = TypeVar("E", bound=enum.Enum)


class BadRequest(ValueError):
    """A request from the page that the kit refuses; the message says what to send."""


def _field(body: Mapping[str, Any], name: str) -> Any:
    if name not in body:
        raise BadRequest(f"missing field {name!r}")
    return body[name]


def _choice(kind: type[E], value: object, name: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in kind)
        raise BadRequest(f"{name} {value!r} is not one of: {allowed}") from None


def _number(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise BadRequest(f"{name} must be a number from {low:g} to {high:g}, not {value!r}")
    return float(value)


def finger_named(name: object) -> FingerPosition | None:
    """A finger position by its name (``RIGHT_INDEX``), or None for "the one asked for"."""
    if name in (None, "", "asked"):
        return None
    try:
        return FingerPosition[str(name)]
    except KeyError:
        allowed = ", ".join(p.name for p in FingerPosition if p is not FingerPosition.UNKNOWN)
        raise BadRequest(f"finger {name!r} is not one of: asked, {allowed}") from None


def strokes_on_pad(body: Mapping[str, Any]) -> Strokes:
    """Canvas strokes ([[x, y], ...] in a ``width`` x ``height`` canvas) in pad coordinates."""
    width = _number(_field(body, "width"), "width", 1, 10_000)
    height = _number(_field(body, "height"), "height", 1, 10_000)
    raw = _field(body, "strokes")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_STROKES:
        raise BadRequest(f"strokes must be a list of 1 to {MAX_STROKES} strokes")
    strokes = []
    total = 0
    for number, stroke in enumerate(raw, start=1):
        if not isinstance(stroke, list) or not stroke:
            raise BadRequest(f"stroke {number} must be a non-empty list of [x, y] points")
        points = []
        for point in stroke:
            if not (isinstance(point, list) and len(point) == 2):
                raise BadRequest(f"stroke {number}: every point must be [x, y]")
            x = _number(point[0], f"stroke {number} x", 0, width)
            y = _number(point[1], f"stroke {number} y", 0, height)
            points.append(
                (
                    min(PAD_WIDTH - 1, int(x / width * PAD_WIDTH)),
                    min(PAD_HEIGHT - 1, int(y / height * PAD_HEIGHT)),
                )
            )
        total += len(points)
        if total > MAX_POINTS:
            raise BadRequest(f"a signature may have at most {MAX_POINTS} points")
        strokes.append(tuple(points))
    return tuple(strokes)


class Controls:
    """The page's hands on ``sim``: buttons, who stands in front, the glass, pad, battery,
    fault switches.  Each method takes the request's JSON object and returns a short
    answer for the page; the event log records what was done.
    """

    def __init__(self, sim: SimKit, log: EventLog) -> None:
        if sim.wired is None:
            raise ValueError("the browser kit needs the wired simulator (its emulators)")
        self._sim = sim
        self._wired: WiredKit = sim.wired
        self._log = log
        self._press, self.indicator = panel_io(sim)
        self.actions: dict[str, Callable[[Mapping[str, Any]], str]] = {
            "press": self.press,
            "stand-in": self.stand_in,
            "glass": self.glass,
            "sign": self.sign,
            "signer": self.signer,
            "battery": self.battery,
            "fault": self.fault,
            "power": self.power,
        }

    def apply(self, action: str, body: object) -> str:
        """Run ``action`` with ``body``; BadRequest when either is not valid."""
        handler = self.actions.get(action)
        if handler is None:
            raise BadRequest(f"unknown action {action!r}; valid: {', '.join(self.actions)}")
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object")
        return handler(body)

    def press(self, body: Mapping[str, Any]) -> str:
        button = _choice(Button, _field(body, "button"), "button")
        how = _choice(Press, body.get("how", Press.SHORT.value), "how")
        self._press(button, how)
        return f"{button.value} {how.value}"

    def stand_in(self, body: Mapping[str, Any]) -> str:
        nik = body.get("nik")
        if nik in (None, ""):
            self._sim.bystanders.stand_in = None
            self._log.note(Note("front.as_kit"))
            return "as the kit expects"
        person = self._sim.world.person(str(nik))
        if person is None:
            raise BadRequest(f"nobody with NIK {nik!r} lives in the simulated world")
        self._sim.bystanders.stand_in = person
        self._log.note(Note("front.person", name=person.name, nik=person.nik))
        return person.name

    def glass(self, body: Mapping[str, Any]) -> str:
        quality = _choice(Glass, _field(body, "quality"), "quality")
        position = finger_named(body.get("finger"))
        world = self._sim.world
        world.glass, world.glass_position = quality, position
        finger = finger_word(position) if position else PAGE["glass.asked"]
        self._log.note(Note("glass", finger=finger, quality=GLASS[quality.value]))
        return quality.value

    def sign(self, body: Mapping[str, Any]) -> str:
        strokes = strokes_on_pad(body)
        self._wired.offer_signature(strokes)
        self._log.note(Note("signature", strokes=len(strokes)))
        return f"{len(strokes)} strokes"

    def signer(self, body: Mapping[str, Any]) -> str:
        """Who signs the pad: the simulated resident at once, or the person at the page,
        for whose strokes a signature then waits (`hw_sim.wired.WiredKit.page_signs`)."""
        who = _field(body, "who")
        if who not in ("resident", "trainee"):
            raise BadRequest(f"who {who!r} is not one of: resident, trainee")
        self._wired.page_signs = who == "trainee"
        self._log.note(Note(f"signer.{who}"))
        return str(who)

    def battery(self, body: Mapping[str, Any]) -> str:
        percent = _number(_field(body, "percent"), "percent", 0, 100)
        self._sim.world.battery.set_percent(percent)
        self._wired.battery.set_percent(percent)
        if self._sim.pico is not None:  # the Pico's ADC reads the same cell
            self._sim.pico.set_battery(cell_volts(percent))
        self._log.note(Note("battery", percent=f"{percent:.0f}"))
        return f"{percent:.0f}%"

    def power(self, body: Mapping[str, Any]) -> str:
        """The co-processor's power button: a press shows the battery, a hold (3 s) asks
        for a safe shutdown, through the Pico's own firmware."""
        how = _choice(Press, body.get("how", Press.SHORT.value), "how")
        pico = self._sim.pico
        if pico is None:
            raise BadRequest("this simulated kit has no power co-processor")
        press_power(pico, how)
        self._log.note(Note("power.held" if how is Press.HOLD else "power.pressed"))
        return how.value

    def fault(self, body: Mapping[str, Any]) -> str:
        device = _field(body, "device")
        faults = WiredKit.DEVICE_FAULTS.get(str(device))
        if faults is None:
            raise BadRequest(
                f"device {device!r} is not one of: {', '.join(WiredKit.DEVICE_FAULTS)}"
            )
        kind = _field(body, "kind")
        if kind not in faults:
            raise BadRequest(f"{device} fault {kind!r} is not one of: {', '.join(faults)}")
        on = body.get("on", True)
        if not isinstance(on, bool):
            raise BadRequest(f"on must be true or false, not {on!r}")
        if on:
            self._wired.inject(str(device), str(kind))
            self._log.note(Note("fault.on", device=DEVICES[str(device)], kind=FAULTS[str(kind)]))
        else:
            self._wired.clear_faults(str(device))
            self._log.note(Note("fault.cleared", device=DEVICES[str(device)]))
        return "on" if on else "cleared"
