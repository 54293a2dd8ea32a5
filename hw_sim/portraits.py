"""Synthetic face photos for the simulated camera, drawn with Pillow.

Each simulated person has a face of their own, repeatable from their seed (skin tone,
face shape, hair or head covering, eyes, clothes), so the same resident looks the same
in every run; each capture of them gets its own light (brightness, a side light, where
they stand in the frame, sensor noise), so a retake is a different photo, as it is in a
hall with a door that opens.  Quality checks see realistic variety, and tests see the
same bytes for the same (seed, capture).

The camera is at the wire level the picamera2 API, which is mocked in the driver's own
tests; ``SimCamera`` is the simulated kit's camera behind the ``Camera`` contract.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from hal.contracts import Closing
from hal.exc import DeviceAbsent, DeviceTimeout
from hal.types import DeviceInfo, Portrait
from hw_sim.faults import FaultSwitch

#: Width x height of a synthetic portrait: 3 x 4, like the e-KTP "pas foto".
SIZE = (480, 640)
JPEG_QUALITY = 88

#: Skin tones across the archipelago, light to dark (RGB).
SKIN_TONES: tuple[tuple[int, int, int], ...] = (
    (236, 200, 170),
    (224, 180, 146),
    (205, 158, 120),
    (184, 134, 98),
    (160, 112, 78),
    (128, 86, 58),
    (98, 66, 46),
)
HAIR_COLOURS: tuple[tuple[int, int, int], ...] = (
    (20, 16, 14),
    (38, 28, 22),
    (60, 44, 32),
    (150, 150, 150),
)
HIJAB_COLOURS: tuple[tuple[int, int, int], ...] = (
    (240, 240, 236),
    (30, 40, 80),
    (120, 30, 50),
    (60, 90, 70),
    (200, 170, 130),
)
CLOTHES_COLOURS: tuple[tuple[int, int, int], ...] = (
    (245, 245, 245),
    (30, 30, 35),
    (40, 70, 130),
    (150, 40, 40),
    (60, 110, 70),
    (200, 150, 60),
    (110, 70, 120),
)
#: The plain wall behind everyone (the card's red or blue is put in when printing).
WALL = (214, 210, 200)

#: Hair or head covering, with how common each is among the people the kit meets.
HAIR_STYLES: dict[str, float] = {
    "short": 0.35,
    "long": 0.2,
    "hijab": 0.25,
    "peci": 0.1,
    "bald": 0.1,
}


@dataclass(frozen=True)
class Looks:
    """What a person's face looks like; the same for every capture of the same seed."""

    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    style: str
    covering: tuple[int, int, int]  # hijab or peci colour
    clothes: tuple[int, int, int]
    face_width: float  # fractions of the frame width / height
    face_height: float
    eye_gap: float
    eye_size: float
    glasses: bool

    @classmethod
    def of(cls, person_seed: int) -> Looks:
        rng = random.Random(f"looks/{person_seed}")
        return cls(
            skin=_jitter(rng, rng.choice(SKIN_TONES), 8),
            hair=rng.choice(HAIR_COLOURS),
            style=rng.choices(list(HAIR_STYLES), weights=list(HAIR_STYLES.values()))[0],
            covering=rng.choice(HIJAB_COLOURS),
            clothes=rng.choice(CLOTHES_COLOURS),
            face_width=rng.uniform(0.36, 0.46),
            face_height=rng.uniform(0.40, 0.48),
            eye_gap=rng.uniform(0.17, 0.22),
            eye_size=rng.uniform(0.035, 0.05),
            glasses=rng.random() < 0.15,
        )


@dataclass(frozen=True)
class Light:
    """The light and framing of one capture."""

    brightness: float  # 1.0 as metered; below darker
    side: float  # 0 even light; up to 0.4 one side darker
    side_left: bool
    dx: float  # where the subject stands, fractions of the frame
    dy: float
    noise_seed: int

    @classmethod
    def of(cls, key: str) -> Light:
        rng = random.Random(f"light/{key}")
        return cls(
            brightness=rng.uniform(0.7, 1.25),
            side=rng.uniform(0.0, 0.4),
            side_left=rng.random() < 0.5,
            dx=rng.uniform(-0.05, 0.05),
            dy=rng.uniform(-0.03, 0.03),
            noise_seed=rng.getrandbits(32),
        )


def portrait_jpeg(person_seed: int, *, capture: int = 0, size: tuple[int, int] = SIZE) -> bytes:
    """A JPEG portrait of person ``person_seed`` as their ``capture``-th photo looks."""
    return _render(Looks.of(person_seed), Light.of(f"{person_seed}/{capture}"), size)


def empty_room_jpeg(*, capture: int = 0, size: tuple[int, int] = SIZE) -> bytes:
    """A JPEG of the wall with nobody in front of the camera."""
    return _render(None, Light.of(f"room/{capture}"), size)


class SimCamera(FaultSwitch, Closing):
    """The simulated kit's camera; satisfies :class:`hal.contracts.Camera`.

    ``world_subject()`` names who stands in front of the kit (a person seed) or None.
    With nobody there the camera photographs the empty wall, as a real camera would:
    deciding that a photo shows no face is the quality check's job, not the camera's.
    """

    #: "unplugged": DeviceAbsent; "dark": a very dark image (lamp off, lens covered);
    #: "blur": out of focus; "hang": the still never comes (DeviceTimeout at once,
    #: without waiting out the timeout, so tests stay fast).
    FAULTS: tuple[str, ...] = ("unplugged", "dark", "blur", "hang")

    def __init__(
        self,
        world_subject: Callable[[], int | None],
        *,
        name: str = "camera",
        size: tuple[int, int] = SIZE,
    ) -> None:
        super().__init__(name)
        self.name = name
        self.size = size
        self._subject = world_subject
        self._captures: dict[int | None, int] = {}
        self._closed = False
        #: Who was photographed, in order (None: the empty room).
        self.received: list[int | None] = []
        #: The last still taken (JPEG), for a developer's view of what the camera saw.
        self.last_frame: bytes | None = None

    def __repr__(self) -> str:
        faults = ",".join(sorted(self._faults)) or "none"
        return f"SimCamera(name={self.name!r}, size={self.size}, faults={faults})"

    def capture(self, *, timeout: float) -> Portrait:
        """Photograph whoever stands in front of the kit now."""
        self._check_present()
        if "hang" in self._faults:
            raise DeviceTimeout(
                f"{self.name}: no still within {timeout:g} s; check the ribbon cable",
                device=self.name,
            )
        subject = self._subject()
        with self._lock:
            count = self._captures.get(subject, 0)
            self._captures[subject] = count + 1
            self.received.append(subject)
        key = f"room/{count}" if subject is None else f"{subject}/{count}"
        looks = None if subject is None else Looks.of(subject)
        jpeg = _render(
            looks,
            Light.of(key),
            self.size,
            dark="dark" in self._faults,
            blur="blur" in self._faults,
        )
        self.last_frame = jpeg
        return Portrait(jpeg=jpeg, width=self.size[0], height=self.size[1])

    def probe(self) -> DeviceInfo:
        self._check_present()
        return DeviceInfo(
            name=self.name,
            model="simulated camera",
            detail={"size": f"{self.size[0]}x{self.size[1]}", "autofocus": "yes"},
        )

    def close(self) -> None:
        """Nothing to release; later captures and probes raise DeviceAbsent."""
        self._closed = True

    def _check_present(self) -> None:
        if self._closed:
            raise DeviceAbsent(f"{self.name} is closed: reopen it first", device=self.name)
        if "unplugged" in self._faults:
            raise DeviceAbsent(
                f"{self.name}: no camera found; check the ribbon cable at both ends",
                device=self.name,
            )


def _jitter(rng: random.Random, colour: tuple[int, int, int], spread: int) -> tuple[int, int, int]:
    r, g, b = (min(255, max(0, c + rng.randint(-spread, spread))) for c in colour)
    return r, g, b


def _render(
    looks: Looks | None,
    light: Light,
    size: tuple[int, int],
    *,
    dark: bool = False,
    blur: bool = False,
) -> bytes:
    """Draw the scene, light it, and encode it as JPEG."""
    width, height = size
    image = Image.new("RGB", size, WALL)
    if looks is not None:
        _draw_person(ImageDraw.Draw(image), looks, size, light.dx * width, light.dy * height)
    image = _light(image, light, dark=dark)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(radius=max(2.0, width / 80)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _draw_person(
    draw: ImageDraw.ImageDraw, looks: Looks, size: tuple[int, int], dx: float, dy: float
) -> None:
    """Head and shoulders, centred a little above the middle, shifted by (dx, dy) px."""
    width, height = size
    face = _Face(
        draw,
        cx=width / 2 + dx,
        cy=height * 0.42 + dy,
        fw=looks.face_width * width,
        fh=looks.face_height * height,
    )
    fw, fh = face.fw, face.fh
    # back to front: shoulders, neck, long hair or hijab, face, what covers the top, features
    draw.ellipse(face.box(0, fh * 1.25, width * 1.1, fh * 1.2), fill=looks.clothes)
    draw.rectangle(face.box(0, fh * 0.55, fw * 0.38, fh * 0.4), fill=looks.skin)
    if looks.style == "long":
        draw.rounded_rectangle(
            face.box(0, fh * 0.15, fw * 1.2, fh * 1.2), radius=fw * 0.3, fill=looks.hair
        )
    elif looks.style == "hijab":
        draw.ellipse(face.box(0, fh * 0.1, fw * 1.35, fh * 1.35), fill=looks.covering)
        draw.polygon(
            [face.at(-fw * 0.68, fh * 0.1), face.at(fw * 0.68, fh * 0.1), face.at(0, fh)],
            fill=looks.covering,
        )
    draw.ellipse(face.box(0, 0, fw, fh), fill=looks.skin)
    if looks.style in ("short", "long"):
        draw.chord(face.box(0, -fh * 0.12, fw * 1.04, fh * 0.85), 180, 360, fill=looks.hair)
    elif looks.style == "peci":
        draw.rectangle(face.box(0, -fh * 0.42, fw * 0.92, fh * 0.22), fill=(25, 25, 28))
    elif looks.style == "hijab":
        draw.chord(face.box(0, -fh * 0.16, fw * 1.1, fh * 0.8), 180, 360, fill=looks.covering)
    _draw_features(face, looks, width)


@dataclass(frozen=True)
class _Face:
    """Drawing coordinates relative to the face centre (cx, cy) of size (fw, fh) px."""

    draw: ImageDraw.ImageDraw
    cx: float
    cy: float
    fw: float
    fh: float

    def at(self, x: float, y: float) -> tuple[float, float]:
        return (self.cx + x, self.cy + y)

    def box(self, x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
        """A box of size (w, h) centred on (x, y)."""
        return (self.cx + x - w / 2, self.cy + y - h / 2, self.cx + x + w / 2, self.cy + y + h / 2)


def _draw_features(face: _Face, looks: Looks, width: int) -> None:
    """Eyes, brows, glasses, nose and mouth, scaled to the face."""
    draw, fh = face.draw, face.fh
    red, green, blue = (max(0, c - 45) for c in looks.skin)
    shade = (red, green, blue)
    eye = looks.eye_size * width
    gap = looks.eye_gap * width / 2
    line = max(1, round(width / 160))
    for side in (-1, 1):
        x = side * gap
        draw.ellipse(face.box(x, -fh * 0.05, eye * 1.6, eye * 0.8), fill=(245, 245, 240))
        draw.ellipse(face.box(x, -fh * 0.05, eye * 0.7, eye * 0.7), fill=(50, 32, 24))
        brow = [face.at(x - eye * 0.85, -fh * 0.14), face.at(x + eye * 0.85, -fh * 0.15)]
        draw.line(brow, fill=looks.hair, width=line * 3)
        if looks.glasses:
            draw.ellipse(
                face.box(x, -fh * 0.05, eye * 2.4, eye * 1.8), outline=(30, 30, 30), width=line * 2
            )
    nose = [face.at(0, fh * 0.02), face.at(-eye * 0.3, fh * 0.16), face.at(0, fh * 0.17)]
    draw.line(nose, fill=shade, width=line * 2)
    draw.chord(face.box(0, fh * 0.27, face.fw * 0.32, fh * 0.1), 0, 180, fill=(150, 70, 70))


def _light(image: Image.Image, light: Light, *, dark: bool) -> Image.Image:
    """Meter, side light and sensor noise for one capture."""
    width, height = image.size
    brightness = 0.08 if dark else light.brightness
    lit = ImageEnhance.Brightness(image).enhance(brightness)
    shadow = ImageEnhance.Brightness(image).enhance(brightness * (1.0 - light.side))
    # a left-to-right ramp: 255 keeps the lit image, 0 takes the shadowed one
    ramp = Image.linear_gradient("L").rotate(90 if light.side_left else -90).resize(size=image.size)
    lit = Image.composite(lit, shadow, ramp)
    rng = random.Random(light.noise_seed)
    noise = Image.frombytes("L", (width, height), rng.randbytes(width * height)).convert("RGB")
    return Image.blend(lit, noise, 0.04 * (0.3 if dark else 1.0))
