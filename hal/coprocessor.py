"""The power co-processor (a Raspberry Pi Pico running ``pico_micropython``) on a UART.

The Pi asks, the Pico answers (docs/devices/coprocessor.md)::

    A5 | kind | seq | length <= 32 | payload | CRC-16/CCITT-FALSE (BE) over kind..payload

HEARTBEAT (flags: bit 0 = a seal is under way) keeps the Pico's watchdog from
power-cycling the Pi and returns STATUS; STATUS reads without kicking; INFO gives the
firmware version, the Pico's reset cause, why power was last cut and the Pico's timings;
HALTED tells the Pico the store is closed and the Pi is halting; MAINTAIN .. SWITCH write
a new firmware into the Pico's other slot and reset it there, on trial, until CONFIRM
(:meth:`PowerCoprocessor.install_firmware`).  An answer carries the request's kind with
bit 7 set and the request's seq, or NAK.

The reader here frames on its own (CRC by :func:`binascii.crc_hqx`, the firmware computes
it bit by bit), checks start byte, length, CRC, kind and seq, drops what fails and counts
it in :attr:`PowerCoprocessor.garbage`.  A frame answers a request only if it carries
the request's seq and that request's answer kind, so a second writer on the UART (whose
seq may match ours) cannot pass its answer off as ours.  Every request has a
``time.monotonic()`` deadline and is sent at most ``attempts`` times.
"""

from __future__ import annotations

import binascii
import contextlib
import enum
import hashlib
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from hal.contracts import Closing
from hal.exc import CoprocessorMismatch, CoprocessorRefused, DeviceTimeout, FrameError
from hal.serial_port import SerialPort
from hal.types import DeviceInfo

BAUDRATE = 115_200
START = 0xA5
HEADER = 4
MAX_PAYLOAD = 32
PROTOCOL = 1

# request kinds; the answer is kind | REPLY
HEARTBEAT = 0x01
STATUS = 0x02
INFO = 0x03
HALTED = 0x04
# maintenance: a new firmware into the slot not running (docs/devices/coprocessor.md)
MAINTAIN = 0x05
OPEN = 0x06
WRITE = 0x07
CLOSE = 0x08
SWITCH = 0x09
CONFIRM = 0x0A
NAK = 0x7F
REPLY = 0x80

FLAG_SEALING = 0x01
EVENT_PRESSED = 0x01
EVENT_PICO_RESET = 0x02

#: state, request, level, millivolts, events, garbage, bad frames, seconds left, uptime s
STATUS_FORMAT = ">BBBHBHHhI"
#: version (3), protocol, reset cause, last cut, timings s (4), thresholds mV (2)
INFO_FORMAT = ">BBBBBBHHHHHH"

#: Bytes of firmware per WRITE; with its offset the frame's payload is MAINTENANCE_PAYLOAD.
WRITE_BYTES = 192
MAINTENANCE_PAYLOAD = 4 + WRITE_BYTES

NAK_REASONS = {
    1: "unknown command",
    2: "wrong payload length",
    3: "no maintenance session or file open",
    4: "a file name, size or offset it does not take",
    5: "a file whose SHA-256 as written differs",
    6: "its flash could not be written",
}

#: One serial read waits at most this long before the deadline is looked at again.
_POLL_SECONDS = 0.02
_E = TypeVar("_E", bound=enum.IntEnum)
_DEVICE = "coprocessor"
_LABEL = "power co-processor"
_ADVICE = "check the Pico's UART wires (Pi GPIO4/5 to Pico GP1/GP0) and that it is flashed"


class PowerState(enum.IntEnum):
    """What the Pico is doing with the Pi's power."""

    OFF = 0
    BOOTING = 1
    RUNNING = 2
    REQUESTED = 3  # the Pico asks the Pi to shut down
    HALTING = 4  # the Pi said halted; power goes after the short delay
    CYCLING = 5


class ShutdownRequest(enum.IntEnum):
    """Why the Pico asks for a safe shutdown."""

    NONE = 0
    BUTTON = 1  # the power button was held 3 s
    BATTERY = 2  # the cell reached its critical voltage


class BatteryLevel(enum.IntEnum):
    OK = 0
    LOW = 1
    CRITICAL = 2


class PowerCut(enum.IntEnum):
    """Why the Pico last cut the Pi's power."""

    NONE = 0
    HALTED = 1  # after the Pi said halted: a safe shutdown
    LONG_DELAY = 2  # asked to shut down, the Pi never said halted
    WATCHDOG = 3  # the Pi stopped heartbeating
    BOOT_TIMEOUT = 4  # the Pi never sent a first heartbeat


class ResetCause(enum.IntEnum):
    """``machine.reset_cause()`` on the RP2040."""

    POWER_ON = 1
    WATCHDOG = 3  # the Pico's own machine.WDT fired: its firmware was stuck

    @classmethod
    def of(cls, raw: int) -> ResetCause | int:
        return cls(raw) if raw in cls._value2member_map_ else raw


@dataclass(frozen=True)
class CoprocessorStatus:
    state: PowerState
    request: ShutdownRequest
    level: BatteryLevel
    volts: float
    #: The button was pressed since the last heartbeat (the kit shows the battery).
    pressed: bool
    #: The Pico reset since the last heartbeat.
    pico_reset: bool
    #: Bytes the Pico dropped from the link since it booted, and frames it rejected.
    garbage: int
    bad_frames: int
    #: Seconds until the Pico cuts power, or None when no cut is planned.
    seconds_left: int | None
    uptime: int

    @property
    def shutdown_requested(self) -> bool:
        return self.request is not ShutdownRequest.NONE


@dataclass(frozen=True)
class CoprocessorInfo:
    version: tuple[int, int, int]
    protocol: int
    reset_cause: ResetCause | int
    last_cut: PowerCut
    heartbeat_timeout: int
    seal_grace: int
    short_delay: int
    long_delay: int
    low_volts: float
    critical_volts: float

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as the firmware computes it."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode(kind: int, seq: int, payload: bytes = b"", *, limit: int = MAX_PAYLOAD) -> bytes:
    """One frame; ``limit`` is MAINTENANCE_PAYLOAD for a WRITE."""
    if len(payload) > limit:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {limit}")
    body = bytes((kind, seq & 0xFF, len(payload))) + payload
    return bytes((START,)) + body + crc16(body).to_bytes(2, "big")


class FrameReader:
    """Checked frames out of a byte stream; everything dropped is counted in ``garbage``."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.garbage = 0

    def feed(self, data: bytes) -> list[tuple[int, int, bytes]]:
        self._buf += data
        found: list[tuple[int, int, bytes]] = []
        while self._buf:
            start = self._buf.find(START)
            if start != 0:
                dropped = len(self._buf) if start < 0 else start
                self._drop(dropped)
                continue
            if len(self._buf) < HEADER:
                break
            length = self._buf[3]
            total = HEADER + length + 2
            if length > MAX_PAYLOAD:
                self._drop(1)
                continue
            if len(self._buf) < total:
                break
            frame = bytes(self._buf[:total])
            if crc16(frame[1:-2]) != int.from_bytes(frame[-2:], "big"):
                self._drop(1)
                continue
            found.append((frame[1], frame[2], frame[HEADER:-2]))
            del self._buf[:total]
        return found

    def reset(self) -> None:
        """Forget a partial frame (a new request starts): its bytes count as garbage."""
        self._drop(len(self._buf))

    def _drop(self, count: int) -> None:
        self.garbage += count
        del self._buf[:count]


class PowerCoprocessor(Closing):
    """The Pico on ``port`` (``/dev/ttyAMA1`` on a kit, a pty in the simulator).

    ``timeout`` bounds one attempt of one request; ``attempts`` how often it is sent.
    The constructor reads INFO, so a missing or mismatched Pico fails at boot.
    """

    def __init__(
        self, *, port: str, timeout: float = 0.5, attempts: int = 2, name: str = _DEVICE
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.attempts = attempts
        self._reader = FrameReader()
        self._seq = 0
        #: Whole frames dropped because they answered no request of ours (late answers,
        #: another writer's); their bytes also count in :attr:`garbage`.
        self.strays = 0
        self._port = SerialPort(
            port,
            device=name,
            label=_LABEL,
            advice=_ADVICE,
            poll=_POLL_SECONDS,
            baudrate=BAUDRATE,
            write_timeout=timeout,
        )
        try:
            self.info = self.read_info()
        except BaseException:
            self._port.close()
            raise

    def __repr__(self) -> str:
        return f"<PowerCoprocessor {self.name} port={self._port.port} garbage={self.garbage}>"

    @property
    def garbage(self) -> int:
        """Bytes this side dropped from the link: noise, torn frames, stale answers."""
        return self._reader.garbage

    # -- requests -----------------------------------------------------------------------------

    def heartbeat(self, *, sealing: bool) -> CoprocessorStatus:
        """Tell the Pico the Pi is alive (and whether a seal is under way); its status."""
        flags = FLAG_SEALING if sealing else 0
        return self._status(self._request(HEARTBEAT, bytes((flags,))))

    def status(self) -> CoprocessorStatus:
        """Read the status without counting as a heartbeat."""
        return self._status(self._request(STATUS))

    def halted(self) -> CoprocessorStatus:
        """The store is closed and the Pi halts now: the Pico cuts after its short delay."""
        return self._status(self._request(HALTED))

    def read_info(self) -> CoprocessorInfo:
        raw = self._request(INFO)
        fields = self._unpack(INFO_FORMAT, raw, "INFO")
        major, minor, patch, protocol, cause, cut, hb, seal, short, long_, low, crit = fields
        if protocol != PROTOCOL:
            raise CoprocessorMismatch(
                f"{_LABEL} firmware {major}.{minor}.{patch} speaks protocol {protocol}, this "
                f"kit speaks {PROTOCOL}: flash the firmware of this release (mpremote)",
                device=self.name,
            )
        return CoprocessorInfo(
            version=(major, minor, patch),
            protocol=protocol,
            reset_cause=ResetCause.of(cause),
            last_cut=self._enum(PowerCut, cut, "last cut"),
            heartbeat_timeout=hb,
            seal_grace=seal,
            short_delay=short,
            long_delay=long_,
            low_volts=low / 1000,
            critical_volts=crit / 1000,
        )

    # -- maintenance ----------------------------------------------------------------------------

    def install_firmware(self, files: Sequence[tuple[str, bytes]]) -> None:
        """Write ``files`` (module name, bytes) into the slot the Pico does not run, each
        checked by its SHA-256 on the Pico, then switch: the Pico resets into them, on
        trial (its boot stub goes back after three boots unless :meth:`confirm` comes).

        Every maintenance command counts on the Pico as a heartbeat that says "busy", so
        the Pi is never cut meanwhile.  A refusal (CoprocessorRefused) or a timeout
        leaves the running slot as it was.  The SWITCH's own answer may be lost as the
        Pico resets: :meth:`await_restart` and the version it reports decide.
        """
        self._request(MAINTAIN)
        for name, data in files:
            self._request(OPEN, struct.pack(">I", len(data)) + name.encode("ascii"))
            for offset in range(0, len(data), WRITE_BYTES):
                chunk = data[offset : offset + WRITE_BYTES]
                self._request(WRITE, struct.pack(">I", offset) + chunk, limit=MAINTENANCE_PAYLOAD)
            self._request(CLOSE, hashlib.sha256(data).digest())
        # its answer may be lost in the reset, or come from the new firmware: see above
        with contextlib.suppress(DeviceTimeout, CoprocessorRefused):
            self._request(SWITCH)

    def await_restart(self, *, timeout: float) -> CoprocessorInfo:
        """INFO from the Pico once it answers again after a reset, within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.info = self.read_info()
                return self.info
            except DeviceTimeout:
                if time.monotonic() >= deadline:
                    raise

    def confirm(self) -> bool:
        """The firmware the Pico runs is good: no longer on trial.  Whether it was."""
        return self._request(CONFIRM) == b"\x01"

    def probe(self) -> DeviceInfo:
        info = self.read_info()
        return DeviceInfo(
            self.name,
            "Raspberry Pi Pico (jemput power firmware)",
            {
                "port": self._port.port,
                "firmware": info.version_text,
                "reset cause": getattr(info.reset_cause, "name", str(info.reset_cause)),
                "last cut": info.last_cut.name,
            },
        )

    def close(self) -> None:
        """Release the port; safe to call twice."""
        self._port.close()

    # -- the wire -------------------------------------------------------------------------------

    def _request(self, kind: int, payload: bytes = b"", *, limit: int = MAX_PAYLOAD) -> bytes:
        """Send ``kind`` and return its answer's payload; only the answer counts.

        A frame is this request's answer only when it carries the request's seq *and* the
        answer kind for this request (``kind | REPLY``), or is a NAK naming this kind.
        Anything else is ignored and counted: a late answer to an earlier request, or the
        Pico's answer to a second writer on the UART, whose seq may well be ours.
        """
        last_error = ""
        for _ in range(self.attempts):
            self._seq = (self._seq + 1) & 0xFF
            self._reader.reset()
            self._port.reset_input()
            self._port.write(encode(kind, self._seq, payload, limit=limit))
            deadline = time.monotonic() + self.timeout
            while time.monotonic() < deadline:
                for got_kind, got_seq, body in self._reader.feed(self._port.read()):
                    if not self._answers(kind, got_kind, got_seq, body):
                        self.strays += 1
                        self._reader.garbage += HEADER + len(body) + 2
                        continue
                    if got_kind == NAK:
                        raise CoprocessorRefused(
                            f"{_LABEL} refused command 0x{kind:02X}: "
                            f"{NAK_REASONS.get(body[0], f'code {body[0]}')}; flash the "
                            "firmware of this release",
                            device=self.name,
                        )
                    return body
            last_error = f"no answer to command 0x{kind:02X} within {self.timeout:g} s"
        raise DeviceTimeout(
            f"{_LABEL} on {self._port.port}: {last_error} ({self.attempts} tries, "
            f"{self.strays} frames that answered something else and {self.garbage} bytes of "
            f"garbage so far); {_ADVICE}, and that nothing else writes to its UART",
            device=self.name,
        )

    def _answers(self, kind: int, got_kind: int, got_seq: int, body: bytes) -> bool:
        """Whether a checked frame answers request ``kind`` sent with the current seq.

        The protocol's answer to a request is its kind with bit 7 set, or a NAK whose
        payload is (reason, the refused kind) (docs/devices/coprocessor.md, "Commands").
        """
        if got_seq != self._seq:
            return False
        if got_kind == NAK:
            return len(body) == 2 and body[1] == kind
        return got_kind == kind | REPLY

    def _status(self, raw: bytes) -> CoprocessorStatus:
        fields = self._unpack(STATUS_FORMAT, raw, "STATUS")
        state, request, level, mv, events, garbage, bad, left, uptime = fields
        return CoprocessorStatus(
            state=self._enum(PowerState, state, "state"),
            request=self._enum(ShutdownRequest, request, "request"),
            level=self._enum(BatteryLevel, level, "battery level"),
            volts=mv / 1000,
            pressed=bool(events & EVENT_PRESSED),
            pico_reset=bool(events & EVENT_PICO_RESET),
            garbage=garbage,
            bad_frames=bad,
            seconds_left=None if left < 0 else left,
            uptime=uptime,
        )

    def _unpack(self, fmt: str, raw: bytes, what: str) -> tuple[int, ...]:
        if len(raw) != struct.calcsize(fmt):
            raise FrameError(
                f"{_LABEL} sent a {what} of {len(raw)} bytes, expected "
                f"{struct.calcsize(fmt)}: flash the firmware of this release",
                device=self.name,
            )
        return struct.unpack(fmt, raw)

    def _enum(self, kind: type[_E], raw: int, what: str) -> _E:
        try:
            return kind(raw)
        except ValueError:
            raise FrameError(
                f"{_LABEL} reported {what} {raw}, which this driver does not know: "
                "flash the firmware of this release",
                device=self.name,
            ) from None
