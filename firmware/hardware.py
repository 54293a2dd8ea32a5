"""The kit's real drivers, opened on the Pi's ports or on the simulator's emulators.

:func:`real_devices` is the one place that builds the ``hal`` drivers.  A part that fails
to open does not stop the kit: it is listed in :attr:`Opened.broken` and an
:class:`Absent` stands in for it, so the capture loop's self-test and ``jemput-kit
selftest`` name the broken part instead of the kit dying at boot with a traceback.

The Pi's path: nothing here knows of the simulator (`simulator.hardware` opens these
same drivers on the wire emulators), and tests/test_layering.py checks that importing
`firmware.pi` loads nothing of `hw_sim`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, TypeVar, cast

from PIL import Image

from hal.contracts import (
    ButtonHandler,
    Camera,
    Device,
    Devices,
)
from hal.exc import DeviceAbsent, DeviceError
from hal.types import (
    BatteryReading,
    ClockReading,
    DeviceInfo,
    FingerImage,
    FingerPosition,
    Indicator,
    LibraryMatch,
    PrinterStatus,
    SensorModel,
    Signature,
    Tone,
)

if TYPE_CHECKING:
    import gpiozero

    from firmware.config import DevicePorts, KitConfig
    from hal.i2c import SMBus

#: How long the serial drivers wait for one answer before calling the part silent.
REPLY_TIMEOUT_SECONDS = 2.0


class Opened(NamedTuple):
    """The kit's devices (an :class:`Absent` for each that failed) and what failed, why."""

    devices: Devices
    broken: list[tuple[str, DeviceError]]


class Absent:
    """Stands in for a device that failed to open, satisfying every device contract.

    Whatever would return something from the part (probe, capture, status, read...)
    raises :class:`hal.exc.DeviceAbsent` carrying the original failure, so the capture
    loop shows the fault where the part is needed.  What only drives the part (LED,
    buzzer, display text, button handler) does nothing: a kit with a dead buzzer must
    still show its prompts, and the kit has no other way to tell the officer.
    """

    lines = 4
    columns = 21

    def __init__(self, name: str, error: DeviceError) -> None:
        self.name = name
        self.error = error

    def __repr__(self) -> str:
        return f"<Absent {self.name}: {self.error}>"

    def _raise(self) -> DeviceAbsent:
        return DeviceAbsent(f"{self.name} did not open at boot: {self.error}", device=self.name)

    def probe(self) -> DeviceInfo:
        raise self._raise()

    def close(self) -> None:
        """Nothing was opened."""

    # every query of every contract
    def capture(self, *, timeout: float, settle: float = 1.5) -> Signature:
        raise self._raise()

    def identify(self, *, timeout: float) -> LibraryMatch:
        raise self._raise()

    def enrol(self, page: int, template: bytes) -> None:
        raise self._raise()

    def take_image(self, position: FingerPosition, *, timeout: float) -> None:
        raise self._raise()

    def upload_image(self, position: FingerPosition) -> FingerImage:
        raise self._raise()

    def search(self, template: bytes, *, pages: int | None = None) -> LibraryMatch:
        raise self._raise()

    def match(self, template: bytes, others: Sequence[bytes]) -> int | None:
        raise self._raise()

    def delete(self, page: int) -> None:
        raise self._raise()

    def library_count(self) -> int:
        raise self._raise()

    def held_pages(self) -> frozenset[int]:
        raise self._raise()

    def clear_library(self) -> None:
        raise self._raise()

    def status(self) -> PrinterStatus:
        raise self._raise()

    def print_card(self, front: Image.Image, *, timeout: float) -> None:
        raise self._raise()

    def print_image(self, image: Image.Image, *, timeout: float) -> None:
        raise self._raise()

    def read(self) -> BatteryReading | ClockReading:
        raise self._raise()

    def set(self, when: datetime) -> None:
        raise self._raise()

    # outputs: silently nothing
    def on_button(self, handler: ButtonHandler | None) -> None:
        """A dead panel sends no presses."""

    def indicate(self, indicator: Indicator) -> None:
        """A dead LED shows nothing."""

    def beep(self, tone: Tone) -> None:
        """A dead buzzer stays quiet."""

    def show(self, lines: Sequence[str]) -> None:
        """A dead display shows nothing."""


Part = TypeVar("Part", bound=Device)


@dataclass
class _Opener:
    """Opens one part after another, keeping what failed instead of stopping."""

    broken: list[tuple[str, DeviceError]] = field(default_factory=list)

    def __call__(self, name: str, build: Callable[[], Part]) -> Part:
        try:
            return build()
        except DeviceError as exc:
            self.broken.append((name, exc))
            # Absent answers every contract (its queries raise DeviceAbsent), so it stands
            # in for whichever part failed; the type checker cannot see that through a union
            return cast(Part, Absent(name, exc))


def real_devices(
    ports: DevicePorts,
    *,
    bus: int | SMBus,
    pin_factory: gpiozero.Factory | None = None,
    camera: Camera | None = None,
    reply_timeout: float = REPLY_TIMEOUT_SECONDS,
    sensor: SensorModel = SensorModel.R307,
) -> Opened:
    """Open the real drivers: serial parts on ``ports``, I2C on ``bus``.

    An empty card or receipt printer port means that printer is not fitted.  ``bus`` is an
    I2C bus number or an SMBus-compatible object (the simulator's register models), so
    ``ports.i2c_bus`` is not read here; ``camera`` replaces the Pi camera (simulator).
    ``sensor`` is the fingerprint sensor's model, which sets its image and library sizes.
    """
    from hal.card_printer import EvolisPrinter
    from hal.ds3231 import DS3231
    from hal.fingerprint import R30xSensor
    from hal.max17048 import MAX17048
    from hal.panel import GpioPanel
    from hal.receipt_printer import EscPosPrinter
    from hal.signature_pad import TopazPad
    from hal.ssd1306 import SSD1306

    def pi_camera() -> Camera:
        from hal.camera import PiCamera  # picamera2 exists only on the Pi

        return PiCamera()

    def printer(name: str, port: str, build: Callable[[str], Part]) -> Part | None:
        return opener(name, lambda: build(port)) if port else None

    opener = _Opener()
    stopping = threading.Event()  # the drivers that wait for a person end it on this
    devices = Devices(
        camera=opener("camera", (lambda: camera) if camera is not None else pi_camera),
        fingerprint=opener(
            "fingerprint",
            lambda: R30xSensor(
                port=ports.fingerprint,
                model=sensor,
                read_timeout=reply_timeout,
                stopping=stopping,
            ),
        ),
        signature_pad=opener(
            "signature-pad", lambda: TopazPad(port=ports.signature_pad, stopping=stopping)
        ),
        panel=opener("panel", lambda: GpioPanel(pin_factory=pin_factory)),
        display=opener("display", lambda: SSD1306(bus=bus)),
        battery=opener("battery", lambda: MAX17048(bus=bus)),
        clock=opener("clock", lambda: DS3231(bus=bus)),
        card_printer=printer(
            "card-printer",
            ports.card_printer,
            lambda port: EvolisPrinter(port=port, reply_timeout=reply_timeout),
        ),
        receipt_printer=printer(
            "receipt-printer", ports.receipt_printer, lambda port: EscPosPrinter(port=port)
        ),
        stopping=stopping,
    )
    return Opened(devices, opener.broken)


def configured_devices(config: KitConfig) -> Opened:
    """The real drivers on the ports and I2C bus of the kit's configuration, for its parts."""
    return real_devices(config.ports, bus=config.ports.i2c_bus, sensor=config.parts.fingerprint)
