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

import enum
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
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


class Scene(enum.Enum):
    """What the world puts in front of the kit's camera besides the person."""

    CLEAN = "clean"  # a plain wall, even light, the person in the middle
    DARK_HALL = "dark_hall"  # a hall with the lights off: everything underexposed
    WINDOW_BEHIND = "window_behind"  # daylight behind the person: blown out, face dark
    SIDE_LAMP = "side_lamp"  # a lamp beside the person: half the face in shadow
    FACE_TURNED = "face_turned"  # looking away from the camera
    TWO_PEOPLE = "two_people"  # someone else stands in the frame too
    OFF_CENTRE = "off_centre"  # standing well to one side
    #: seated (a wheelchair, a bed) below a camera that cannot come level: low and aside
    SEATED = "seated"


#: The daylight of a window, brighter than anything drawn.
_DAYLIGHT = (255, 255, 255)
#: Added to a person's seed to make the someone else in a TWO_PEOPLE frame.
_OTHER_PERSON = 104_729


@dataclass(frozen=True)
class Looks:
    """What a person's face looks like; the same for every capture of the same seed."""

    seed: int
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
            seed=person_seed,
            skin=_jitter(rng, rng.choice(SKIN_TONES), 8),
            hair=rng.choice(HAIR_COLOURS),
            style=rng.choices(list(HAIR_STYLES), weights=list(HAIR_STYLES.values()))[0],
            covering=rng.choice(HIJAB_COLOURS),
            clothes=rng.choice(CLOTHES_COLOURS),
            face_width=rng.uniform(0.36, 0.46),
            face_height=rng.uniform(0.40, 0.48),
            eye_gap=rng.uniform(0.17, 0.22),
            eye_size=rng.uniform(0.042, 0.055),
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
            brightness=rng.uniform(0.75, 1.15),
            side=rng.uniform(0.0, 0.4),
            side_left=rng.random() < 0.5,
            dx=rng.uniform(-0.05, 0.05),
            dy=rng.uniform(-0.03, 0.03),
            noise_seed=rng.getrandbits(32),
        )


def portrait_jpeg(
    person_seed: int,
    *,
    capture: int = 0,
    size: tuple[int, int] = SIZE,
    scene: Scene = Scene.CLEAN,
) -> bytes:
    """A JPEG portrait of person ``person_seed`` as their ``capture``-th photo looks."""
    light = Light.of(f"{person_seed}/{capture}")
    return _render(Looks.of(person_seed), light, size, scene=scene)


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
        #: What else the world puts in front of the camera (a test or a demo sets it).
        self.scene = Scene.CLEAN

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
        key = f"room/{count}" if subject is None else f"{subject}/{count}"
        looks = None if subject is None else Looks.of(subject)
        jpeg = _render(
            looks,
            Light.of(key),
            self.size,
            dark="dark" in self._faults,
            blur="blur" in self._faults,
            scene=self.scene,
        )
        with self._lock:  # a still is "received" only once its frame can be shown
            self.last_frame = jpeg
            self.received.append(subject)
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
    scene: Scene = Scene.CLEAN,
) -> bytes:
    """Draw the scene, light it, and encode it as JPEG."""
    width, height = size
    image = Image.new("RGB", size, WALL)
    draw = ImageDraw.Draw(image)
    if scene is Scene.WINDOW_BEHIND:
        _draw_window(draw, size)
    dx, dy = light.dx * width, light.dy * height
    if looks is not None and scene is Scene.TWO_PEOPLE:
        other = Looks.of(looks.seed + _OTHER_PERSON)
        for person, shift in ((other, 0.25), (looks, -0.25)):
            small = replace(person, face_width=person.face_width * 0.8)
            small = replace(small, face_height=person.face_height * 0.8)
            _draw_person(draw, small, size, dx + shift * width, dy + 0.06 * height)
    elif looks is not None:
        if scene is Scene.OFF_CENTRE:
            dx += 0.2 * width
        elif scene is Scene.SEATED:
            dx, dy = dx + 0.17 * width, dy + 0.15 * height
        _draw_person(draw, looks, size, dx, dy, turned=scene is Scene.FACE_TURNED)
    if looks is not None:
        # a lens never draws hard edges: soften the drawing as optics and skin do
        image = image.filter(ImageFilter.GaussianBlur(radius=width / 240))
    window = _blown_out(image) if scene is Scene.WINDOW_BEHIND else None
    if scene is Scene.DARK_HALL:
        light = replace(light, brightness=0.3)
    elif scene is Scene.WINDOW_BEHIND:  # the camera meters on the window: the rest is dark
        light = replace(light, brightness=0.6)
    image = _light(image, light, dark=dark)
    if window is not None:
        image.paste((255, 255, 255), mask=window)
    if scene is Scene.SIDE_LAMP:
        image = _side_lamp(image, width / 2 + dx)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(radius=max(2.0, width / 80)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _draw_window(draw: ImageDraw.ImageDraw, size: tuple[int, int]) -> None:
    """A bright window in the wall behind, its frame a dark cross."""
    width, height = size
    box = (width * 0.04, height * 0.04, width * 0.96, height * 0.55)
    draw.rectangle(box, fill=_DAYLIGHT)
    bar = max(2, width // 60)
    draw.rectangle((width / 2 - bar, box[1], width / 2 + bar, box[3]), fill=(90, 70, 50))
    draw.rectangle((box[0], height * 0.3 - bar, box[2], height * 0.3 + bar), fill=(90, 70, 50))


def _blown_out(image: Image.Image) -> Image.Image:
    """A mask of the daylight still visible around the person: it stays white in any light."""
    pixels = np.asarray(image).astype(int)
    near = np.abs(pixels - np.array(_DAYLIGHT)).sum(axis=2) < 12
    return Image.fromarray((near * 255).astype(np.uint8), "L")


def _side_lamp(image: Image.Image, centre_x: float) -> Image.Image:
    """A lamp beside the person: the far half of the face falls into shadow."""
    width, height = image.size
    step = Image.new("L", image.size, 0)
    ImageDraw.Draw(step).rectangle((0, 0, centre_x, height), fill=255)
    step = step.filter(ImageFilter.GaussianBlur(radius=width / 60))
    shadow = ImageEnhance.Brightness(image).enhance(0.35)
    return Image.composite(image, shadow, step)


def _draw_person(
    draw: ImageDraw.ImageDraw,
    looks: Looks,
    size: tuple[int, int],
    dx: float,
    dy: float,
    *,
    turned: bool = False,
) -> None:
    """Head and shoulders, centred a little above the middle, shifted by (dx, dy) px.

    ``turned``: the head turned to one side, as someone looking away, so the face shows
    as a narrow profile with one eye.
    """
    width, height = size
    if turned:
        looks = replace(looks, face_width=looks.face_width * 0.7, eye_gap=looks.eye_gap * 0.5)
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
    # the face's edge turns away from the light: a darker rim around a lit centre
    rim = tuple(max(0, c - 40) for c in looks.skin)
    draw.ellipse(face.box(0, 0, fw, fh), fill=rim)
    draw.ellipse(face.box(0, fh * 0.02, fw * 0.86, fh * 0.9), fill=looks.skin)
    if looks.style in ("short", "long"):
        draw.chord(face.box(0, -fh * 0.22, fw * 1.04, fh * 0.7), 180, 360, fill=looks.hair)
    elif looks.style == "peci":
        draw.rectangle(face.box(0, -fh * 0.42, fw * 0.92, fh * 0.22), fill=(25, 25, 28))
    elif looks.style == "hijab":
        draw.chord(face.box(0, -fh * 0.21, fw * 1.1, fh * 0.72), 180, 360, fill=looks.covering)
    _draw_features(face, looks, width, turned=turned)


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


def _draw_features(face: _Face, looks: Looks, width: int, *, turned: bool = False) -> None:
    """Eyes, brows, glasses, nose and mouth, scaled to the face.

    ``turned``: the features slide towards one edge and the far eye is hidden.
    """
    if turned:
        face = replace(face, cx=face.cx + face.fw * 0.28)
    draw, fh = face.draw, face.fh
    red, green, blue = (max(0, c - 45) for c in looks.skin)
    shade = (red, green, blue)
    eye = looks.eye_size * width
    gap = looks.eye_gap * width / 2
    line = max(1, round(width / 160))
    # cheekbones and the bridge of the nose catch the light; sockets and brows do not
    lit = tuple(min(255, c + 22) for c in looks.skin)
    draw.ellipse(face.box(0, fh * 0.1, face.fw * 0.7, fh * 0.3), fill=lit)
    draw.rectangle(face.box(0, -fh * 0.05, eye * 0.7, fh * 0.2), fill=lit)
    brow_colour = tuple(min(h, max(0, c - 70)) for h, c in zip(looks.hair, looks.skin, strict=True))
    socket = tuple(max(0, c - 30) for c in looks.skin)
    # the white of the eye, half in the shade of the lids and lashes
    sclera = tuple((c + 230) // 2 for c in socket)
    for side in (1,) if turned else (-1, 1):
        x = side * gap
        draw.ellipse(face.box(x, -fh * 0.06, eye * 2.3, eye * 1.5), fill=socket)
        draw.ellipse(face.box(x, -fh * 0.05, eye * 1.6, eye * 0.8), fill=sclera)
        draw.arc(
            face.box(x, -fh * 0.05, eye * 1.7, eye * 0.9),
            190,
            350,
            fill=(30, 20, 16),
            width=line * 2,
        )
        draw.ellipse(face.box(x, -fh * 0.05, eye * 0.8, eye * 0.8), fill=(40, 26, 20))
        brow = [face.at(x - eye * 0.85, -fh * 0.14), face.at(x + eye * 0.85, -fh * 0.15)]
        draw.line(brow, fill=brow_colour, width=line * 4)
        if looks.glasses:
            draw.ellipse(
                face.box(x, -fh * 0.05, eye * 2.4, eye * 1.8), outline=(30, 30, 30), width=line * 2
            )
    nose = [face.at(0, fh * 0.02), face.at(-eye * 0.3, fh * 0.16), face.at(0, fh * 0.17)]
    draw.line(nose, fill=shade, width=line * 2)
    for side in (-1, 1):  # nostrils
        draw.ellipse(face.box(side * eye * 0.35, fh * 0.17, eye * 0.45, eye * 0.25), fill=shade)
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
