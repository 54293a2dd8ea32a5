"""How long the simulated parts take: the wires' time and the datasheets' times, or none.

A real kit is slow in ways the simulator must keep, or nobody learns how long a person
takes at it: a 4-bit finger image is 36,864 bytes, 3.5 s at 115200 baud.  Every serial
emulator hands its bytes to :class:`Timing` with the :class:`LineFormat` of its line, and
every part that works for a while (a sensor imaging a finger, a printer laying down a
card) asks it for that while.  ``Timing(fast=True)`` skips all of it, for tests that want
the protocol and not the wait.

Tests inject ``sleep`` and ``monotonic`` (a fake clock that records the delays asked
for), so the timing model is checked deterministically, never by timing a transfer.
"""

from __future__ import annotations

import enum
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


class Parity(enum.Enum):
    """The parity bit of a UART frame: none, or one odd/even bit after the data bits."""

    NONE = "N"
    ODD = "O"
    EVEN = "E"


@dataclass(frozen=True)
class LineFormat:
    """A UART line: ``baudrate`` and its frame, e.g. 57600 8N1 (10 bits a byte)."""

    baudrate: int
    data_bits: int = 8
    parity: Parity = Parity.NONE
    stop_bits: int = 1

    def __post_init__(self) -> None:
        if self.baudrate <= 0:
            raise ValueError(f"a line's baud rate must be positive, not {self.baudrate}")
        if not 5 <= self.data_bits <= 8 or self.stop_bits not in (1, 2):
            raise ValueError(
                f"a UART frame has 5..8 data bits and 1 or 2 stop bits, not "
                f"{self.data_bits} and {self.stop_bits}"
            )

    @property
    def bits_per_byte(self) -> int:
        """Start bit, data bits, parity bit (if any) and stop bits of one byte."""
        return 1 + self.data_bits + (self.parity is not Parity.NONE) + self.stop_bits

    def seconds(self, count: int) -> float:
        """How long ``count`` bytes take on this line."""
        return count * self.bits_per_byte / self.baudrate

    def __str__(self) -> str:
        return f"{self.baudrate} {self.data_bits}{self.parity.value}{self.stop_bits}"


#: The environment variable that picks :meth:`Timing.default` ("real" or "fast").
TIMING_VARIABLE = "JEMPUT_TIMING"
#: How much faster than a person the fast mode replays what people do (a signature).
FAST_HUMAN_SPEEDUP = 20.0


class Timing:
    """The simulated kit's sense of time; pass one keyword-only to every emulator.

    ``Timing()`` is real time: bytes take their line's time, parts their datasheet's.
    ``Timing(fast=True)`` takes none of it and replays people :data:`FAST_HUMAN_SPEEDUP`
    times faster.  ``Timing(scale=0.5)`` runs the wires, the parts and the people alike at
    half their time, so a long measurement (people per hour) stays short and keeps their
    proportions; what the kit computes is not scaled, so a scaled run is pessimistic.
    ``sleep`` and ``monotonic`` are the clock (a test's fake clock records the delays);
    by default a wait ends early when its ``stop`` event is set, so closing an emulator
    never waits out a long transfer.
    """

    def __init__(
        self,
        *,
        fast: bool = False,
        scale: float = 1.0,
        sleep: Callable[[float], object] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < scale <= 1:
            raise ValueError(f"a time scale shrinks time: 0 < scale <= 1, not {scale}")
        self.fast = fast
        self.scale = scale
        self._sleep = sleep
        self.monotonic = monotonic

    @classmethod
    def default(cls) -> Timing:
        """The mode ``JEMPUT_TIMING`` names ("real", the default, or "fast").

        As gpiozero picks its pin factory: an emulator given no ``timing`` uses this, so
        a test suite can make every emulator fast at once (tests/conftest.py does).
        """
        mode = os.environ.get(TIMING_VARIABLE, "real").strip().lower()
        if mode not in ("real", "fast"):
            raise ValueError(f"{TIMING_VARIABLE}={mode!r}: expected 'real' or 'fast'")
        return cls(fast=mode == "fast")

    def __repr__(self) -> str:
        if self.fast:
            return "<Timing fast>"
        return "<Timing real>" if self.scale == 1 else f"<Timing real x{self.scale:g}>"

    @property
    def human_speed(self) -> float:
        """How many times faster than life people act (1 in real time)."""
        return FAST_HUMAN_SPEEDUP if self.fast else 1.0 / self.scale

    def wire(self, line: LineFormat, count: int) -> float:
        """Seconds ``count`` bytes occupy ``line`` (0 in fast mode)."""
        return 0.0 if self.fast else line.seconds(count) * self.scale

    def device(self, seconds: float) -> float:
        """Seconds a part works (0 in fast mode)."""
        return 0.0 if self.fast else seconds * self.scale

    def human(self, seconds: float) -> float:
        """Seconds a person takes for what takes them ``seconds`` in life."""
        return seconds / self.human_speed

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Let ``seconds`` pass; False when ``stop`` was set first (the device closed)."""
        if seconds <= 0:
            return True
        if self._sleep is not None:
            self._sleep(seconds)
            return True
        if stop is not None:
            return not stop.wait(seconds)
        time.sleep(seconds)
        return True


class Line:
    """One direction of a serial line: bytes queue behind the ones still on the wire.

    :meth:`occupy` books ``count`` bytes and waits until the last of them has crossed,
    as a UART's shift register would: bytes booked while earlier ones are in flight
    start when those end, so a burst of small writes costs what one large write does.
    ``back_to_back`` says the bytes follow the previous ones without a gap (the next
    slice of one write): they are booked from where those ended even if our wake-up was
    late, so the lateness of one sleep never adds up over the slices of a long transfer.
    """

    def __init__(self, line: LineFormat, timing: Timing) -> None:
        self.format = line
        self._timing = timing
        self._free_at = 0.0
        self._lock = threading.Lock()
        #: Bytes this line has carried, and the seconds they need at its rates (in fast
        #: mode too): the link's floor, for the benchmarks.
        self.carried = 0
        self.floor_seconds = 0.0

    def __repr__(self) -> str:
        return f"<Line {self.format} carried={self.carried}>"

    def retune(self, line: LineFormat) -> None:
        """Change the line's rate or frame from the next byte on (a baud switch)."""
        with self._lock:
            self.format = line

    def occupy(
        self, count: int, stop: threading.Event | None = None, *, back_to_back: bool = False
    ) -> bool:
        """Wait until ``count`` more bytes have crossed; False if ``stop`` cut it short."""
        with self._lock:
            self.carried += count
            self.floor_seconds += self.format.seconds(count)
            now = self._timing.monotonic()
            start = self._free_at if back_to_back and self._free_at else max(now, self._free_at)
            self._free_at = start + self._timing.wire(self.format, count)
            delay = self._free_at - now
        return self._timing.wait(delay, stop)
