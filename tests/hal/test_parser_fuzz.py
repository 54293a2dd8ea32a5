"""Random and corrupted bytes into every protocol parser: typed errors only, never a hang.

Pure decoders (the 0xEF01 reader, the pen-frame decoder) are fed directly; the
emulators' command parsers are fed what a confused driver could write; parsers buried
in a driver's methods are driven over a pty whose far end is a liar answering fuzz.
Anything but a :class:`hal.exc.DeviceError` (IndexError, struct.error,
UnicodeDecodeError, ...) fails the test, and so does a hang (pytest-timeout).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import struct
from collections.abc import Iterator

import pytest
import serial
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from hal import exc
from hal.card_printer import PANEL_BYTES, EvolisPrinter
from hal.ds3231 import DS3231
from hal.fingerprint import R30xSensor
from hal.max17048 import MAX17048
from hal.r30x import (
    PID_ACK,
    PID_COMMAND,
    PID_DATA,
    PID_END_DATA,
    READ_SYS_PARA,
    SYS_PARA_FORMAT,
    VFY_PWD,
    PacketReader,
    encode_packet,
)
from hal.receipt_printer import EscPosPrinter
from hal.signature_pad import FrameDecoder
from hal.types import BatteryReading, ClockReading, PrinterStatus, SensorModel
from hw_sim.card_printer_emulator import CardPrinterEmulator
from hw_sim.link import PtyLink
from hw_sim.receipt_printer_emulator import ReceiptPrinterEmulator
from hw_sim.signature_pad_emulator import encode_frame

#: Fuzz runs share one pty per test, so the example count bounds the file's runtime.
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
#: Liar examples that may wait out a driver's read timeout get fewer examples.
SLOW = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
#: The drivers' read timeouts in these tests: short, so silence costs little.
READ_TIMEOUT = 0.1

PIDS = st.sampled_from([PID_COMMAND, PID_DATA, PID_ACK, PID_END_DATA])


@st.composite
def mutated(draw: st.DrawFn, stream: bytes) -> bytes:
    """``stream`` with a few bytes flipped, dropped, inserted or cut off at the end."""
    data = bytearray(stream)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["flip", "drop", "insert", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif action == "drop" and data:
            del data[at]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "truncate":
            del data[at:]
    return bytes(data)


def r30x_streams() -> st.SearchStrategy[bytes]:
    valid = st.lists(st.tuples(PIDS, st.binary(max_size=64)), min_size=1, max_size=4).map(
        lambda packets: b"".join(encode_packet(pid, payload) for pid, payload in packets)
    )
    return st.one_of(st.binary(max_size=300), valid.flatmap(mutated))


def feed_all(reader: PacketReader, stream: bytes, chunk: int) -> tuple[int, int]:
    """Feed ``stream`` in chunks, carrying on after each error; (packets, errors)."""
    packets = errors = 0
    pieces = [stream[i : i + chunk] for i in range(0, len(stream), chunk)]
    for piece in [*pieces, b""]:
        data = piece
        # each error drops at least a start code, so this ends; the bound proves it
        for _ in range(len(stream) + 2):
            try:
                packets += len(reader.feed(data))
                break
            except exc.ProtocolError:
                errors += 1
                data = b""
        else:
            pytest.fail(f"PacketReader kept raising on {stream.hex()}")
    return packets, errors


# -- pure decoders ---------------------------------------------------------------------


@FAST
@given(stream=r30x_streams(), chunk=st.integers(1, 64))
def test_r30x_reader_raises_only_protocol_errors(stream: bytes, chunk: int) -> None:
    reader = PacketReader()
    packets, errors = feed_all(reader, stream, chunk)
    # every packet and every error consumed at least a start code's worth of the stream
    assert 2 * (packets + errors) <= len(stream)
    assert reader.skipped <= len(stream)


@FAST
@given(
    stream=st.one_of(
        st.binary(max_size=300),
        st.lists(
            st.tuples(st.integers(0, 0xFFF), st.integers(0, 0xFFF), st.booleans()), max_size=30
        )
        .map(
            lambda samples: b"".join(
                encode_frame(x, y, in_range=True, touching=t) for x, y, t in samples
            )
        )
        .flatmap(mutated),
    ),
    chunk=st.integers(1, 16),
)
def test_pen_frame_decoder_never_raises_and_accounts_for_frames(stream: bytes, chunk: int) -> None:
    decoder = FrameDecoder()
    samples = []
    for i in range(0, len(stream), chunk):
        samples += decoder.feed(stream[i : i + chunk])
    assert 5 * len(samples) <= len(stream)
    assert all(0 <= s.x <= 0xFFF and 0 <= s.y <= 0xFFF for s in samples)
    syncs = sum(1 for byte in stream if byte & 0x80)
    # every sync byte starts a frame that ends decoded, dropped or still pending
    assert len(samples) + decoder.invalid_frames <= syncs
    assert decoder.stray_bytes <= len(stream) - syncs


# -- the emulators' command parsers ----------------------------------------------------


@pytest.fixture
def receipt_emulator() -> Iterator[tuple[ReceiptPrinterEmulator, serial.Serial]]:
    with (
        ReceiptPrinterEmulator() as emulator,
        serial.Serial(emulator.port, timeout=0) as far_end,
    ):
        yield emulator, far_end


def escpos_streams() -> st.SearchStrategy[bytes]:
    raster = st.builds(
        lambda w, h, fill: b"\x1dv0\x00" + struct.pack("<HH", w, h) + fill * (w * h),
        st.integers(0, 8),
        st.integers(0, 8),
        st.binary(min_size=1, max_size=1),
    )
    commands = st.sampled_from(
        [b"\x1b@", b"\x1bd\x03", b"\x1dVB\x00", b"\x1dV\x00", b"\x10\x04\x01", b"\x10\x04\x04"]
    )
    valid = st.lists(st.one_of(raster, commands), min_size=1, max_size=6).map(b"".join)
    return st.one_of(st.binary(max_size=200), valid.flatmap(mutated))


@FAST
@given(stream=escpos_streams())
def test_escpos_emulator_parser_survives_any_bytes(receipt_emulator, stream: bytes) -> None:
    emulator, far_end = receipt_emulator
    emulator._on_bytes(stream)  # the parser itself, on this thread, so its errors surface
    emulator._buffer.clear()  # a half command would swallow the next example's bytes
    far_end.reset_input_buffer()  # status answers nobody waits for
    assert all(image.width == emulator.paper_dots for image in emulator.printed)


@pytest.fixture
def card_emulator() -> Iterator[tuple[CardPrinterEmulator, serial.Serial]]:
    with (
        CardPrinterEmulator(hopper=1000) as emulator,
        serial.Serial(emulator.port, timeout=2.0) as far_end,
    ):
        yield emulator, far_end


#: Numbers the unknown command whose answer marks the end of one exchange's answers.
MARKERS = itertools.count()


def exchange(emulator: CardPrinterEmulator, far_end: serial.Serial, stream: bytes) -> bytes:
    """Parse ``stream``, then a command no stream holds, whose answer ends ``stream``'s."""
    name = f"EndOfExample{next(MARKERS)}"
    marker = f"ERR;UNKNOWN_COMMAND {name}\r".encode()
    emulator._on_bytes(stream)
    emulator._buffer.clear()  # a half command would swallow the marker
    emulator._on_bytes(b"\x1b" + name.encode() + b"\r")
    answers = far_end.read_until(marker)
    assert answers.endswith(marker), "the parser stopped answering"
    return answers[: -len(marker)]


def evolis_streams() -> st.SearchStrategy[bytes]:
    commands = st.sampled_from(
        [b"\x1bSs\r", b"\x1bSe\r", b"\x1bXst\r", b"\x1bXfw\r", b"\x1bXpe\r", b"\x1bDb;k;2;"]
    )
    valid = st.lists(commands, min_size=1, max_size=6).map(b"".join)
    return st.one_of(st.binary(max_size=200), valid.flatmap(mutated))


@FAST
@given(stream=evolis_streams())
def test_card_emulator_parser_answers_lines_to_any_bytes(card_emulator, stream: bytes) -> None:
    emulator, far_end = card_emulator
    exchange(emulator, far_end, b"")  # whatever an earlier, failed example left
    before = len(emulator.received)
    answers = exchange(emulator, far_end, stream)
    # every answer is a whole ASCII line, and at most one per ESC it was sent
    assert answers.count(b"\r") <= stream.count(b"\x1b")
    assert answers == b"" or answers.endswith(b"\r")
    answers.decode("ascii")
    assert len(emulator.received) - before - 1 <= stream.count(b"\x1b")


def test_card_emulator_parser_takes_a_whole_panel_of_noise(card_emulator) -> None:
    emulator, far_end = card_emulator
    noise = bytes((i * 37 + 11) % 256 for i in range(PANEL_BYTES))  # ESC and CR inside
    emulator._on_bytes(b"\x1bSs\r\x1bDb;k;2;" + noise + b"\r\x1bSe\r\x1bXpe\r")
    assert far_end.read_until(b"OK\rOK\rOK\rOK\r") == b"OK\rOK\rOK\rOK\r"
    assert len(emulator.printed) == 1


# -- parsers inside the drivers, against a lying far end -------------------------------


class Liar:
    """The far end of a pty answering each chunk the driver writes from a script.

    ``answer(chunk)`` decides the reply; tests swap :attr:`answers` per example, and
    the default answer cycles through them, one per chunk.
    """

    def __init__(self) -> None:
        self.answers: list[bytes] = []
        self.calls = 0
        self.link = PtyLink(self._on_bytes, name="liar")
        self.port = self.link.port

    def play(self, answers: list[bytes]) -> None:
        self.answers, self.calls = answers, 0

    def answer(self, chunk: bytes) -> bytes:
        reply = self.answers[self.calls % len(self.answers)] if self.answers else b""
        self.calls += 1
        return reply

    def _on_bytes(self, chunk: bytes) -> None:
        reply = self.answer(chunk)
        if reply:
            self.link.send(reply)

    def close(self) -> None:
        self.link.close()


@pytest.fixture
def liar() -> Iterator[Liar]:
    peer = Liar()
    try:
        yield peer
    finally:
        peer.close()


def card_replies() -> st.SearchStrategy[bytes]:
    words = st.sampled_from(
        [
            *(w.encode() for w in ("READY", "NO_CARD", "COVER_OPEN", "RIBBON_OUT", "JAM")),
            *(w.encode() for w in ("OK", "ERR;JAM", "ERR;WHAT", "Jemput;1.0", "")),
            b"\xff\xfe",
        ]
    )
    line = st.tuples(st.binary(max_size=8), words, st.binary(max_size=8)).map(
        lambda parts: parts[0] + parts[1] + b"\r" + parts[2]
    )
    return st.one_of(line, line.flatmap(mutated), st.binary(min_size=1, max_size=40))


@SLOW
@given(replies=st.lists(card_replies(), min_size=1, max_size=3))
def test_card_printer_status_parsing_raises_only_device_errors(liar: Liar, replies) -> None:
    liar.play(replies)
    with EvolisPrinter(port=liar.port, reply_timeout=READ_TIMEOUT) as printer:
        for call in (printer.status, printer.probe):
            try:
                result = call()
            except exc.DeviceError:
                continue
            assert isinstance(result, PrinterStatus) or result.name == "card-printer"


BLANK_CARD = Image.new("1", (1016, 648), 1)


@settings(SLOW, max_examples=12)
@given(replies=st.lists(card_replies(), min_size=1, max_size=4))
def test_card_printer_print_raises_only_device_errors(liar: Liar, replies) -> None:
    liar.play(replies)
    with (
        EvolisPrinter(port=liar.port, reply_timeout=READ_TIMEOUT) as printer,
        contextlib.suppress(exc.DeviceError),
    ):
        printer.print_card(BLANK_CARD, timeout=1.0)


def test_card_printer_ignores_noise_after_its_answer_line(liar: Liar) -> None:
    liar.play([b"RIBBON_OUT\r\x00\xffnoise"])
    with EvolisPrinter(port=liar.port, reply_timeout=1.0) as printer:
        assert printer.status().detail == "RIBBON_OUT"


def status_byte_ok(value: int) -> bool:
    return value & 0x93 == 0x12


#: XON and XOFF never reach the driver: the port's XON/XOFF flow control (the tty's IXON)
#: takes them off the line, so a printer "answering" one is a printer saying nothing.
FLOW_CONTROL = (0x11, 0x13)


@SLOW
@given(
    answers=st.lists(
        st.integers(0, 255).filter(lambda value: value not in FLOW_CONTROL),
        min_size=3,
        max_size=3,
    )
)
def test_receipt_status_parsing_checks_every_byte(liar: Liar, answers: list[int]) -> None:
    liar.play([bytes((value,)) for value in answers])
    with EscPosPrinter(port=liar.port) as printer:
        if all(status_byte_ok(value) for value in answers):
            assert isinstance(printer.status(), PrinterStatus)
        else:
            with pytest.raises(exc.FrameError, match=r"not a status byte.*baud rate"):
                printer.status()


class FingerprintLiar(Liar):
    """Answers the handshake as a sensor would, every other command from the script."""

    def __init__(self) -> None:
        self.reader = PacketReader()
        super().__init__()

    def answer(self, chunk: bytes) -> bytes:
        replies = b""
        for packet in self.reader.feed(chunk):
            instruction = packet.payload[:1]
            if instruction == bytes([VFY_PWD]):
                replies += encode_packet(PID_ACK, b"\x00")
            elif instruction == bytes([READ_SYS_PARA]):
                library = SensorModel.R307.library_pages  # the driver's default model's
                # 256-byte packets already (kept in flash): the handshake sets nothing
                para = struct.pack(SYS_PARA_FORMAT, 0, 0, library, 3, 0xFFFFFFFF, 3, 6)
                replies += encode_packet(PID_ACK, b"\x00" + para)
            else:
                replies += super().answer(chunk)
        return replies


def fingerprint_replies() -> st.SearchStrategy[bytes]:
    ack = st.tuples(st.integers(0, 0x20), st.binary(max_size=20)).map(
        lambda parts: encode_packet(PID_ACK, bytes([parts[0]]) + parts[1])
    )
    other = st.tuples(PIDS, st.binary(max_size=20)).map(lambda p: encode_packet(*p))
    return st.one_of(ack, other, ack.flatmap(mutated), st.binary(min_size=1, max_size=30))


@pytest.fixture
def fingerprint_liar() -> Iterator[FingerprintLiar]:
    peer = FingerprintLiar()
    try:
        yield peer
    finally:
        peer.close()


@SLOW
@given(replies=st.lists(fingerprint_replies(), min_size=1, max_size=4))
def test_fingerprint_answer_parsing_raises_only_device_errors(
    fingerprint_liar: FingerprintLiar, replies: list[bytes]
) -> None:
    fingerprint_liar.reader.reset()
    with R30xSensor(
        port=fingerprint_liar.port, fast_baudrate=None, read_timeout=READ_TIMEOUT
    ) as sensor:
        fingerprint_liar.play(replies)
        for call in (
            sensor.library_count,
            lambda: sensor.identify(timeout=READ_TIMEOUT),
            lambda: sensor.enrol(3, b"\x01" * 300),
        ):
            with contextlib.suppress(exc.DeviceError):
                call()


# -- I2C: a bus that answers noise -----------------------------------------------------


class NoiseBus:
    """An SMBus-compatible bus whose chip answers random register values or fails.

    Every transfer draws from hypothesis: one in ``1/failure`` raises OSError (the
    chip did not acknowledge), the rest return random bytes.  ``blocks`` records
    every block read, so a test can judge what the driver was given.
    """

    def __init__(self, data: st.DataObject, *, failure: int = 8) -> None:
        self.data = data
        self.failure = failure
        self.blocks: list[list[int]] = []

    def _transfer(self) -> None:
        if self.data.draw(st.integers(0, self.failure - 1)) == 0:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")

    def read_byte_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        self._transfer()
        return self.data.draw(st.integers(0, 0xFF))

    def read_word_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        self._transfer()
        return self.data.draw(st.integers(0, 0xFFFF))

    def read_i2c_block_data(
        self, i2c_addr: int, register: int, length: int, force: bool | None = None
    ) -> list[int]:
        self._transfer()
        block = self.data.draw(st.lists(st.integers(0, 0xFF), min_size=length, max_size=length))
        self.blocks.append(block)
        return block

    def write_byte_data(
        self, i2c_addr: int, register: int, value: int, force: bool | None = None
    ) -> None:
        self._transfer()

    def write_i2c_block_data(
        self, i2c_addr: int, register: int, data: list[int], force: bool | None = None
    ) -> None:
        self._transfer()


@FAST
@given(data=st.data())
def test_fuel_gauge_gives_a_reading_or_a_device_error(data: st.DataObject) -> None:
    try:
        with MAX17048(bus=NoiseBus(data)) as gauge:
            reading = gauge.read()
    except exc.DeviceError:
        return
    assert isinstance(reading, BatteryReading)
    assert 0.0 <= reading.voltage < 5.12
    assert 0.0 <= reading.percent <= 100.0
    assert -0x8000 * 0.208 <= reading.rate < 0x8000 * 0.208


def bcd_valid(value: int) -> bool:
    return value >> 4 <= 9 and value & 0x0F <= 9


@FAST
@given(data=st.data())
def test_clock_gives_a_time_or_a_device_error(data: st.DataObject) -> None:
    bus = NoiseBus(data)
    try:
        with DS3231(bus=bus) as clock:
            reading = clock.read()
    except exc.DeviceError as error:
        assert isinstance(error, exc.DeviceAbsent | exc.ClockNotTrustworthy)
        return
    assert isinstance(reading, ClockReading)
    seconds, minutes, hours, _, day, month, year = bus.blocks[-1]
    masked = (seconds & 0x7F, minutes & 0x7F, hours & 0x1F, day & 0x3F, month & 0x1F, year)
    assert all(bcd_valid(value) for value in masked)
    assert reading.time.tzinfo is not None


@pytest.mark.parametrize(
    "registers",
    [
        [0x5A, 0x00, 0x00, 0x01, 0x15, 0x07, 0x24],  # seconds 5A
        [0x00, 0x00, 0x00, 0x01, 0x1F, 0x07, 0x24],  # day 1F
        [0x00, 0x00, 0x00, 0x01, 0x15, 0x07, 0xA4],  # year A4
        [0x00, 0x00, 0x40 | 0x00, 0x01, 0x15, 0x07, 0x24],  # hour 0 on a 12-hour clock
    ],
)
def test_clock_refuses_registers_that_are_not_bcd(registers: list[int]) -> None:
    class Chip(NoiseBus):
        def __init__(self) -> None:
            self.blocks = []

        def read_byte_data(self, *args: object, **kwargs: object) -> int:
            return 0x00

        def read_i2c_block_data(self, *args: object, **kwargs: object) -> list[int]:
            return list(registers)

    with DS3231(bus=Chip()) as clock, pytest.raises(exc.ClockNotTrustworthy, match="set the"):
        clock.read()
