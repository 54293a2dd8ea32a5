"""The device contracts `capture/` and `firmware/` program against.

Each contract is a typing ``Protocol``: a real driver (``hal.<device>``), an emulator
behind the same driver, or a fast contract-level double in ``hw_sim.doubles`` all satisfy
it.  Rules every implementation keeps:

* every method that waits takes a keyword-only ``timeout`` in seconds and raises
  :class:`hal.exc.DeviceTimeout` when it runs out, never hangs;
* faults are raised as :mod:`hal.exc` leaves, never as bare exceptions or status ints;
* ``close()`` may be called twice; ``probe()`` answers what the device is, for selftest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from PIL import Image

from hal.types import (
    BatteryReading,
    Button,
    ClockReading,
    DeviceInfo,
    FingerImage,
    FingerPosition,
    Indicator,
    LibraryMatch,
    Portrait,
    Press,
    PrinterStatus,
    Signature,
    Tone,
)


class Closing:
    """Mixin: devices are context managers; leaving the ``with`` block calls ``close()``.

    The port, bus or pty is released even when the block raised.  ``close()`` (which the
    subclass defines) is safe to call twice, so closing early inside the block is fine.
    """

    def close(self) -> None:
        """Release the port, bus or pty; a subclass overrides this, and it is safe twice."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@runtime_checkable
class Device(Protocol):
    """What every device offers."""

    name: str

    def probe(self) -> DeviceInfo:
        """Ask the device what it is; raises DeviceAbsent when it does not answer."""
        ...

    def close(self) -> None:
        """Release the port or bus; safe to call twice."""
        ...


class Camera(Device, Protocol):
    def capture(self, *, timeout: float) -> Portrait:
        """Take one still (autofocus first where the camera has it)."""
        ...


class FingerprintSensor(Device, Protocol):
    def take_image(self, position: FingerPosition, *, timeout: float) -> None:
        """Wait for a finger and image it; the sensor keeps the image until the next one.

        Why apart from the upload: once the image is on the sensor the person may lift
        the finger and move to the next while :meth:`upload_image` brings it over the
        wire (3.5 s on an R307).  Raises NoFinger when no finger came before ``timeout``.
        """
        ...

    def upload_image(self, position: FingerPosition) -> FingerImage:
        """The image :meth:`take_image` took, with its template; PoorImage when it is
        unusable.  The template stays in the sensor for the duplicate checks."""
        ...

    def identify(self, *, timeout: float) -> LibraryMatch:
        """Capture a finger and search the on-chip library; raises NoMatch."""
        ...

    def enrol(self, page: int, template: bytes) -> None:
        """Store a template at ``page`` of the on-chip library (officer fingers)."""
        ...

    def search(self, template: bytes, *, pages: int | None = None) -> LibraryMatch:
        """Search the on-chip library's first ``pages`` pages (None: all of it) for a
        template already captured; raises NoMatch."""
        ...

    def match(self, template: bytes, others: Sequence[bytes]) -> int | None:
        """The index of the first of ``others`` the sensor judges the same finger as
        ``template``, or None."""
        ...

    def delete(self, page: int) -> None:
        """Delete the template at ``page`` (a person rotated out of the library)."""
        ...

    def library_count(self) -> int: ...

    def held_pages(self) -> frozenset[int]:
        """The pages the on-chip library holds a template on (ReadIndexTable): what the
        kit checks its page map against, since a replaced or wiped sensor holds nobody."""
        ...

    def clear_library(self) -> None: ...


class SignaturePad(Device, Protocol):
    def capture(self, *, timeout: float, settle: float = 1.5) -> Signature:
        """Collect pen strokes until the pen has been away ``settle`` seconds.

        Raises NoSignature when no stroke came before ``timeout``.
        """
        ...


class CardPrinter(Device, Protocol):
    def status(self) -> PrinterStatus: ...

    def print_card(self, front: Image.Image, *, timeout: float) -> None:
        """Print ``front`` (1016 x 648 px at 300 dpi) on one blank card and eject it.

        Raises OutOfCards, CoverOpen, RibbonOut or CardJam; the card is spoiled
        whenever this raises after the card was fed.
        """
        ...


class ReceiptPrinter(Device, Protocol):
    def status(self) -> PrinterStatus: ...

    def print_image(self, image: Image.Image, *, timeout: float) -> None:
        """Print a 1-bit raster no wider than the paper; raises PaperOut, CoverOpen.

        ``timeout`` bounds the whole print, but a printer on a slow line is given at
        least the time the image's bytes take on it.
        """
        ...


ButtonHandler = Callable[[Button, Press], None]


class Panel(Device, Protocol):
    """The four buttons, the status LED and the buzzer."""

    def on_button(self, handler: ButtonHandler | None) -> None:
        """Call ``handler`` from the device's thread for every press or hold."""
        ...

    def indicate(self, indicator: Indicator) -> None: ...

    def beep(self, tone: Tone) -> None: ...


class Display(Device, Protocol):
    #: How many text lines fit; prompts never use more.
    lines: int
    #: How many characters fit on one line.
    columns: int

    def show(self, lines: Sequence[str]) -> None:
        """Show up to ``lines`` lines of text, clearing the rest."""
        ...


class Battery(Device, Protocol):
    def read(self) -> BatteryReading: ...


class Clock(Device, Protocol):
    def read(self) -> ClockReading: ...

    def set(self, when: datetime) -> None: ...


@dataclass
class Devices:
    """Everything the capture loop drives; printers are absent on record-only kits."""

    camera: Camera
    fingerprint: FingerprintSensor
    signature_pad: SignaturePad
    panel: Panel
    display: Display
    battery: Battery
    clock: Clock
    card_printer: CardPrinter | None = None
    receipt_printer: ReceiptPrinter | None = None
    #: Set while the kit that drives these devices closes (`firmware.kit.Kit.close`): a
    #: wait for a person under way (a finger, a pen) ends at once as if nobody came, so
    #: closing need not sit out the lock screen's ten seconds.  Whoever opens the devices
    #: gives the same event to the drivers that wait for a person.
    stopping: threading.Event = field(default_factory=threading.Event, compare=False)

    def named(self) -> list[tuple[str, Device]]:
        """Every device present with its place here (``"card_printer"``), in this order."""
        parts: dict[str, Device | None] = {
            "camera": self.camera,
            "fingerprint": self.fingerprint,
            "signature_pad": self.signature_pad,
            "panel": self.panel,
            "display": self.display,
            "battery": self.battery,
            "clock": self.clock,
            "card_printer": self.card_printer,
            "receipt_printer": self.receipt_printer,
        }
        return [(name, part) for name, part in parts.items() if part is not None]

    def all(self) -> list[Device]:
        """Every device present, for selftest and for closing."""
        return [part for _, part in self.named()]

    def close(self) -> None:
        for part in self.all():
            part.close()
