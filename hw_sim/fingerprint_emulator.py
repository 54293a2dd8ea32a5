"""An R307-family fingerprint sensor on the far end of a pty, down to its 0xEF01 packets.

The real driver (``hal.fingerprint``), pyfingerprint or Adafruit's driver open
:attr:`FingerprintEmulator.port` and talk to it as to the part: password handshake,
baud change, image capture from whatever finger the world put on the glass (synthetic
ridges from :mod:`hw_sim.fingerprints`), 4-bit image upload, template extraction,
upload and download, and an on-chip library with store, search, delete and index table.

The framing here is written apart from ``hal.r30x`` on purpose (``hw_sim`` may not
import drivers): driver and emulator meet only at the wire, so a framing mistake made
on one side shows up as a failing exchange instead of cancelling out.
"""

from __future__ import annotations

import logging
import os
import random
import struct
from collections.abc import Callable, Mapping

from hal.types import SensorModel
from hw_sim.fingerprints import (
    MATCH_THRESHOLD,
    SCARRED_FAILURE_RATE,
    match_score,
    ridge_image,
    template_of,
)
from hw_sim.fingers import Finger, FingerCondition
from hw_sim.link import PtyDevice
from hw_sim.timing import LineFormat, Timing

log = logging.getLogger(__name__)

_START = b"\xef\x01"
_HEADER = struct.Struct(">2sIBH")  # start code, address, packet id, length
_MAX_LENGTH = 256 + 2

_COMMAND, _DATA, _ACK, _END_DATA = 0x01, 0x02, 0x07, 0x08

# instructions the emulator answers
_GEN_IMG = 0x01
_IMG2TZ = 0x02
_MATCH = 0x03
_SEARCH = 0x04
_REG_MODEL = 0x05
_STORE = 0x06
_LOAD_CHAR = 0x07
_UP_CHAR = 0x08
_DOWN_CHAR = 0x09
_UP_IMAGE = 0x0A
_DELETE_CHAR = 0x0C
_EMPTY = 0x0D
_SET_SYS_PARA = 0x0E
_READ_SYS_PARA = 0x0F
_VFY_PWD = 0x13
_TEMPLATE_NUM = 0x1D
_READ_INDEX_TABLE = 0x1F
_AURA_LED_CONFIG = 0x35

# confirmation codes it answers with
_OK = 0x00
_ERR_RECEIVE = 0x01
_ERR_NO_FINGER = 0x02
_ERR_MESSY = 0x06
_ERR_FEW_FEATURES = 0x07
_ERR_NO_MATCH = 0x08
_ERR_NOT_FOUND = 0x09
_ERR_COMBINE = 0x0A
_ERR_BAD_PAGE = 0x0B
_ERR_READ_TEMPLATE = 0x0C
_ERR_UPLOAD_FEATURE = 0x0D
_ERR_DELETE = 0x10
_ERR_PASSWORD = 0x13
_ERR_NO_IMAGE = 0x15
_ERR_INVALID_REG = 0x1A

_PACKET_SIZES = (32, 64, 128, 256)
_BAUD_UNIT = 9600
#: The sensor's UART at power-up (datasheet: 9600 x N baud, N = 6 by default), 8N1.
POWER_UP_BAUD = 57600
#: R307 datasheet: fingerprint image input time < 0.3 s (the GenImg that finds a finger).
IMAGE_SECONDS = 0.3
#: R307 datasheet: search time < 1.0 s for 1:1000 (mean); a search takes its share.
SEARCH_SECONDS_PER_1000 = 1.0
# ReadSysPara status word bits
_STATUS_PASSWORD_OK = 1 << 2
_STATUS_IMAGE_VALID = 1 << 3
#: Line noise the "garbage" fault sends before an answer; it holds no start code (0xEF01).
_NOISE = b"\x00\x55\xaa\xff\x13\x37"

#: An answer: the acknowledge payload (code first), then data to upload, if any.
_Reply = tuple[bytes, bytes | None]


def _sum16(pid: int, payload: bytes) -> int:
    length = len(payload) + 2
    return (pid + (length >> 8) + (length & 0xFF) + sum(payload)) & 0xFFFF


def _code(code: int, tail: bytes = b"") -> _Reply:
    return bytes([code]) + tail, None


class FingerprintEmulator(PtyDevice):
    """A simulated R307 or R503 behind a pty; open :attr:`port` with any R30x driver.

    ``model`` decides the image size and the library's pages, as the part's datasheet
    does; ``library_size`` overrides the pages (a test's nearly full library).
    ``place(finger)`` puts a :class:`hw_sim.fingers.Finger` on the glass.  ``received``
    lists every command as (instruction, parameters).  ``timing`` keeps the wire's time at
    the current baud rate (raised when SetSysPara asks), and the datasheet's times to image
    a finger and search the library (docs/devices/fingerprint.md).  Fault kinds are
    :attr:`FAULTS`: ``unplugged`` (silence), ``corrupt`` (the next answer's checksum is
    wrong), ``garbage`` (line noise before the next answer), ``poor-image`` (every image
    fails feature extraction), ``wrong-password`` (VfyPwd always fails).
    :meth:`unplug_after` pulls the cable in the middle of an answer.
    """

    FAULTS: tuple[str, ...] = ("unplugged", "corrupt", "garbage", "poor-image", "wrong-password")

    def __init__(
        self,
        *,
        link_path: str | os.PathLike[str] | None = None,
        password: int = 0,
        model: SensorModel = SensorModel.R307,
        library_size: int | None = None,
        timing: Timing | None = None,
        address: int = 0xFFFFFFFF,
    ) -> None:
        super().__init__("fingerprint")
        self.password = password
        self.model = model
        self.library_size = model.library_pages if library_size is None else library_size
        self.image_size = model.image_size
        self.address = address
        self.baudrate = POWER_UP_BAUD
        self.security_level = 3
        self.packet_size_code = 2
        #: Every command received, decoded: (instruction, parameters).
        self.received: list[tuple[int, bytes]] = []
        #: The ring LED's last AuraLedConfig: (control, speed, colour, count).
        self.led: tuple[int, int, int, int] | None = None
        #: How many final data packets arrived with Adafruit's checksum quirk.
        self.quirks = 0
        self._inbox = bytearray()
        self._finger: Finger | None = None
        self._shots = 0  # images taken of the finger now on the glass
        self._image: bytes | None = None
        self._imaged: tuple[Finger, int] | None = None  # whose image is in the buffer
        self._chars: dict[int, bytes] = {}
        self._library: dict[int, bytes] = {}
        self._download: int | None = None  # the buffer DownChar data goes to
        self._download_data = bytearray()
        self._verified = False
        self._next_baudrate = 0
        self._handlers: dict[int, Callable[[bytes], _Reply]] = {
            _GEN_IMG: self._gen_img,
            _IMG2TZ: self._img2tz,
            _MATCH: self._match,
            _SEARCH: self._search,
            _REG_MODEL: self._reg_model,
            _STORE: self._store,
            _LOAD_CHAR: self._load_char,
            _UP_CHAR: self._up_char,
            _DOWN_CHAR: self._down_char,
            _UP_IMAGE: self._up_image,
            _DELETE_CHAR: self._delete_char,
            _EMPTY: self._empty,
            _SET_SYS_PARA: self._set_sys_para,
            _READ_SYS_PARA: self._read_sys_para,
            _VFY_PWD: self._vfy_pwd,
            _TEMPLATE_NUM: self._template_num,
            _READ_INDEX_TABLE: self._read_index_table,
            _AURA_LED_CONFIG: self._aura_led_config,
        }
        self._plug_in(link_path, "fingerprint", line=LineFormat(self.baudrate), timing=timing)

    def __repr__(self) -> str:
        faults = ",".join(sorted(self._faults)) or "none"
        return (
            f"<FingerprintEmulator {self.model.name} port={self.port} baud={self.baudrate} "
            f"library={len(self._library)}/{self.library_size} faults={faults}>"
        )

    # -- the world's side --------------------------------------------------------------

    def place(self, finger: Finger | None) -> None:
        """Put ``finger`` on the glass; ``None`` lifts it."""
        with self._lock:
            self._finger = finger
            self._shots = 0

    def load_flash(self, pages: Mapping[int, bytes]) -> None:
        """Power on with ``pages`` in the library, as a real sensor keeps it in flash."""
        with self._lock:
            self._library.update(pages)

    @property
    def library(self) -> dict[int, bytes]:
        """A copy of the on-chip library: page -> template."""
        with self._lock:
            return dict(self._library)

    # -- the wire ----------------------------------------------------------------------

    def _on_bytes(self, chunk: bytes) -> None:
        with self._lock:
            if "unplugged" in self._faults:
                self._inbox.clear()
                return
            self._inbox += chunk
            while (packet := self._next_packet()) is not None:
                self._dispatch(*packet)

    def _next_packet(self) -> tuple[int, bytes] | None:
        """The next well-formed packet in the inbox; answers 0x01 to a damaged one."""
        inbox = self._inbox
        while True:
            start = inbox.find(_START)
            if start < 0:
                del inbox[: max(0, len(inbox) - 1)]
                return None
            del inbox[:start]
            if len(inbox) < _HEADER.size:
                return None
            _, address, pid, length = _HEADER.unpack_from(inbox)
            if address != self.address or not 2 <= length <= _MAX_LENGTH:
                log.warning("fingerprint emulator: dropped a bad header %s", inbox[:9].hex())
                del inbox[:2]
                continue
            if len(inbox) < _HEADER.size + length:
                return None
            end = _HEADER.size + length
            payload = bytes(inbox[_HEADER.size : end - 2])
            (checksum,) = struct.unpack_from(">H", inbox, end - 2)
            del inbox[:end]
            if checksum == _sum16(pid, payload):
                return pid, payload
            if pid == _END_DATA and checksum == _sum16(_DATA, payload):
                self.quirks += 1
                log.warning(
                    "fingerprint emulator: final data packet checksummed as if its id were "
                    "0x02 (Adafruit's driver does this); accepted"
                )
                return pid, payload
            log.warning("fingerprint emulator: bad checksum on packet 0x%02X", pid)
            self._answer(*_code(_ERR_RECEIVE))

    def _dispatch(self, pid: int, payload: bytes) -> None:
        if pid in (_DATA, _END_DATA):
            self._receive_data(pid, payload)
            return
        if pid != _COMMAND or not payload:
            log.warning("fingerprint emulator: ignored packet 0x%02X", pid)
            return
        instruction, params = payload[0], payload[1:]
        self.received.append((instruction, params))
        handler = self._handlers.get(instruction)
        if handler is None:
            self._answer(*_code(_ERR_RECEIVE))
            return
        try:
            reply = handler(params)
        except struct.error:  # parameters of the wrong length
            reply = _code(_ERR_RECEIVE)
        self._answer(*reply)
        if self._next_baudrate:
            # SetSysPara's answer still goes out at the old rate; the switch follows it
            self.baudrate, self._next_baudrate = self._next_baudrate, 0
            self._link.retune(LineFormat(self.baudrate))

    def _receive_data(self, pid: int, payload: bytes) -> None:
        if self._download is None:
            log.warning("fingerprint emulator: data packet outside DownChar ignored")
            return
        self._download_data += payload
        if pid == _END_DATA:
            self._chars[self._download] = bytes(self._download_data)
            self._download = None

    def _answer(self, ack: bytes, data: bytes | None) -> None:
        """The acknowledge and its data packets, streamed back to back as the part does."""
        frame = self._frame(_ACK, ack)
        noise = _NOISE if self._take_fault("garbage") else b""
        if self._take_fault("corrupt"):
            frame = frame[:-1] + bytes([frame[-1] ^ 0xFF])
        packets = [noise, frame]
        if data is not None:
            size = _PACKET_SIZES[self.packet_size_code]
            chunks = [data[i : i + size] for i in range(0, len(data), size)]
            for i, chunk in enumerate(chunks):
                packets.append(self._frame(_END_DATA if i == len(chunks) - 1 else _DATA, chunk))
        self._send(b"".join(packets))

    def _frame(self, pid: int, payload: bytes) -> bytes:
        header = _HEADER.pack(_START, self.address, pid, len(payload) + 2)
        return header + payload + struct.pack(">H", _sum16(pid, payload))

    def _send(self, data: bytes) -> None:
        data, _ = self._let_through(data)  # pulled mid-answer: the rest is lost
        if data:
            self._link.send(data)  # at the line's pace

    # -- instructions ------------------------------------------------------------------

    def _gen_img(self, params: bytes) -> _Reply:
        finger = self._finger
        if finger is None or finger.condition is FingerCondition.MISSING:
            self._image = self._imaged = None
            return _code(_ERR_NO_FINGER)
        capture = finger.capture + self._shots
        self._shots += 1
        began = self.timing.monotonic()
        self._image = ridge_image(
            finger.person_seed, finger.position, capture, finger.condition, size=self.image_size
        )
        self._work(IMAGE_SECONDS, since=began)
        self._imaged = (finger, capture)
        return _code(_OK)

    def _img2tz(self, params: bytes) -> _Reply:
        (buffer,) = struct.unpack(">B", params)
        if self._imaged is None:
            return _code(_ERR_NO_IMAGE)
        finger, capture = self._imaged
        if "poor-image" in self._faults or finger.condition is FingerCondition.BANDAGED:
            return _code(_ERR_FEW_FEATURES)
        if finger.condition is FingerCondition.SCARRED:
            luck = random.Random(f"scar:{finger.person_seed}:{finger.position}:{capture}")
            if luck.random() < SCARRED_FAILURE_RATE:
                return _code(_ERR_MESSY)
        self._chars[buffer] = template_of(
            finger.person_seed, finger.position, capture, size=self.image_size
        )
        return _code(_OK)

    def _match(self, params: bytes) -> _Reply:
        first, second = self._chars.get(1), self._chars.get(2)
        score = 0 if first is None or second is None else match_score(first, second)
        return _code(_OK if score >= MATCH_THRESHOLD else _ERR_NO_MATCH, struct.pack(">H", score))

    def _search(self, params: bytes) -> _Reply:
        buffer, start, count = struct.unpack(">BHH", params)
        probe = self._chars.get(buffer)
        self._work(SEARCH_SECONDS_PER_1000 * min(count, self.library_size) / 1000)
        scores = [
            (match_score(probe, template), page)
            for page, template in self._library.items()
            if probe is not None and start <= page < start + count
        ]
        score, page = max(scores, default=(0, 0))
        if score < MATCH_THRESHOLD:
            return _code(_ERR_NOT_FOUND, b"\0\0\0\0")
        return _code(_OK, struct.pack(">HH", page, score))

    def _reg_model(self, params: bytes) -> _Reply:
        first, second = self._chars.get(1), self._chars.get(2)
        if first is None or second is None or match_score(first, second) < MATCH_THRESHOLD:
            return _code(_ERR_COMBINE)
        self._chars[2] = first
        return _code(_OK)

    def _store(self, params: bytes) -> _Reply:
        buffer, page = struct.unpack(">BH", params)
        if page >= self.library_size:
            return _code(_ERR_BAD_PAGE)
        if buffer not in self._chars:
            return _code(_ERR_READ_TEMPLATE)
        self._library[page] = self._chars[buffer]
        return _code(_OK)

    def _load_char(self, params: bytes) -> _Reply:
        buffer, page = struct.unpack(">BH", params)
        if page >= self.library_size:
            return _code(_ERR_BAD_PAGE)
        if page not in self._library:
            return _code(_ERR_READ_TEMPLATE)
        self._chars[buffer] = self._library[page]
        return _code(_OK)

    def _up_char(self, params: bytes) -> _Reply:
        (buffer,) = struct.unpack(">B", params)
        if buffer not in self._chars:
            return _code(_ERR_UPLOAD_FEATURE)
        return bytes([_OK]), self._chars[buffer]

    def _down_char(self, params: bytes) -> _Reply:
        (buffer,) = struct.unpack(">B", params)
        self._download = buffer
        self._download_data = bytearray()
        return _code(_OK)

    def _up_image(self, params: bytes) -> _Reply:
        if self._image is None:
            return _code(_ERR_NO_IMAGE)
        pixels = self._image
        packed = bytes(
            (a & 0xF0) | (b >> 4) for a, b in zip(pixels[0::2], pixels[1::2], strict=True)
        )
        return bytes([_OK]), packed

    def _delete_char(self, params: bytes) -> _Reply:
        page, count = struct.unpack(">HH", params)
        if page + count > self.library_size:
            return _code(_ERR_DELETE)
        for gone in range(page, page + count):
            self._library.pop(gone, None)
        return _code(_OK)

    def _empty(self, params: bytes) -> _Reply:
        self._library.clear()
        return _code(_OK)

    def _set_sys_para(self, params: bytes) -> _Reply:
        parameter, value = struct.unpack(">BB", params)
        if parameter == 4 and 1 <= value <= 12:
            self._next_baudrate = value * _BAUD_UNIT
        elif parameter == 5 and 1 <= value <= 5:
            self.security_level = value
        elif parameter == 6 and 0 <= value <= 3:
            self.packet_size_code = value
        else:
            return _code(_ERR_INVALID_REG)
        return _code(_OK)

    def _read_sys_para(self, params: bytes) -> _Reply:
        status = (_STATUS_PASSWORD_OK if self._verified else 0) | (
            _STATUS_IMAGE_VALID if self._image is not None else 0
        )
        para = struct.pack(
            ">HHHHIHH",
            status,
            0,
            self.library_size,
            self.security_level,
            self.address,
            self.packet_size_code,
            self.baudrate // _BAUD_UNIT,
        )
        return _code(_OK, para)

    def _vfy_pwd(self, params: bytes) -> _Reply:
        (password,) = struct.unpack(">I", params)
        self._verified = password == self.password and "wrong-password" not in self._faults
        return _code(_OK if self._verified else _ERR_PASSWORD)

    def _template_num(self, params: bytes) -> _Reply:
        return _code(_OK, struct.pack(">H", len(self._library)))

    def _read_index_table(self, params: bytes) -> _Reply:
        (index_page,) = struct.unpack(">B", params)
        table = bytearray(32)
        for page in self._library:
            offset = page - index_page * 256
            if 0 <= offset < 256:
                table[offset // 8] |= 1 << (offset % 8)
        return _code(_OK, bytes(table))

    def _aura_led_config(self, params: bytes) -> _Reply:
        control, speed, colour, count = struct.unpack(">BBBB", params)
        self.led = (control, speed, colour, count)
        return _code(_OK)
