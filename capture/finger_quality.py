"""An NFIQ 2-style quality score 0..100 for a finger image, and what is wrong with it.

NFIQ 2 (ISO/IEC 29794-4) feeds its features into a trained random forest that we do not
have; we keep its open features and combine them with a documented formula instead:

* foreground: 32 x 32 blocks (NFIQ 2's size at 500 ppi) whose grey levels spread;
* OCL, orientation certainty: ``1 - lambda_min / lambda_max`` of each block's gradient
  covariance, 1 for clean parallel ridges and 0 for no direction at all;
* LCS, local clarity: each block seen across its ridges, ridge and valley told apart by
  the block's mean; ``1 - (alpha + beta) / 2`` with alpha the share of valley pixels
  darker than the mean, beta the share of ridge pixels lighter; 0 where ridge or valley
  widths are outside what a finger has;
* minutiae counted on the thinned binarised ridges (:mod:`capture.minutiae`).

Formulas, weights and bounds are in docs/quality.md; the tests hold them against the
simulator's clean and spoilt fingers.
"""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass

import numpy as np

from capture.minutiae import binarise, minutiae, thin
from capture.quality_errors import ImageUnreadable
from hal.types import FingerImage

#: Block side in pixels, NFIQ 2's at 500 ppi (the R307 and R503 image at 500 ppi).
BLOCK = 32
#: A block is finger, not glass, when its grey levels spread (standard deviation) this much.
FOREGROUND_SPREAD = 18.0
#: Ridge and valley widths (px at 500 ppi) a real finger has; outside, the block's LCS is 0.
RIDGE_WIDTH = (2.0, 10.0)


class FingerProblem(enum.Enum):
    """Why a finger image is poor; each has the prompt ``quality.finger.<value>``."""

    NO_FINGER = "no_finger"
    PARTIAL = "partial"
    WET = "wet"
    DRY = "dry"
    SMUDGED = "smudged"
    UNCLEAR_FLOW = "unclear_flow"
    FEW_MINUTIAE = "few_minutiae"
    LOW_SCORE = "low_score"

    @property
    def prompt_key(self) -> str:
        """The key of this problem's prompt in :data:`capture.prompts.CATALOGUE`."""
        return f"quality.finger.{self.value}"


@dataclass(frozen=True)
class FingerBounds:
    """Where each measure must lie; the defaults are documented in docs/quality.md."""

    #: The policy's least score (MOSIP's default for slaps is 40).
    min_score: int = 40
    #: Least share of the image that is finger; below a tenth there is none at all.
    min_foreground: float = 0.30
    no_finger_foreground: float = 0.10
    #: Mean grey of the finger: below, ridges run together (wet); above, they fade (dry).
    foreground_mean: tuple[float, float] = (70.0, 185.0)
    #: Least mean LCS and OCL over the finger.
    min_clarity: float = 0.50
    min_orientation_certainty: float = 0.45
    #: Least minutiae (ISO/IEC 19794-2 practice: a dozen identify a finger).
    min_minutiae: int = 12


#: Where each measure gives full marks and none, for the score (docs/quality.md).
_OCL_RANGE = (0.3, 0.8)
_LCS_RANGE = (0.4, 0.8)
_FULL_FOREGROUND = 0.45
_FULL_MINUTIAE = 25


@dataclass(frozen=True)
class FingerQuality:
    """Every measure of one finger image, its score and what failed."""

    score: int
    foreground: float
    foreground_mean: float
    orientation_certainty: float
    clarity: float
    minutiae: int
    problems: tuple[FingerProblem, ...]

    @property
    def acceptable(self) -> bool:
        return not self.problems

    def scores(self) -> dict[str, float | int]:
        """The measures as plain numbers, rounded, for the record body and ``--json``."""
        values = asdict(self)
        del values["problems"]
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}


def assess_finger_image(image: FingerImage, bounds: FingerBounds | None = None) -> FingerQuality:
    """The measures of a finger the sensor imaged."""
    pixels = np.frombuffer(image.pixels, np.uint8).reshape(image.height, image.width)
    return assess_finger(pixels, bounds)


def assess_finger(grey: np.ndarray, bounds: FingerBounds | None = None) -> FingerQuality:
    """Measure an 8-bit grey finger image at 500 ppi against ``bounds``."""
    bounds = bounds or FingerBounds()
    if grey.ndim != 2 or grey.dtype != np.uint8 or min(grey.shape) < 2 * BLOCK:
        raise ImageUnreadable(
            f"finger image of shape {grey.shape} ({grey.dtype}): need 8-bit grey, "
            f"at least {2 * BLOCK} px a side"
        )
    rows, cols = grey.shape[0] // BLOCK, grey.shape[1] // BLOCK
    image = grey[: rows * BLOCK, : cols * BLOCK].astype(np.float64)
    blocks = image.reshape(rows, BLOCK, cols, BLOCK).swapaxes(1, 2)
    finger = blocks.std(axis=(2, 3)) >= FOREGROUND_SPREAD
    foreground = float(finger.mean())
    gy, gx = (np.asarray(axis) for axis in np.gradient(image))
    ocl_values, lcs_values = [], []
    for r, c in zip(*np.nonzero(finger), strict=True):
        window = np.s_[r * BLOCK : (r + 1) * BLOCK, c * BLOCK : (c + 1) * BLOCK]
        certainty, angle = _orientation(gx[window], gy[window])
        ocl_values.append(certainty)
        lcs_values.append(_clarity(image[window], angle))
    mask = np.kron(finger, np.ones((BLOCK, BLOCK), dtype=bool))
    if finger.any():
        mean = float(image[mask].mean())
        skeleton = thin(binarise(grey[: rows * BLOCK, : cols * BLOCK], mask))
        count = len(minutiae(skeleton, mask))
    else:
        mean, count = float(image.mean()), 0
    ocl = float(np.mean(ocl_values)) if ocl_values else 0.0
    lcs = float(np.mean(lcs_values)) if lcs_values else 0.0
    score = _score(foreground, ocl, lcs, count)
    return FingerQuality(
        score=score,
        foreground=foreground,
        foreground_mean=mean,
        orientation_certainty=ocl,
        clarity=lcs,
        minutiae=count,
        problems=_problems(bounds, score, foreground, mean, ocl, lcs, count),
    )


def _orientation(gx: np.ndarray, gy: np.ndarray) -> tuple[float, float]:
    """OCL of a block and the direction of its gradients (across the ridges), radians."""
    a, b, c = float((gx * gx).mean()), float((gy * gy).mean()), float((gx * gy).mean())
    root = math.sqrt((a - b) ** 2 + 4 * c * c)
    high, low = (a + b + root) / 2, (a + b - root) / 2
    certainty = 0.0 if high <= 0 else 1.0 - low / high
    return certainty, 0.5 * math.atan2(2 * c, a - b)


def _clarity(block: np.ndarray, angle: float) -> float:
    """LCS of a block whose gradients point at ``angle`` (Chen, Tan and Jain, 2005)."""
    side = block.shape[0]
    ys, xs = np.mgrid[0:side, 0:side] - (side - 1) / 2
    across = np.round(xs * math.cos(angle) + ys * math.sin(angle)).astype(int)
    across -= across.min()
    sums = np.bincount(across.ravel(), weights=block.ravel())
    counts = np.bincount(across.ravel())
    profile = sums / np.maximum(counts, 1)
    threshold = float(block.mean())
    ridge_columns = profile < threshold  # ridges are dark
    widths = np.diff(np.flatnonzero(np.diff(ridge_columns.astype(np.int8)) != 0))
    if len(widths) < 2 or not RIDGE_WIDTH[0] <= widths.mean() <= RIDGE_WIDTH[1]:
        return 0.0
    in_ridge = ridge_columns[across]
    alpha = float((block[~in_ridge] < threshold).mean()) if (~in_ridge).any() else 1.0
    beta = float((block[in_ridge] >= threshold).mean()) if in_ridge.any() else 1.0
    return 1.0 - (alpha + beta) / 2


def _ramp(value: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (value - low) / (high - low)))


def _score(foreground: float, ocl: float, lcs: float, count: int) -> int:
    """100 x area x (0.4 OCL + 0.4 LCS + 0.2 minutiae), each mark ramped to 0..1."""
    area = min(1.0, foreground / _FULL_FOREGROUND)
    ridges = 0.4 * _ramp(ocl, *_OCL_RANGE) + 0.4 * _ramp(lcs, *_LCS_RANGE)
    return round(100 * area * (ridges + 0.2 * min(1.0, count / _FULL_MINUTIAE)))


def _problems(
    bounds: FingerBounds,
    score: int,
    foreground: float,
    mean: float,
    ocl: float,
    lcs: float,
    count: int,
) -> tuple[FingerProblem, ...]:
    if foreground < bounds.no_finger_foreground:
        return (FingerProblem.NO_FINGER,)
    problems = []
    if foreground < bounds.min_foreground:
        problems.append(FingerProblem.PARTIAL)
    if mean < bounds.foreground_mean[0]:
        problems.append(FingerProblem.WET)
    elif mean > bounds.foreground_mean[1]:
        problems.append(FingerProblem.DRY)
    if lcs < bounds.min_clarity:
        problems.append(FingerProblem.SMUDGED)
    if ocl < bounds.min_orientation_certainty:
        problems.append(FingerProblem.UNCLEAR_FLOW)
    if count < bounds.min_minutiae:
        problems.append(FingerProblem.FEW_MINUTIAE)
    if score < bounds.min_score:
        problems.append(FingerProblem.LOW_SCORE)
    return tuple(problems)
