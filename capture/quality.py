"""Quality checks the kit makes before it accepts a capture, so a retry happens on the spot.

Sensors judge their own images (a finger's quality score); the face photo is checked here
for what ruins most portraits in the field: a dark hall, a blown-out window behind.
"""

from __future__ import annotations

import io

from PIL import Image, ImageStat

from hal.types import FingerImage, Portrait

#: Mean brightness (0..255) a usable face photo falls between.
FACE_BRIGHTNESS = (45, 225)
#: The smallest portrait the card and the authority accept.
FACE_MIN_SIZE = (240, 320)


def face_problem(portrait: Portrait) -> str | None:
    """Why the photo cannot be used ("too dark"), or None when it can."""
    if portrait.width < FACE_MIN_SIZE[0] or portrait.height < FACE_MIN_SIZE[1]:
        return f"too small ({portrait.width}x{portrait.height})"
    with Image.open(io.BytesIO(portrait.jpeg)) as image:
        brightness = ImageStat.Stat(image.convert("L")).mean[0]
    if brightness < FACE_BRIGHTNESS[0]:
        return "too dark"
    if brightness > FACE_BRIGHTNESS[1]:
        return "too bright"
    return None


def finger_png(image: FingerImage) -> bytes:
    """The finger image as a lossless grey PNG, the form records keep it in."""
    out = io.BytesIO()
    Image.frombytes("L", (image.width, image.height), image.pixels).save(out, format="PNG")
    return out.getvalue()
