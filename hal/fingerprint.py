"""Driver of the R307 / R503 family optical fingerprint sensor on a UART.

Satisfies :class:`hal.contracts.FingerprintSensor`.  The sensor speaks 0xEF01 packets
(:mod:`hal.r30x`) at 57600 baud; after the password handshake we raise the link to
115200 baud, which halves the 7 s an image takes to upload.  The sensor cannot report
image quality, so the driver judges the uploaded image itself
(:func:`image_quality`).  Every wait runs against a ``time.monotonic()`` deadline and
every fault is a :mod:`hal.exc` leaf naming the port.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Sequence

from hal.contracts import Closing
from hal.exc import (
    DeviceAbsent,
    DeviceError,
    DeviceTimeout,
    FrameError,
    NoFinger,
    NoMatch,
    WrongSensorModel,
)
from hal.r30x import (
    AURA_LED_CONFIG,
    BAUD_UNIT,
    DEFAULT_ADDRESS,
    DELETE_CHAR,
    DOWN_CHAR,
    EMPTY,
    GEN_IMG,
    IMG2TZ,
    MATCH,
    PACKET_SIZES,
    PARAM_BAUD,
    PARAM_PACKET_SIZE,
    PID_ACK,
    PID_COMMAND,
    PID_DATA,
    PID_END_DATA,
    READ_INDEX_TABLE,
    READ_SYS_PARA,
    SEARCH,
    SET_SYS_PARA,
    STORE,
    SYS_PARA_FORMAT,
    TEMPLATE_NUM,
    UP_CHAR,
    UP_IMAGE,
    VFY_PWD,
    LedColour,
    LedMode,
    Packet,
    PacketReader,
    encode_packet,
    raise_for_code,
)
from hal.serial_port import SerialPort
from hal.types import DeviceInfo, FingerImage, FingerPosition, LibraryMatch, SensorModel

__all__ = ["LedColour", "LedMode", "R30xSensor", "image_quality"]

#: The character buffer the driver extracts into and searches from.
_BUFFER = 1
#: The second character buffer, for Match.
_SECOND_BUFFER = 2
#: The most template bytes UpChar may send (the R307 sends 512).
_MAX_TEMPLATE_BYTES = 4096
#: The data packet size the handshake asks for (code 3: 256 bytes), the largest: a 4-bit
#: R307 image crosses in 144 packets instead of 288, 0.14 s less of headers at 115200.
_LARGEST_PACKET = 3
#: Pages one ReadIndexTable answer covers (a 32-byte bitmap).
_INDEX_PAGE_SIZE = 256
#: How long one serial read may block before we look at the deadline again.
_POLL_SECONDS = 0.05
#: How long to wait between GenImg polls while no finger is on the glass.
_FINGER_POLL_SECONDS = 0.05

# image_quality: a 16 x 16 block is ridged when its pixels spread at least this much
# (standard deviation, 0..255); a block of clean, dark ridges spreads about 70.
_QUALITY_BLOCK = 16
_RIDGED_SPREAD = 24.0
_GOOD_SPREAD = 70.0
#: The share of ridged blocks that counts as full coverage: a finger is an ellipse,
#: so it never fills the whole rectangle of the glass.
_FULL_COVERAGE = 0.6
_SQUARES = [v * v for v in range(256)]


def image_quality(pixels: bytes, width: int, height: int) -> int:
    """Judge a finger image 0..100 from its ridge contrast and its coverage.

    The image is cut in 16 x 16 blocks; a block whose pixels spread (standard
    deviation) at least 24 grey levels holds ridges.  Coverage is the share of such
    blocks, reaching full marks at 60 % (a finger leaves the glass's corners empty);
    contrast is the mean spread of those blocks against 70, the spread of clear ridges.
    Quality is 100 x coverage x contrast, each capped at 1: a flat image (bandage, no
    finger) scores 0, a blotchy low-contrast one low, a clear well-placed finger high.
    """
    if len(pixels) != width * height:
        raise ValueError(f"image has {len(pixels)} bytes, expected {width}x{height}")
    spreads: list[float] = []
    blocks = 0
    for top in range(0, height - _QUALITY_BLOCK + 1, _QUALITY_BLOCK):
        for left in range(0, width - _QUALITY_BLOCK + 1, _QUALITY_BLOCK):
            block = b"".join(
                pixels[row * width + left : row * width + left + _QUALITY_BLOCK]
                for row in range(top, top + _QUALITY_BLOCK)
            )
            mean = sum(block) / len(block)
            variance = sum(map(_SQUARES.__getitem__, block)) / len(block) - mean * mean
            blocks += 1
            spread = max(variance, 0.0) ** 0.5
            if spread >= _RIDGED_SPREAD:
                spreads.append(spread)
    if not spreads:
        return 0
    coverage = min(1.0, len(spreads) / blocks / _FULL_COVERAGE)
    contrast = min(1.0, sum(spreads) / len(spreads) / _GOOD_SPREAD)
    return round(100 * coverage * contrast)


# 4-bit pixels travel two to a byte, high nibble first; n * 17 maps 0..15 onto 0..255
_HIGH_NIBBLE = bytes((b >> 4) * 17 for b in range(256))
_LOW_NIBBLE = bytes((b & 0x0F) * 17 for b in range(256))


def _expand_nibbles(data: bytes) -> bytes:
    pixels = bytearray(2 * len(data))
    pixels[0::2] = data.translate(_HIGH_NIBBLE)
    pixels[1::2] = data.translate(_LOW_NIBBLE)
    return bytes(pixels)


#: What to check when an image is not the configured model's size.
_CHECK_MODEL = "is the kit's configured fingerprint model ([parts] fingerprint) the sensor's?"


def _size(model: SensorModel) -> str:
    width, height = model.image_size
    return f"{width}x{height}"


def _check_page(page: int) -> None:
    if not 0 <= page <= 0xFFFF:
        raise ValueError(f"library page {page} is outside 0..65535")


class R30xSensor(Closing):
    """An R307 / R503 family sensor on a serial port.

    The constructor opens ``port`` and shakes hands (VfyPwd, then SetSysPara baud and
    the port switched to ``fast_baudrate``; ``fast_baudrate=None`` stays at
    ``baudrate``).  A sensor that already runs at the fast rate, because an earlier
    session set it, is found there.  ``read_timeout`` bounds every wait for an answer.

    ``model`` is the configured :class:`~hal.types.SensorModel`: the sensor cannot say
    its image size, so the model does.  The handshake reads the sensor's system
    parameters, and a library the size of another model's (200 pages where an R307 has
    1,000) is refused with :class:`~hal.exc.WrongSensorModel` naming both, since every
    image would then arrive at the wrong size.  Searches cover the library the sensor
    reports.

    ``stopping`` (`hal.contracts.Devices.stopping`), once set, ends a wait for a finger
    under way with NoFinger: the kit is closing and nobody is waited for any more.
    """

    def __init__(
        self,
        *,
        port: str,
        baudrate: int = 57600,
        fast_baudrate: int | None = 115200,
        password: int = 0,
        address: int = DEFAULT_ADDRESS,
        model: SensorModel = SensorModel.R307,
        name: str = "fingerprint",
        read_timeout: float = 2.0,
        stopping: threading.Event | None = None,
    ) -> None:
        for rate in (baudrate, fast_baudrate or baudrate):
            if rate % BAUD_UNIT or not 1 <= rate // BAUD_UNIT <= 12:
                raise ValueError(f"{rate} baud is not 9600 x 1..12, which the sensor needs")
        self.name = name
        self.port = port
        self.model = model
        self.read_timeout = read_timeout
        self._stopping = stopping or threading.Event()
        self._address = address
        self._password = password
        self._reader = PacketReader(address=address, source=f"{name} sensor on {port}", device=name)
        self._pending: list[Packet] = []
        #: The template character buffer 1 holds, as far as the driver knows (None: unknown).
        self._held: bytes | None = None
        self._packet_size = PACKET_SIZES[2]
        self._library_size = model.library_pages
        self._link = SerialPort(
            port,
            device=name,
            label=f"{name} sensor",
            advice="check the cable and power to the fingerprint sensor and the port in the "
            "kit's configuration",
            poll=_POLL_SECONDS,
            baudrate=baudrate,
            write_timeout=read_timeout,
        )
        try:
            self._handshake(baudrate, fast_baudrate)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        state = "closed" if self._link.closed else "open"
        return f"<R30xSensor {self.name} {self.model.name} port={self.port} {state}>"

    @property
    def image_size(self) -> tuple[int, int]:
        """Width and height of the images this model uploads."""
        return self.model.image_size

    @property
    def baudrate(self) -> int:
        """The rate the port runs at now (``fast_baudrate`` after the handshake)."""
        return self._link.baudrate

    def close(self) -> None:
        """Release the port; safe to call twice."""
        self._link.close()

    # -- the contract ------------------------------------------------------------------

    def probe(self) -> DeviceInfo:
        """ReadSysPara: what the sensor says about itself."""
        status, system_id, library, security, address, size_code, baud = self._sys_para()
        return DeviceInfo(
            name=self.name,
            model=self.model.name,
            detail={
                "port": self.port,
                "library_size": str(library),
                "security_level": str(security),
                "packet_size": str(PACKET_SIZES[size_code & 3]),
                "address": f"0x{address:08X}",
                "baudrate": str(baud * BAUD_UNIT),
                "system_id": f"0x{system_id:04X}",
                "status": f"0x{status:04X}",
            },
        )

    def take_image(self, position: FingerPosition, *, timeout: float) -> None:
        """Wait for a finger and image it (GenImg): the image stays in the sensor's buffer
        until the next GenImg, so the finger may leave the glass while it is uploaded."""
        self._wait_for_finger(timeout)

    def upload_image(self, position: FingerPosition) -> FingerImage:
        """Upload the image :meth:`take_image` took, extract and upload its template.

        The template stays in the search buffer, so the duplicate checks that follow
        (:meth:`match`, :meth:`search`) do not send it back."""
        width, height = self.image_size
        packed = self._upload(UP_IMAGE, b"", during="UpImage", limit=width * height // 2)
        pixels = _expand_nibbles(packed)
        if len(pixels) != width * height:
            raise FrameError(
                f"{self.name} sensor on {self.port}: image of {len(pixels)} pixels, expected "
                f"{width}x{height} for an {self.model.name}; {_CHECK_MODEL}",
                device=self.name,
            )
        self._held = None
        self._command(IMG2TZ, bytes([_BUFFER]), during="Img2Tz")
        template = self._upload(
            UP_CHAR, bytes([_BUFFER]), during="UpChar", limit=_MAX_TEMPLATE_BYTES
        )
        self._held = template
        return FingerImage(
            position=position,
            width=width,
            height=height,
            pixels=pixels,
            template=template,
            quality=image_quality(pixels, width, height),
        )

    def identify(self, *, timeout: float) -> LibraryMatch:
        """Wait for a finger and search the whole on-chip library for it."""
        self._wait_for_finger(timeout)
        self._held = None
        self._command(IMG2TZ, bytes([_BUFFER]), during="Img2Tz")
        return self._search_buffer(self._library_size)

    def enrol(self, page: int, template: bytes) -> None:
        """Put ``template`` into the buffer, then Store it at ``page``."""
        _check_page(page)
        self._hold(template)
        self._command(STORE, struct.pack(">BH", _BUFFER, page), during="Store")

    def search(self, template: bytes, *, pages: int | None = None) -> LibraryMatch:
        """Put ``template`` into the buffer, then Search the library's first ``pages``
        pages for it (None: the whole library, its size read at the handshake).

        The sensor compares every page it is asked to (about 1 ms a page on an R307), so
        a kit that uses only part of the library searches only that part."""
        if pages is not None and pages < 1:
            raise ValueError(f"a search covers at least one page, not {pages}")
        self._hold(template)
        return self._search_buffer(min(pages or self._library_size, self._library_size))

    def _search_buffer(self, pages: int) -> LibraryMatch:
        """Search pages 0 .. ``pages`` - 1 for the buffer's template."""
        answer = self._command(SEARCH, struct.pack(">BHH", _BUFFER, 0, pages), during="Search")
        page, score = struct.unpack(">HH", self._exact(answer, 4, "Search"))
        return LibraryMatch(page=page, score=score)

    def match(self, template: bytes, others: Sequence[bytes]) -> int | None:
        """Put ``template`` into one buffer once, DownChar each of ``others`` into the
        other in turn, and Match them, until one matches."""
        if others:
            self._hold(template)
        for index, other in enumerate(others):
            self._download(other, _SECOND_BUFFER)
            try:
                self._command(MATCH, b"", during="Match")
            except NoMatch:
                continue
            return index
        return None

    def delete(self, page: int) -> None:
        """DeleteChar one page."""
        _check_page(page)
        self._command(DELETE_CHAR, struct.pack(">HH", page, 1), during="DeleteChar")

    def _hold(self, template: bytes) -> None:
        """DownChar ``template`` into the search buffer unless it holds it already: after
        :meth:`upload_image` it holds the finger's own template, which the duplicate
        checks would otherwise send back twice (0.1 s a finger at 115200 baud)."""
        if self._held == template:
            return
        self._held = None  # a download cut short leaves the buffer unknown
        self._download(template, _BUFFER)
        self._held = template

    def _download(self, template: bytes, buffer: int) -> None:
        """DownChar: ``template`` into character buffer ``buffer``, packet by packet."""
        if not template:
            raise ValueError("an empty template cannot be sent to the sensor")
        self._command(DOWN_CHAR, bytes([buffer]), during="DownChar")
        size = self._packet_size
        chunks = [template[i : i + size] for i in range(0, len(template), size)]
        for i, chunk in enumerate(chunks):
            pid = PID_END_DATA if i == len(chunks) - 1 else PID_DATA
            self._link.write(encode_packet(pid, chunk, address=self._address))

    def library_count(self) -> int:
        """TemplateNum: how many templates the library holds."""
        answer = self._command(TEMPLATE_NUM, b"", during="TemplateNum")
        return struct.unpack(">H", self._exact(answer, 2, "TemplateNum"))[0]

    def held_pages(self) -> frozenset[int]:
        """ReadIndexTable, one 256-page index page at a time up to the library's size."""
        size = self._library_size
        held: set[int] = set()
        for index_page in range((size + _INDEX_PAGE_SIZE - 1) // _INDEX_PAGE_SIZE):
            answer = self._command(READ_INDEX_TABLE, bytes([index_page]), during="ReadIndexTable")
            table = self._exact(answer, _INDEX_PAGE_SIZE // 8, "ReadIndexTable")
            first = index_page * _INDEX_PAGE_SIZE
            held.update(
                first + bit
                for bit in range(_INDEX_PAGE_SIZE)
                if table[bit // 8] >> (bit % 8) & 1 and first + bit < size
            )
        return frozenset(held)

    def clear_library(self) -> None:
        """Empty: delete every template in the library."""
        self._command(EMPTY, b"", during="Empty")

    def led(self, colour: LedColour, mode: LedMode, *, speed: int = 0x80, count: int = 0) -> None:
        """AuraLedConfig (R503 ring): ``count`` cycles of ``mode``, 0 for ever."""
        if not (0 <= speed <= 0xFF and 0 <= count <= 0xFF):
            raise ValueError(f"LED speed {speed} and count {count} must be 0..255")
        params = bytes([LedMode(mode), speed, LedColour(colour), count])
        self._command(AURA_LED_CONFIG, params, during="AuraLedConfig")

    # -- exchanges ---------------------------------------------------------------------

    def _handshake(self, baudrate: int, fast_baudrate: int | None) -> None:
        try:
            self._verify_password()
        except DeviceAbsent:
            if not fast_baudrate or fast_baudrate == baudrate:
                raise
            # an earlier session left the sensor at the fast rate (it keeps it in flash)
            self._link.set_baudrate(fast_baudrate)
            self._verify_password()
        if fast_baudrate and fast_baudrate != self._link.baudrate:
            self._command(
                SET_SYS_PARA, bytes([PARAM_BAUD, fast_baudrate // BAUD_UNIT]), during="SetSysPara"
            )
            self._link.set_baudrate(fast_baudrate)
        _, _, library, _, _, size_code, _ = self._sys_para()
        if size_code & 3 != _LARGEST_PACKET:
            self._command(
                SET_SYS_PARA, bytes([PARAM_PACKET_SIZE, _LARGEST_PACKET]), during="SetSysPara"
            )
            size_code = _LARGEST_PACKET
        self._packet_size = PACKET_SIZES[size_code & 3]
        self._check_model(library)
        self._library_size = library

    def _check_model(self, library: int) -> None:
        """Refuse a sensor whose library is another model's: its images are another size.

        A library size no model has (a clone's firmware) proves nothing either way, so
        only a known model's size counts against the configured one.
        """
        if library == self.model.library_pages:
            return
        other = next((m for m in SensorModel if m.library_pages == library), None)
        if other is None:
            return
        raise WrongSensorModel(
            f"{self.name} sensor on {self.port}: the kit is configured for an "
            f"{self.model.name} ({self.model.library_pages:,} templates, "
            f"{_size(self.model)} images) but the sensor reports a library of {library:,} "
            f"templates, an {other.name}'s ({_size(other)} images); set the fingerprint "
            f'model in the kit\'s configuration ([parts] fingerprint = "{other.value}")',
            device=self.name,
        )

    def _verify_password(self) -> None:
        self._command(VFY_PWD, struct.pack(">I", self._password), during="VfyPwd")

    def _sys_para(self) -> tuple[int, ...]:
        answer = self._command(READ_SYS_PARA, b"", during="ReadSysPara")
        size = struct.calcsize(SYS_PARA_FORMAT)
        return struct.unpack(SYS_PARA_FORMAT, self._exact(answer, size, "ReadSysPara"))

    def _wait_for_finger(self, timeout: float) -> None:
        """Poll GenImg until a finger is imaged; NoFinger when ``timeout`` runs out, or
        at once when the kit is stopping (the poll waits on that event)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._command(GEN_IMG, b"", during="GenImg")
                return
            except NoFinger:
                if self._stopping.is_set():
                    raise NoFinger(
                        f"{self.name} sensor on {self.port}: the kit is stopping; the wait "
                        "for a finger ended",
                        device=self.name,
                    ) from None
                if time.monotonic() + _FINGER_POLL_SECONDS >= deadline:
                    raise NoFinger(
                        f"{self.name} sensor on {self.port}: no finger within {timeout:g} s; "
                        "ask the person to place the finger flat on the glass",
                        device=self.name,
                    ) from None
                self._stopping.wait(_FINGER_POLL_SECONDS)

    def _command(self, instruction: int, params: bytes, *, during: str) -> bytes:
        """Send one instruction; return its answer after the confirmation code."""
        self._reader.reset()
        self._pending.clear()
        self._link.reset_input()
        try:
            self._link.write(
                encode_packet(PID_COMMAND, bytes([instruction]) + params, address=self._address)
            )
            ack = self._receive(during)
        except DeviceError:
            self._held = None  # the sensor may have restarted, its buffers empty
            raise
        if ack.pid != PID_ACK or not ack.payload:
            self._held = None
            raise FrameError(
                f"{self.name} sensor on {self.port}: answered {during} with packet "
                f"0x{ack.pid:02X} of {len(ack.payload)} bytes instead of an acknowledge; "
                "check the sensor address and cable",
                device=self.name,
            )
        raise_for_code(ack.payload[0], during=f"{during} on {self.port}", device=self.name)
        return ack.payload[1:]

    def _upload(self, instruction: int, params: bytes, *, during: str, limit: int) -> bytes:
        """A command answered by data packets (UpImage, UpChar): their joined payloads.

        More than ``limit`` bytes is a FrameError, so a sensor that never sends the last
        packet cannot keep us reading for ever.
        """
        self._command(instruction, params, during=during)
        data = bytearray()
        while True:
            packet = self._receive(during)
            if packet.pid not in (PID_DATA, PID_END_DATA):
                raise FrameError(
                    f"{self.name} sensor on {self.port}: packet 0x{packet.pid:02X} inside "
                    f"the data of {during}; check the cable",
                    device=self.name,
                )
            data += packet.payload
            if len(data) > limit:
                raise FrameError(
                    f"{self.name} sensor on {self.port}: {during} sent more than {limit} "
                    f"bytes; {_CHECK_MODEL}",
                    device=self.name,
                )
            if packet.pid == PID_END_DATA:
                return bytes(data)

    def _receive(self, during: str) -> Packet:
        """The next packet, within ``read_timeout``."""
        deadline = time.monotonic() + self.read_timeout
        heard = False
        while not self._pending:
            if time.monotonic() >= deadline:
                if heard:
                    raise DeviceTimeout(
                        f"{self.name} sensor on {self.port}: {during} answer incomplete after "
                        f"{self.read_timeout:g} s; check the cable and baud rate",
                        device=self.name,
                    )
                raise self._link.absent(f"no answer to {during} within {self.read_timeout:g} s")
            chunk = self._link.read()
            if chunk:
                heard = True
                self._pending += self._reader.feed(chunk)
        return self._pending.pop(0)

    def _exact(self, answer: bytes, size: int, during: str) -> bytes:
        if len(answer) != size:
            raise FrameError(
                f"{self.name} sensor on {self.port}: {during} answered {len(answer)} bytes "
                f"after the code, expected {size}; is this an R30x sensor?",
                device=self.name,
            )
        return answer
