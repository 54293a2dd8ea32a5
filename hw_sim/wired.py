"""The simulated kit at its wires: every emulator started, for the real drivers to open.

:class:`WiredKit` is what ``jemput-kit sim ...`` and ``jemput-kit sim selftest`` put behind the
real ``hal`` drivers: the serial parts each on their own pty (each emulator's ``port``),
the I2C parts as register models on one SMBus-compatible bus (``bus``), the panel's pins on
a gpiozero ``MockFactory`` (``pin_factory``) and, for the camera alone, the simulated camera
(the picamera2 API has no wire to emulate).  The display, fuel gauge and clock run on the
world's clock, so stepping the world's time moves the battery and the RTC too.

``hw_sim`` may not import drivers, so the world acts on the emulators only when the
firmware side asks: :meth:`WiredKit.present_finger` before a finger capture and
:meth:`WiredKit.present_signature` before a signature, as a person steps up when
the officer asks them.  Those two calls are the only cooperation the drivers need.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from gpiozero.pins.mock import MockFactory

from hal.contracts import Closing
from hal.types import FingerPosition, Portrait, SensorModel
from hw_sim.card_printer_emulator import CardPrinterEmulator
from hw_sim.ds3231_emulator import DS3231Model
from hw_sim.faults import FaultSwitch
from hw_sim.fingerprint_emulator import FingerprintEmulator
from hw_sim.fingers import FingerCondition
from hw_sim.gpio import MockPanelDriver
from hw_sim.max17048_emulator import MAX17048Model
from hw_sim.portraits import SimCamera
from hw_sim.receipt_printer_emulator import ReceiptPrinterEmulator
from hw_sim.register_bus import RegisterBus
from hw_sim.signature_pad_emulator import SignaturePadEmulator
from hw_sim.ssd1306_emulator import SSD1306Model
from hw_sim.timing import Timing
from hw_sim.world import Person, World

#: Camera Module 3 (IMX708): its full-resolution mode runs at 14 frames a second, so a
#: still takes at least one frame period after the request (docs/devices/timing.md).
CAMERA_STILL_SECONDS = 1 / 14
#: A signature as pen positions: strokes of (x, y) points in pad coordinates.
Strokes = tuple[tuple[tuple[int, int], ...], ...]
#: Wall-clock pause before the pen comes down: the driver flushes its input as it starts
#: a capture, so a signature begun in the same instant would lose its first frames.
SIGN_DELAY_SECONDS = 0.2


@dataclass(frozen=True)
class SerialParts:
    """The four serial emulators, each on its own pty.

    :meth:`start` starts them for a :class:`WiredKit`; a process that only serves them
    (``tests/bench/pi_path.py``: the kit's own memory measured without the emulators' and
    their caches) hands their proxies to the kit's process instead.
    """

    fingerprint: FingerprintEmulator
    signature_pad: SignaturePadEmulator
    card_printer: CardPrinterEmulator
    receipt_printer: ReceiptPrinterEmulator

    @classmethod
    def start(
        cls,
        stack: contextlib.ExitStack,
        *,
        seed: int,
        hopper: int = 100,
        sensor: SensorModel = SensorModel.R307,
        timing: Timing,
    ) -> SerialParts:
        """The emulators started, each closed with ``stack``."""
        return cls(
            stack.enter_context(FingerprintEmulator(model=sensor, timing=timing)),
            stack.enter_context(SignaturePadEmulator(seed=seed, timing=timing)),
            stack.enter_context(CardPrinterEmulator(hopper=hopper, timing=timing)),
            stack.enter_context(ReceiptPrinterEmulator(timing=timing)),
        )


class WiredKit(Closing):
    """Every device of a kit, emulated at its wire, in front of ``world``.

    ``hopper`` is the blank cards in the card printer; ``sensor`` the fingerprint sensor's
    model (its image size and library); ``timing`` is the kit's clock: by
    default (:meth:`Timing.default`) every link keeps its line's time and every part its
    datasheet's (the sensor's baud rate and imaging time, the pad's 100 frames a second,
    a card's print time, the camera's frame time); ``Timing(fast=True)`` is as fast as
    the ptys allow.  ``serial`` are serial emulators that another process runs (they are
    then not closed here); by default the kit's own are started.
    """

    #: Fault kinds per device, for ``inject`` and for command lines that list them.
    DEVICE_FAULTS: ClassVar[dict[str, tuple[str, ...]]] = {
        "fingerprint": FingerprintEmulator.FAULTS,
        "signature-pad": SignaturePadEmulator.FAULTS,
        "card-printer": CardPrinterEmulator.FAULTS,
        "receipt-printer": ReceiptPrinterEmulator.FAULTS,
        "display": SSD1306Model.FAULTS,
        "battery": MAX17048Model.FAULTS,
        "clock": DS3231Model.FAULTS,
        "camera": SimCamera.FAULTS,
    }

    def __init__(
        self,
        world: World,
        *,
        hopper: int = 100,
        sensor: SensorModel = SensorModel.R307,
        timing: Timing | None = None,
        serial: SerialParts | None = None,
    ) -> None:
        self.world = world
        self.timing = timing = timing or Timing.default()
        self._closing = contextlib.ExitStack()
        try:
            parts = serial or SerialParts.start(
                self._closing, seed=world.seed, hopper=hopper, sensor=sensor, timing=timing
            )
        except BaseException:
            self._closing.close()
            raise
        self.fingerprint = parts.fingerprint
        self.signature_pad = parts.signature_pad
        self.card_printer = parts.card_printer
        self.receipt_printer = parts.receipt_printer
        self.display = SSD1306Model()
        self.battery = MAX17048Model(
            percent=world.battery.percent,
            drain_per_hour=-world.battery.rate,
            clock=self._world_seconds,
        )
        self.clock = DS3231Model(start=world.clock.now(), clock=self._world_seconds)
        self.bus = RegisterBus([self.display, self.battery, self.clock])
        self.pin_factory = MockFactory()
        self.camera = TimedCamera(world.subject_seed, timing=timing)
        self._closing.callback(self.camera.close)
        self._closing.callback(self.pin_factory.reset)
        self._closing.callback(self.bus.close)
        self.emulators: dict[str, FaultSwitch] = {
            "fingerprint": self.fingerprint,
            "signature-pad": self.signature_pad,
            "card-printer": self.card_printer,
            "receipt-printer": self.receipt_printer,
            "display": self.display,
            "battery": self.battery,
            "clock": self.clock,
            "camera": self.camera,
        }
        #: Strokes someone drew for the next signature (the browser kit's pad), in pad
        #: coordinates; taken by the next :meth:`present_signature`.
        self._offered_strokes: Strokes | None = None
        #: Someone at the page signs, not the subject: a signature then waits for the
        #: strokes they offer (:meth:`offer_signature`) instead of the subject signing.
        self.page_signs = False
        self._pen_waiting = False
        self._pen = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"<WiredKit seed={self.world.seed} sensor={self.fingerprint.model.name} "
            f"fingerprint={self.fingerprint.port}>"
        )

    def floor_seconds(self) -> dict[str, float]:
        """Per timed part, the seconds its work so far must take on a real kit: bytes at
        their lines' rates plus datasheet times (the benchmarks' baseline)."""
        return {
            "camera": self.camera.floor_seconds,
            "fingerprint": self.fingerprint.floor_seconds,
            "signature-pad": self.signature_pad.floor_seconds,
            "card-printer": self.card_printer.floor_seconds,
            "receipt-printer": self.receipt_printer.floor_seconds,
        }

    def close(self) -> None:
        """Stop every emulator and release every pty; safe to call twice.

        Close the drivers first: the bus and the mock pins go away here.
        """
        self._closing.close()

    # -- the world's side ----------------------------------------------------------------

    def _world_seconds(self) -> float:
        return self.world.clock.now().timestamp()

    def present_finger(self, position: FingerPosition | None) -> bool:
        """The subject puts the finger asked for on the glass (a fresh capture each time).

        ``None`` asks for whatever finger the subject identifies with (an officer's login
        finger).  Returns False when no finger comes: nobody in front, or that finger is
        missing, so the caller knows the wait is for nothing.
        """
        finger = self.world.finger_on_glass(position)
        self.fingerprint.place(finger)
        return finger is not None and finger.condition is not FingerCondition.MISSING

    def offer_signature(self, strokes: Strokes) -> None:
        """``strokes`` are signed on the pad instead of the subject's: at once when a
        signature waits for them (:attr:`pen_waiting`), else at the next signature."""
        with self._pen:
            if self._pen_waiting:
                self._pen_waiting = False
                self.signature_pad.sign(strokes)
            else:
                self._offered_strokes = strokes

    @property
    def pen_waiting(self) -> bool:
        """A signature under way waits for strokes from the page (:attr:`page_signs`)."""
        with self._pen:
            return self._pen_waiting

    def present_signature(self) -> bool:
        """The subject signs the pad (after a short pause); False when nobody will sign.

        Strokes offered with :meth:`offer_signature` are signed instead, once; with
        :attr:`page_signs` and none offered yet, the pad waits for them (True: someone
        will sign) until :meth:`signature_ended`.
        """
        with self._pen:
            offered, self._offered_strokes = self._offered_strokes, None
            if offered:
                self.signature_pad.sign(offered, delay=SIGN_DELAY_SECONDS)
                return True
            if self.page_signs:
                self.signature_pad.idle()
                self._pen_waiting = True
                return True
        subject = self.world.subject
        if not isinstance(subject, Person) or not subject.signature:
            self.signature_pad.idle()
            return False
        self.signature_pad.sign(subject.signature, delay=SIGN_DELAY_SECONDS)
        return True

    def signature_ended(self) -> None:
        """The signature was taken (or given up): strokes offered now are for the next."""
        with self._pen:
            self._pen_waiting = False

    def panel_driver(self, pins: Mapping[str, int] | object) -> MockPanelDriver:
        """Fingers on the panel's mock pins, wired as ``pins`` (e.g. ``PanelPins()``)."""
        return MockPanelDriver(pins, self.pin_factory)

    # -- faults --------------------------------------------------------------------------

    def inject(self, device: str, kind: str) -> None:
        """Start fault ``kind`` on ``device``; ValueError names the valid ones."""
        self._switch(device).inject(kind)

    def clear_faults(self, device: str | None = None) -> None:
        """End the faults of ``device``, or of every device."""
        for switch in [self._switch(device)] if device else self.emulators.values():
            switch.clear_faults()

    def _switch(self, device: str) -> FaultSwitch:
        switch = self.emulators.get(device)
        if switch is None:
            raise ValueError(
                f"the simulated kit has no device {device!r}; valid: {', '.join(self.emulators)}"
            )
        return switch


class TimedCamera(SimCamera):
    """The simulated camera, taking a still as long as the real module does."""

    def __init__(self, world_subject: Callable[[], int | None], *, timing: Timing) -> None:
        super().__init__(world_subject)
        self._timing = timing
        #: Datasheet seconds of the stills taken, as the serial parts count theirs.
        self.floor_seconds = 0.0

    def capture(self, *, timeout: float) -> Portrait:
        self.floor_seconds += CAMERA_STILL_SECONDS
        self._timing.wait(self._timing.device(CAMERA_STILL_SECONDS))
        return super().capture(timeout=timeout)
