"""The Pi's requests and the co-processor's answers (docs/devices/coprocessor.md).

The Pi always asks and the Pico always answers with the same seq and the request's kind
with its high bit set, or with NAK; the Pico never speaks unasked, so a Pi that missed an
answer just asks again.
"""

import struct

from micropython import const

import frames
import power
import version

#: MicroPython has no typing module; mypy takes this name as true, the Pico as false.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ticks import Ticks

HEARTBEAT = const(0x01)
STATUS = const(0x02)
INFO = const(0x03)
HALTED = const(0x04)
NAK = const(0x7F)
REPLY = const(0x80)

#: HEARTBEAT flags bit: a seal is under way; never cut now.
FLAG_SEALING = const(0x01)

NAK_UNKNOWN = const(1)
NAK_LENGTH = const(2)

#: state, request, level, millivolts, events, garbage, bad frames, seconds left, uptime s
STATUS_FORMAT = ">BBBHBHHhI"
#: major, minor, patch, protocol, reset cause, last cut, then the timings in seconds
#: (heartbeat timeout, seal grace, short delay, long delay) and thresholds in mV (low, critical)
INFO_FORMAT = ">BBBBBBHHHHHH"

_LENGTHS = {HEARTBEAT: 1, STATUS: 0, INFO: 0, HALTED: 0}


def _u16(value: int) -> int:
    return value if value < 0xFFFF else 0xFFFF


class Responder:
    """Answers each checked frame; holds what INFO reports that never changes."""

    def __init__(
        self, logic: power.PowerLogic, reset_cause: int, info_timings: tuple[int, ...]
    ) -> None:
        self._logic = logic
        self._reset_cause = reset_cause
        self._timings = info_timings

    def answer(
        self, kind: int, seq: int, payload: bytes, now: "Ticks", status: tuple[int, ...]
    ) -> bytes:
        """The frame to send back for one request; ``status`` is (level, mV, garbage,
        bad frames, uptime s), read by the caller from the parts that own them."""
        expected = _LENGTHS.get(kind)
        if expected is None:
            return frames.encode(NAK, seq, bytes((NAK_UNKNOWN, kind)))
        if len(payload) != expected:
            return frames.encode(NAK, seq, bytes((NAK_LENGTH, kind)))
        if kind == INFO:
            body = struct.pack(
                INFO_FORMAT,
                version.MAJOR,
                version.MINOR,
                version.PATCH,
                version.PROTOCOL,
                self._reset_cause,
                self._logic.last_cut,
                *self._timings,
            )
            return frames.encode(INFO | REPLY, seq, body)
        events = self._logic.events
        if kind == HEARTBEAT:
            self._logic.heartbeat(now, bool(payload[0] & FLAG_SEALING))
            events = self._logic.take_events()
        elif kind == HALTED:
            self._logic.halted(now)
        level, millivolts, garbage, bad_frames, uptime = status
        body = struct.pack(
            STATUS_FORMAT,
            self._logic.state,
            self._logic.request,
            level,
            millivolts,
            events,
            _u16(garbage),
            _u16(bad_frames),
            self._logic.seconds_left(now),
            uptime,
        )
        return frames.encode(kind | REPLY, seq, body)
