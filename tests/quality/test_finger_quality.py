"""The NFIQ 2-style finger score: its parts on images whose answer is known, then the
simulator's clean and spoilt fingers, and both sensor models read over the wire."""

from __future__ import annotations

import math

import numpy as np
import pytest

from capture.finger_quality import (
    BLOCK,
    FingerProblem,
    _clarity,
    _orientation,
    assess_finger,
    assess_finger_image,
)
from capture.minutiae import binarise, minutiae, thin
from capture.prompts import CATALOGUE
from capture.quality_errors import ImageUnreadable
from hal.fingerprint import R30xSensor
from hal.types import FingerPosition, SensorModel
from hw_sim.fingerprint_emulator import FingerprintEmulator
from hw_sim.fingerprints import IMAGE_SIZE, _decode, ridge_image, template_of
from hw_sim.fingers import Finger, FingerCondition

FINGERS = [(seed, 1 + seed % 10) for seed in range(6)]


def grating(size: int = BLOCK, period: float = 9.0, angle: float = 0.3) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size]
    phase = 2 * math.pi * (xs * math.cos(angle) + ys * math.sin(angle)) / period
    return 128 + 100 * np.cos(phase)


def finger(seed: int, position: int, condition: FingerCondition = FingerCondition.OK):
    pixels = ridge_image(seed, position, 0, condition)
    return np.frombuffer(pixels, np.uint8).reshape(IMAGE_SIZE[1], IMAGE_SIZE[0])


def test_parallel_ridges_are_certain_and_clear_and_noise_is_neither() -> None:
    ridges = grating()
    gy, gx = np.gradient(ridges)
    certainty, angle = _orientation(gx, gy)
    assert certainty > 0.95
    assert math.isclose(math.cos(angle) ** 2, math.cos(0.3) ** 2, abs_tol=0.02)
    assert _clarity(ridges, angle) > 0.9
    noise = np.random.default_rng(1).uniform(0, 255, (BLOCK, BLOCK))
    gy, gx = np.gradient(noise)
    certainty, angle = _orientation(gx, gy)
    assert certainty < 0.2
    assert _clarity(noise, angle) < 0.6


def test_ridges_too_far_apart_for_a_finger_have_no_clarity() -> None:
    wide = grating(period=30.0)
    gy, gx = np.gradient(wide)
    assert _clarity(wide, _orientation(gx, gy)[1]) == 0.0


def test_thinning_leaves_a_one_pixel_line() -> None:
    bar = np.zeros((20, 40), bool)
    bar[8:13, 5:35] = True
    skeleton = thin(bar)
    assert skeleton.any()
    assert skeleton.sum(axis=0).max() == 1  # one pixel across, everywhere
    assert skeleton[:, 10:30].any(axis=0).all()  # and unbroken along the bar


def test_one_ridge_ending_is_found_where_it_is() -> None:
    """Horizontal ridges, one of which stops at x = 40: one ending there, nothing else."""
    image = np.zeros((64, 96), bool)
    for top in range(4, 60, 8):
        image[top : top + 3, :] = True
    image[28:31, 40:] = False  # the ridge at y = 28..30 ends at x = 39
    mask = np.ones_like(image)
    found = minutiae(thin(image), mask)
    assert [(kind, abs(x - 39) <= 3, abs(y - 29) <= 2) for x, y, kind in found] == [(1, True, True)]


@pytest.mark.parametrize(("seed", "position"), FINGERS)
def test_clean_simulated_fingers_score_high_and_pass(seed: int, position: int) -> None:
    quality = assess_finger(finger(seed, position))
    assert quality.acceptable, quality
    assert quality.score >= 70
    assert quality.minutiae >= 25
    assert set(quality.scores()) == {
        "score",
        "foreground",
        "foreground_mean",
        "orientation_certainty",
        "clarity",
        "minutiae",
    }


#: condition -> the problem every capture of it must show
SPOILT = {
    FingerCondition.DRY: FingerProblem.DRY,
    FingerCondition.WET: FingerProblem.SMUDGED,
    FingerCondition.PARTIAL: FingerProblem.PARTIAL,
    FingerCondition.SMUDGED: FingerProblem.SMUDGED,
    FingerCondition.SCARRED: FingerProblem.UNCLEAR_FLOW,
    FingerCondition.BANDAGED: FingerProblem.NO_FINGER,
    FingerCondition.MISSING: FingerProblem.NO_FINGER,
}


@pytest.mark.parametrize("condition", list(SPOILT), ids=lambda c: c.value)
def test_each_spoilt_finger_fails_for_its_reason(condition: FingerCondition) -> None:
    for seed, position in FINGERS:
        clean = assess_finger(finger(seed, position))
        spoilt = assess_finger(finger(seed, position, condition))
        assert not spoilt.acceptable
        assert SPOILT[condition] in spoilt.problems, (seed, spoilt)
        assert spoilt.score < clean.score


def test_a_wet_finger_is_mostly_called_wet() -> None:
    wet = [assess_finger(finger(s, p, FingerCondition.WET)) for s, p in FINGERS]
    assert sum(FingerProblem.WET in q.problems for q in wet) >= len(wet) * 2 // 3


def test_empty_glass_scores_zero() -> None:
    quality = assess_finger(np.full((288, 256), 230, np.uint8))
    assert quality.score == 0
    assert quality.problems == (FingerProblem.NO_FINGER,)


def test_an_image_too_small_to_judge_is_refused() -> None:
    with pytest.raises(ImageUnreadable, match="at least 64 px a side"):
        assess_finger(np.zeros((40, 40), np.uint8))


def test_every_problem_has_a_prompt_in_both_languages() -> None:
    for problem in FingerProblem:
        indonesian, english = CATALOGUE[problem.prompt_key]
        assert indonesian != english


@pytest.mark.parametrize("model", list(SensorModel), ids=lambda m: m.name)
def test_both_sensor_models_images_are_read_and_judged(model: SensorModel) -> None:
    with (
        FingerprintEmulator(model=model) as emu,
        R30xSensor(port=emu.port, model=model, read_timeout=1.0) as sensor,
    ):
        emu.place(Finger(person_seed=3, position=2))
        sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=2.0)
        image = sensor.upload_image(FingerPosition.RIGHT_INDEX)
        assert int(sensor.probe().detail["library_size"]) == model.library_pages
        emu.place(Finger(person_seed=3, position=2, condition=FingerCondition.PARTIAL))
        sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=2.0)
        partial = sensor.upload_image(FingerPosition.RIGHT_INDEX)
    assert (image.width, image.height) == model.image_size
    quality = assess_finger_image(image)
    assert quality.acceptable, quality
    assert not assess_finger_image(partial).acceptable


@pytest.mark.parametrize(
    ("seed", "position", "model"),
    [(seed, position, SensorModel.R307) for seed, position in FINGERS[:3]]
    + [(*FINGERS[3], SensorModel.R503)],
)
def test_the_extractor_finds_the_minutiae_the_template_lists(
    seed: int, position: int, model: SensorModel
) -> None:
    """The simulator draws its template's minutiae into the ridges; most are found there,
    on the R503's smaller glass too."""
    side, (width, height) = BLOCK, model.image_size
    pixels = ridge_image(seed, position, 0, size=model.image_size)
    grey = np.frombuffer(pixels, np.uint8).reshape(height, width)
    blocks = grey.astype(float).reshape(height // side, side, width // side, side).swapaxes(1, 2)
    mask = np.kron(blocks.std(axis=(2, 3)) >= 18, np.ones((side, side), bool))
    found = minutiae(thin(binarise(grey, mask)), mask)
    template = template_of(seed, position, 0, size=model.image_size)
    edge = 8  # px: a minutia whose ridges the image's edge cuts off cannot be traced
    listed = [
        (x, y)
        for x, y, _, _ in _decode(template)
        if mask[y, x] and edge <= x < width - edge and edge <= y < height - edge
    ]
    near = [any(abs(x - fx) <= 6 and abs(y - fy) <= 6 for fx, fy, _ in found) for x, y in listed]
    assert len(listed) >= 20
    assert sum(near) >= 0.6 * len(listed)
