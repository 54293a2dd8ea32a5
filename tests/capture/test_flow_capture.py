"""The face and the fingers: retries, the best kept forced, exceptions, faults."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from capture.prompts import prompt, word
from hw_sim.fingers import Glass
from hw_sim.portraits import Scene
from simulator.kit import DEMO_AUTHORITY
from storage.files import record_name
from storage.keys import Authority
from storage.model import Policy
from storage.record import open_record
from tests.capture.flows import BACK, DOWN, OK, MakeRig, shown, take_face, to_face, to_fingers

if TYPE_CHECKING:
    from conftest import Rig


def test_face_retake_with_back(rig: Rig) -> None:
    person = to_face(rig)
    camera = rig.sim.devices.camera
    rig.press(OK)
    assert rig.screen == shown("face_ok")
    rig.press(BACK)
    assert rig.state == "face" and rig.screen == shown("face")
    rig.press(OK)
    assert camera.received == [person.seed, person.seed]
    rig.sim.devices.fingerprint.inject("poor-image")
    rig.press(OK)
    assert rig.state == "fingers"
    assert rig.store.journal.load()["face_jpeg"]


def test_dark_face_is_refused_until_the_light_is_back(rig: Rig) -> None:
    to_face(rig)
    camera = rig.sim.devices.camera
    camera.inject("dark")
    tries = rig.store.policy.face_retries
    for attempt in range(1, tries):
        rig.press(OK)
        assert rig.screen == shown("quality.face.too_dark")[:2] + shown(
            "face_retry", attempt=attempt, tries=tries
        )
    assert rig.state == "face" and rig.controller.draft.face_jpeg is None
    camera.clear_faults()
    rig.press(OK)
    assert rig.screen == shown("face_ok")
    assert len(camera.received) == tries
    rig.sim.devices.fingerprint.inject("poor-image")
    rig.press(OK)
    quality = rig.store.journal.load()["face_quality"]
    assert quality["forced"] is False and quality["faces"] == 1 and quality["face_brightness"] > 40


def test_face_best_photo_kept_forced_after_the_tries(rig: Rig) -> None:
    """Two people in frame, then a dark hall: the two-people photo (one failing measure)
    beats the dark ones (several) and is kept, marked forced, when the tries run out."""
    to_face(rig)
    camera = rig.sim.devices.camera
    camera.scene = Scene.TWO_PEOPLE
    rig.press(OK)
    assert rig.screen[:2] == shown("quality.face.several_faces")[:2]
    camera.scene = Scene.DARK_HALL
    for _ in range(rig.store.policy.face_retries - 1):
        rig.press(OK)
    why = prompt("quality.face.several_faces")[0]
    assert rig.screen == shown("face_forced", why=why)
    rig.sim.devices.fingerprint.inject("poor-image")
    rig.press(OK)
    assert rig.state == "fingers"
    quality = rig.controller.draft.face_quality
    assert quality["forced"] is True and quality["faces"] == 2


def test_poor_finger_retried_then_excepted_after_the_tries(rig: Rig) -> None:
    to_fingers(rig)
    tries = rig.store.policy.finger_retries
    finger = prompt("finger.1")[0]
    assert rig.screen == shown("finger_poor", finger=finger, attempt=1, tries=tries)
    for attempt in range(2, tries):
        rig.press(OK)
        assert rig.screen == shown("finger_poor", finger=finger, attempt=attempt, tries=tries)
    rig.press(OK)
    assert rig.screen == shown("finger_give_up", finger=finger, tries=tries)
    rig.press(OK)
    assert rig.state == "finger_exception"
    assert rig.screen[0] == shown("exception_title", rows=1, finger=finger)[0], "over a menu"
    rig.press(BACK)  # changed their mind: back to the finger
    assert rig.state == "fingers"
    assert 1 not in rig.controller.draft.fingers
    rig.press(DOWN)
    rig.choose(prompt("exception.bandaged")[0])
    rig.sim.devices.fingerprint.clear_faults()
    rig.press(OK)
    draft = rig.controller.draft
    assert draft.fingers[1].exception == "bandaged"
    assert rig.state == "signature"  # the other nine read well
    assert sum(1 for f in draft.fingers.values() if f.image_png) == 9
    assert rig.audit("finger-exception")[0]["why"] == "bandaged"


def test_poor_finger_kept_forced_after_the_tries_with_its_scores(make_rig: MakeRig) -> None:
    """Worn fingers image, below the policy's score every time: the best is kept, forced."""
    rig = make_rig(policy=Policy(fingers=(1, 6)))
    to_face(rig)
    rig.world.glass = Glass.POOR
    take_face(rig)
    policy = rig.store.policy
    tries, finger = policy.finger_retries, prompt("finger.1")[0]
    assert rig.state == "fingers"
    assert rig.screen[0] == shown("finger_retry", finger=finger, attempt=1, tries=tries)[0]
    for _ in range(2, tries + 1):
        rig.press(OK)
    assert rig.state == "fingers" and list(rig.controller.draft.fingers) == [1]
    for _ in range(2, tries + 1):
        rig.press(OK)
    assert rig.state == "signature", rig.screen
    kept = rig.controller.draft.fingers[1]
    assert kept.forced and kept.quality < policy.min_finger_quality
    assert kept.scores["score"] == kept.quality and kept.scores["clarity"] < 1
    assert rig.controller.draft.fingers[6].forced
    rig.press(OK)
    rig.press(OK)
    assert rig.state in ("printing", "done"), rig.screen
    authority = Authority.load(rig.data_dir / DEMO_AUTHORITY)
    body = open_record((rig.store.records_dir / record_name(1)).read_bytes(), authority)
    thumb = next(f for f in body.fingers if f.position == 1)
    assert thumb.forced and thumb.scores == kept.scores
    assert body.face_quality["forced"] is False and body.face_quality["faces"] == 1


def test_officer_excepts_a_finger_with_down(rig: Rig) -> None:
    to_fingers(rig)
    rig.sim.devices.fingerprint.clear_faults()
    rig.press(DOWN)
    assert rig.state == "finger_exception"
    rig.press(OK)  # the first reason: missing
    assert rig.state == "signature"
    assert rig.controller.draft.fingers[1].exception == "missing"
    assert rig.controller.approval is None  # one excepted finger needs nobody's approval


def test_a_finger_job_failing_otherwise_is_named_and_retried(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A driver bug reported as the job's outcome is shown, as any fault: the loop goes on."""
    sensor = rig.sim.devices.fingerprint
    upload = sensor.upload_image
    failures = [ValueError("frame has 3 bytes too many")]

    def fail_once(*args: object, **kwargs: object) -> object:
        if failures:
            raise failures.pop()
        return upload(*args, **kwargs)

    to_fingers(rig)
    sensor.clear_faults()
    monkeypatch.setattr(sensor, "upload_image", fail_once)
    rig.press(OK)
    assert rig.state == "fingers"
    problem, check = prompt("fault.unknown")  # a bug, not a part's fault: no driver's text
    device = word("device.fingerprint")
    assert rig.screen == shown("device_error", device=device, problem=problem, check=check)
    rig.press(OK)
    assert rig.state == "signature"


def test_policy_without_fingers_goes_from_face_to_signature(make_rig: MakeRig) -> None:
    rig = make_rig(policy=Policy(print_on_site=True, fingers=(), allow_no_fingers=True))
    to_face(rig)
    take_face(rig)
    assert rig.state == "signature"
    assert rig.controller.draft.fingers == {}
