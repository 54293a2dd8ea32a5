"""Realistic records for the benchmarks: what a kit seals for one adult, at full size.

A camera-size JPEG (the Pi camera's portrait, 960 x 1280), ten sensor-size finger
images (256 x 288, 4-bit grey as the R307 uploads them, kept as PNG) with their templates,
and a signature's strokes and picture, made by the simulator's own generators so the
bytes compress as the real ones would.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from PIL import Image, ImageDraw

from hal.camera import PORTRAIT_SIZE
from hw_sim.fingerprints import ridge_image, template_of
from hw_sim.portraits import portrait_jpeg
from hw_sim.world import World
from storage.model import Enrolment, FingerRecord, Resident
from vocabulary.people import Sex

FINGER_SIZE = (256, 288)
SIGNATURE_SIZE = (600, 225)
PAD_SIZE = (2048, 768)


def finger_png(person_seed: int, position: int) -> bytes:
    """One finger as the sensor uploads it (4 bits a pixel), stored as a grey PNG."""
    pixels = bytes(p & 0xF0 for p in ridge_image(person_seed, position, 0, size=FINGER_SIZE))
    out = io.BytesIO()
    Image.frombytes("L", FINGER_SIZE, pixels).save(out, format="PNG")
    return out.getvalue()


def signature_png(strokes: tuple[tuple[tuple[int, int], ...], ...]) -> bytes:
    """The signature drawn from its pad strokes, at the size records keep."""
    image = Image.new("1", SIGNATURE_SIZE, 1)
    draw = ImageDraw.Draw(image)
    sx, sy = SIGNATURE_SIZE[0] / PAD_SIZE[0], SIGNATURE_SIZE[1] / PAD_SIZE[1]
    for stroke in strokes:
        draw.line([(x * sx, y * sy) for x, y in stroke], fill=0, width=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def enrolment(seed: int = 1) -> Enrolment:
    """A full adult enrolment for the ``seed``-th simulated person with a signature."""
    world = World(seed)
    person = next(p for p in world.residents if p.signature and not p.fingers)
    strokes = tuple(tuple((int(x), int(y)) for x, y in stroke) for stroke in person.signature)
    fingers = tuple(
        FingerRecord(
            position,
            image_png=finger_png(person.seed, position),
            template=template_of(person.seed, position),
            quality=80,
        )
        for position in range(1, 11)
    )
    resident = Resident("3505104101900001", "SITI RAHAYU", Sex.FEMALE, "BLITAR", date(1990, 1, 1))
    return Enrolment(
        resident=resident,
        officer_id="PTG-001",
        started_at=datetime.now(UTC),
        face_jpeg=portrait_jpeg(person.seed, size=PORTRAIT_SIZE),
        fingers=fingers,
        signature_strokes=strokes,
        signature_png=signature_png(strokes),
    )
