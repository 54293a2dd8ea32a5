"""Frames on the provisioning port: magic, version, length, one CBOR payload, CRC-32.

Why frames at all: a USB gadget serial port is a byte stream that may drop, duplicate or
garble bytes when a cable is pulled half-way, and the tool may be pointed at the wrong
port (a modem, a GPS, a console).  Each frame says where it starts (magic), how long it is
(bounded by MAX_FRAME, so a garbled length cannot make either side wait for a gigabyte),
and carries a CRC-32 so a damaged frame is dropped, never acted on.  The reader resyncs on
the next magic after garbage, and a peer that sends only bytes that never form a frame is
named as "not a Jemput kit/tool".  The layout is in docs/provisioning-protocol.md::

    offset  size  field
    0       2     magic b"JM"
    2       1     version (1)
    3       4     payload length, big-endian, at most MAX_FRAME
    7       4     CRC-32 (zlib) of bytes 2 .. 7 (version and length), big-endian
    11      n     payload: one CBOR item (see kitlink.protocol)
    11+n    4     CRC-32 (zlib) of the payload, big-endian

The header has its own checksum so a garbled length is caught at once, instead of
making the reader wait for (and swallow) the frames that follow.
"""

from __future__ import annotations

import contextlib
import struct
import time
import zlib
from collections import deque
from collections.abc import Callable
from itertools import pairwise

import serial

MAGIC = b"JM"
VERSION = 1
#: The largest payload either side sends or accepts; records travel in CHUNK-sized pieces.
MAX_FRAME = 256 * 1024
_HEADER = struct.Struct(">2sBII")
HEADER_BYTES = _HEADER.size
CRC_BYTES = 4
#: Bytes that formed no frame after which the peer is called foreign without waiting longer.
FOREIGN_AFTER = 1024
#: Serial speed on the Pi's gadget port (ignored by ptys and USB CDC, which run at bus speed).
BAUDRATE = 115200
#: Seconds a send may wait for the port to take its bytes.
WRITE_TIMEOUT = 10.0
#: Seconds one read waits; a receive's deadline is kept to within this.
_READ_SLICE = 0.05
#: Seconds of silence after which a frame that has started is given up: the cable was
#: pulled, or its header was garbage that passed the header check.
FRAME_IDLE = 2.0
#: Bytes per second a started frame must at least arrive at (half of BAUDRATE's 11.5 KB/s).
FRAME_MIN_RATE = 5_000.0


class LinkError(Exception):
    """Base of every error on the provisioning port: framing, link and protocol."""


class FramingError(LinkError, ValueError):
    """Bytes that are not a valid frame, or a payload that cannot be framed."""


class FrameTooLarge(FramingError):
    """A payload over MAX_FRAME: refused before it is sent."""


class ForeignPeer(FramingError):
    """The peer sends bytes, but never a Jemput frame: the wrong port or the wrong device."""


class LinkTimeout(LinkError, TimeoutError):
    """No complete frame arrived before the deadline."""


class LinkClosed(LinkError, ConnectionError):
    """The port went away (cable pulled, kit stopped) in the middle of an exchange."""


def encode_frame(payload: bytes) -> bytes:
    """Frame ``payload``; FrameTooLarge if it exceeds MAX_FRAME."""
    if len(payload) > MAX_FRAME:
        raise FrameTooLarge(
            f"payload of {len(payload)} bytes exceeds the frame limit of {MAX_FRAME}: "
            "send it in chunks"
        )
    fields = struct.pack(">BI", VERSION, len(payload))
    header = _HEADER.pack(MAGIC, VERSION, len(payload), zlib.crc32(fields))
    return header + payload + zlib.crc32(payload).to_bytes(CRC_BYTES, "big")


class FrameDecoder:
    """Turns a byte stream into frame payloads, dropping garbage and damaged frames.

    A frame that has started (its header checked out) must finish: if the line falls
    silent for more than ``idle`` seconds before its last byte, or it is still incomplete
    ``idle + length / min_rate`` seconds after its header came, it is abandoned and the
    bytes after its first are searched again.  So a cable pulled mid-frame, or one header
    of garbage that happens to check out, costs seconds, never the next 256 KiB.  Time
    is read from ``clock`` at every `feed`, also with no bytes (``feed(b"")``): a reader
    with a read timeout feeds after every empty read, so expiry needs no extra thread.

    ``discarded`` counts bytes thrown away since the last good frame (garbage, bad
    headers, bad checksums, abandoned frames): what tells a wrong peer from a silent one.
    ``rejected`` counts bad frame starts and ``abandoned`` the frames that timed out.
    """

    def __init__(
        self,
        *,
        max_frame: int = MAX_FRAME,
        idle: float | None = None,
        min_rate: float = FRAME_MIN_RATE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._buffer = bytearray()
        self._max = max_frame
        self._idle = idle
        self._min_rate = min_rate
        self._clock = clock
        #: (stream offset just past the chunk, arrival time) of each chunk still buffered.
        self._arrivals: deque[tuple[int, float]] = deque()
        self._start = 0  # stream offset of self._buffer[0]
        self.discarded = 0
        self.rejected = 0
        self.abandoned = 0

    @property
    def pending(self) -> int:
        """Bytes held that formed no frame yet (a frame under way, or part of a header)."""
        return len(self._buffer)

    @property
    def wanted(self) -> int:
        """Bytes still missing from the frame under way (at least 1): what a reader may wait
        for without reading past that frame's end.

        Before a whole header has come, what completes the header: a length counts only
        once the header's own CRC vouched for it (`feed` dropped any header that failed).
        """
        if len(self._buffer) < HEADER_BYTES:
            return HEADER_BYTES - len(self._buffer)
        _, _, length, _ = _HEADER.unpack_from(self._buffer)
        return max(HEADER_BYTES + length + CRC_BYTES - len(self._buffer), 1)

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes (or none, to let time pass); the payloads now complete."""
        now = self._clock()
        if data:
            self._buffer += data
            self._arrivals.append((self._start + len(self._buffer), now))
        found: list[bytes] = []
        while True:
            start = self._buffer.find(MAGIC)
            if start < 0:
                keep = 1 if self._buffer.endswith(MAGIC[:1]) else 0
                self._drop(len(self._buffer) - keep)
                return found
            self._drop(start)
            if len(self._buffer) < HEADER_BYTES:
                return found
            _, version, length, header_crc = _HEADER.unpack_from(self._buffer)
            bad_header = zlib.crc32(self._buffer[2:7]) != header_crc
            if bad_header or version != VERSION or length > self._max:
                self._reject()
                continue
            end = HEADER_BYTES + length
            if len(self._buffer) < end + CRC_BYTES:
                if self._overdue(length, now):
                    self.abandoned += 1
                    self._reject()
                    continue
                return found
            crc = int.from_bytes(self._buffer[end : end + CRC_BYTES], "big")
            if zlib.crc32(self._buffer[HEADER_BYTES:end]) != crc:
                self._reject()
                continue
            found.append(bytes(self._buffer[HEADER_BYTES:end]))
            self._drop(end + CRC_BYTES, garbage=False)
            self.discarded = 0

    @property
    def idle(self) -> float:
        """Seconds of silence that abandon a started frame (FRAME_IDLE unless given)."""
        return FRAME_IDLE if self._idle is None else self._idle

    def deadline(self, length: int) -> float:
        """Seconds a frame of ``length`` payload bytes may take from its header to its end."""
        return self.idle + length / self._min_rate

    def _overdue(self, length: int, now: float) -> bool:
        """Whether the incomplete frame at the buffer's start has run out of time.

        Its header came with the first chunk reaching past the header; every chunk since
        belongs to it, so a silence longer than ``idle`` between them, or since the last
        of them, means the sender stopped mid-frame (or the header was garbage).
        """
        header_end = self._start + HEADER_BYTES
        times = [at for end, at in self._arrivals if end >= header_end]
        began = times[0]
        silences = (later - earlier for earlier, later in pairwise([*times, now]))
        return now - began > self.deadline(length) or max(silences) > self.idle

    def _drop(self, count: int, *, garbage: bool = True) -> None:
        if count:
            del self._buffer[:count]
            self._start += count
            while self._arrivals and self._arrivals[0][0] <= self._start:
                self._arrivals.popleft()
            if garbage:
                self.discarded += count

    def _reject(self) -> None:
        """A frame start that turned out bad: skip its first byte and look again."""
        self.rejected += 1
        self._drop(1)


class FramedPort:
    """The tool's end of the provisioning port: frames over a pyserial port.

    ``port`` is a path: /dev/ttyACM0 on a laptop, the pty the simulator links.  Whatever
    waits in the port when it is opened (a late answer to a tool that ran before) is
    dropped: pyserial empties the input when it opens a port.  Every receive has a
    deadline, and so has every send (WRITE_TIMEOUT), so a kit that stopped reading cannot
    hang the tool.
    """

    def __init__(self, *, port: str) -> None:
        self.name = port
        try:
            self._serial = serial.Serial(
                port, baudrate=BAUDRATE, timeout=_READ_SLICE, write_timeout=WRITE_TIMEOUT
            )
        except (serial.SerialException, OSError) as exc:
            raise LinkClosed(
                f"cannot open provisioning port {port}: {exc}; check the USB cable to the "
                "kit and that the kit is switched on"
            ) from exc
        self._decoder = FrameDecoder()
        self._pending: list[bytes] = []
        self._closed = False

    def __repr__(self) -> str:
        return f"<FramedPort {self.name} {'closed' if self._closed else 'open'}>"

    def send(self, payload: bytes) -> None:
        frame = encode_frame(payload)
        try:
            # write() returns once the OS holds every byte, or raises after WRITE_TIMEOUT;
            # no flush(): draining a port the peer stopped reading would wait forever.
            self._serial.write(frame)
        except serial.SerialTimeoutException as exc:
            raise LinkTimeout(
                f"{self.name} took no data for {WRITE_TIMEOUT:.0f} s: the kit is not reading "
                "its provisioning port; restart the kit and run the command again"
            ) from exc
        except (serial.SerialException, OSError) as exc:
            raise LinkClosed(self._gone(exc)) from exc

    def receive(self, *, timeout: float) -> bytes:
        """The next frame's payload; LinkTimeout, ForeignPeer or LinkClosed otherwise."""
        deadline = time.monotonic() + timeout
        while not self._pending:
            if self._decoder.discarded > FOREIGN_AFTER:
                raise ForeignPeer(self._foreign())
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if self._decoder.discarded:
                    raise ForeignPeer(self._foreign())
                raise LinkTimeout(
                    f"no answer on {self.name} within {timeout:.1f} s: check that the kit is "
                    "on and its provisioning port is connected"
                )
            try:
                # the rest of the frame under way (more if more has arrived), waiting one
                # slice at most: read(4096) would sit out the slice at the end of every
                # answer shorter than that, and read(in_waiting or 1) took a long answer a
                # pty's 4 KiB (or a single byte) at a time through the decoder
                chunk = self._serial.read(max(self._serial.in_waiting, self._decoder.wanted))
            except (serial.SerialException, OSError) as exc:
                raise LinkClosed(self._gone(exc)) from exc
            self._pending += self._decoder.feed(chunk)
        return self._pending.pop(0)

    def discard_input(self) -> None:
        """Forget frames and bytes already received (a stale answer after a timeout)."""
        with contextlib.suppress(serial.SerialException, OSError):
            self._serial.reset_input_buffer()
        self._decoder = FrameDecoder()
        self._pending.clear()

    def _foreign(self) -> str:
        return (
            f"{self.name} answers with {self._decoder.discarded} bytes that are no Jemput frame: "
            "not a Jemput kit/tool on this port; check which port the kit is on"
        )

    def _gone(self, exc: Exception) -> str:
        return f"provisioning port {self.name} went away ({exc}): check the USB cable to the kit"

    def close(self) -> None:
        """Close the serial port; safe twice."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(serial.SerialException, OSError):
                self._serial.close()

    def __enter__(self) -> FramedPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
