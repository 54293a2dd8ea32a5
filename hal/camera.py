"""The face camera: a Raspberry Pi Camera Module 3 through picamera2.

picamera2 needs libcamera, which comes with Raspberry Pi OS (``python3-picamera2``) and
not from the package registry, so it is imported only when a ``PiCamera`` is built:
the rest of Jemput, and the simulator, run on machines that have neither.

picamera2 calls can block for ever when the sensor or its ribbon cable misbehaves, so
every capture runs on a worker thread and the caller waits only until its deadline.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from typing import Any

from PIL import Image

from hal.contracts import Closing
from hal.exc import DeviceAbsent, DeviceBusy, DeviceError, DeviceTimeout, ProtocolError
from hal.types import DeviceInfo, Portrait

log = logging.getLogger(__name__)

#: The e-KTP photo is a 3 x 4 "pas foto": a portrait still, width x height in pixels.
#: The ISP crops the centre of the 16:9 sensor to 3:4, keeping its full height for
#: head and shoulders; 960 x 1280 is ample for the card and keeps records small.
PORTRAIT_SIZE = (960, 1280)

#: The control a camera with autofocus lists in ``camera_controls`` (Camera Module 3).
AF_CONTROL = "AfMode"

#: How long close() waits for a capture still under way to give up.
CLOSE_JOIN_SECONDS = 2.0

INSTALL_HINT = (
    "install the `pi` extra (pip install 'jemput[pi]') or the Raspberry Pi OS package "
    "python3-picamera2, and create the venv with --system-site-packages so libcamera is seen"
)


class PiCamera(Closing):
    """A still camera on picamera2; satisfies :class:`hal.contracts.Camera`."""

    def __init__(
        self,
        *,
        size: tuple[int, int] = PORTRAIT_SIZE,
        name: str = "camera",
        autofocus: bool = True,
    ) -> None:
        self.name = name
        self.size = size
        self.autofocus = autofocus
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        try:
            from picamera2 import Picamera2  # here, not at the top: libcamera is on the Pi only
        except ImportError as exc:
            raise DeviceAbsent(
                f"{name}: picamera2 is not available: {INSTALL_HINT}", device=name
            ) from exc
        try:
            self._cam: Any = Picamera2()
        except (RuntimeError, IndexError, OSError) as exc:
            raise DeviceAbsent(
                f"{name}: no camera found ({exc}); check the ribbon cable at both ends and "
                "that the camera is enabled (rpicam-hello --list-cameras)",
                device=name,
            ) from exc
        try:
            config = self._cam.create_still_configuration(main={"size": size})
            self._cam.configure(config)
            self._cam.start()
        except Exception as exc:
            self._cam.close()
            self._cam = None
            raise DeviceError(
                f"{name}: the camera would not start at {size[0]}x{size[1]} ({exc}); "
                "check the ribbon cable and power, then restart the kit",
                device=name,
            ) from exc

    def __repr__(self) -> str:
        state = "closed" if self._cam is None else "open"
        return f"PiCamera(name={self.name!r}, size={self.size}, {state})"

    def capture(self, *, timeout: float) -> Portrait:
        """Focus (where the camera can) and take one JPEG still within ``timeout`` seconds.

        A failed focus is logged and the still taken anyway: a soft photo the quality
        check can refuse is better than none.  If the deadline passes the worker is left
        to finish, and the camera answers DeviceBusy until it has.
        """
        cam = self._open()
        deadline = time.monotonic() + timeout
        result: list[bytes] = []
        failure: list[BaseException] = []

        def work() -> None:
            try:
                result.append(self._take(cam))
            except Exception as exc:  # picamera2 raises builtins; handed to the caller
                failure.append(exc)

        with self._lock:
            if self._worker is not None and self._worker.is_alive():
                raise DeviceBusy(
                    f"{self.name}: an earlier capture is still hung; wait, or restart the kit "
                    "if it stays so",
                    device=self.name,
                )
            worker = threading.Thread(target=work, name=f"{self.name}-capture", daemon=True)
            self._worker = worker
            worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            raise DeviceTimeout(
                f"{self.name}: no still within {timeout:g} s; check the ribbon cable",
                device=self.name,
            )
        if failure:
            raise DeviceError(
                f"{self.name}: capture failed ({failure[0]}); retry, and check the ribbon "
                "cable if it fails again",
                device=self.name,
            ) from failure[0]
        return self._portrait(result[0])

    def probe(self) -> DeviceInfo:
        """Report the sensor model picamera2 found, and whether it can focus."""
        cam = self._open()
        properties = cam.camera_properties
        detail = {
            "size": f"{self.size[0]}x{self.size[1]}",
            "autofocus": "yes" if AF_CONTROL in cam.camera_controls else "no",
        }
        if "PixelArraySize" in properties:
            width, height = properties["PixelArraySize"]
            detail["sensor"] = f"{width}x{height}"
        return DeviceInfo(
            name=self.name, model=str(properties.get("Model", "unknown")), detail=detail
        )

    def close(self) -> None:
        """Stop and release the camera, then let a hung capture go; safe to call twice."""
        cam, self._cam = self._cam, None
        if cam is None:
            return
        try:
            cam.stop()
        finally:
            cam.close()
            if self._worker is not None:
                self._worker.join(CLOSE_JOIN_SECONDS)

    def _open(self) -> Any:
        if self._cam is None:
            raise DeviceAbsent(f"{self.name} is closed: reopen it first", device=self.name)
        return self._cam

    def _take(self, cam: Any) -> bytes:
        if self.autofocus and AF_CONTROL in cam.camera_controls and not cam.autofocus_cycle():
            log.warning("%s: autofocus did not lock; taking the still anyway", self.name)
        buffer = io.BytesIO()
        cam.capture_file(buffer, format="jpeg")
        return buffer.getvalue()

    def _portrait(self, jpeg: bytes) -> Portrait:
        """Check the bytes are a JPEG and read its real size from the header."""
        try:
            with Image.open(io.BytesIO(jpeg)) as image:
                if image.format != "JPEG":
                    raise ValueError(f"got {image.format}")
                width, height = image.size
        except (OSError, ValueError) as exc:
            raise ProtocolError(
                f"{self.name}: the still is not a JPEG ({exc}); retry, and check the camera "
                "if it happens again",
                device=self.name,
            ) from exc
        return Portrait(jpeg=jpeg, width=width, height=height)
