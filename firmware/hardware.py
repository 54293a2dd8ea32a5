"""The kit's real drivers, opened on the Pi's ports or on the simulator's emulators.

:func:`real_devices` is the one place that builds the ``hal`` drivers.  A part that fails
to open does not stop the kit: it is listed in :attr:`Opened.broken` and an
:class:`Absent` stands in for it, so the capture loop's self-test and ``jemput-kit
selftest`` name the broken part instead of the kit dying at boot with a traceback.

:func:`sim_wired_devices` opens the same drivers on a :class:`hw_sim.wired.WiredKit`.  Its
two thin adapters (:class:`PresentedFinger`, :class:`PresentedSignature`) let the simulated
person step up before a capture; they are the only code here that knows it is simulated.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from PIL import Image

from hal.contracts import (
    ButtonHandler,
    Camera,
    Device,
    Devices,
    FingerprintSensor,
    SignaturePad,
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
    Signature,
    Tone,
)

if TYPE_CHECKING:
    import gpiozero

    from firmware.config import DevicePorts
    from hw_sim.timing import Timing
    from hw_sim.wired import WiredKit
    from hw_sim.world import World

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
    def capture(self, *args: object, **kwargs: object) -> FingerImage | Signature:
        raise self._raise()

    def identify(self, *, timeout: float) -> LibraryMatch:
        raise self._raise()

    def enrol(self, page: int, template: bytes) -> None:
        raise self._raise()

    def library_count(self) -> int:
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


@dataclass
class _Opener:
    """Opens one part after another, keeping what failed instead of stopping."""

    broken: list[tuple[str, DeviceError]] = field(default_factory=list)

    def __call__(self, name: str, build: Callable[[], Device]) -> Device:
        try:
            return build()
        except DeviceError as exc:
            self.broken.append((name, exc))
            return Absent(name, exc)


def real_devices(
    ports: Mapping[str, str],
    *,
    bus: int | object,
    pin_factory: gpiozero.Factory | None = None,
    camera: Camera | None = None,
    reply_timeout: float = REPLY_TIMEOUT_SECONDS,
) -> Opened:
    """Open the real drivers: serial parts on ``ports`` (by device name), I2C on ``bus``.

    ``ports`` names ``fingerprint`` and ``signature-pad``; ``card-printer`` and
    ``receipt-printer`` are optional (missing or empty: not fitted).  ``bus`` is an I2C bus
    number or an SMBus-compatible object; ``camera`` replaces the Pi camera (simulator).
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

    def printer(name: str, build: Callable[[str], Device]) -> Device | None:
        port = ports.get(name, "")
        return opener(name, lambda: build(port)) if port else None

    opener = _Opener()
    devices = Devices(
        camera=opener("camera", (lambda: camera) if camera is not None else pi_camera),
        fingerprint=opener(
            "fingerprint",
            lambda: R30xSensor(port=ports["fingerprint"], read_timeout=reply_timeout),
        ),
        signature_pad=opener("signature-pad", lambda: TopazPad(port=ports["signature-pad"])),
        panel=opener("panel", lambda: GpioPanel(pin_factory=pin_factory)),
        display=opener("display", lambda: SSD1306(bus=bus)),
        battery=opener("battery", lambda: MAX17048(bus=bus)),
        clock=opener("clock", lambda: DS3231(bus=bus)),
        card_printer=printer(
            "card-printer", lambda port: EvolisPrinter(port=port, reply_timeout=reply_timeout)
        ),
        receipt_printer=printer("receipt-printer", lambda port: EscPosPrinter(port=port)),
    )
    return Opened(devices, opener.broken)


def configured_devices(config: DevicePorts) -> Opened:
    """The real drivers on the ports and I2C bus of the kit's configuration."""
    ports = {
        "fingerprint": config.fingerprint,
        "signature-pad": config.signature_pad,
        "card-printer": config.card_printer,
        "receipt-printer": config.receipt_printer,
    }
    return real_devices(ports, bus=config.i2c_bus)


# -- the simulator: the same drivers on the emulators ------------------------------------


class PresentedFinger:
    """The real sensor driver; before each capture the simulated subject offers a finger.

    When nobody will put a finger down, the wait is cut to ``wait_scale`` of its timeout:
    the driver still polls the emulator and raises NoFinger, without a test sitting out
    the full ten seconds.
    """

    def __init__(self, sensor: FingerprintSensor, wired: WiredKit, *, wait_scale: float) -> None:
        self.name = sensor.name
        self._sensor = sensor
        self._wired = wired
        self._wait_scale = wait_scale

    def __repr__(self) -> str:
        return f"<PresentedFinger {self._sensor!r}>"

    def _wait(self, offered: bool, timeout: float) -> float:
        return timeout if offered else timeout * self._wait_scale

    def capture(self, position: FingerPosition, *, timeout: float) -> FingerImage:
        offered = self._wired.present_finger(position)
        return self._sensor.capture(position, timeout=self._wait(offered, timeout))

    def identify(self, *, timeout: float) -> LibraryMatch:
        offered = self._wired.present_finger(None)
        return self._sensor.identify(timeout=self._wait(offered, timeout))

    def probe(self) -> DeviceInfo:
        return self._sensor.probe()

    def enrol(self, page: int, template: bytes) -> None:
        self._sensor.enrol(page, template)

    def library_count(self) -> int:
        return self._sensor.library_count()

    def clear_library(self) -> None:
        self._sensor.clear_library()

    def close(self) -> None:
        self._sensor.close()


#: The shortest pen-up pause that ends a simulated signature.
SIM_MIN_SETTLE_SECONDS = 0.3


class PresentedSignature:
    """The real pad driver; before each capture the simulated subject signs the pad."""

    def __init__(self, pad: SignaturePad, wired: WiredKit, *, wait_scale: float) -> None:
        self.name = pad.name
        self._pad = pad
        self._wired = wired
        self._wait_scale = wait_scale

    def __repr__(self) -> str:
        return f"<PresentedSignature {self._pad!r}>"

    def capture(self, *, timeout: float, settle: float = 1.5) -> Signature:
        signing = self._wired.present_signature()
        # the simulated hand signs at once and lifts the pen for good: a scripted session
        # need not wait the full pause a real signer gets, only longer than a pen lift
        settle = max(settle * self._wait_scale, min(settle, SIM_MIN_SETTLE_SECONDS))
        return self._pad.capture(
            timeout=timeout if signing else timeout * self._wait_scale, settle=settle
        )

    def probe(self) -> DeviceInfo:
        return self._pad.probe()

    def close(self) -> None:
        self._pad.close()


def sim_wired_devices(
    wired: WiredKit, *, wait_scale: float = 1.0, reply_timeout: float = REPLY_TIMEOUT_SECONDS
) -> Opened:
    """The real drivers on ``wired``'s emulators, with its world's people stepping up.

    ``wait_scale`` shortens waits for a finger or a pen that nobody will bring (0.02 in
    tests); a real capture always gets its full timeout.
    """
    opened = real_devices(
        wired.ports,
        bus=wired.bus,
        pin_factory=wired.pin_factory,
        camera=wired.camera,
        reply_timeout=reply_timeout,
    )
    devices = opened.devices
    if not isinstance(devices.fingerprint, Absent):
        devices.fingerprint = PresentedFinger(devices.fingerprint, wired, wait_scale=wait_scale)
    if not isinstance(devices.signature_pad, Absent):
        devices.signature_pad = PresentedSignature(
            devices.signature_pad, wired, wait_scale=wait_scale
        )
    return opened


@contextlib.contextmanager
def wired_kit(
    world: World,
    *,
    hopper: int = 100,
    timing: Timing | None = None,
    faults: Sequence[tuple[str, str]] = (),
    wait_scale: float = 1.0,
    reply_timeout: float = REPLY_TIMEOUT_SECONDS,
) -> Iterator[tuple[WiredKit, Opened]]:
    """A :class:`WiredKit` with ``faults`` (device, kind) injected and the drivers opened.

    ``timing`` is the emulators' clock (None: hw_sim's default, real time unless
    ``JEMPUT_TIMING=fast``).  The faults are injected before the drivers open, as a part
    is broken before the technician switches the kit on.  On exit the drivers close, then
    the emulators.
    """
    from hw_sim.wired import WiredKit  # the simulator backend only

    with WiredKit(world, hopper=hopper, timing=timing) as wired:
        for device, kind in faults:
            wired.inject(device, kind)
        opened = sim_wired_devices(wired, wait_scale=wait_scale, reply_timeout=reply_timeout)
        try:
            yield wired, opened
        finally:
            opened.devices.close()
