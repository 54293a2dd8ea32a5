"""The picamera2 driver against a stand-in picamera2 module (libcamera exists on the Pi only)."""

from __future__ import annotations

import logging
import sys
import threading
import types
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_mock import MockerFixture

from hal.camera import PORTRAIT_SIZE, PiCamera
from hal.contracts import Camera
from hal.exc import DeviceAbsent, DeviceBusy, DeviceError, DeviceTimeout, ProtocolError
from hw_sim.portraits import portrait_jpeg

STILL = portrait_jpeg(3, size=(120, 160))


@pytest.fixture
def picam(mocker: MockerFixture, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The Picamera2 instance the driver will get, with a Camera Module 3's controls."""
    instance = mocker.MagicMock(name="Picamera2()")
    instance.camera_controls = {"AfMode": (0, 2, 0), "ExposureTime": (1, 66666, None)}
    instance.camera_properties = {"Model": "imx708", "PixelArraySize": (4608, 2592)}
    instance.create_still_configuration.return_value = {"main": {"size": PORTRAIT_SIZE}}
    instance.autofocus_cycle.return_value = True
    instance.capture_file.side_effect = lambda file, format: file.write(STILL)
    module = types.ModuleType("picamera2")
    module.Picamera2 = mocker.MagicMock(name="Picamera2", return_value=instance)
    monkeypatch.setitem(sys.modules, "picamera2", module)
    return instance


@pytest.fixture
def camera(picam: Any) -> Iterator[PiCamera]:
    with PiCamera() as camera:
        yield camera


def test_configures_a_portrait_still_and_starts(camera: PiCamera, picam: Any) -> None:
    assert isinstance(camera, Camera)
    picam.create_still_configuration.assert_called_once_with(main={"size": (960, 1280)})
    picam.configure.assert_called_once_with(picam.create_still_configuration.return_value)
    picam.start.assert_called_once_with()


def test_capture_returns_the_jpeg_with_its_size(camera: PiCamera, picam: Any) -> None:
    portrait = camera.capture(timeout=5.0)
    assert portrait.jpeg == STILL
    assert (portrait.width, portrait.height) == (120, 160)
    assert picam.capture_file.call_args.kwargs == {"format": "jpeg"}


def test_autofocus_runs_before_the_still_when_the_camera_has_it(
    camera: PiCamera, picam: Any
) -> None:
    order: list[str] = []
    picam.autofocus_cycle.side_effect = lambda: order.append("focus") or True
    picam.capture_file.side_effect = lambda file, format: order.append("still") or file.write(STILL)
    camera.capture(timeout=5.0)
    assert order == ["focus", "still"]


def test_no_autofocus_without_af_mode(picam: Any) -> None:
    picam.camera_controls = {"ExposureTime": (1, 66666, None)}
    with PiCamera() as camera:
        camera.capture(timeout=5.0)
        assert camera.probe().detail["autofocus"] == "no"
    picam.autofocus_cycle.assert_not_called()


def test_autofocus_can_be_switched_off(picam: Any) -> None:
    with PiCamera(autofocus=False) as camera:
        camera.capture(timeout=5.0)
    picam.autofocus_cycle.assert_not_called()


def test_failed_focus_is_logged_and_the_still_taken(
    camera: PiCamera, picam: Any, caplog: pytest.LogCaptureFixture
) -> None:
    picam.autofocus_cycle.return_value = False
    with caplog.at_level(logging.WARNING, logger="hal.camera"):
        portrait = camera.capture(timeout=5.0)
    assert portrait.jpeg == STILL
    assert "autofocus did not lock" in caplog.text


def test_missing_picamera2_is_absent_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # makes the import fail
    with pytest.raises(DeviceAbsent, match="picamera2") as caught:
        PiCamera(name="face camera")
    message = str(caught.value)
    assert "python3-picamera2" in message
    assert "--system-site-packages" in message
    assert "jemput[pi]" in message
    assert caught.value.device == "face camera"


def test_no_camera_connected_is_absent(picam: Any) -> None:
    sys.modules["picamera2"].Picamera2.side_effect = IndexError("list index out of range")
    with pytest.raises(DeviceAbsent, match="ribbon cable"):
        PiCamera()


def test_a_camera_that_will_not_start_is_released(picam: Any) -> None:
    picam.start.side_effect = RuntimeError("Failed to start camera")
    with pytest.raises(DeviceError, match="would not start at 960x1280"):
        PiCamera()
    picam.close.assert_called_once_with()


def test_a_hung_capture_times_out_and_then_the_camera_is_busy(picam: Any) -> None:
    release = threading.Event()
    picam.capture_file.side_effect = lambda file, format: release.wait(10)
    camera = PiCamera()
    try:
        with pytest.raises(DeviceTimeout, match=r"no still within 0\.2 s"):
            camera.capture(timeout=0.2)
        with pytest.raises(DeviceBusy, match="still hung"):
            camera.capture(timeout=0.2)
    finally:
        release.set()
        camera.close()
    assert not any(t.name == "camera-capture" for t in threading.enumerate())


def test_a_failing_capture_is_a_device_error(camera: PiCamera, picam: Any) -> None:
    picam.capture_file.side_effect = RuntimeError("Camera frontend has timed out!")
    with pytest.raises(DeviceError, match="frontend has timed out") as caught:
        camera.capture(timeout=5.0)
    assert caught.value.device == "camera"


def test_bytes_that_are_not_a_jpeg_are_a_protocol_error(camera: PiCamera, picam: Any) -> None:
    picam.capture_file.side_effect = lambda file, format: file.write(b"\x00" * 64)
    with pytest.raises(ProtocolError, match="not a JPEG"):
        camera.capture(timeout=5.0)


def test_probe_names_the_sensor(camera: PiCamera) -> None:
    info = camera.probe()
    assert info.model == "imx708"
    assert info.detail == {"size": "960x1280", "autofocus": "yes", "sensor": "4608x2592"}


def test_close_twice_stops_once(picam: Any) -> None:
    camera = PiCamera()
    camera.close()
    camera.close()
    picam.stop.assert_called_once_with()
    picam.close.assert_called_once_with()
    with pytest.raises(DeviceAbsent, match="closed"):
        camera.capture(timeout=1.0)
