"""Minutiae of a finger image: ridges binarised, thinned to one pixel, crossing numbers.

The textbook extractor (Rutovitz's crossing number on a Zhang-Suen skeleton), enough to
count minutiae for a quality score; the sensor's own extractor makes the templates.

OpenCV is imported where a finger is measured, not with the module, which the kit
imports at boot (see :mod:`capture.face_quality`).
"""

from __future__ import annotations

import numpy as np

#: Minutiae closer than this to each other (px) are a broken ridge or a bridge, not two
#: real minutiae: both are dropped.
MIN_SEPARATION = 6
#: Minutiae this close (px) to the edge of the finger are where ridges leave the print.
EDGE_MARGIN = 10


def binarise(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Ridges (True) where a smoothed pixel is darker than its neighbourhood, inside mask."""
    import cv2

    smooth = cv2.GaussianBlur(image, (5, 5), 1.0).astype(np.float32)
    local = cv2.blur(smooth, (15, 15))
    return (smooth < local) & mask


def thin(ridges: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: ridges peeled two sub-passes at a time to one pixel wide."""
    skeleton = np.pad(ridges.astype(np.uint8), 1)
    while True:
        changed = False
        for first_pass in (True, False):
            p = _neighbours(skeleton)  # P2..P9 clockwise from north
            count = sum(p)
            transitions = sum(
                ((p[i] == 0) & (p[(i + 1) % 8] == 1)).astype(np.uint8) for i in range(8)
            )
            if first_pass:
                side = (p[0] * p[2] * p[4] == 0) & (p[2] * p[4] * p[6] == 0)
            else:
                side = (p[0] * p[2] * p[6] == 0) & (p[0] * p[4] * p[6] == 0)
            inner = skeleton[1:-1, 1:-1]
            peel = (inner == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & side
            if peel.any():
                inner[peel] = 0
                changed = True
        if not changed:
            return skeleton[1:-1, 1:-1].astype(bool)


def _neighbours(padded: np.ndarray) -> list[np.ndarray]:
    """The eight neighbours of every inner pixel, N, NE, E, SE, S, SW, W, NW."""
    h, w = padded.shape[0] - 2, padded.shape[1] - 2
    offsets = ((0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0), (0, 0))
    return [padded[r : r + h, c : c + w].astype(np.int32) for r, c in offsets]


def minutiae(skeleton: np.ndarray, mask: np.ndarray) -> list[tuple[int, int, int]]:
    """(x, y, kind) of each ridge ending (kind 1) and bifurcation (kind 3).

    The crossing number of a skeleton pixel is half the number of 0/1 changes around
    its eight neighbours: 1 at an ending, 3 at a split.  Points near the finger's edge
    and pairs closer than MIN_SEPARATION are dropped as artefacts.
    """
    import cv2

    p = _neighbours(np.pad(skeleton.astype(np.uint8), 1))
    crossing = sum(np.abs(p[i] - p[(i + 1) % 8]) for i in range(8)) // 2
    kernel = np.ones((2 * EDGE_MARGIN + 1,) * 2, np.uint8)
    # the image's own border is an edge too: ridges leave the picture there
    eroded = cv2.erode(mask.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    inside = eroded > 0
    found = [
        (int(x), int(y), int(crossing[y, x]))
        for y, x in zip(
            *np.nonzero(skeleton & inside & ((crossing == 1) | (crossing == 3))), strict=True
        )
    ]
    if len(found) < 2:
        return found
    points = np.array([(x, y) for x, y, _ in found], dtype=np.float32)
    distance = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(distance, np.inf)
    lonely = distance.min(axis=1) >= MIN_SEPARATION
    return [point for point, keep in zip(found, lonely, strict=True) if keep]
