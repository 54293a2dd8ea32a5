"""Synthetic fingerprints: ridge images and templates that behave like real ones.

Nothing here is a real fingerprint model; it only has to be repeatable (the same
person's finger gives the same ridges every time), distinct (two fingers never look or
match alike), and vary per capture the way a real finger on glass does (placement shift,
pressure, sensor noise), so the emulator and the doubles can exercise matching, quality
checks and retries honestly.

* Ridges: level sets of a phase field built from a core point (loops and whorls as
  elliptic rings, spirals as integer multiples of the angle around the core), a slant,
  and a few low-frequency warps, all chosen from the seed; cosine of the phase gives
  dark ridges about 9 px apart inside an elliptic finger mask.  The base pattern is
  computed once per (person, finger) and cached; a capture crops it at a shifted place
  and blends in seeded noise.
* Templates: a seeded set of minutiae per finger, jittered, thinned and shifted with the
  same placement as the image per capture, packed in 512 bytes.  ``match_score`` aligns
  two sets by voting on their offset and scores the pairs that agree, 0..300 like the
  R307 (matches of the same finger land well above 100, strangers near 0).
"""

from __future__ import annotations

import functools
import math
import random
import struct

from PIL import Image, ImageDraw

from hw_sim.fingers import FingerCondition

#: The R307's image size, width x height.
IMAGE_SIZE = (256, 288)
#: Bytes of one template, as UpChar uploads it.
TEMPLATE_SIZE = 512
#: The score from which the emulator's matcher says "same finger".
MATCH_THRESHOLD = 60
#: The highest score match_score gives.
MAX_SCORE = 300
#: How often a SCARRED finger's capture is too poor to use (emulator and double alike).
SCARRED_FAILURE_RATE = 0.8

#: How far a finger lands from its usual place on the glass, in pixels, per axis.
_MAX_SHIFT = 8
#: Border computed around the image so a shifted crop stays inside the base pattern.
_MARGIN = _MAX_SHIFT + 2
_GLASS = 235  # empty glass: light grey
_BANDAGE = 205  # gauze pressed on the glass: flat, no ridges

#: x, y in image pixels, angle (256 units a turn), kind (1 ending, 2 bifurcation)
Minutia = tuple[int, int, int, int]
_TEMPLATE_MAGIC = b"JT\x01"
_MINUTIA = struct.Struct(">HHBB")  # x, y, angle (256 units a turn), kind
_MAX_MINUTIAE = (TEMPLATE_SIZE - len(_TEMPLATE_MAGIC) - 1) // _MINUTIA.size
_POSITION_TOLERANCE = 6  # px
_ANGLE_TOLERANCE = 12  # of 256 a turn, about 17 degrees
_VOTE_BIN = 4  # px


def _rng(*parts: object) -> random.Random:
    """A generator seeded by a string, so results do not depend on PYTHONHASHSEED."""
    return random.Random(":".join(str(part) for part in parts))


def _placement(person_seed: int, position: int, capture: int) -> tuple[int, int]:
    """Where this capture put the finger, relative to its usual place."""
    rng = _rng("place", person_seed, int(position), capture)
    return rng.randint(-_MAX_SHIFT, _MAX_SHIFT), rng.randint(-_MAX_SHIFT, _MAX_SHIFT)


@functools.lru_cache(maxsize=64)
def _base_pattern(person_seed: int, position: int, size: tuple[int, int]) -> Image.Image:
    """The finger's ridges over the image plus a margin, as an 8-bit image."""
    width, height = size[0] + 2 * _MARGIN, size[1] + 2 * _MARGIN
    rng = _rng("ridges", person_seed, position)
    cx = width / 2 + rng.uniform(-0.12, 0.12) * size[0]
    cy = height * 0.45 + rng.uniform(-0.12, 0.12) * size[1]
    k = 2 * math.pi / rng.uniform(8.0, 11.0)  # ridge period 8..11 px
    ellipticity = rng.uniform(0.6, 1.4)
    radial = rng.uniform(0.55, 1.0)  # whorl/loop strength against the slant
    slant_x, slant_y = rng.uniform(-0.5, 0.5), rng.uniform(-0.6, 0.6)
    spiral = rng.choice((0, 0, 1, 2, -1))
    warps = [
        (rng.uniform(1.0, 3.0), rng.uniform(0.01, 0.04), rng.uniform(0, 2 * math.pi))
        for _ in range(4)
    ]
    # the warps are separable, so they cost one list per axis, not one sin per pixel
    warp_x = [sum(a * math.sin(f * x + p) for a, f, p in warps[:2]) for x in range(width)]
    warp_y = [sum(a * math.sin(f * y + p) for a, f, p in warps[2:]) for y in range(height)]
    # the finger: an ellipse with a soft edge, white glass outside
    fx, fy = width / 2, height / 2 + 8
    ax, ay = size[0] * rng.uniform(0.38, 0.45), size[1] * rng.uniform(0.42, 0.48)
    cos, sqrt, atan2 = math.cos, math.sqrt, math.atan2
    xs = [(x - cx, slant_x * (x - cx), ((x - fx) / ax) ** 2) for x in range(width)]
    pixels = bytearray(width * height)
    i = 0
    for y in range(height):
        dy = y - cy
        dy2 = (ellipticity * dy) ** 2
        row_phase = slant_y * dy + warp_y[y]
        my = ((y - fy) / ay) ** 2
        for x, (dx, sx, mx) in enumerate(xs):
            edge = mx + my
            if edge >= 1.0:
                pixels[i] = _GLASS
            else:
                phase = k * (radial * sqrt(dx * dx + dy2) + sx + row_phase + warp_x[x])
                ridge = 128 + 110 * cos(phase + spiral * atan2(dy, dx))
                fade = min(1.0, (1.0 - edge) * 8)  # soft edge over the outer eighth
                pixels[i] = int(_GLASS + (ridge - _GLASS) * fade)
            i += 1
    return Image.frombytes("L", (width, height), bytes(pixels))


def _noise(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    return Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))


def ridge_image(
    person_seed: int,
    position: int,
    capture: int,
    condition: FingerCondition = FingerCondition.OK,
    *,
    size: tuple[int, int] = IMAGE_SIZE,
) -> bytes:
    """One capture of a finger as 8-bit pixels, row by row (``size`` = width, height).

    OK: clear ridges.  SCARRED: the same ridges at low contrast under blotches and
    scar lines.  BANDAGED: flat gauze, no ridges.  MISSING: empty glass.
    """
    rng = _rng("capture", person_seed, int(position), capture, condition.value)
    if condition in (FingerCondition.MISSING, FingerCondition.BANDAGED):
        level = _GLASS if condition is FingerCondition.MISSING else _BANDAGE
        image = Image.blend(Image.new("L", size, level), _noise(rng, size), 0.04)
        return image.tobytes()
    dx, dy = _placement(person_seed, position, capture)
    base = _base_pattern(person_seed, int(position), size)
    left, top = _MARGIN + dx, _MARGIN + dy
    image = base.crop((left, top, left + size[0], top + size[1]))
    pressure = rng.uniform(0.0, 0.1)  # light pressure washes ridges out a little
    image = Image.blend(image, Image.new("L", size, _GLASS), pressure)
    if condition is FingerCondition.SCARRED:
        image = Image.blend(image, Image.new("L", size, 175), 0.75)
        cells = (size[0] // 24, size[1] // 24)
        blotches = _noise(rng, cells).resize(size, Image.Resampling.BICUBIC)
        image = Image.blend(image, blotches, 0.45)
        draw = ImageDraw.Draw(image)
        for _ in range(rng.randint(3, 6)):
            x0, y0 = rng.uniform(0, size[0]), rng.uniform(0, size[1])
            x1, y1 = x0 + rng.uniform(-120, 120), y0 + rng.uniform(-120, 120)
            draw.line((x0, y0, x1, y1), fill=_GLASS, width=rng.randint(3, 7))
    return Image.blend(image, _noise(rng, size), 0.12).tobytes()


def _minutiae(person_seed: int, position: int, capture: int) -> list[Minutia]:
    """The minutiae this capture shows: x, y (image pixels), angle (256 a turn), kind."""
    width, height = IMAGE_SIZE
    base = _rng("minutiae", person_seed, int(position))
    count = base.randint(38, 52)
    truth: list[tuple[float, float, int, int]] = []
    while len(truth) < count:
        x, y = base.uniform(0, width), base.uniform(0, height)
        if ((x - width / 2) / (width * 0.4)) ** 2 + ((y - height / 2) / (height * 0.45)) ** 2 < 1:
            truth.append((x, y, base.randrange(256), base.randint(1, 2)))
    rng = _rng("seen", person_seed, int(position), capture)
    dx, dy = _placement(person_seed, position, capture)
    seen = [
        (x - dx + rng.gauss(0, 1.2), y - dy + rng.gauss(0, 1.2), (a + rng.randint(-5, 5)) % 256, k)
        for x, y, a, k in truth
        if rng.random() > 0.1  # a minutia the sensor missed this time
    ]
    seen += [
        (rng.uniform(0, width), rng.uniform(0, height), rng.randrange(256), rng.randint(1, 2))
        for _ in range(rng.randint(0, 4))  # spurious ones from dirt and noise
    ]
    return [
        (round(x), round(y), a, k) for x, y, a, k in seen if 0 <= x < width and 0 <= y < height
    ][:_MAX_MINUTIAE]


def template_of(person_seed: int, position: int, capture: int = 0) -> bytes:
    """The 512-byte template a sensor would extract from this capture of this finger."""
    points = _minutiae(person_seed, position, capture)
    body = b"".join(_MINUTIA.pack(*point) for point in points)
    return (_TEMPLATE_MAGIC + bytes([len(points)]) + body).ljust(TEMPLATE_SIZE, b"\0")


def _decode(template: bytes) -> list[Minutia]:
    """Minutiae of a template; none for bytes that are not one of ours."""
    if len(template) < 4 or not template.startswith(_TEMPLATE_MAGIC):
        return []
    count = min(template[3], (len(template) - 4) // _MINUTIA.size)
    return [_MINUTIA.unpack_from(template, 4 + i * _MINUTIA.size) for i in range(count)]


def _angle_close(a: int, b: int) -> bool:
    diff = abs(a - b) % 256
    return min(diff, 256 - diff) <= _ANGLE_TOLERANCE


def match_score(a: bytes, b: bytes) -> int:
    """How alike two templates are, 0..300; MATCH_THRESHOLD and above means one finger.

    The offset between the two placements is found by letting every pair of minutiae
    with similar angles vote for it; the pairs that agree under the best offsets count.
    """
    first, second = _decode(a), _decode(b)
    if not first or not second:
        return 0
    votes: dict[tuple[int, int], int] = {}
    for x1, y1, a1, _ in first:
        for x2, y2, a2, _ in second:
            if _angle_close(a1, a2):
                key = (round((x2 - x1) / _VOTE_BIN), round((y2 - y1) / _VOTE_BIN))
                votes[key] = votes.get(key, 0) + 1
    best = sorted(votes, key=votes.__getitem__, reverse=True)[:3]
    matched = max(
        (_paired(first, second, bx * _VOTE_BIN, by * _VOTE_BIN) for bx, by in best), default=0
    )
    return min(MAX_SCORE, round(MAX_SCORE * matched * matched / (len(first) * len(second))))


def _paired(
    first: list[Minutia],
    second: list[Minutia],
    dx: int,
    dy: int,
) -> int:
    """How many minutiae of ``first`` shifted by (dx, dy) find a partner in ``second``."""
    free = list(second)
    count = 0
    for x1, y1, a1, k1 in first:
        for j, (x2, y2, a2, k2) in enumerate(free):
            if (
                k1 == k2
                and abs(x1 + dx - x2) <= _POSITION_TOLERANCE
                and abs(y1 + dy - y2) <= _POSITION_TOLERANCE
                and _angle_close(a1, a2)
            ):
                del free[j]
                count += 1
                break
    return count
