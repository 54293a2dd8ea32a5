"""A Topaz-style signature pad on a pty, replaying strokes as 5-byte pen frames.

The real pad never listens; it only streams frames (see docs/devices/signature-pad.md).
This emulator streams nothing until :meth:`SignaturePadEmulator.sign` hands it strokes,
then replays them at the pad's sample rate: touching frames while drawing, in-range
frames while the pen is lifted between strokes, out-of-range frames once it is done.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Sequence

from hw_sim.link import PtyDevice
from hw_sim.timing import LineFormat, Parity, Timing

_log = logging.getLogger(__name__)

_SYNC = 0x80
_IN_RANGE = 0x40
_TOUCHING = 0x01
_LOW7 = 0x7F
_COORD_MAX = 0xFFF  # 12-bit coordinates: 7 low bits + 5 high bits

#: Pad time the pen hovers between strokes, and stays reported after the last one.
_GAP_SECONDS = 0.2
_AWAY_SECONDS = 0.05
#: Chance that a burst of line noise precedes a frame under the "garbage" fault.
_GARBAGE_CHANCE = 0.3
#: Noise bursts are shorter than a frame, as a glitch on the line is.
_GARBAGE_MAX_BYTES = 4
_JOIN_SECONDS = 1.0
#: The pad's UART (docs/devices/signature-pad.md): 19200 baud, 8 data bits, odd parity.
LINE = LineFormat(19200, parity=Parity.ODD)


def encode_frame(x: int, y: int, *, in_range: bool, touching: bool) -> bytes:
    """The 5-byte frame the pad sends for one sample."""
    if not (0 <= x <= _COORD_MAX and 0 <= y <= _COORD_MAX):
        raise ValueError(f"pen position ({x}, {y}) is outside the pad's 0..{_COORD_MAX}")
    head = _SYNC | (_IN_RANGE if in_range else 0) | (_TOUCHING if touching else 0)
    return bytes((head, x & _LOW7, x >> 7, y & _LOW7, y >> 7))


class SignaturePadEmulator(PtyDevice):
    """The pad's end of a pty; a driver opens ``.port``.

    ``sample_hz`` is the pad's frame rate; ``speed`` replays faster than real time
    (50 makes tests quick; by default ``timing.human_speed``: 1 in real time).  Frames
    cross the pad's 19200 8O1 line (:data:`LINE`) at its pace.  ``sent_frames`` counts
    frames sent (noise not included); ``received`` keeps whatever a driver wrote, though
    a real pad ignores it.
    :meth:`unplug_after` pulls the cable part-way through the stream, even mid-frame.
    """

    #: "unplugged": silence; "garbage": bursts of line noise between frames.
    FAULTS: tuple[str, ...] = ("unplugged", "garbage")

    def __init__(
        self,
        *,
        link_path: str | None = None,
        sample_hz: float = 100.0,
        speed: float | None = None,
        seed: int = 0,
        timing: Timing | None = None,
    ) -> None:
        timing = timing or Timing.default()
        speed = timing.human_speed if speed is None else speed
        if sample_hz <= 0 or speed <= 0:
            raise ValueError(f"sample_hz ({sample_hz}) and speed ({speed}) must be positive")
        super().__init__("signature pad")
        self._interval = 1.0 / (sample_hz * speed)
        self._sample_hz = sample_hz
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: One replay started or stopped at a time: the pen is asked for from two threads
        #: (the capture's job and the person stepping up), and a replay stopped while
        #: another call is still starting it cannot be joined.
        self._replaying = threading.RLock()
        self.sent_frames = 0
        self.received: list[bytes] = []
        self._plug_in(link_path, "signature-pad", line=LINE, timing=timing)

    def __repr__(self) -> str:
        return (
            f"<SignaturePadEmulator port={self.port} faults={sorted(self._faults)} "
            f"sent={self.sent_frames}>"
        )

    def _on_bytes(self, data: bytes) -> None:
        with self._lock:
            self.received.append(data)

    def sign(self, strokes: Sequence[Sequence[tuple[int, int]]], *, delay: float = 0.0) -> None:
        """Replay ``strokes`` (pad coordinates) on a thread; returns at once.

        ``delay`` is wall-clock silence before the pen comes down, as a person takes
        to pick up the pen; it lets a driver started just after this call see the
        whole signature even though drivers discard what arrived before they asked.
        Any replay still running is stopped first.
        """
        frames = self._frames_of(strokes)
        with self._replaying:
            self.idle()
            # the person's time: picking up the pen, then signing at the pad's sample rate
            self.worked_seconds += delay + len(frames) / self._sample_hz
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._replay, args=(frames, delay), name="signature-pad-replay", daemon=True
            )
            self._thread.start()

    def _frames_of(self, strokes: Sequence[Sequence[tuple[int, int]]]) -> list[bytes]:
        gap = max(1, round(_GAP_SECONDS * self._sample_hz))
        away = max(1, round(_AWAY_SECONDS * self._sample_hz))
        frames: list[bytes] = []
        for index, stroke in enumerate(strokes):
            if not stroke:
                raise ValueError(f"stroke {index} has no points; a stroke needs at least one")
            if index:
                hover = encode_frame(*stroke[0], in_range=True, touching=False)
                frames += [hover] * gap
            frames += [encode_frame(x, y, in_range=True, touching=True) for x, y in stroke]
            frames.append(encode_frame(*stroke[-1], in_range=True, touching=False))
        frames += [encode_frame(0, 0, in_range=False, touching=False)] * away
        return frames

    def wait(self, timeout: float) -> bool:
        """Wait until the replay has been sent; True when it finished in time."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _replay(self, frames: list[bytes], delay: float) -> None:
        start = time.monotonic() + delay
        for number, frame in enumerate(frames):
            delay = start + number * self._interval - time.monotonic()
            if self._stop.wait(max(0.0, delay)):
                return
            faults = self.faults
            if "unplugged" in faults:
                continue
            if "garbage" in faults and self._rng.random() < _GARBAGE_CHANCE:
                burst = self._rng.randbytes(self._rng.randint(1, _GARBAGE_MAX_BYTES))
                self._link.send(self._let_through(burst)[0])
            sent, _ = self._let_through(frame)
            self._link.send(sent)
            if len(sent) == len(frame):
                self.sent_frames += 1

    def idle(self) -> None:
        """Stop any replay; the pad then streams nothing."""
        with self._replaying:
            self._stop.set()
            if self._thread is not None:
                self._thread.join(_JOIN_SECONDS)
                if self._thread.is_alive():
                    _log.warning("signature pad replay thread did not stop in %s s", _JOIN_SECONDS)
                self._thread = None

    def close(self) -> None:
        """Stop the replay and release the pty; safe to call twice."""
        self.idle()
        super().close()
