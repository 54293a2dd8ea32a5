"""Synthetic fingerprints: repeatable, distinct per finger, degraded by condition."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hal.types import SensorModel
from hw_sim.fingerprints import (
    IMAGE_SIZE,
    MATCH_THRESHOLD,
    MAX_SCORE,
    TEMPLATE_SIZE,
    _decode,
    match_score,
    ridge_image,
    template_of,
)
from hw_sim.fingers import FingerCondition

PIXELS = IMAGE_SIZE[0] * IMAGE_SIZE[1]
#: The most minutiae dirt and noise add to one capture's template.
SPURIOUS = 4


def spread(pixels: bytes) -> float:
    return statistics.pstdev(pixels[::7])


def test_images_are_8_bit_and_repeatable() -> None:
    first = ridge_image(1, 2, 0, FingerCondition.OK)
    assert len(first) == PIXELS
    assert ridge_image(1, 2, 0, FingerCondition.OK) == first


def test_each_capture_differs_but_keeps_the_ridges() -> None:
    one, two = ridge_image(1, 2, 0), ridge_image(1, 2, 1)
    other = ridge_image(1, 3, 0)
    assert one != two
    # the same finger differs by noise and shift, another finger by everything
    same = sum(abs(a - b) for a, b in zip(one[::11], two[::11], strict=True))
    different = sum(abs(a - b) for a, b in zip(one[::11], other[::11], strict=True))
    assert same < different


def test_a_smaller_glass_sees_the_middle_of_the_same_finger() -> None:
    """The R503 (192 x 192) and the R307 (256 x 288) image at about 500 dpi: the R503's
    image is the middle of the R307's, and its template lists the minutiae in that middle."""
    width, height = size = SensorModel.R503.image_size
    left, top = (IMAGE_SIZE[0] - width) // 2, (IMAGE_SIZE[1] - height) // 2
    small = np.frombuffer(ridge_image(1, 2, 0, size=size), np.uint8).reshape(height, width)
    whole = np.frombuffer(ridge_image(1, 2, 0), np.uint8).reshape(IMAGE_SIZE[1], IMAGE_SIZE[0])
    assert (small == whole[top : top + height, left : left + width]).all()
    shifted = {(x - left, y - top, a, k) for x, y, a, k in _decode(template_of(1, 2, 0))}
    inside = {(x, y, a, k) for x, y, a, k in shifted if 0 <= x < width and 0 <= y < height}
    seen = set(_decode(template_of(1, 2, 0, size=size)))
    assert len(inside) >= 20
    assert len(seen ^ inside) <= 2 * SPURIOUS  # only the spurious minutiae differ


def test_a_glass_larger_than_the_simulated_view_is_refused() -> None:
    with pytest.raises(ValueError, match="300x300 glass does not fit"):
        ridge_image(1, 2, 0, size=(300, 300))


def test_conditions_degrade_the_image() -> None:
    ok = spread(ridge_image(4, 1, 0, FingerCondition.OK))
    scarred = spread(ridge_image(4, 1, 0, FingerCondition.SCARRED))
    bandaged = spread(ridge_image(4, 1, 0, FingerCondition.BANDAGED))
    missing = ridge_image(4, 1, 0, FingerCondition.MISSING)
    assert ok > 2 * scarred > 0
    assert bandaged < 10
    assert spread(missing) < 10
    assert statistics.mean(missing[::7]) > statistics.mean(
        ridge_image(4, 1, 0, FingerCondition.BANDAGED)[::7]
    )


def test_templates_are_512_bytes_and_repeatable() -> None:
    template = template_of(9, 3, 2)
    assert len(template) == TEMPLATE_SIZE
    assert template_of(9, 3, 2) == template
    assert template_of(9, 3, 3) != template


@settings(max_examples=25, deadline=None)
@given(
    person=st.integers(min_value=0, max_value=10**6),
    position=st.integers(min_value=1, max_value=10),
    captures=st.tuples(st.integers(0, 50), st.integers(0, 50)).filter(lambda c: c[0] != c[1]),
    model=st.sampled_from(SensorModel),
)
def test_same_finger_matches_across_captures(
    person: int, position: int, captures: tuple[int, int], model: SensorModel
) -> None:
    first, second = (template_of(person, position, c, size=model.image_size) for c in captures)
    assert MATCH_THRESHOLD <= match_score(first, second) <= MAX_SCORE


def test_different_fingers_do_not_match() -> None:
    probe = template_of(1, 2, 0)
    scores = [
        match_score(probe, template_of(person, position, 0))
        for person in range(1, 6)
        for position in range(1, 11)
        if (person, position) != (1, 2)
    ]
    assert max(scores) < MATCH_THRESHOLD // 2


def test_match_is_symmetric_enough_and_self_match_is_high() -> None:
    a, b = template_of(3, 3, 0), template_of(3, 3, 1)
    assert match_score(a, a) == MAX_SCORE
    assert abs(match_score(a, b) - match_score(b, a)) < 30


@pytest.mark.parametrize("junk", [b"", bytes(512), b"\xff" * 512, b"JT\x01"])
def test_foreign_bytes_score_zero(junk: bytes) -> None:
    assert match_score(junk, template_of(1, 1)) == 0
