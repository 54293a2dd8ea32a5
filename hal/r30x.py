"""The 0xEF01 packet format of the R307 / R503 / ZFM-20 fingerprint sensor family.

Only the framing lives here: constants, packet encoding, an incremental reader that
checks every field of every packet, and the one table that turns the sensor's
confirmation codes into :mod:`hal.exc` errors.  The driver that uses them is
:mod:`hal.fingerprint`; the emulator in ``hw_sim`` frames independently, so a mistake
here cannot hide by being made twice.

A packet on the wire::

    EF 01 | address (4, BE) | packet id (1) | length (2, BE) = len(payload) + 2
          | payload | checksum (2, BE) = 16-bit sum of id, both length bytes, payload
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from hal.exc import (
    ChecksumError,
    DeviceError,
    FingerprintError,
    FrameError,
    LibraryError,
    NoFinger,
    NoMatch,
    PoorImage,
    ProtocolError,
    WrongPassword,
)

START_CODE = b"\xef\x01"
DEFAULT_ADDRESS = 0xFFFFFFFF
#: start code, address, packet id, length
HEADER_SIZE = 9
#: The largest payload a data packet carries (packet size code 3); commands are smaller.
MAX_PAYLOAD = 256

# Packet ids
PID_COMMAND = 0x01
PID_DATA = 0x02  # data, more to follow
PID_ACK = 0x07
PID_END_DATA = 0x08  # the last data packet
PACKET_IDS = frozenset({PID_COMMAND, PID_DATA, PID_ACK, PID_END_DATA})

# Instruction codes (first payload byte of a command packet)
GEN_IMG = 0x01
IMG2TZ = 0x02  # buffer id 1 or 2
MATCH = 0x03
SEARCH = 0x04  # buffer, start page u16, page count u16 -> code, page u16, score u16
REG_MODEL = 0x05
STORE = 0x06  # buffer, page u16
LOAD_CHAR = 0x07  # buffer, page u16
UP_CHAR = 0x08  # buffer -> data packets
DOWN_CHAR = 0x09  # buffer <- data packets
UP_IMAGE = 0x0A  # -> data packets, 4-bit pixels
DOWN_IMAGE = 0x0B
DELETE_CHAR = 0x0C  # page u16, count u16
EMPTY = 0x0D
SET_SYS_PARA = 0x0E  # parameter, value
READ_SYS_PARA = 0x0F  # -> 16 bytes, see SYS_PARA_FORMAT
SET_PWD = 0x12
VFY_PWD = 0x13  # password u32
SET_ADDR = 0x15
TEMPLATE_NUM = 0x1D  # -> u16
READ_INDEX_TABLE = 0x1F  # index page 0..3 -> 32-byte bitmap, LSB first
AURA_LED_CONFIG = 0x35  # R503: control, speed, colour, count

# SetSysPara parameter numbers
PARAM_BAUD = 4  # value N: baud = 9600 * N, N = 1..12
PARAM_SECURITY = 5  # 1..5
PARAM_PACKET_SIZE = 6  # code 0..3

#: ReadSysPara answer after the code: status, system id, library size, security level,
#: address, packet size code, baud N.
SYS_PARA_FORMAT = ">HHHHIHH"
#: Packet size code -> payload bytes per data packet.
PACKET_SIZES = (32, 64, 128, 256)
#: The unit of the baud parameter: baud = BAUD_UNIT * N.
BAUD_UNIT = 9600

# Confirmation codes (first payload byte of an acknowledge packet)
OK = 0x00
ERR_RECEIVE = 0x01
ERR_NO_FINGER = 0x02
ERR_IMAGE_FAIL = 0x03
ERR_IMAGE_MESSY = 0x06
ERR_FEATURE_FAIL = 0x07
ERR_NO_MATCH = 0x08
ERR_NOT_FOUND = 0x09
ERR_ENROLL_MISMATCH = 0x0A
ERR_BAD_LOCATION = 0x0B
ERR_READ_TEMPLATE = 0x0C
ERR_UPLOAD_FEATURE = 0x0D
ERR_PACKET_RESPONSE = 0x0E
ERR_UPLOAD_IMAGE = 0x0F
ERR_DELETE = 0x10
ERR_DB_CLEAR = 0x11
ERR_PASSWORD = 0x13
ERR_NO_IMAGE = 0x15
ERR_FLASH = 0x18
ERR_INVALID_REG = 0x1A


class LedMode(enum.IntEnum):
    """AuraLedConfig control byte of the R503's ring."""

    BREATHE = 1
    FLASH = 2
    ON = 3
    OFF = 4
    FADE_ON = 5
    FADE_OFF = 6


class LedColour(enum.IntEnum):
    """AuraLedConfig colour byte; 4..7 exist only on later R503 firmware."""

    RED = 1
    BLUE = 2
    PURPLE = 3
    GREEN = 4
    YELLOW = 5
    CYAN = 6
    WHITE = 7


_CHECK_SENSOR = "check the sensor's cable and retry"
_RETRY_FINGER = "ask the person to clean and dry the finger and press it flat"

#: Confirmation code -> (error class, what it means, what to do).  One table, so the
#: driver never compares codes by hand.
CODE_ERRORS: dict[int, tuple[type[FingerprintError] | type[ProtocolError], str, str]] = {
    ERR_RECEIVE: (ProtocolError, "the sensor could not receive our packet", _CHECK_SENSOR),
    ERR_NO_FINGER: (NoFinger, "no finger on the sensor", "ask the person to place the finger"),
    ERR_IMAGE_FAIL: (PoorImage, "the image could not be taken", _RETRY_FINGER),
    ERR_IMAGE_MESSY: (PoorImage, "the image is too messy", _RETRY_FINGER),
    ERR_FEATURE_FAIL: (PoorImage, "the image has too few features", _RETRY_FINGER),
    ERR_NO_MATCH: (NoMatch, "the fingers do not match", "try another finger"),
    ERR_NOT_FOUND: (NoMatch, "the finger is not in the library", "try another finger"),
    ERR_BAD_LOCATION: (
        LibraryError,
        "the library page is out of range",
        "use a page below the library size",
    ),
    ERR_READ_TEMPLATE: (
        LibraryError,
        "the template could not be read",
        "enrol the finger again",
    ),
    ERR_UPLOAD_FEATURE: (ProtocolError, "the template upload failed", _CHECK_SENSOR),
    ERR_PACKET_RESPONSE: (ProtocolError, "the sensor cannot receive data packets", _CHECK_SENSOR),
    ERR_UPLOAD_IMAGE: (ProtocolError, "the image upload failed", _CHECK_SENSOR),
    ERR_DELETE: (LibraryError, "the template could not be deleted", "retry; replace the sensor"),
    ERR_DB_CLEAR: (LibraryError, "the library could not be cleared", "retry; replace the sensor"),
    ERR_PASSWORD: (
        WrongPassword,
        "the sensor refused the password",
        "set the sensor password in the kit's configuration",
    ),
    ERR_FLASH: (LibraryError, "the sensor's flash memory failed", "replace the sensor"),
}


def raise_for_code(code: int, *, during: str, device: str = "fingerprint") -> None:
    """Return on OK; otherwise raise the :mod:`hal.exc` error the code stands for.

    ``during`` names the instruction, so the message says what the sensor was doing.
    """
    if code == OK:
        return
    error, meaning, advice = CODE_ERRORS.get(
        code,
        (FingerprintError, f"the sensor reported error code 0x{code:02X}", _CHECK_SENSOR),
    )
    raise error(
        f"{device} sensor: {meaning} (code 0x{code:02X}) during {during}; {advice}",
        device=device,
    )


def checksum(pid: int, payload: bytes) -> int:
    """The 16-bit sum of the packet id, both length bytes and every payload byte."""
    length = len(payload) + 2
    return (pid + (length >> 8) + (length & 0xFF) + sum(payload)) & 0xFFFF


def encode_packet(pid: int, payload: bytes, *, address: int = DEFAULT_ADDRESS) -> bytes:
    """Frame ``payload`` as one packet of type ``pid``."""
    if pid not in PACKET_IDS:
        raise ValueError(f"packet id 0x{pid:02X} is not one of the R30x packet ids")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    header = START_CODE + struct.pack(">IBH", address, pid, len(payload) + 2)
    return header + bytes(payload) + struct.pack(">H", checksum(pid, payload))


@dataclass(frozen=True)
class Packet:
    """One checked packet.

    ``quirk`` is True when the packet was accepted only because its checksum matches
    Adafruit's miscomputed one for a final data packet (see :class:`PacketReader`).
    """

    pid: int
    payload: bytes
    address: int = DEFAULT_ADDRESS
    quirk: bool = False


class PacketReader:
    """Turns a byte stream into checked packets, however the stream is chunked.

    Bytes before a start code are skipped (counted in ``skipped``), so the reader
    resynchronises after line noise.  A packet with a bad address, id or length raises
    :class:`FrameError` and only its start code is dropped; one with a bad checksum
    raises :class:`ChecksumError` and is dropped whole.  Packets completed before the
    error in the same call stay queued: the next ``feed`` (``feed(b"")`` will do)
    returns them.

    ``tolerate_end_data_quirk`` accepts a final data packet whose checksum was computed
    as if its id were 0x02, as Adafruit's driver sends it; such packets carry
    ``quirk=True``.  ``source`` and ``device`` name the sensor in error messages.
    """

    def __init__(
        self,
        *,
        address: int = DEFAULT_ADDRESS,
        tolerate_end_data_quirk: bool = False,
        source: str = "fingerprint sensor",
        device: str = "fingerprint",
    ) -> None:
        self.address = address
        self.tolerate_end_data_quirk = tolerate_end_data_quirk
        self.source = source
        self.device = device
        self.skipped = 0
        self._buffer = bytearray()
        self._ready: list[Packet] = []

    def reset(self) -> None:
        """Forget buffered bytes and queued packets (after an aborted exchange)."""
        self._buffer.clear()
        self._ready.clear()

    def feed(self, data: bytes) -> list[Packet]:
        """Add ``data``; return every packet it completed, in order."""
        self._buffer += data
        while True:
            packet = self._next()
            if packet is None:
                break
            self._ready.append(packet)
        ready, self._ready = self._ready, []
        return ready

    def _next(self) -> Packet | None:
        buffer = self._buffer
        start = buffer.find(START_CODE)
        if start < 0:
            # keep a trailing 0xEF: it may be the first half of a start code
            keep = 1 if buffer.endswith(START_CODE[:1]) else 0
            self.skipped += len(buffer) - keep
            del buffer[: len(buffer) - keep]
            return None
        self.skipped += start
        del buffer[:start]
        if len(buffer) < HEADER_SIZE:
            return None
        address, pid, length = struct.unpack_from(">IBH", buffer, 2)
        if address != self.address:
            self._drop_start()
            raise self._frame_error(f"address 0x{address:08X}, expected 0x{self.address:08X}")
        if pid not in PACKET_IDS:
            self._drop_start()
            raise self._frame_error(f"unknown packet id 0x{pid:02X}")
        if not 2 <= length <= MAX_PAYLOAD + 2:
            self._drop_start()
            raise self._frame_error(f"length {length} outside 2..{MAX_PAYLOAD + 2}")
        end = HEADER_SIZE + length
        if len(buffer) < end:
            return None
        payload = bytes(buffer[HEADER_SIZE : end - 2])
        (received,) = struct.unpack_from(">H", buffer, end - 2)
        del buffer[:end]
        expected = checksum(pid, payload)
        if received == expected:
            return Packet(pid, payload, address)
        if (
            self.tolerate_end_data_quirk
            and pid == PID_END_DATA
            and received == checksum(PID_DATA, payload)
        ):
            return Packet(pid, payload, address, quirk=True)
        raise ChecksumError(
            f"{self.source}: packet 0x{pid:02X} of {len(payload)} bytes has checksum "
            f"0x{received:04X}, expected 0x{expected:04X}; check the cable and baud rate",
            device=self.device,
        )

    def _drop_start(self) -> None:
        del self._buffer[: len(START_CODE)]

    def _frame_error(self, what: str) -> DeviceError:
        return FrameError(
            f"{self.source}: bad packet header: {what}; check the cable, baud rate "
            "and the sensor address",
            device=self.device,
        )
