"""A record's biometrics made ready for interchange: fingers as WSQ, the face as captured.

Why one step before either format: the ANSI/NIST-ITL transaction and the ISO/IEC 19794
records carry the same WSQ fingers and the same JPEG face, and a record with an image the
kit cannot have made (a finger the size no sensor of the kit produces, a face that is not a
JPEG) must be named before any file of it is written, whatever the format.

WSQ comes from the `wsq` package: NIST's NBIS codec (the FBI's WSQ specification) as a
Pillow plugin, imported when an export runs so that the kit and the simulator never load
it.  It encodes at the FBI's bit rate of 0.75 bits per pixel (about 15:1) and records
500 ppi, the resolution of both sensors the kit drives.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import Enum

from PIL import Image, UnidentifiedImageError

from provisioning.checks import position_name
from provisioning.interchange.errors import CodecMissing, UnfitRecord
from storage.model import Enrolment, FingerRecord
from vocabulary.fingers import FingerPosition

#: Both sensors image at 500 pixels per inch (hal.r30x, docs/devices/fingerprint.md).
FINGER_PPI = 500


class Sensor(Enum):
    """The fingerprint sensors the kit drives, by the image size each produces (width,
    height); tests/interchange keeps this equal to `hal.r30x.SensorModel`."""

    R307 = (256, 288)
    R503 = (192, 192)

    @classmethod
    def of_size(cls, size: tuple[int, int]) -> Sensor | None:
        """The sensor that makes images of ``size``, or None if none does."""
        return next((sensor for sensor in cls if sensor.value == size), None)


class ExceptionCode(Enum):
    """ANSI/NIST-ITL's amputated-or-bandaged codes (field 14.018 AMP)."""

    AMPUTATED = "XX"  # the finger is not there: amputated or missing from birth
    UNABLE_TO_PRINT = "UP"  # the finger is there but gives no print: bandaged, unreadable


#: The kit's exception words (hal.types.FingerException) whose finger is not there.
_ABSENT = frozenset({"missing", "amputated"})


@dataclass(frozen=True)
class WsqFinger:
    """One finger with an image: WSQ bytes at the sensor's size and resolution."""

    position: FingerPosition
    sensor: Sensor
    wsq: bytes
    #: The kit's quality score 0..100 (capture.finger_quality), None if it has none.
    quality: int | None
    #: No attempt reached the policy's threshold: this is the best of them.
    forced: bool

    @property
    def size(self) -> tuple[int, int]:
        return self.sensor.value


@dataclass(frozen=True)
class ExceptedFinger:
    """A finger the officer recorded an exception for instead of an image."""

    position: FingerPosition
    #: The kit's word: missing, amputated, bandaged or unreadable.
    reason: str
    approved_by: str | None

    @property
    def code(self) -> ExceptionCode:
        """AMP's code: XX where the finger is not there, UP where it gives no print (and
        for a word this tool does not know, the code that claims least)."""
        return ExceptionCode.AMPUTATED if self.reason in _ABSENT else ExceptionCode.UNABLE_TO_PRINT


@dataclass(frozen=True)
class Face:
    """The face JPEG exactly as the kit captured it, with what its header says."""

    jpeg: bytes
    width: int
    height: int
    grey: bool


@dataclass(frozen=True)
class Biometrics:
    """What of a record goes into an interchange file besides its demographics."""

    face: Face | None
    fingers: tuple[WsqFinger, ...]
    excepted: tuple[ExceptedFinger, ...]


def load_wsq() -> None:
    """Register the WSQ codec with Pillow (the `interchange` extra); CodecMissing if absent."""
    try:
        import wsq  # noqa: F401  (registers the "WSQ" format with Pillow)
    except ImportError as exc:
        raise CodecMissing(
            "kodek WSQ tidak terpasang: pasang paket ekspor dengan "
            "pip install 'jemput[interchange]' lalu ulangi"
        ) from exc


def wsq_encode(image: Image.Image) -> bytes:
    """An 8-bit grey image as WSQ (FBI specification, 0.75 bit per pixel, 500 ppi)."""
    load_wsq()
    out = io.BytesIO()
    image.save(out, format="WSQ")
    return out.getvalue()


def _finger(finger: FingerRecord, png: bytes) -> WsqFinger:
    position = FingerPosition(finger.position)
    label = f"jari {position.value} ({position_name(position)})"
    try:
        with Image.open(io.BytesIO(png), formats=["PNG"]) as opened:
            opened.load()
            image = opened.copy()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UnfitRecord(f"{label}: gambar jari bukan PNG yang terbaca ({exc})") from exc
    sensor = Sensor.of_size(image.size)
    if sensor is None:
        sizes = " atau ".join(f"{s.value[0]}x{s.value[1]} ({s.name})" for s in Sensor)
        raise UnfitRecord(
            f"{label}: gambar {image.size[0]}x{image.size[1]} piksel, padahal sensor kit hanya "
            f"membuat {sizes}; rekaman ini rusak atau bukan dari kit, laporkan kitnya"
        )
    if image.mode != "L":
        raise UnfitRecord(
            f"{label}: gambar jari bermode {image.mode}, padahal sensor membuat gambar abu-abu "
            "(L); rekaman ini rusak atau bukan dari kit, laporkan kitnya"
        )
    return WsqFinger(position, sensor, wsq_encode(image), finger.quality, finger.forced)


def _face(jpeg: bytes) -> Face:
    try:
        with Image.open(io.BytesIO(jpeg), formats=["JPEG"]) as opened:
            return Face(jpeg, opened.width, opened.height, opened.mode == "L")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UnfitRecord(f"foto wajah bukan JPEG yang terbaca ({exc})") from exc


def prepare(enrolment: Enrolment) -> Biometrics:
    """The record's face and fingers ready for interchange; `UnfitRecord` naming the image
    that cannot be (raised before anything of the record is written)."""
    fingers = tuple(
        _finger(f, f.image_png)
        for f in sorted(enrolment.fingers, key=lambda f: f.position)
        if f.image_png is not None
    )
    excepted = tuple(
        ExceptedFinger(FingerPosition(f.position), f.exception, f.approved_by)
        for f in sorted(enrolment.fingers, key=lambda f: f.position)
        if f.exception is not None
    )
    face = None if enrolment.face_jpeg is None else _face(enrolment.face_jpeg)
    return Biometrics(face, fingers, excepted)
