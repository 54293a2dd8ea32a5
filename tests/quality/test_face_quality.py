"""Face quality on real photos (scikit-image's astronaut and LFW) and the simulator's.

The real photos ship inside the scikit-image wheel, so nothing is downloaded.  Each
degraded copy must fail the measure it spoils, and the clean one must pass them all.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from capture.face_quality import (
    FaceProblem,
    FaceQuality,
    assess_face,
    assess_portrait,
    decode_grey,
    detect_faces,
)
from capture.prompts import CATALOGUE
from capture.quality_errors import ImageUnreadable
from hw_sim.portraits import Scene, SimCamera, portrait_jpeg

SEEDS = range(8)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)


@pytest.fixture(scope="module")
def framed(astronaut: np.ndarray) -> np.ndarray:
    """The astronaut cropped as the kit frames a portrait: head and shoulders, centred."""
    return astronaut[0:330, 90:340]


def problems(grey: np.ndarray) -> set[FaceProblem]:
    return set(assess_face(grey).problems)


def test_the_framed_astronaut_passes_every_measure(framed: np.ndarray) -> None:
    quality = assess_face(framed)
    assert quality.acceptable, quality
    assert quality.faces == 1 and quality.eyes == 2
    assert 0.3 < quality.head_width < 0.5  # type: ignore[operator]
    scores = quality.scores()
    assert set(scores) >= {"faces", "head_width", "eyes", "sharpness", "face_brightness"}
    assert all(not isinstance(v, float) or v == round(v, 4) for v in scores.values())


def test_a_dark_copy_is_too_dark(framed: np.ndarray) -> None:
    assert FaceProblem.TOO_DARK in problems((framed * 0.2).astype(np.uint8))


def test_a_blurred_copy_is_blurred(framed: np.ndarray) -> None:
    assert FaceProblem.BLURRED in problems(cv2.GaussianBlur(framed, (0, 0), 4))
    assert (
        assess_face(cv2.GaussianBlur(framed, (0, 0), 4)).sharpness < assess_face(framed).sharpness
    )  # type: ignore[operator]


def test_a_blown_out_copy_is_too_bright(framed: np.ndarray) -> None:
    assert FaceProblem.TOO_BRIGHT in problems(cv2.convertScaleAbs(framed, alpha=1.8, beta=40))


def test_an_off_centre_crop_is_off_centre(astronaut: np.ndarray) -> None:
    assert FaceProblem.OFF_CENTRE in problems(astronaut[0:330, 150:400])


def test_two_faces_side_by_side_are_several(framed: np.ndarray) -> None:
    quality = assess_face(np.hstack([framed, framed]))
    assert quality.faces == 2
    assert quality.problems == (FaceProblem.SEVERAL_FACES,)


def test_no_face_is_said_so(astronaut: np.ndarray) -> None:
    assert problems(astronaut[300:512, 250:512]) == {FaceProblem.NO_FACE}
    coffee = cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2GRAY)
    assert problems(coffee) == {FaceProblem.NO_FACE}


def test_a_person_far_away_is_told_to_come_closer(framed: np.ndarray) -> None:
    far = cv2.copyMakeBorder(framed, 200, 200, 200, 200, cv2.BORDER_REPLICATE)
    assert FaceProblem.TOO_FAR in problems(far)


def test_the_detector_finds_lfw_faces_and_not_the_non_faces() -> None:
    """LFW's 25 x 25 crops, enlarged and given a margin: 100 faces, then 100 non-faces."""
    crops = (data.lfw_subset() * 255).astype(np.uint8)

    def found(crop: np.ndarray) -> bool:
        big = cv2.resize(crop, (60, 60), interpolation=cv2.INTER_CUBIC)
        return bool(detect_faces(cv2.copyMakeBorder(big, 30, 30, 30, 30, cv2.BORDER_REPLICATE)))

    hits = [found(crop) for crop in crops]
    assert sum(hits[:100]) >= 90
    assert sum(hits[100:]) <= 5


@pytest.mark.parametrize("seed", SEEDS)
def test_the_simulators_clean_portraits_pass(seed: int) -> None:
    quality = assess_face(decode_grey(portrait_jpeg(seed, capture=seed % 3)))
    assert quality.acceptable, quality.problems


#: scene -> the problems any of which it must cause, and the one most frames must show
SPOILT = {
    Scene.DARK_HALL: ({FaceProblem.TOO_DARK}, FaceProblem.TOO_DARK, 1.0),
    Scene.WINDOW_BEHIND: ({FaceProblem.TOO_BRIGHT}, FaceProblem.TOO_BRIGHT, 1.0),
    Scene.SIDE_LAMP: (set(FaceProblem), FaceProblem.UNEVEN_LIGHT, 0.8),
    Scene.OFF_CENTRE: (set(FaceProblem), FaceProblem.OFF_CENTRE, 0.9),
    Scene.FACE_TURNED: (
        {FaceProblem.FACE_TURNED, FaceProblem.EYES_NOT_FOUND, FaceProblem.NO_FACE},
        None,
        0.0,
    ),
    Scene.TWO_PEOPLE: (
        {FaceProblem.SEVERAL_FACES, FaceProblem.OFF_CENTRE},
        FaceProblem.SEVERAL_FACES,
        0.4,
    ),
}


@pytest.mark.parametrize("scene", list(SPOILT), ids=lambda scene: scene.value)
def test_each_spoilt_scene_fails_for_its_reason(scene: Scene) -> None:
    required, typical, share = SPOILT[scene]
    results = [assess_face(decode_grey(portrait_jpeg(seed, scene=scene))) for seed in SEEDS]
    for seed, quality in zip(SEEDS, results, strict=True):
        assert not quality.acceptable, f"seed {seed}"
        assert required & set(quality.problems), f"seed {seed}: {quality.problems}"
    if typical is not None:
        assert sum(typical in q.problems for q in results) >= share * len(results)


def test_a_person_too_close_is_told_to_step_back() -> None:
    grey = decode_grey(portrait_jpeg(2))
    h, w = grey.shape
    near = cv2.resize(grey[h // 5 : h * 3 // 5, w // 5 : w * 4 // 5], (w, h))
    assert FaceProblem.TOO_CLOSE in problems(near)


def test_the_camera_faults_fail_the_matching_measure() -> None:
    camera = SimCamera(lambda: 4)
    assert assess_portrait(camera.capture(timeout=1)).acceptable
    camera.inject("dark")
    assert FaceProblem.TOO_DARK in assess_portrait(camera.capture(timeout=1)).problems
    camera.clear_faults()
    camera.inject("blur")
    assert FaceProblem.BLURRED in assess_portrait(camera.capture(timeout=1)).problems


def test_every_problem_has_a_prompt_in_both_languages() -> None:
    for problem in FaceProblem:
        indonesian, english = CATALOGUE[problem.prompt_key]
        assert indonesian != english
    assert CATALOGUE[FaceProblem.NO_FACE.prompt_key][0].startswith("Wajah tidak terlihat")
    assert "Mendekat ke kamera" in CATALOGUE[FaceProblem.TOO_FAR.prompt_key][0]
    assert CATALOGUE[FaceProblem.TOO_DARK.prompt_key][0].startswith("Terlalu gelap")


def test_bytes_that_are_no_image_are_refused_clearly() -> None:
    with pytest.raises(ImageUnreadable, match=r"not a JPEG or PNG image \(5 bytes\)"):
        decode_grey(b"hello")
    with pytest.raises(ImageUnreadable, match="need 8-bit grey"):
        assess_face(np.zeros((10, 10, 3), np.uint8))


def test_the_result_is_typed_and_without_a_face_the_face_measures_are_none() -> None:
    quality = assess_face(np.full((320, 240), 200, np.uint8))
    assert isinstance(quality, FaceQuality)
    assert quality.problems == (FaceProblem.NO_FACE,)
    assert quality.sharpness is None and quality.eyes is None
