"""Is this photo a usable e-KTP portrait?  The measures of ISO/IEC 29794-5 (OFIQ) that
ruin most field photos, with OpenCV's Haar cascades, so the officer retakes on the spot.

Every measure is computed on the photo scaled to :data:`ANALYSIS_WIDTH` pixels wide (a
few tens of milliseconds on a Pi), each with its own bound in :class:`FaceBounds` and its
own :class:`FaceProblem` (and so its own prompt) when it fails.  The bounds are explained
in docs/quality.md; the tests hold them against real photos (scikit-image's astronaut
and LFW faces) and the simulator's portraits.

The photo is a camera frame, not yet the card's crop, so head size and position are
ICAO 9303 bounds widened to what a crop can still repair.

OpenCV (about 40 MB resident and a fifth of a second to import on a Pi) is imported by
the functions that measure, not by the module: the kit imports this module at boot for
its bounds, and needs OpenCV only once a photo is taken.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from capture.quality_errors import DetectorMissing, ImageUnreadable
from hal.types import Portrait

if TYPE_CHECKING:
    import cv2

#: Width the photo is scaled to before any measure (height keeps the aspect ratio).
ANALYSIS_WIDTH = 240
#: The face box is scaled to this square before its sharpness is measured, so the
#: Laplacian's variance does not depend on how large the head is in the frame.
SHARPNESS_SIDE = 96
#: Grey levels at and above which a pixel is blown out.
SATURATED = 250


class FaceProblem(enum.Enum):
    """Why a photo cannot be used; each has the prompt ``quality.face.<value>``."""

    NO_FACE = "no_face"
    FACE_TURNED = "face_turned"
    SEVERAL_FACES = "several_faces"
    TOO_FAR = "too_far"
    TOO_CLOSE = "too_close"
    OFF_CENTRE = "off_centre"
    EYES_NOT_FOUND = "eyes_not_found"
    BLURRED = "blurred"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    UNEVEN_LIGHT = "uneven_light"
    BUSY_BACKGROUND = "busy_background"

    @property
    def prompt_key(self) -> str:
        """The key of this problem's prompt in :data:`capture.prompts.CATALOGUE`."""
        return f"quality.face.{self.value}"


@dataclass(frozen=True)
class FaceBounds:
    """Where each measure must lie; the defaults are documented in docs/quality.md."""

    #: Face box width as a share of the frame width (ICAO: head 50-75 % of the photo,
    #: the detector's box is about 80 % of the head, and the card's crop can zoom).
    head_width: tuple[float, float] = (0.25, 0.80)
    #: Face box centre, as a share of the frame width, 0.5 is the middle.
    head_centre_x: tuple[float, float] = (0.38, 0.62)
    #: Eye line from the top, as a share of the frame height (ICAO: 30-50 %).
    eye_line: tuple[float, float] = (0.22, 0.55)
    #: Least variance of the Laplacian of the face at SHARPNESS_SIDE pixels.
    min_sharpness: float = 45.0
    #: Mean grey of the face (0..255).
    face_brightness: tuple[float, float] = (40.0, 225.0)
    #: Least 95th percentile of the frame: below it nothing in the frame is lit.
    min_frame_highlight: float = 90.0
    #: Most share of the frame that is blown out (a window, a lamp in the picture).
    max_saturated: float = 0.08
    #: Least ratio of the darker half of the face to the lighter one.
    min_illumination_uniformity: float = 0.70
    #: Most share of edge pixels in the background beside and above the person.
    max_background_edges: float = 0.04


#: A person photographed seated (a wheelchair, a bed, someone who cannot stand long):
#: the camera cannot always be brought level with the face, so the head may sit further
#: from the centre and the eyes higher or lower in the frame; the card's crop still
#: repairs that much.  Sharpness, light and background keep their bounds: a seated photo
#: is not a worse photo, only a harder one to frame.
SEATED_BOUNDS = FaceBounds(head_centre_x=(0.28, 0.72), eye_line=(0.15, 0.70))
#: Photos a seated person gets beyond the policy's face_retries, to frame the face.
SEATED_EXTRA_TRIES = 2


def face_allowance(tries: int, *, seated: bool) -> tuple[int, FaceBounds]:
    """Photos before the best is kept, and the bounds they are held to: the policy's
    ``tries`` and the default bounds, or more of both for a person photographed seated."""
    if seated:
        return tries + SEATED_EXTRA_TRIES, SEATED_BOUNDS
    return tries, FaceBounds()


@dataclass(frozen=True)
class FaceBox:
    """A face found in the analysed image, in its pixels."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class FaceQuality:
    """Every measure of one photo, and what failed.

    Measures that need the one face are None when there is no single face to measure.
    """

    faces: int
    profile_faces: int
    head_width: float | None
    head_centre_x: float | None
    eye_line: float | None
    eyes: int | None
    sharpness: float | None
    face_brightness: float | None
    frame_highlight: float
    saturated: float
    illumination_uniformity: float | None
    background_edges: float | None
    problems: tuple[FaceProblem, ...]

    @property
    def acceptable(self) -> bool:
        return not self.problems

    def scores(self) -> dict[str, float | int | None]:
        """The measures as plain numbers, rounded, for the record body and ``--json``."""
        values = asdict(self)
        del values["problems"]
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}


@functools.cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    """One of the cascades OpenCV's wheel (or Debian's opencv-data) ships, loaded once."""
    import cv2

    folder = cv2.data.haarcascades  # type: ignore[attr-defined]  # the stubs lack cv2.data
    classifier = cv2.CascadeClassifier(folder + name)
    if classifier.empty():
        raise DetectorMissing(
            f"OpenCV has no {name} in {folder}; install opencv-data (Debian) or "
            "opencv-python-headless<5 (the 5.x wheels dropped the cascades)"
        )
    return classifier


def decode_grey(data: bytes, *, source: str = "photo") -> np.ndarray:
    """JPEG or PNG bytes as an 8-bit grey image; ImageUnreadable for anything else."""
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None or image.size == 0:
        raise ImageUnreadable(f"{source}: not a JPEG or PNG image ({len(data)} bytes)")
    return image


def assess_portrait(portrait: Portrait, bounds: FaceBounds | None = None) -> FaceQuality:
    """The measures of a camera's portrait."""
    return assess_face(decode_grey(portrait.jpeg), bounds)


def detect_faces(grey: np.ndarray) -> list[FaceBox]:
    """Frontal faces in an analysed image at least a tenth of its width wide (smaller
    than TOO_FAR's bound, so a person too far away hears so rather than "no face").

    When none is found, the search is repeated on a locally equalised copy (CLAHE): a
    dark face framed by a white hijab or a bright wall has too little contrast for the
    cascade otherwise, and the kit must not fail people for their skin.
    """
    side = max(24, grey.shape[1] // 10)
    cascade = _cascade("haarcascade_frontalface_default.xml")
    for view in (grey, _equalise(grey)):
        found = cascade.detectMultiScale(
            view, scaleFactor=1.05, minNeighbors=8, minSize=(side,) * 2
        )
        if len(found):
            return [FaceBox(int(x), int(y), int(w), int(h)) for x, y, w, h in found]
    return []


def _equalise(grey: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(grey)


def assess_face(grey: np.ndarray, bounds: FaceBounds | None = None) -> FaceQuality:
    """Measure an 8-bit grey photo against ``bounds`` (the defaults when None)."""
    import cv2

    bounds = bounds or FaceBounds()
    if grey.ndim != 2 or grey.dtype != np.uint8 or min(grey.shape) < 32:
        raise ImageUnreadable(
            f"photo of shape {grey.shape} ({grey.dtype}): need 8-bit grey, at least 32 px a side"
        )
    height = round(grey.shape[0] * ANALYSIS_WIDTH / grey.shape[1])
    image = cv2.resize(grey, (ANALYSIS_WIDTH, height), interpolation=cv2.INTER_AREA)
    faces = detect_faces(image)
    highlight = float(np.percentile(image, 95))
    saturated = float(np.mean(image >= SATURATED))
    problems: list[FaceProblem] = []
    if highlight < bounds.min_frame_highlight:
        problems.append(FaceProblem.TOO_DARK)
    if saturated > bounds.max_saturated:
        problems.append(FaceProblem.TOO_BRIGHT)
    if len(faces) != 1:
        profiles = 0 if faces else len(_profiles(image))
        if len(faces) > 1:
            problems.append(FaceProblem.SEVERAL_FACES)
        elif profiles:
            problems.append(FaceProblem.FACE_TURNED)
        elif not problems:  # a photo too dark to find a face in says so, not "no face"
            problems.append(FaceProblem.NO_FACE)
        return FaceQuality(
            faces=len(faces),
            profile_faces=profiles,
            head_width=None,
            head_centre_x=None,
            eye_line=None,
            eyes=None,
            sharpness=None,
            face_brightness=None,
            frame_highlight=highlight,
            saturated=saturated,
            illumination_uniformity=None,
            background_edges=None,
            problems=tuple(problems),
        )
    return _measure_face(image, faces[0], bounds, highlight, saturated, problems)


def _profiles(image: np.ndarray) -> list[FaceBox]:
    """Faces seen from the side, looking either way (the cascade knows one way only)."""
    import cv2

    side = max(24, image.shape[1] // 6)
    cascade = _cascade("haarcascade_profileface.xml")
    found = []
    for view in (image, cv2.flip(image, 1)):
        hits = cascade.detectMultiScale(view, scaleFactor=1.05, minNeighbors=4, minSize=(side,) * 2)
        found += [FaceBox(int(x), int(y), int(w), int(h)) for x, y, w, h in hits]
    return found


def _measure_face(
    image: np.ndarray,
    face: FaceBox,
    bounds: FaceBounds,
    highlight: float,
    saturated: float,
    problems: list[FaceProblem],
) -> FaceQuality:
    import cv2

    frame_height, frame_width = image.shape
    head_width = face.width / frame_width
    centre_x = (face.x + face.width / 2) / frame_width
    eye_line = (face.y + 0.38 * face.height) / frame_height  # eyes sit at 38 % of the box
    crop = image[face.y : face.y + face.height, face.x : face.x + face.width]
    eyes = _eyes(crop)
    sharpness = float(cv2.Laplacian(cv2.resize(crop, (SHARPNESS_SIDE,) * 2), cv2.CV_64F).var())
    # the skin: the middle of the box, without hair at the top and the jaw's edge
    inner = crop[face.height // 5 : face.height * 9 // 10, face.width // 5 : face.width * 4 // 5]
    brightness = float(inner.mean())
    half = inner.shape[1] // 2
    left, right = float(inner[:, :half].mean()), float(inner[:, half:].mean())
    uniformity = min(left, right) / max(left, right, 1.0)
    edges = _background_edges(image, face)

    if head_width < bounds.head_width[0]:
        problems.append(FaceProblem.TOO_FAR)
    elif head_width > bounds.head_width[1]:
        problems.append(FaceProblem.TOO_CLOSE)
    low, high = bounds.head_centre_x
    if not low <= centre_x <= high or not bounds.eye_line[0] <= eye_line <= bounds.eye_line[1]:
        problems.append(FaceProblem.OFF_CENTRE)
    if eyes < 2:
        problems.append(FaceProblem.EYES_NOT_FOUND)
    if sharpness < bounds.min_sharpness:
        problems.append(FaceProblem.BLURRED)
    if brightness < bounds.face_brightness[0] and FaceProblem.TOO_DARK not in problems:
        problems.append(FaceProblem.TOO_DARK)
    if brightness > bounds.face_brightness[1] and FaceProblem.TOO_BRIGHT not in problems:
        problems.append(FaceProblem.TOO_BRIGHT)
    if uniformity < bounds.min_illumination_uniformity:
        problems.append(FaceProblem.UNEVEN_LIGHT)
    if edges is not None and edges > bounds.max_background_edges:
        problems.append(FaceProblem.BUSY_BACKGROUND)
    return FaceQuality(
        faces=1,
        profile_faces=0,
        head_width=head_width,
        head_centre_x=centre_x,
        eye_line=eye_line,
        eyes=eyes,
        sharpness=sharpness,
        face_brightness=brightness,
        frame_highlight=highlight,
        saturated=saturated,
        illumination_uniformity=uniformity,
        background_edges=edges,
        problems=tuple(problems),
    )


def _eyes(crop: np.ndarray) -> int:
    """Eyes found in the upper 60 % of the face box, at most one per half of it."""
    height, width = crop.shape
    upper = crop[: height * 6 // 10]
    hits = _cascade("haarcascade_eye.xml").detectMultiScale(
        upper, scaleFactor=1.05, minNeighbors=3, minSize=(max(8, width // 8),) * 2
    )
    halves = {int(x + w / 2 >= width / 2) for x, _, w, _ in hits}
    return len(halves)


def _background_edges(image: np.ndarray, face: FaceBox) -> float | None:
    """Share of edge pixels beside and above the person (None when nothing is left).

    The person is the face box widened by 60 % of its width each side, from half a
    face above it down to the bottom of the frame (hair, covering, shoulders).
    """
    import cv2

    mask = np.ones(image.shape, dtype=bool)
    x0 = max(0, round(face.x - 0.6 * face.width))
    x1 = min(image.shape[1], round(face.x + 1.6 * face.width))
    y0 = max(0, round(face.y - 0.5 * face.height))
    mask[y0:, x0:x1] = False
    if mask.sum() < image.size * 0.05:
        return None
    edges = cv2.Canny(cv2.GaussianBlur(image, (3, 3), 0), 40, 120) > 0
    return float(edges[mask].mean())
