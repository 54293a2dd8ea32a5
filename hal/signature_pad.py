"""Driver of a Topaz-style serial signature pad.

The pad has no commands: once powered it streams 5-byte pen frames (position, pen in
range, pen touching) at 19200 baud 8O1.  The frame layout follows waxbee's reverse
engineered ``topaz_serial.cpp`` (see docs/devices/signature-pad.md):

* byte 0 has bit 7 set (sync), bit 6 pen in range, bit 0 pen touching;
* bytes 1..4 have bit 7 clear; x = ((b2 & 0x1F) << 7) | (b1 & 0x7F),
  y = ((b4 & 0x1F) << 7) | (b3 & 0x7F);
* a frame with any of bits 5..7 set in b2 or b4 is invalid.

Because the pad only talks and never answers, the driver cannot ask it anything: it
recognises a pad by the bytes it sends, and judges a signature finished by the time the
pen has been lifted.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import serial
from PIL import Image, ImageDraw

from hal.contracts import Closing
from hal.exc import DeviceTimeout, NoSignature
from hal.serial_port import SerialPort
from hal.types import DeviceInfo, PenPoint, Signature, Stroke

_FRAME_LEN = 5
_SYNC = 0x80  # byte 0 only
_IN_RANGE = 0x40  # byte 0: the pen is near the pad
_TOUCHING = 0x01  # byte 0: the pen tip is pressed on the pad
_LOW7 = 0x7F  # low 7 bits of a coordinate in bytes 1 and 3
_HIGH5 = 0x1F  # high 5 bits of a coordinate in bytes 2 and 4
_INVALID_HIGH = 0xE0  # bits that must be clear in bytes 2 and 4

#: How long a read waits at most before the driver looks at its deadlines again.
_POLL_SECONDS = 0.02
#: How long probe() listens for the pad's stream: five frame periods of a pad streaming
#: at 100 Hz (a frame is 2.9 ms on the line).  The boot's self-test probes the pad before
#: the lock screen, and a silent pad is no fault, so a longer listen only delays the kit.
_PROBE_SECONDS = 0.05
#: Rendering is drawn this many times larger, then shrunk, to antialias the lines.
_SUPERSAMPLE = 4
#: Pen line width in pixels of the rendered image.
_LINE_WIDTH = 2.0


@dataclass(frozen=True)
class PenSample:
    """One decoded frame: where the pen is and whether it is near or on the pad."""

    x: int
    y: int
    in_range: bool
    touching: bool


class FrameDecoder:
    """Turns the pad's byte stream into pen samples, resynchronising on the sync bit.

    A byte with bit 7 set always starts a new frame, so noise costs at most the frame
    it hit: a frame cut short by a new sync byte, or one with its reserved bits set,
    is dropped and counted in ``invalid_frames``; bytes that arrive while no frame is
    open are counted in ``stray_bytes``.  Pure: it keeps only the partial frame.
    """

    def __init__(self) -> None:
        self._frame = bytearray()
        self.invalid_frames = 0
        self.stray_bytes = 0

    def __repr__(self) -> str:
        return (
            f"<FrameDecoder pending={len(self._frame)} invalid={self.invalid_frames} "
            f"stray={self.stray_bytes}>"
        )

    def feed(self, data: bytes) -> list[PenSample]:
        """Consume ``data`` and return every complete, valid sample it finished."""
        samples: list[PenSample] = []
        for byte in data:
            if byte & _SYNC:
                if self._frame:
                    self.invalid_frames += 1  # cut short by the next frame's sync byte
                self._frame = bytearray((byte,))
            elif not self._frame:
                self.stray_bytes += 1
            else:
                self._frame.append(byte)
                if len(self._frame) == _FRAME_LEN:
                    sample = _decode(bytes(self._frame))
                    self._frame.clear()
                    if sample is None:
                        self.invalid_frames += 1
                    else:
                        samples.append(sample)
        return samples


def _decode(frame: bytes) -> PenSample | None:
    """Decode one 5-byte frame that starts with a sync byte; None when invalid."""
    if frame[2] & _INVALID_HIGH or frame[4] & _INVALID_HIGH:
        return None
    return PenSample(
        x=((frame[2] & _HIGH5) << 7) | (frame[1] & _LOW7),
        y=((frame[4] & _HIGH5) << 7) | (frame[3] & _LOW7),
        in_range=bool(frame[0] & _IN_RANGE),
        touching=bool(frame[0] & _TOUCHING),
    )


def render_signature(
    strokes: Sequence[Sequence[PenPoint]], width: int, height: int, size: tuple[int, int]
) -> bytes:
    """Draw strokes in pad coordinates (``width`` x ``height``) as a PNG of ``size``.

    Black on white, 8-bit grey so the lines can be antialiased: they are drawn at
    ``_SUPERSAMPLE`` times the size and shrunk.  The pad's area is scaled to fit
    ``size`` keeping its aspect, and centred, so a signature is never distorted.
    """
    out_w, out_h = size
    big_w, big_h = out_w * _SUPERSAMPLE, out_h * _SUPERSAMPLE
    scale = min(big_w / width, big_h / height)
    left = (big_w - width * scale) / 2
    top = (big_h - height * scale) / 2
    line = max(1, round(_LINE_WIDTH * _SUPERSAMPLE))
    canvas = Image.new("L", (big_w, big_h), 255)
    draw = ImageDraw.Draw(canvas)
    for stroke in strokes:
        points = [(left + p.x * scale, top + p.y * scale) for p in stroke]
        if len(points) == 1:
            (x, y), r = points[0], line / 2
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
        elif points:
            draw.line(points, fill=0, width=line, joint="curve")
    buffer = io.BytesIO()
    canvas.resize(size, Image.Resampling.LANCZOS).save(buffer, format="PNG")
    return buffer.getvalue()


class TopazPad(Closing):
    """A Topaz-style pad on a serial port; satisfies ``hal.contracts.SignaturePad``.

    ``width`` and ``height`` are the pad's coordinate range (they go into the
    Signature so strokes can be redrawn); ``render_size`` is the PNG's size.
    ``stopping`` (`hal.contracts.Devices.stopping`), once set, ends a wait for the pen
    under way with NoSignature: the kit is closing and nobody is waited for any more.
    """

    def __init__(
        self,
        *,
        port: str,
        baudrate: int = 19200,
        width: int = 2048,
        height: int = 768,
        name: str = "signature-pad",
        render_size: tuple[int, int] = (600, 225),
        stopping: threading.Event | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self.width = width
        self.height = height
        self.render_size = render_size
        self._stopping = stopping or threading.Event()
        self.decoder = FrameDecoder()
        self._link = SerialPort(
            port,
            device=name,
            label="signature pad",
            advice="check the pad's USB cable and the configured port",
            poll=_POLL_SECONDS,
            baudrate=baudrate,
            bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_ODD,
            stopbits=serial.STOPBITS_ONE,
        )

    def __repr__(self) -> str:
        state = "closed" if self._link.closed else "open"
        return f"<TopazPad {self.name} port={self.port} {state}>"

    def probe(self) -> DeviceInfo:
        """Listen for the pad's frame stream; the pad has no identity command.

        A silent pad is reported, not raised: some pads send nothing until a pen
        comes near, so silence alone does not prove the pad is missing.
        """
        deadline = time.monotonic() + _PROBE_SECONDS
        heard = b""
        while not heard and time.monotonic() < deadline:
            heard = self._link.read()
        return DeviceInfo(
            name=self.name,
            model="Topaz-style serial signature pad",
            detail={
                "port": self.port,
                "streaming": "yes" if heard else "no",
                "area": f"{self.width}x{self.height}",
            },
        )

    def capture(self, *, timeout: float, settle: float = 1.5) -> Signature:
        """Collect strokes until the pen has been lifted ``settle`` seconds.

        Touching samples form strokes; a stroke ends when the pen stops touching.
        At ``timeout``: NoSignature if no stroke came (its message says whether the
        pad sent anything at all, to tell an unused pad from an unplugged one); the
        strokes so far if the pen is lifted; DeviceTimeout if the pen is still down,
        since a stroke cut off mid-way is no signature to seal.
        """
        self._link.reset_input()  # frames of a previous person are stale
        deadline = time.monotonic() + timeout
        strokes: list[Stroke] = []
        current: list[PenPoint] = []
        lifted_at = 0.0
        heard = False
        while True:
            chunk = self._link.read()
            now = time.monotonic()
            heard = heard or bool(chunk)
            for sample in self.decoder.feed(chunk):
                if sample.touching:
                    current.append(PenPoint(sample.x, sample.y))
                elif current:
                    strokes.append(tuple(current))
                    current = []
                    lifted_at = now
            if strokes and not current and now - lifted_at >= settle:
                break
            if self._stopping.is_set():  # a signature cut off is none: nothing is kept
                raise NoSignature(
                    f"the kit is stopping; the wait for a signature on {self.port} ended",
                    device=self.name,
                )
            if now >= deadline:
                if current:
                    raise DeviceTimeout(
                        f"the pen was still on the signature pad ({self.port}) after "
                        f"{timeout:g} s; ask the person to lift the pen and sign again",
                        device=self.name,
                    )
                if not strokes:
                    raise NoSignature(self._no_signature_message(timeout, heard), device=self.name)
                break
        png = render_signature(strokes, self.width, self.height, self.render_size)
        return Signature(strokes=tuple(strokes), width=self.width, height=self.height, png=png)

    def _no_signature_message(self, timeout: float, heard: bool) -> str:
        if heard:
            return (
                f"no pen stroke on the signature pad within {timeout:g} s; ask the person to sign"
            )
        return (
            f"no pen stroke within {timeout:g} s and the signature pad on {self.port} sent "
            "nothing at all; check the pad's cable, then ask the person to sign"
        )

    def close(self) -> None:
        """Release the serial port; safe to call twice."""
        self._link.close()
