"""UART frames between the Pi and the co-processor: a start byte, a header and a CRC.

A frame on the wire::

    A5 | kind (1) | seq (1) | length (1) <= 32 | payload | CRC-16/CCITT-FALSE (2, BE)

(up to MAINTENANCE_PAYLOAD while the Pi writes a firmware: maintenance.py).

The CRC (polynomial 0x1021, initial 0xFFFF) covers kind, seq, length and payload.  The
reader hunts for the start byte, checks the length and the CRC, and on any mismatch drops
one byte and hunts again: noise on the line costs the frame it hit, never the link.
Every byte dropped is counted in :attr:`Reader.garbage`, which the Pi reads in STATUS.
"""

from micropython import const

START = const(0xA5)
HEADER = const(4)
MAX_PAYLOAD = const(32)
#: The longest payload while a maintenance session is open: a WRITE's offset and data.
MAINTENANCE_PAYLOAD = const(196)
_CRC_SIZE = const(2)


def crc16(data: bytes | bytearray | memoryview, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE of ``data``, bit by bit (frames are short; no table in RAM)."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def encode(kind: int, seq: int, payload: bytes = b"") -> bytes:
    """One frame; ``payload`` must fit MAX_PAYLOAD (the firmware only sends its own)."""
    body = bytes((kind, seq & 0xFF, len(payload))) + payload
    crc = crc16(body)
    return bytes((START,)) + body + bytes((crc >> 8, crc & 0xFF))


class Reader:
    """Turns bytes from the UART into checked frames, counting what it had to drop."""

    def __init__(self) -> None:
        self._buf = bytearray()
        #: The longest payload taken: MAX_PAYLOAD, or MAINTENANCE_PAYLOAD in a session
        #: (the shorter limit finds the next frame sooner after noise).
        self.max_payload = MAX_PAYLOAD
        #: Bytes dropped since boot: noise, torn frames, bad lengths or CRCs.
        self.garbage = 0
        #: Frames whose CRC or length was wrong (each also counts its bytes in garbage).
        self.bad_frames = 0

    def feed(self, data: bytes) -> list[tuple[int, int, bytes]]:
        """Add ``data``; return every complete, checked frame as (kind, seq, payload)."""
        self._buf.extend(data)
        frames = []
        while self._buf:
            if self._buf[0] != START:
                self._drop(1)
                continue
            if len(self._buf) < HEADER:
                break
            length = self._buf[3]
            if length > self.max_payload:
                self.bad_frames += 1
                self._drop(1)
                continue
            total = HEADER + length + _CRC_SIZE
            if len(self._buf) < total:
                break
            frame = bytes(self._buf[:total])
            crc = (frame[-2] << 8) | frame[-1]
            if crc16(frame[1:-2]) != crc:
                self.bad_frames += 1
                self._drop(1)
                continue
            frames.append((frame[1], frame[2], frame[HEADER:-2]))
            self._buf = self._buf[total:]
        return frames

    def discard_partial(self) -> None:
        """Drop a frame left half-received (the line went quiet in its middle)."""
        if self._buf:
            self._drop(len(self._buf))

    def pending(self) -> int:
        """How many bytes wait for the rest of their frame."""
        return len(self._buf)

    def _drop(self, count: int) -> None:
        self.garbage += count
        self._buf = self._buf[count:]
