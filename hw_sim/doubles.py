"""Fast contract-level doubles of every device, driven by the simulated world.

They satisfy the `hal.contracts` protocols directly, without a wire, so the tests of
`capture/` and the scripted demo run in milliseconds.  The wire-level emulators
(``hw_sim.*_emulator``) are what the real drivers are tested against; these doubles share
their world (who stands in front, which finger is scarred) and their fingerprint maths.

Every double has the emulators' fault switch: ``inject(kind)`` / ``clear_faults()``, with
``"unplugged"`` everywhere.  ``time_scale`` scales how long a double waits for a finger or
a pen that never comes: 0 in tests, 1 in the interactive simulator.
"""

from __future__ import annotations

import io
import random
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime

from PIL import Image, ImageDraw

from hal.contracts import ButtonHandler, Devices
from hal.exc import (
    CardJam,
    CoverOpen,
    DeviceAbsent,
    LibraryError,
    NoFinger,
    NoMatch,
    NoSignature,
    OutOfCards,
    PaperOut,
    PoorImage,
    RibbonOut,
)
from hal.types import (
    BatteryReading,
    Button,
    ClockReading,
    DeviceInfo,
    FingerImage,
    FingerPosition,
    Indicator,
    LibraryMatch,
    PenPoint,
    Press,
    PrinterState,
    PrinterStatus,
    SensorModel,
    Signature,
    Tone,
)
from hw_sim.card_printer_emulator import PANEL_DOTS, PANEL_LINES
from hw_sim.faults import FaultSwitch
from hw_sim.fingerprints import (
    MATCH_THRESHOLD,
    SCARRED_FAILURE_RATE,
    match_score,
    ridge_image,
    template_of,
)
from hw_sim.fingers import Finger, FingerCondition
from hw_sim.portraits import SimCamera
from hw_sim.prints import kept_prints
from hw_sim.world import PAD_HEIGHT, PAD_WIDTH, Person, World

#: The double's finger images: a quarter of the sensor's, which keeps tests quick.
DOUBLE_FINGER_SIZE = (128, 144)
#: A card's front as the printer takes it, width x height: the panel's lines by its dots.
CARD_SIZE = (PANEL_LINES, PANEL_DOTS)


class SimDevice(FaultSwitch):
    """Name, probe, close and the fault switch every double shares."""

    model = "simulated"

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} faults={sorted(self.faults) or 'none'}>"

    def check(self) -> None:
        if "unplugged" in self.faults:
            raise DeviceAbsent(f"{self.name} does not answer: check its cable", device=self.name)

    def probe(self) -> DeviceInfo:
        self.check()
        return DeviceInfo(self.name, self.model)

    def close(self) -> None:
        """Nothing to release: a double holds no port."""


#: The sensor the double stands for: its library's pages (its images are smaller).
DOUBLE_SENSOR = SensorModel.R307


class SimFingerprint(SimDevice):
    """The sensor: images whatever finger the world puts on the glass; an R307's library."""

    FAULTS = ("unplugged", "poor-image")
    model = f"simulated {DOUBLE_SENSOR.name}"
    #: The templates are the R307's (the images are smaller, for speed).
    image_size = DOUBLE_SENSOR.image_size

    def __init__(
        self,
        world: World,
        *,
        time_scale: float = 0.0,
        name: str = "fingerprint",
        stopping: threading.Event | None = None,
    ):
        super().__init__(name)
        self._world = world
        self._time_scale = time_scale
        self._stopping = stopping or threading.Event()
        self.library: dict[int, bytes] = {}
        self._imaged: Finger | None = None  # the finger whose image the sensor holds

    def _no_finger(self, timeout: float) -> NoFinger:
        """Nobody came: after ``timeout`` (scaled), or sooner when the kit is stopping."""
        if self._stopping.wait(timeout * self._time_scale):
            return NoFinger("the kit is stopping; the wait for a finger ended", device=self.name)
        return NoFinger(f"no finger on the sensor within {timeout:.0f} s", device=self.name)

    def take_image(self, position: FingerPosition, *, timeout: float) -> None:
        self.check()
        finger = self._world.finger_on_glass(position)
        if finger is None or finger.condition is FingerCondition.MISSING:
            self._imaged = None
            raise self._no_finger(timeout)
        self._imaged = finger

    def upload_image(self, position: FingerPosition) -> FingerImage:
        self.check()
        finger = self._imaged
        if finger is None:
            raise PoorImage("no image in the sensor's buffer", device=self.name)
        rng = random.Random(f"{finger.person_seed}/{finger.position}/{finger.capture}")
        if finger.condition is FingerCondition.BANDAGED or "poor-image" in self.faults:
            raise PoorImage("too few feature points", device=self.name)
        if finger.condition is FingerCondition.SCARRED:
            poor = rng.random() < SCARRED_FAILURE_RATE
            quality = rng.randint(10, 35) if poor else rng.randint(40, 55)
        else:
            quality = rng.randint(55, 95)
        width, height = DOUBLE_FINGER_SIZE
        pixels = ridge_image(
            finger.person_seed,
            finger.position,
            finger.capture,
            finger.condition,
            size=(width, height),
            view=(width, height),  # a whole finger, drawn small
        )
        template = template_of(finger.person_seed, finger.position, finger.capture)
        return FingerImage(position, width, height, pixels, template, quality)

    def identify(self, *, timeout: float) -> LibraryMatch:
        self.check()
        finger = self._world.finger_on_glass()
        if finger is None:
            raise self._no_finger(timeout)
        return self.search(template_of(finger.person_seed, finger.position, finger.capture))

    def search(self, template: bytes, *, pages: int | None = None) -> LibraryMatch:
        """The best page at the sensor's score semantics, as the emulator's Search."""
        self.check()
        last = DOUBLE_SENSOR.library_pages if pages is None else pages
        scores = {page: match_score(template, t) for page, t in self.library.items() if page < last}
        page = max(scores, key=scores.__getitem__, default=None)
        if page is None or scores[page] < MATCH_THRESHOLD:
            raise NoMatch("finger not in the library", device=self.name)
        return LibraryMatch(page, scores[page])

    def match(self, template: bytes, others: Sequence[bytes]) -> int | None:
        self.check()
        matching = (i for i, o in enumerate(others) if match_score(template, o) >= MATCH_THRESHOLD)
        return next(matching, None)  # the first match, as the driver stops at it

    def delete(self, page: int) -> None:
        self.check()
        self.library.pop(page, None)

    def enrol(self, page: int, template: bytes) -> None:
        self.check()
        if not 0 <= page < DOUBLE_SENSOR.library_pages:
            raise LibraryError(
                f"page {page} is outside the library (0..{DOUBLE_SENSOR.library_pages - 1})",
                device=self.name,
            )
        self.library[page] = template

    def library_count(self) -> int:
        self.check()
        return len(self.library)

    def held_pages(self) -> frozenset[int]:
        self.check()
        return frozenset(self.library)

    def load_flash(self, pages: Mapping[int, bytes]) -> None:
        """Power on with ``pages`` in the library, as a real sensor keeps it in flash."""
        self.library.update(pages)

    def clear_library(self) -> None:
        self.check()
        self.library.clear()


class SimSignaturePad(SimDevice):
    """The pad: the person in front signs as the world says they do."""

    model = "simulated Topaz pad"

    def __init__(
        self,
        world: World,
        *,
        time_scale: float = 0.0,
        name: str = "signature-pad",
        stopping: threading.Event | None = None,
    ):
        super().__init__(name)
        self._world = world
        self._time_scale = time_scale
        self._stopping = stopping or threading.Event()

    def capture(self, *, timeout: float, settle: float = 1.5) -> Signature:
        self.check()
        person = self._world.subject
        if not isinstance(person, Person) or not person.signature:
            if self._stopping.wait(timeout * self._time_scale):
                raise NoSignature("the kit is stopping; the wait for a pen ended", device=self.name)
            raise NoSignature(f"no pen stroke within {timeout:.0f} s", device=self.name)
        strokes = tuple(tuple(PenPoint(x, y) for x, y in s) for s in person.signature)
        return Signature(strokes, PAD_WIDTH, PAD_HEIGHT, _draw_strokes(strokes))


def _draw_strokes(strokes: Sequence[Sequence[PenPoint]]) -> bytes:
    """A quick rendering for the double; the real driver draws its own antialiased PNG."""
    image = Image.new("L", (PAD_WIDTH // 4, PAD_HEIGHT // 4), 255)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line([(p.x // 4, p.y // 4) for p in stroke], fill=0, width=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


_PRINTER_FAULTS = {
    "out-of-cards": (PrinterState.NO_MEDIA, OutOfCards),
    "cover-open": (PrinterState.COVER_OPEN, CoverOpen),
    "ribbon-out": (PrinterState.RIBBON_OUT, RibbonOut),
    "jam": (PrinterState.JAM, CardJam),
    "paper-out": (PrinterState.NO_MEDIA, PaperOut),
}


class SimPrinter(SimDevice):
    """A card or receipt printer that keeps what it printed, and fails on demand."""

    def __init__(self, name: str, faults: tuple[str, ...], *, hopper: int | None = None):
        super().__init__(name)
        self.FAULTS = ("unplugged", *faults)
        self.hopper = hopper
        self.printed = kept_prints()

    def status(self) -> PrinterStatus:
        self.check()
        for fault in self.FAULTS[1:]:
            if fault in self.faults:
                return PrinterStatus(_PRINTER_FAULTS[fault][0], fault)
        if self.hopper == 0:
            return PrinterStatus(PrinterState.NO_MEDIA, "hopper empty")
        return PrinterStatus(PrinterState.READY)

    def _print(self, image: Image.Image) -> None:
        status = self.status()
        if not status.ready:
            error = _PRINTER_FAULTS.get(status.detail, (None, OutOfCards))[1]
            if status.detail == "jam" and self.hopper:
                self.hopper -= 1  # a jam takes the card with it
            raise error(f"{self.name}: {status.state.value}", device=self.name)
        with self._lock:
            if self.hopper is not None:
                self.hopper -= 1
            self.printed.append(image.copy())

    def print_card(self, front: Image.Image, *, timeout: float) -> None:
        if front.size != CARD_SIZE:
            raise ValueError(
                f"card image is {front.size[0]}x{front.size[1]}, "
                f"expected {CARD_SIZE[0]}x{CARD_SIZE[1]}"
            )
        self._print(front)

    def print_image(self, image: Image.Image, *, timeout: float) -> None:
        self._print(image)


class SimPanel(SimDevice):
    """Buttons, LED and buzzer; the terminal or the demo bot press the buttons."""

    def __init__(self, name: str = "panel") -> None:
        super().__init__(name)
        self.indicator = Indicator.OFF
        self.tones: list[Tone] = []
        self.handler: ButtonHandler | None = None

    def on_button(self, handler: ButtonHandler | None) -> None:
        self.handler = handler

    def press(self, button: Button, press: Press) -> None:
        if self.handler is not None:
            self.handler(button, press)

    def indicate(self, indicator: Indicator) -> None:
        self.indicator = indicator

    def beep(self, tone: Tone) -> None:
        if tone is not Tone.CLICK:
            self.tones.append(tone)


class SimDisplay(SimDevice):
    """Four lines of 21 characters, like the SSD1306 with its 6-pixel font."""

    def __init__(self, name: str = "display", *, lines: int = 4, columns: int = 21) -> None:
        super().__init__(name)
        self.lines, self.columns = lines, columns
        self.shown: list[str] = []

    def show(self, lines: Sequence[str]) -> None:
        self.check()
        self.shown = [line[: self.columns] for line in lines[: self.lines]]


class SimBatteryGauge(SimDevice):
    def __init__(self, world: World, name: str = "battery") -> None:
        super().__init__(name)
        self._battery = world.battery

    def read(self) -> BatteryReading:
        self.check()
        return BatteryReading(self._battery.voltage, self._battery.percent, self._battery.rate)


class SimRtc(SimDevice):
    FAULTS = ("unplugged", "osc-stopped")

    def __init__(self, world: World, name: str = "clock") -> None:
        super().__init__(name)
        self._clock = world.clock

    def read(self) -> ClockReading:
        self.check()
        return ClockReading(self._clock.now(), "osc-stopped" not in self.faults)

    def set(self, when: datetime) -> None:
        self.check()
        self._clock.set(when)
        with self._lock:
            self._faults.discard("osc-stopped")


def sim_devices(
    world: World, *, time_scale: float = 0.0, card_printer: bool = True, hopper: int = 100
) -> Devices:
    """Every device of a kit, as doubles over ``world``."""
    stopping = threading.Event()  # the doubles that wait for a person end it on this
    return Devices(
        camera=SimCamera(world.subject_seed),
        fingerprint=SimFingerprint(world, time_scale=time_scale, stopping=stopping),
        signature_pad=SimSignaturePad(world, time_scale=time_scale, stopping=stopping),
        panel=SimPanel(),
        display=SimDisplay(),
        battery=SimBatteryGauge(world),
        clock=SimRtc(world),
        card_printer=(
            SimPrinter(
                "card-printer", ("out-of-cards", "cover-open", "ribbon-out", "jam"), hopper=hopper
            )
            if card_printer
            else None
        ),
        receipt_printer=SimPrinter("receipt-printer", ("paper-out", "cover-open")),
        stopping=stopping,
    )
