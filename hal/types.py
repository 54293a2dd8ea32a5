"""Plain data that crosses the device contracts.

These types are what `capture/` sees of the hardware, whether a real part or the
simulator produced them, so they carry units and meanings, never wire encodings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from vocabulary.fingers import TEN_FINGERS, FingerPosition

__all__ = ["TEN_FINGERS", "FingerPosition"]  # shared with storage: see vocabulary/


class FingerException(enum.Enum):
    """Why an officer recorded no image for a finger."""

    MISSING = "missing"
    AMPUTATED = "amputated"
    BANDAGED = "bandaged"
    UNREADABLE = "unreadable"


class SensorModel(enum.Enum):
    """The fingerprint sensors a kit is built with (the R307 / R503 family's 0xEF01 protocol).

    The sensor reports its library size (ReadSysPara) but not its image size, so the
    kit's configuration names the model (`firmware.config`, ``[parts] fingerprint``) and
    the driver, the emulator and the simulated fingers all take the image size from here.
    Both image at about 500 dpi: the R503's smaller glass sees the middle of what an
    R307's sees.
    """

    #: Optical, 256 x 288 pixels, 1,000 templates.
    R307 = "r307"
    #: Capacitive, 192 x 192 pixels at 508 dpi, 200 templates, a ring LED.
    R503 = "r503"

    @classmethod
    def _missing_(cls, value: object) -> SensorModel | None:
        """``SensorModel("R503")``: a model is named as printed on the part, too."""
        if isinstance(value, str) and value.lower() != value:
            return cls(value.lower())
        return None

    @property
    def image_size(self) -> tuple[int, int]:
        """Width and height of the images the sensor uploads, in pixels."""
        return _SENSOR_FACTS[self][0]

    @property
    def library_pages(self) -> int:
        """Pages of the on-chip template library (0 .. library_pages - 1)."""
        return _SENSOR_FACTS[self][1]


#: Per model: (image width, height), library pages (the R307 and R503 datasheets).
_SENSOR_FACTS: dict[SensorModel, tuple[tuple[int, int], int]] = {
    SensorModel.R307: ((256, 288), 1000),
    SensorModel.R503: ((192, 192), 200),
}


@dataclass(frozen=True)
class FingerImage:
    """One captured finger: an 8-bit grey image, its template and quality.

    ``pixels`` holds ``width * height`` bytes, row by row, 0 black to 255 white.
    ``quality`` is 0 (useless) to 100 (perfect), as the sensor or driver judged it.
    """

    position: FingerPosition
    width: int
    height: int
    pixels: bytes
    template: bytes
    quality: int

    def __post_init__(self) -> None:
        if len(self.pixels) != self.width * self.height:
            raise ValueError(
                f"finger image has {len(self.pixels)} bytes, expected "
                f"{self.width}x{self.height}={self.width * self.height}"
            )
        if not 0 <= self.quality <= 100:
            raise ValueError(f"finger quality {self.quality} is outside 0..100")


@dataclass(frozen=True)
class LibraryMatch:
    """A search hit in the fingerprint sensor's on-chip library."""

    page: int
    score: int


@dataclass(frozen=True)
class Portrait:
    """A face photo as JPEG bytes, with the pixel size it was taken at."""

    jpeg: bytes
    width: int
    height: int


@dataclass(frozen=True)
class PenPoint:
    """One pen sample on the signature pad, in the pad's own coordinates."""

    x: int
    y: int


Stroke = tuple[PenPoint, ...]


@dataclass(frozen=True)
class Signature:
    """A signature as pen strokes plus a rendered PNG of them.

    ``width`` and ``height`` are the pad's coordinate range, so strokes can be redrawn.
    """

    strokes: tuple[Stroke, ...]
    width: int
    height: int
    png: bytes

    @property
    def points(self) -> int:
        return sum(len(stroke) for stroke in self.strokes)


class Button(enum.Enum):
    """The kit's four buttons."""

    UP = "up"
    DOWN = "down"
    OK = "ok"
    BACK = "back"


class Press(enum.Enum):
    """How a button was pressed: a short press, or held past the hold time."""

    SHORT = "short"
    HOLD = "hold"


class Indicator(enum.Enum):
    """What the status LED tells the officer at a glance."""

    OFF = "off"
    READY = "ready"  # green
    BUSY = "busy"  # blue
    ATTENTION = "attention"  # yellow: the officer must act
    FAULT = "fault"  # red
    SAVED = "saved"  # green blink


class Tone(enum.Enum):
    """Buzzer patterns; each is distinct by ear in a noisy hall."""

    CLICK = "click"
    OK = "ok"
    ERROR = "error"
    SAVED = "saved"


class PrinterState(enum.Enum):
    """What a printer reports about itself."""

    READY = "ready"
    NO_MEDIA = "no-media"  # no blank card / no paper
    COVER_OPEN = "cover-open"
    RIBBON_OUT = "ribbon-out"
    JAM = "jam"
    OFFLINE = "offline"


@dataclass(frozen=True)
class PrinterStatus:
    """A printer's state; ``detail`` is the device's own words, for the technician."""

    state: PrinterState
    detail: str = ""

    @property
    def ready(self) -> bool:
        return self.state is PrinterState.READY


@dataclass(frozen=True)
class BatteryReading:
    """Battery state from the fuel gauge.

    ``percent`` is state of charge 0..100; ``rate`` is percent per hour, negative
    while discharging.
    """

    voltage: float
    percent: float
    rate: float = 0.0


@dataclass(frozen=True)
class DeviceInfo:
    """What a device says it is, for the technician's self-test."""

    name: str
    model: str
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClockReading:
    """The real-time clock's time, and whether it kept running since it was set."""

    time: datetime
    trustworthy: bool
