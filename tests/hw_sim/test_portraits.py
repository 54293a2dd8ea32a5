"""Synthetic portraits and the simulated camera."""

from __future__ import annotations

import io
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageFilter, ImageStat

from hal.contracts import Camera
from hal.exc import DeviceAbsent, DeviceTimeout
from hw_sim.portraits import SIZE, SimCamera, empty_room_jpeg, portrait_jpeg


def _image(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    return image.convert("RGB")


def _mean(jpeg: bytes) -> float:
    """Mean grey level, 0..255."""
    return ImageStat.Stat(_image(jpeg).convert("L")).mean[0]


def _difference(a: bytes, b: bytes) -> float:
    """Mean absolute pixel difference, 0..255."""
    delta = ImageChops.difference(_image(a).convert("L"), _image(b).convert("L"))
    return ImageStat.Stat(delta).mean[0]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**40), capture=st.integers(0, 50))
def test_same_seed_and_capture_give_the_same_bytes(seed: int, capture: int) -> None:
    first = portrait_jpeg(seed, capture=capture)
    assert first == portrait_jpeg(seed, capture=capture)
    assert first[:2] == b"\xff\xd8" and first[-2:] == b"\xff\xd9"
    assert _image(first).size == SIZE


def test_different_people_look_different() -> None:
    faces = [portrait_jpeg(seed) for seed in range(6)]
    for index, face in enumerate(faces):
        for other in faces[index + 1 :]:
            assert _difference(face, other) > 3.0


def test_captures_of_one_person_vary_in_brightness() -> None:
    means = [_mean(portrait_jpeg(42, capture=capture)) for capture in range(6)]
    assert max(means) - min(means) > 15


def test_every_retake_is_a_new_photo() -> None:
    assert _difference(portrait_jpeg(7, capture=0), portrait_jpeg(7, capture=1)) > 1.0
    assert len({portrait_jpeg(7, capture=n) for n in range(3)}) == 3


def test_size_is_honoured() -> None:
    assert _image(portrait_jpeg(1, size=(300, 400))).size == (300, 400)


def test_empty_room_has_nobody_in_it() -> None:
    room = _image(empty_room_jpeg())
    lows = ImageStat.Stat(room.convert("L")).extrema[0]
    face = _image(portrait_jpeg(3))
    # a plain wall has no dark hair, eyes or clothes; a person always has dark eyes
    assert lows[0] > face.convert("L").getextrema()[0] + 40


def test_sim_camera_photographs_whoever_stands_in_front() -> None:
    standing: list[int | None] = [5]
    with SimCamera(lambda: standing[0]) as camera:
        assert isinstance(camera, Camera)
        first = camera.capture(timeout=1.0)
        second = camera.capture(timeout=1.0)
        standing[0] = None
        room = camera.capture(timeout=1.0)
    assert (first.width, first.height) == SIZE
    assert first.jpeg == portrait_jpeg(5, capture=0)
    assert second.jpeg == portrait_jpeg(5, capture=1)
    assert room.jpeg == empty_room_jpeg(capture=0)
    assert camera.received == [5, 5, None]


def test_a_still_counts_as_taken_only_once_its_frame_can_be_shown() -> None:
    """The web page asks for ``camera.jpg`` as soon as ``received`` grows; a count that ran
    ahead of the frame answered 404 and the page kept a broken image (a CI failure)."""
    seen: list[tuple[int, bool]] = []
    done = threading.Event()
    camera = SimCamera(lambda: 4)

    def watch() -> None:
        while not done.is_set():
            seen.append((len(camera.received), camera.last_frame is not None))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        camera.capture(timeout=1.0)
    finally:
        done.set()
        watcher.join()
    assert (0, False) in seen, "the watcher ran while the still was being taken"
    assert all(frame for count, frame in seen if count), "a still was counted before its frame"


def test_sim_camera_faults() -> None:
    camera = SimCamera(lambda: 9)
    camera.inject("dark")
    dark = camera.capture(timeout=1.0)
    assert _mean(dark.jpeg) < 25
    camera.clear_faults()
    assert _mean(camera.capture(timeout=1.0).jpeg) > 80
    camera.inject("hang")
    with pytest.raises(DeviceTimeout):
        camera.capture(timeout=1.0)
    camera.inject("unplugged")
    with pytest.raises(DeviceAbsent, match="ribbon cable"):
        camera.probe()
    with pytest.raises(ValueError, match="valid kinds: unplugged, dark"):
        camera.inject("smudge")
    camera.clear_faults()
    assert camera.probe().model == "simulated camera"
    camera.close()
    camera.close()
    with pytest.raises(DeviceAbsent, match="closed"):
        camera.capture(timeout=1.0)


def test_blur_fault_softens_the_picture() -> None:
    camera = SimCamera(lambda: 11)
    sharp = _image(camera.capture(timeout=1.0).jpeg)
    camera.inject("blur")
    soft = _image(camera.capture(timeout=1.0).jpeg)

    def edges(image: Image.Image) -> float:
        return ImageStat.Stat(image.convert("L").filter(ImageFilter.FIND_EDGES)).mean[0]

    assert edges(soft) < edges(sharp) / 2
