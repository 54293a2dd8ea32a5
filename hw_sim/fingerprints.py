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
* One finger, any glass: a capture is drawn as the R307's 256 x 288 glass sees it, its
  condition included; a smaller glass (the R503's 192 x 192, at the same 500 dpi or so)
  sees the middle of that capture, as a finger pressed on a smaller window does.
* Templates: a seeded set of minutiae per finger, jittered, thinned and shifted with the
  same placement as the image per capture, packed in 512 bytes; a smaller glass lists
  only the minutiae inside its window, in its own pixels.  ``match_score`` aligns
  two sets by voting on their offset and scores the pairs that agree, 0..300 like the
  R307 (matches of the same finger land well above 100, strangers near 0).
"""

from __future__ import annotations

import functools
import math
import random
import struct

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

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
_SMEAR = 20  # px a smudged finger slides while imaged

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


def _window(size: tuple[int, int], view: tuple[int, int] = IMAGE_SIZE) -> tuple[int, int]:
    """Where a glass of ``size`` sits in ``view`` (left, top): in its middle."""
    width, height = size
    if not (0 < width <= view[0] and 0 < height <= view[1]):
        raise ValueError(
            f"a {width}x{height} glass does not fit the simulated finger's {view[0]}x{view[1]} view"
        )
    return (view[0] - width) // 2, (view[1] - height) // 2


def _placement(person_seed: int, position: int, capture: int) -> tuple[int, int]:
    """Where this capture put the finger, relative to its usual place."""
    rng = _rng("place", person_seed, int(position), capture)
    return rng.randint(-_MAX_SHIFT, _MAX_SHIFT), rng.randint(-_MAX_SHIFT, _MAX_SHIFT)


@functools.lru_cache(maxsize=64)
def _base_pattern(person_seed: int, position: int, size: tuple[int, int]) -> Image.Image:
    """The finger's ridges over a view of ``size`` plus a margin, as an 8-bit image.

    Each of the finger's minutiae (:func:`_truth`) is a phase singularity: the angle
    around it, added to the phase, ends one ridge or splits it in two right there, so
    the image shows the minutiae its template lists.
    """
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
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    warp_x = sum(a * np.sin(f * xs + p) for a, f, p in warps[:2])
    warp_y = sum(a * np.sin(f * ys + p) for a, f, p in warps[2:])
    dx, dy = xs - cx, ys - cy
    phase = k * (
        radial * np.sqrt(dx * dx + (ellipticity * dy) ** 2)
        + slant_x * dx
        + slant_y * dy
        + warp_x
        + warp_y
    )
    phase += spiral * np.arctan2(dy, dx)
    # the minutiae sit where the template says, offset when the view is smaller
    left = (IMAGE_SIZE[0] - size[0]) / 2 - _MARGIN
    top = (IMAGE_SIZE[1] - size[1]) / 2 - _MARGIN
    for x, y, _, kind in _truth(person_seed, position):
        phase += (1 if kind == 1 else -1) * np.arctan2(ys - (y - top), xs - (x - left))
    ridge = 128 + 110 * np.cos(phase)
    # the finger: an ellipse with a soft edge, white glass outside
    fx, fy = width / 2, height / 2 + 8
    ax, ay = size[0] * rng.uniform(0.38, 0.45), size[1] * rng.uniform(0.42, 0.48)
    edge = ((xs - fx) / ax) ** 2 + ((ys - fy) / ay) ** 2
    fade = np.clip((1.0 - edge) * 8, 0.0, 1.0)  # soft edge over the outer eighth
    pixels = _GLASS + (ridge - _GLASS) * fade
    return Image.fromarray(pixels.astype(np.uint8), "L")


def _noise(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    return Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))


def ridge_image(
    person_seed: int,
    position: int,
    capture: int,
    condition: FingerCondition = FingerCondition.OK,
    *,
    size: tuple[int, int] = IMAGE_SIZE,
    view: tuple[int, int] = IMAGE_SIZE,
) -> bytes:
    """One capture of a finger as 8-bit pixels, row by row (``size`` = width, height).

    The capture is drawn for a glass of ``view``, the R307's, condition and noise
    included; a smaller ``size`` is the middle of it, as the R503's smaller glass sees
    the middle of the same finger.  (The contract-level doubles draw a whole finger on
    their small images: ``view=size``.)

    OK: clear ridges.  SCARRED: the same ridges at low contrast under blotches and
    scar lines.  BANDAGED: flat gauze, no ridges.  MISSING: empty glass.  DRY: faint
    ridges broken into dots.  WET: ridges swollen into one another.  PARTIAL: the finger
    touches a quarter of the glass.  SMUDGED: ridges smeared across by a slide.
    """
    left, top = _window(size, view)
    image = _capture(person_seed, position, capture, condition, view)
    return image.crop((left, top, left + size[0], top + size[1])).tobytes()


def _capture(
    person_seed: int, position: int, capture: int, condition: FingerCondition, size: tuple[int, int]
) -> Image.Image:
    """The whole capture on a glass of ``size``: placed, pressed, in its condition, noised."""
    rng = _rng("capture", person_seed, int(position), capture, condition.value)
    if condition in (FingerCondition.MISSING, FingerCondition.BANDAGED):
        level = _GLASS if condition is FingerCondition.MISSING else _BANDAGE
        return Image.blend(Image.new("L", size, level), _noise(rng, size), 0.04)
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
    image = _spoil(image, condition, rng)
    return Image.blend(image, _noise(rng, size), 0.12)


def _spoil(image: Image.Image, condition: FingerCondition, rng: random.Random) -> Image.Image:
    """How a dry, wet, partly placed or sliding finger changes a clean capture."""
    size = image.size
    if condition is FingerCondition.DRY:
        # little skin touches: ridges print as faint dots on a light field
        dots = _noise(rng, (size[0] // 3, size[1] // 3)).resize(size, Image.Resampling.NEAREST)
        gaps = dots.point(lambda v: 255 if v > 110 else 0)
        faint = Image.blend(image, Image.new("L", size, _GLASS), 0.55)
        return Image.composite(Image.new("L", size, _GLASS), faint, gaps)
    if condition is FingerCondition.WET:
        # water fills the valleys: the print turns into dark, merged blots
        swollen = image.filter(ImageFilter.MinFilter(5)).filter(ImageFilter.GaussianBlur(2))
        return swollen.point(lambda v: v * 0.45)
    if condition is FingerCondition.PARTIAL:
        keep = Image.new("L", size, 0)
        corner = rng.choice(((0, 0), (size[0] // 2, 0), (0, size[1] // 2)))
        box = (*corner, corner[0] + size[0] // 2, corner[1] + size[1] // 2)
        ImageDraw.Draw(keep).ellipse(box, fill=255)
        return Image.composite(image, Image.new("L", size, _GLASS), keep)
    if condition is FingerCondition.SMUDGED:
        # the finger slid while the sensor scanned: ridges smeared along the slide
        pixels = np.asarray(image, dtype=np.float64)
        step = rng.choice(((1, 0), (0, 1), (1, 1)))
        shifted = [np.roll(pixels, (i * step[1], i * step[0]), axis=(0, 1)) for i in range(_SMEAR)]
        return Image.fromarray(np.mean(shifted, axis=0).astype(np.uint8), "L")
    return image


@functools.lru_cache(maxsize=256)
def _truth(person_seed: int, position: int) -> tuple[tuple[float, float, int, int], ...]:
    """The finger's own minutiae in R307 image pixels: x, y, angle (256 a turn), kind."""
    width, height = IMAGE_SIZE
    base = _rng("minutiae", person_seed, int(position))
    count = base.randint(38, 52)
    truth: list[tuple[float, float, int, int]] = []
    while len(truth) < count:
        x, y = base.uniform(0, width), base.uniform(0, height)
        if ((x - width / 2) / (width * 0.4)) ** 2 + ((y - height / 2) / (height * 0.45)) ** 2 < 1:
            truth.append((x, y, base.randrange(256), base.randint(1, 2)))
    return tuple(truth)


def _minutiae(
    person_seed: int, position: int, capture: int, size: tuple[int, int]
) -> list[Minutia]:
    """The minutiae this capture shows on a glass of ``size``: x, y (its pixels), angle
    (256 a turn), kind."""
    width, height = size
    left, top = _window(size)
    truth = _truth(person_seed, int(position))
    rng = _rng("seen", person_seed, int(position), capture)
    dx, dy = _placement(person_seed, position, capture)
    dx, dy = dx + left, dy + top
    seen = [
        (x - dx + rng.gauss(0, 1.2), y - dy + rng.gauss(0, 1.2), (a + rng.randint(-5, 5)) % 256, k)
        for x, y, a, k in truth
        if rng.random() > 0.1  # a minutia the sensor missed this time
    ]
    seen += [
        (rng.uniform(0, width), rng.uniform(0, height), rng.randrange(256), rng.randint(1, 2))
        for _ in range(rng.randint(0, 4))  # spurious ones from dirt and noise
    ]
    pixels = [(round(x), round(y), a, k) for x, y, a, k in seen]  # then on the glass:
    return [  # 287.6 rounds to 288, one past the last row
        (x, y, a, k) for x, y, a, k in pixels if 0 <= x < width and 0 <= y < height
    ][:_MAX_MINUTIAE]


def template_of(
    person_seed: int, position: int, capture: int = 0, *, size: tuple[int, int] = IMAGE_SIZE
) -> bytes:
    """The 512-byte template a sensor with a glass of ``size`` would extract from this
    capture of this finger (the minutiae :func:`ridge_image` draws at that size)."""
    points = _minutiae(person_seed, position, capture, size)
    body = b"".join(_MINUTIA.pack(*point) for point in points)
    return (_TEMPLATE_MAGIC + bytes([len(points)]) + body).ljust(TEMPLATE_SIZE, b"\0")


def _decode(template: bytes) -> list[Minutia]:
    """Minutiae of a template; none for bytes that are not one of ours."""
    if len(template) < 4 or not template.startswith(_TEMPLATE_MAGIC):
        return []
    count = min(template[3], (len(template) - 4) // _MINUTIA.size)
    return [_MINUTIA.unpack_from(template, 4 + i * _MINUTIA.size) for i in range(count)]


#: A template's minutiae as the sensor packs them (big-endian x, y; angle; kind).
_MINUTIA_DTYPE = np.dtype([("x", ">u2"), ("y", ">u2"), ("a", "u1"), ("k", "u1")])
#: Vote bins are packed into one integer key: bx * _KEY_SPAN + by, both shifted positive.
_KEY_SPAN = 8192


@functools.lru_cache(maxsize=4096)
def _minutia_array(template: bytes) -> np.ndarray:
    """A template's minutiae as an (n, 4) array of x, y, angle, kind (read-only: cached,
    since a library's pages are compared with every finger the kit captures)."""
    if len(template) < 4 or not template.startswith(_TEMPLATE_MAGIC):
        return np.zeros((0, 4), dtype=np.int64)
    count = min(template[3], (len(template) - 4) // _MINUTIA.size)
    packed = np.frombuffer(template, dtype=_MINUTIA_DTYPE, count=count, offset=4)
    points = np.stack([packed["x"], packed["y"], packed["a"], packed["k"]], axis=1)
    points = points.astype(np.int64)
    points.flags.writeable = False
    return points


def match_score(a: bytes, b: bytes) -> int:
    """How alike two templates are, 0..300; MATCH_THRESHOLD and above means one finger.

    The offset between the two placements is found by letting every pair of minutiae
    with similar angles vote for it (in 4 px bins); under each of the three most voted
    offsets (ties: the pair that voted first), minutiae of ``a`` are paired greedily, in
    order, with the first free minutia of ``b`` of the same kind and a similar angle within
    6 px; the best count scores.  Array arithmetic rather than loops over pairs: the
    simulated sensor's Search compares a finger with every page of its library.
    """
    first, second = _minutia_array(a), _minutia_array(b)
    if not len(first) or not len(second):
        return 0
    turn = np.abs(first[:, 2, None] - second[None, :, 2]) % 256
    angles_close = np.minimum(turn, 256 - turn) <= _ANGLE_TOLERANCE
    voting = np.flatnonzero(angles_close)
    if not len(voting):
        return 0
    shift_x = second[None, :, 0] - first[:, 0, None]
    shift_y = second[None, :, 1] - first[:, 1, None]
    bin_x = np.round(shift_x.ravel()[voting] / _VOTE_BIN).astype(np.int64)  # half to even,
    bin_y = np.round(shift_y.ravel()[voting] / _VOTE_BIN).astype(np.int64)  # as round()
    half = _KEY_SPAN // 2
    keys, first_vote, votes = np.unique(
        (bin_x + half) * _KEY_SPAN + (bin_y + half), return_index=True, return_counts=True
    )
    best = keys[np.lexsort((first_vote, -votes))[:3]].tolist()
    alike = angles_close & (first[:, 3, None] == second[None, :, 3])
    matched = 0
    for key in best:
        dx = (key // _KEY_SPAN - half) * _VOTE_BIN
        dy = (key % _KEY_SPAN - half) * _VOTE_BIN
        near = (np.abs(shift_x - dx) <= _POSITION_TOLERANCE) & (
            np.abs(shift_y - dy) <= _POSITION_TOLERANCE
        )
        matched = max(matched, _greedy_pairs(alike & near))
    return min(MAX_SCORE, round(MAX_SCORE * matched * matched / (len(first) * len(second))))


def _greedy_pairs(candidates: np.ndarray) -> int:
    """Pairs made when each row in turn takes its first column not taken yet."""
    rows, columns = np.nonzero(candidates)  # row-major: each row's columns in order
    taken: set[int] = set()
    last_row = -1
    for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
        if row != last_row and column not in taken:
            taken.add(column)
            last_row = row
    return len(taken)
