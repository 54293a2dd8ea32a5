"""The Pi's requests and the co-processor's answers (docs/devices/coprocessor.md).

The Pi always asks and the Pico always answers with the same seq and the request's kind
with its high bit set, or with NAK; the Pico never speaks unasked, so a Pi that missed an
answer just asks again.  MAINTAIN .. SWITCH write a new firmware (maintenance.py); each
counts as a heartbeat that says "busy", as a seal does: the Pi is never cut while it
writes the Pico's firmware.
"""

import struct

from micropython import const

import bootslots
import frames
import maintenance
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
MAINTAIN = const(0x05)
OPEN = const(0x06)
WRITE = const(0x07)
CLOSE = const(0x08)
SWITCH = const(0x09)
CONFIRM = const(0x0A)
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

#: The payload lengths each request may have (fewest, most).
_LENGTHS = {
    HEARTBEAT: (1, 1),
    STATUS: (0, 0),
    INFO: (0, 0),
    HALTED: (0, 0),
    MAINTAIN: (0, 0),
    OPEN: (5, 28),
    WRITE: (5, 4 + maintenance.WRITE_BYTES),
    CLOSE: (32, 32),
    SWITCH: (0, 0),
    CONFIRM: (0, 0),
}


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
        #: The firmware being written, between MAINTAIN and SWITCH (or a HEARTBEAT).
        self.session: maintenance.Session | None = None
        #: SWITCH was answered: the caller resets the Pico into the new slot.
        self.reset_pending = False

    def answer(
        self, kind: int, seq: int, payload: bytes, now: "Ticks", status: tuple[int, ...]
    ) -> bytes:
        """The frame to send back for one request; ``status`` is (level, mV, garbage,
        bad frames, uptime s), read by the caller from the parts that own them."""
        lengths = _LENGTHS.get(kind)
        if lengths is None:
            return frames.encode(NAK, seq, bytes((NAK_UNKNOWN, kind)))
        if not lengths[0] <= len(payload) <= lengths[1]:
            return frames.encode(NAK, seq, bytes((NAK_LENGTH, kind)))
        if MAINTAIN <= kind <= SWITCH:
            self._logic.heartbeat(now, True)
            try:
                return frames.encode(kind | REPLY, seq, self._maintain(kind, payload))
            except maintenance.Refused as refused:
                return frames.encode(NAK, seq, bytes((refused.args[0], kind)))
        if kind == CONFIRM:
            return frames.encode(CONFIRM | REPLY, seq, bytes((int(maintenance.confirm()),)))
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
            self.session = None  # the Pi is back at its work: a session left open ends
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

    def _maintain(self, kind: int, payload: bytes) -> bytes:
        """One maintenance command; its answer's payload, or maintenance.Refused."""
        if kind == MAINTAIN:
            self.session = maintenance.Session()
            on_trial = bootslots.read(bootslots.TRIAL) != ""
            return bytes((ord(self.session.running), int(on_trial)))
        session = self.session
        if session is None:
            raise maintenance.Refused(maintenance.NO_SESSION)
        if kind == OPEN:
            try:
                name = payload[4:].decode()
            except (UnicodeError, ValueError):
                raise maintenance.Refused(maintenance.BAD_FILE) from None
            session.open(struct.unpack(">I", payload[:4])[0], name)
        elif kind == WRITE:
            offset = struct.unpack(">I", payload[:4])[0]
            return struct.pack(">I", session.write(offset, payload[4:]))
        elif kind == CLOSE:
            session.close(payload)
        else:
            session.switch()
            self.session = None
            self.reset_pending = True
        return b""
